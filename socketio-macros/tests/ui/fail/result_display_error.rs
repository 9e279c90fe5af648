use socketio_core::{SocketIo, SocketRef};
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("read")]
    fn read(&self, _socket: SocketRef, path: String) -> Result<u64, std::io::Error> {
        std::fs::metadata(path).map(|m| m.len())
    }
}

fn main() {
    // A closure gets the same rule.
    SocketIo::new().ns("/").on("read", |_s: SocketRef, path: String| async move {
        std::fs::metadata(path).map(|m| m.len())
    });
}
