use socketio_core::SocketRef;
use socketio_macros::on;

struct Ns;

impl Ns {
    #[on("e")]
    fn e(&self, _socket: SocketRef) {}
}

fn main() {}
