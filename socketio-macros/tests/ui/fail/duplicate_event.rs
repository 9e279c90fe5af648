use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("message")]
    fn first(&self, _socket: SocketRef) {}

    #[on("message")]
    fn second(&self, _socket: SocketRef) {}
}

fn main() {}
