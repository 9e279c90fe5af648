use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_connect]
    fn first(&self, _socket: SocketRef) {}

    #[on_connect]
    fn second(&self, _socket: SocketRef) {}
}

fn main() {}
