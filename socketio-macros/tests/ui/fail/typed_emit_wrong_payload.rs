use socketio_core::TypedSocket;
use socketio_macros::{namespace, ServerEvents};

#[derive(ServerEvents)]
enum Events {
    #[event("system")]
    System(String),
    #[event("pos")]
    Pos { x: f64, y: f64 },
}

struct Chat;

#[namespace("/chat", emits = Events)]
impl Chat {
    #[on("hello")]
    fn hello(&self, socket: TypedSocket<Events>) {
        socket.emit(Events::System(42)).ok();
        socket.broadcast().emit(Events::Pos { x: 1.0, y: "2" }).ok();
    }
}

fn main() {}
