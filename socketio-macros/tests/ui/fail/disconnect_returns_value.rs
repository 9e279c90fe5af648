use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_disconnect]
    fn gone(&self, _socket: SocketRef) -> bool {
        true
    }
}

fn main() {}
