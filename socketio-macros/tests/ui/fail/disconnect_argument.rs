use socketio_core::{DisconnectReason, SocketRef, State};
use socketio_macros::namespace;

struct Ns;

struct Db;

// A disconnect handler takes `DisconnectReason` and `State<T>`; there is no event payload.
#[namespace("/")]
impl Ns {
    #[on_disconnect]
    fn gone(&self, _socket: SocketRef, _db: State<Db>, _reason: DisconnectReason, _text: String) {}
}

fn main() {}
