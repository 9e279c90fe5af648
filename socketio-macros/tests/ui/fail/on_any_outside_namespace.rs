use socketio_core::SocketRef;
use socketio_macros::on_any;

struct Ns;

impl Ns {
    #[on_any]
    fn any(&self, _socket: SocketRef) {}
}

fn main() {}
