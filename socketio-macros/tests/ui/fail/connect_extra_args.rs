use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Ns;

#[namespace("/")]
impl Ns {
    #[on_connect]
    fn connect(&self, _socket: SocketRef, _auth: String, _extra: u8) {}
}

fn main() {}
