//! `#[namespace(.., typescript, emits = ..)]`, `#[derive(ServerEvents)]` and `TypedSocket`.
use serde::{Deserialize, Serialize};
use socketio_core::{AckSender, Args, EventName, SocketIo, SocketRef, TypedSocket};
use socketio_macros::{namespace, ServerEvents};
use ts_rs::TS;

#[derive(Deserialize, TS)]
struct Auth {
    token: String,
}

#[derive(Serialize, Deserialize, TS)]
#[serde(tag = "type")]
enum Msg {
    Text { body: String },
    Ping,
}

#[derive(ServerEvents)]
#[server_events(typescript)]
enum Events {
    #[event("msg")]
    Msg(Msg),
    #[event("pos")]
    Pos { x: f64, y: f64 },
    Reset,
}

#[derive(Default)]
struct Ns;

#[namespace("/ts", typescript, emits = Events)]
impl Ns {
    #[on_connect]
    async fn connect(&self, _socket: SocketRef, auth: Option<Auth>) {
        let _ = auth.map(|a| a.token);
    }

    #[on("send")]
    fn send(&self, socket: TypedSocket<Events>, msg: Msg, (a, b): (u8, u8)) -> Result<(u8, u8), String> {
        socket.emit(Events::Msg(msg)).ok();
        socket.to("room").emit(Events::Pos { x: 1.0, y: 2.0 }).ok();
        socket.broadcast().emit(Events::Reset).ok();
        Ok((a, b))
    }

    #[on("later")]
    async fn later(&self, _socket: SocketRef, ack: AckSender) {
        let _ = ack.send(&1);
    }

    #[on("all")]
    fn all(&self, _socket: SocketRef, _name: EventName, args: Args) -> usize {
        args.len()
    }

    #[on_any]
    fn any(&self, _socket: SocketRef, _v: socketio_core::Value) {}

    #[on_disconnect]
    fn gone(&self, socket: TypedSocket<Events>) {
        let _ = socket.untyped().id();
    }
}

/// Without `typescript`, argument types need no `TS`; `emits` still checks its type.
#[derive(Deserialize)]
struct Plain {
    n: u32,
}

#[derive(Default)]
struct Untyped;

#[namespace("/plain", emits = Events)]
impl Untyped {
    #[on("plain")]
    fn plain(&self, _socket: TypedSocket<Events>, p: Plain) -> u32 {
        p.n
    }
}

fn main() {
    let io = SocketIo::new();
    io.register(Ns);
    io.register(Untyped);
    let dts = io.typescript().unwrap();
    assert!(dts.contains("send: (msg: Msg, arg1: [number, number], callback: (...args: [number, number] | [{ error: string }]) => void) => void;"), "{dts}");
    assert!(dts.contains("pos: (x: number, y: number) => void;"), "{dts}");
    assert!(dts.contains("Reset: () => void;"), "{dts}");
    assert!(dts.contains("export type TsSocketAuth = Auth | null;"), "{dts}");
}
