use socketio_core::{SocketIo, SocketRef};
use socketio_macros::namespace;

struct Ns;

// Two independent mistakes: both are reported, and `io.register(Ns)` adds no third error.
#[namespace("chat")]
impl Ns {
    #[on("message")]
    fn message(&mut self, _socket: SocketRef) {}
}

fn main() {
    SocketIo::new().register(Ns);
}
