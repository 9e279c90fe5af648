//! Middlewares (connect and packet), shared state as a parameter of every kind of method,
//! any-event listeners next to a fallback, and a dynamic namespace.

use socketio_core::{
    Args, ConnectError, EventName, PacketRejection, SocketIo, SocketRef, State,
};
use socketio_macros::namespace;

struct Db {
    token: &'static str,
}

#[derive(serde::Deserialize)]
struct Auth {
    token: String,
}

#[derive(Default)]
struct Guarded;

#[namespace("/guarded")]
impl Guarded {
    #[middleware]
    fn first(&self, _socket: SocketRef) {}

    #[middleware]
    async fn second(&self, _socket: SocketRef, db: State<Db>, auth: Auth) -> Result<(), ConnectError> {
        if auth.token == db.token { Ok(()) } else { Err(ConnectError::new("no")) }
    }

    #[on_connect]
    async fn connect(&self, _socket: SocketRef, _db: State<Db>) {}

    #[packet_middleware]
    fn check(&self, _socket: &SocketRef, event: &str, _args: &mut Args) -> Result<(), PacketRejection> {
        if event == "forbidden" { Err(PacketRejection::Drop) } else { Ok(()) }
    }

    #[on_any_outgoing]
    fn sent(&self, _socket: &socketio_core::Socket, _event: &str, _args: &Args) {}

    #[on_any]
    fn seen(&self, _socket: SocketRef, _event: EventName) {}

    #[on_any]
    async fn seen_too(&self, _socket: SocketRef, _all: Args) {}

    #[fallback]
    fn rest(&self, _socket: SocketRef, event: EventName) -> String {
        event.to_string()
    }

    #[on("query")]
    fn query(&self, _socket: SocketRef, db: State<Db>, n: u32) -> String {
        format!("{}:{n}", db.token)
    }
}

#[derive(Default)]
struct Rooms;

#[namespace(dynamic = r"^/room-\d+$")]
impl Rooms {
    #[on("where")]
    fn where_(&self, socket: SocketRef) -> String {
        socket.ns().to_owned()
    }
}

fn main() {
    let io = SocketIo::builder().state(Db { token: "secret" }).build();
    io.register(Guarded);
    let parent = io.register(Rooms);
    assert!(parent.children().is_empty());
}
