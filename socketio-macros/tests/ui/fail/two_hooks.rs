use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_connect]
    #[on_disconnect]
    async fn both(&self, _socket: SocketRef) {}

    #[on("a")]
    #[on("b")]
    fn two_events(&self, _socket: SocketRef) {}
}

fn main() {}
