use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("connect")]
    fn connect(&self, _socket: SocketRef) {}

    #[on("message", "disconnect")]
    fn several(&self, _socket: SocketRef) {}

    #[on("newListener")]
    fn listener(&self, _socket: SocketRef) {}
}

fn main() {}
