use socketio_core::SocketRef;
use socketio_macros::namespace;

struct A;

#[namespace("/a", krate = "socketio_core")]
impl A {
    #[on("e")]
    fn e(&self, _socket: SocketRef) {}
}

struct B;

#[namespace("/b", crate = socketio_core)]
impl B {
    #[on("e")]
    fn e(&self, _socket: SocketRef) {}
}

struct C;

#[namespace("/c", crate = "socketio_core", crate = "socketio_core")]
impl C {
    #[on("e")]
    fn e(&self, _socket: SocketRef) {}
}

fn main() {}
