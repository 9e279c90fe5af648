use socketio_core::SocketRef;
use socketio_macros::namespace;

#[derive(serde::Deserialize)]
struct Msg {
    text: String,
}

struct Ns;

#[namespace("/")]
impl Ns {
    #[on("name")]
    fn name(&self, _socket: SocketRef, name: &str) -> usize {
        name.len()
    }

    #[on("bytes")]
    fn bytes(&self, _socket: SocketRef, data: &[u8]) -> usize {
        data.len()
    }

    #[on("msg")]
    fn msg(&self, _socket: SocketRef, msg: &'static Msg) -> usize {
        msg.text.len()
    }
}

fn main() {
    // The stub registration: no second error here.
    socketio_core::SocketIo::new().register(Ns);
}
