use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[fallback]
    fn first(&self, _socket: SocketRef) {}

    #[on("a", "b")]
    fn ab(&self, _socket: SocketRef) {}

    #[fallback]
    fn second(&self, _socket: SocketRef) {}

    #[on("b")]
    fn b(&self, _socket: SocketRef) {}
}

fn main() {}
