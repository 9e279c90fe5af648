use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_connect(auth)]
    async fn connect(&self, _socket: SocketRef) {}

    #[on_disconnect("reason")]
    async fn disconnect(&self, _socket: SocketRef) {}

    #[on_any("*")]
    async fn any(&self, _socket: SocketRef) {}
}

fn main() {}
