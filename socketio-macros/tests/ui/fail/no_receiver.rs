use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("e")]
    fn e(_socket: SocketRef) {}
}

fn main() {}
