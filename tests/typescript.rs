//! TypeScript round trip: the `.d.ts` generated from examples/chat and from a richer namespace
//! (serde attributes, enums, options, maps, tuples, several arguments, every ack shape, closures
//! described by hand) is compiled by the real `tsc` (npm typescript, tests/typescript) with a
//! client that uses it right (`ok.ts`, no error) and one that uses it wrong (`bad.ts`: each
//! expected error at its line). The typed emits of the same namespace go over loopback to a raw
//! client, so the declared shapes are the ones on the wire.

mod support;

#[path = "../examples/chat/main.rs"]
#[allow(dead_code)]
mod chat_example;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use serde::{Deserialize, Serialize};
use socketio_axum::SocketIoRouterExt;
use socketio_core::typescript::TypeScriptError;
use socketio_core::{AckSender, Args, EventName, SocketIo, SocketRef, TypedSocket};
use socketio_macros::{namespace, ServerEvents};
use support::client::{Conn, Transport};
use ts_rs::TS;

#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct NewOrder {
    customer_id: u64,
    items: Vec<Item>,
    note: Option<String>,
    tags: HashMap<String, u32>,
    #[serde(skip)]
    internal: u32,
    #[serde(flatten)]
    meta: Meta,
}

#[derive(Deserialize, TS)]
#[allow(dead_code)]
struct Item {
    sku: String,
    qty: u32,
}

#[derive(Deserialize, TS)]
struct Meta {
    source: String,
}

#[derive(Serialize, Deserialize, TS, Clone)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shape {
    Circle { radius: f64 },
    Rect { w: f64, h: f64 },
}

#[derive(Serialize, TS, Clone)]
#[serde(rename = "OrderReceipt")]
struct Receipt {
    #[serde(rename = "id")]
    order_id: String,
    total: f64,
}

#[derive(Deserialize, TS)]
struct RichAuth {
    token: String,
    #[serde(default)]
    #[allow(dead_code)]
    client: Option<String>,
}

/// What `/rich` emits.
#[derive(ServerEvents)]
#[server_events(typescript)]
enum RichEvents {
    #[event("receipt")]
    Receipt(Receipt),
    #[event("shape")]
    Drawn { shape: Shape, by: String },
    #[event("tick")]
    Tick,
    #[event("pair")]
    Pair((u8, u8)),
}

#[derive(Default)]
struct Rich;

#[namespace("/rich", typescript, emits = RichEvents)]
impl Rich {
    #[on_connect]
    fn connect(&self, _socket: SocketRef, auth: RichAuth) -> Result<(), String> {
        if auth.token.is_empty() {
            return Err("token required".into());
        }
        Ok(())
    }

    #[on("order")]
    fn order(&self, socket: TypedSocket<RichEvents>, order: NewOrder) -> Result<Receipt, String> {
        if order.items.is_empty() {
            return Err("empty order".into());
        }
        let receipt = Receipt {
            order_id: format!("{}-{}", order.meta.source, order.customer_id),
            total: order.items.iter().map(|i| f64::from(i.qty)).sum(),
        };
        socket.emit(RichEvents::Receipt(receipt.clone())).unwrap();
        Ok(receipt)
    }

    #[on("draw")]
    fn draw(&self, socket: TypedSocket<RichEvents>, shape: Shape, at: (i32, i32)) -> (bool, u32) {
        socket
            .emit(RichEvents::Drawn {
                shape,
                by: "me".into(),
            })
            .unwrap();
        socket.emit(RichEvents::Tick).unwrap();
        socket.emit(RichEvents::Pair((1, 2))).unwrap();
        (at.0 >= 0, 2)
    }

    #[on("note", "memo")]
    fn note(&self, _socket: SocketRef, text: String, color: Option<String>) {
        let _ = (text, color);
    }

    #[on("add numbers")]
    fn add(&self, _socket: SocketRef, a: i64, b: Option<i64>) -> i64 {
        a + b.unwrap_or(0)
    }

    #[on("later")]
    fn later(&self, _socket: SocketRef, ack: AckSender) {
        let _ = ack.send(&"done");
    }

    #[on("raw")]
    fn raw(&self, _socket: SocketRef, name: EventName, args: Args) -> usize {
        name.len() + args.len()
    }
}

/// A server with examples/chat's `/` and the rich `/rich`, plus `/closures` described by hand.
fn server() -> SocketIo {
    let io = chat_example::chat_server();
    io.register(Rich);
    io.ns("/closures")
        .on_connect(|_s: SocketRef| async move {})
        .describe_no_auth()
        .on(
            "scores",
            |_s: SocketRef, scores: HashMap<String, Vec<u32>>| async move { scores.len() as u32 },
        )
        .describe_event::<(HashMap<String, Vec<u32>>,), (u32,)>("scores")
        .on("nothing", |_s: SocketRef| async move {})
        .describe_event::<(), ()>("nothing");
    io
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/typescript")
}

/// Runs `tsc --noEmit --strict` on `file`; its exit status and the `file(line,col): error TSxxxx`
/// lines.
fn tsc(file: &str) -> (bool, Vec<String>) {
    let dir = dir();
    let tsc = dir.join("node_modules/typescript/bin/tsc");
    assert!(
        tsc.exists(),
        "{} is missing: run scripts/setup-interop.sh (npm ci in tests/typescript)",
        tsc.display()
    );
    let out = Command::new("node")
        .arg(&tsc)
        .args([
            "--noEmit",
            "--strict",
            "--target",
            "es2020",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "--pretty",
            "false",
            file,
        ])
        .current_dir(&dir)
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = text
        .lines()
        .filter(|l| l.contains("error TS"))
        .map(str::to_owned)
        .collect();
    (out.status.success(), errors)
}

/// Generates the declarations and writes them to `tests/typescript/generated/server.d.ts`
/// (once: the tests run in parallel and tsc must not read a half-written file).
fn write_declarations() -> String {
    static DTS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DTS.get_or_init(|| {
        let dts = server().typescript().expect("declarations");
        let generated = dir().join("generated");
        std::fs::create_dir_all(&generated).unwrap();
        std::fs::write(generated.join("server.d.ts"), &dts).unwrap();
        dts
    })
    .clone()
}

#[test]
fn declarations_follow_serde_and_the_handlers() {
    let dts = write_declarations();
    let expect = [
        // serde: rename_all, flatten, skip; u64 as number; HashMap; Option
        "export type NewOrder = { customerId: number, items: Array<Item>, note: string | null, \
         tags: { [key in string]: number }, source: string, };",
        // tag + rename_all on an enum
        "export type Shape = { \"kind\": \"circle\", radius: number, } | { \"kind\": \"rect\", w: number, h: number, };",
        // rename on the type and a field
        "export type OrderReceipt = { id: string, total: number, };",
        // the chat
        "export interface ClientToServerEvents {\n  join: (room: string, callback: (arg0: string) => void) => void;\n  \
         message: (text: string, callback: (res: Delivered | { error: string }) => void) => void;\n}",
        "export interface ServerToClientEvents {\n  message: (arg0: Line) => void;\n  system: (arg0: string) => void;\n  \
         members: (arg0: Members) => void;\n}",
        "export type Members = { room: string, names: Array<string>, };",
        "export type SocketAuth = Auth;",
        // the rich namespace
        "\"add numbers\": (a: number, b: number | null, callback: (arg0: number) => void) => void;",
        "draw: (shape: Shape, at: [number, number], callback: (arg0: boolean, arg1: number) => void) => void;",
        "later: (callback: (...args: any[]) => void) => void;",
        "memo: (text: string, color?: string | null) => void;",
        "note: (text: string, color?: string | null) => void;",
        "order: (order: NewOrder, callback: (res: OrderReceipt | { error: string }) => void) => void;",
        "raw: (...rest: any[]) => void;",
        "export interface RichServerToClientEvents {\n  receipt: (arg0: OrderReceipt) => void;\n  \
         shape: (shape: Shape, by: string) => void;\n  tick: () => void;\n  pair: (arg0: [number, number]) => void;\n}",
        "export type RichSocketAuth = RichAuth;",
        // closures described by hand
        "scores: (arg0: { [key in string]: Array<number> }, callback: (arg0: number) => void) => void;",
        "nothing: () => void;",
        "export type ClosuresSocketAuth = undefined;",
    ];
    for e in expect {
        assert!(dts.contains(e), "missing:\n{e}\n\nin:\n{dts}");
    }
    // A type is declared once however many events name it.
    assert_eq!(dts.matches("export type Shape =").count(), 1, "{dts}");
}

#[test]
fn tsc_accepts_a_correct_client() {
    write_declarations();
    let (ok, errors) = tsc("ok.ts");
    assert!(ok && errors.is_empty(), "ok.ts should compile: {errors:#?}");
}

#[test]
fn tsc_rejects_wrong_arguments_acks_and_events() {
    write_declarations();
    let (ok, errors) = tsc("bad.ts");
    assert!(!ok, "bad.ts compiled");
    // (line, error code, a piece of the message): each mistake in bad.ts, where it is.
    let expected = [
        // a wrong argument type
        (9, "TS2345", "Argument of type 'number' is not assignable to parameter of type 'string'."),
        // a wrong ack type
        (11, "TS2345", "Argument of type '(n: number) => void' is not assignable to parameter of type '(arg0: string) => void'."),
        // an unknown event
        (13, "TS2345", "Argument of type '\"shout\"' is not assignable to parameter of type '\"join\" | \"message\"'."),
        // a field the ack type does not have
        (15, "TS2551", "Property 'recipient' does not exist on type 'Delivered'."),
        // a server event's argument used as another type
        (17, "TS2322", "Type 'number' is not assignable to type 'string'."),
        // a field of another variant of a tagged enum
        (19, "TS2353", "'w' does not exist in type '{ kind: \"circle\"; radius: number; }'."),
        // an undeclared server event
        (21, "TS2345", "Argument of type '\"tock\"' is not assignable to parameter of type 'ReservedOrUserEventNames<SocketReservedEvents, RichServerToClientEvents>'."),
        // a wrong ack type, on an event whose name is not an identifier
        (23, "TS2345", "Argument of type '(n: string) => void' is not assignable to parameter of type '(arg0: number) => void'."),
    ];
    for (line, code, message) in expected {
        let found = errors.iter().any(|e| {
            e.starts_with(&format!("bad.ts({line},")) && e.contains(code) && e.contains(message)
        });
        assert!(
            found,
            "no {code} at bad.ts line {line} ({message}); tsc said:\n{errors:#?}"
        );
    }
    assert_eq!(
        errors.len(),
        expected.len(),
        "unexpected errors: {errors:#?}"
    );
}

#[test]
fn two_types_with_one_typescript_name_are_an_error() {
    mod a {
        #[derive(serde::Deserialize, ts_rs::TS)]
        #[allow(dead_code)]
        pub struct Auth {
            pub x: u8,
        }
    }
    let io = chat_example::chat_server();
    io.ns("/other").describe_auth::<a::Auth>();
    let err = io.typescript().unwrap_err();
    assert!(
        matches!(&err, TypeScriptError::DuplicateName { name, .. } if name == "Auth"),
        "{err}"
    );
    // A type named like a generated declaration.
    #[derive(serde::Deserialize, ts_rs::TS)]
    struct ClientToServerEvents {}
    let io = SocketIo::new();
    io.ns("/").describe_auth::<ClientToServerEvents>();
    let err = io.typescript().unwrap_err();
    assert!(
        matches!(&err, TypeScriptError::ReservedName { name, .. } if name == "ClientToServerEvents"),
        "{err}"
    );
}

async fn serve(io: &SocketIo) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().socketio(io);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The typed emits put on the wire what `RichServerToClientEvents` declares: one argument per
/// field (a tuple field stays one array argument), none for a unit variant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_emits_send_the_declared_arguments() {
    // `/rich` alone: the chat's server has connection state recovery, which appends an offset
    // to every event.
    let io = SocketIo::new();
    io.register(Rich);
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    c.send_sio(r#"0/rich,{"token":"t"}"#).await;
    assert!(c.expect_sio().await.starts_with("0/rich,{\"sid\""));

    c.send_sio(r#"2/rich,1["draw",{"kind":"rect","w":1.5,"h":2},[3,4]]"#)
        .await;
    assert_eq!(
        c.expect_sio().await,
        r#"2/rich,["shape",{"kind":"rect","w":1.5,"h":2.0},"me"]"#
    );
    assert_eq!(c.expect_sio().await, r#"2/rich,["tick"]"#);
    assert_eq!(c.expect_sio().await, r#"2/rich,["pair",[1,2]]"#);
    assert_eq!(c.expect_sio().await, r#"3/rich,1[true,2]"#);

    let order =
        r#"{"customerId":7,"items":[{"sku":"a","qty":2}],"note":null,"tags":{},"source":"web"}"#;
    c.send_sio(&format!(r#"2/rich,2["order",{order}]"#)).await;
    assert_eq!(
        c.expect_sio().await,
        r#"2/rich,["receipt",{"id":"web-7","total":2.0}]"#
    );
    assert_eq!(
        c.expect_sio().await,
        r#"3/rich,2[{"id":"web-7","total":2.0}]"#
    );
}

/// A handler registered over a described one drops the old declaration until it is described
/// again (the last registration wins, for types as for dispatch).
#[test]
fn a_replaced_handler_forgets_its_old_declaration() {
    let io = chat_example::chat_server();
    let before = io.typescript().unwrap();
    assert!(before.contains("  join: (room: string,"), "{before}");
    io.ns("/")
        .on("join", |_s: SocketRef, n: u32| async move { n });
    let after = io.typescript().unwrap();
    assert!(!after.contains("  join:"), "{after}");
    io.ns("/").describe_event::<(u32,), (u32,)>("join");
    let described = io.typescript().unwrap();
    assert!(
        described.contains("  join: (arg0: number, callback: (arg0: number) => void) => void;"),
        "{described}"
    );
}
