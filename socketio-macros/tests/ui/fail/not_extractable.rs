use socketio_core::SocketRef;
use socketio_macros::namespace;

struct NotSerde;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("e")]
    fn e(&self, _socket: SocketRef, _value: NotSerde) {}
}

fn main() {}
