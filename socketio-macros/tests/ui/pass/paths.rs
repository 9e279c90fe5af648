use socketio_core::SocketRef;
use socketio_macros::namespace;

#[derive(Default)]
struct Root;

#[namespace("/")]
impl Root {
    #[on("event names may contain anything: spaces, ünïcode, /slashes/")]
    fn any_name(&self, _socket: SocketRef) {}
}

#[derive(Default)]
struct Nested;

#[namespace("/admin/tools")]
impl Nested {}

fn main() {
    let io = socketio_core::SocketIo::new();
    assert_eq!(io.auto_namespaces(), 2);
}
