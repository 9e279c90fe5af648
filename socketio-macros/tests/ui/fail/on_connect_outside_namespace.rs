use socketio_core::SocketRef;
use socketio_macros::on_connect;

struct Ns;

impl Ns {
    #[on_connect]
    fn connect(&self, _socket: SocketRef) {}
}

fn main() {}
