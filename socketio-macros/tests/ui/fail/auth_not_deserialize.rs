use socketio_core::SocketRef;
use socketio_macros::namespace;

struct NotSerde;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_connect]
    fn connect(&self, _socket: SocketRef, _auth: NotSerde) {}
}

fn main() {}
