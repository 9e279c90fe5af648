use socketio_core::TypedSocket;
use socketio_macros::{namespace, ServerEvents};

#[derive(ServerEvents)]
enum Events {
    #[event("system")]
    System(String),
}

struct Chat;

#[namespace("/chat", emits = Events)]
impl Chat {
    #[on("hello")]
    fn hello(&self, socket: TypedSocket<Events>) {
        // an event Events does not declare
        socket.emit(Events::Shout("hi".into())).ok();
        // the untyped form is not offered by a typed socket
        socket.emit("shout", &"hi").ok();
    }
}

fn main() {}
