use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on]
    fn e(&self, _socket: SocketRef) {}
}

fn main() {}
