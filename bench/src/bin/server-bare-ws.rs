//! The physical limit: a bare tokio-tungstenite server that speaks just enough Engine.IO /
//! Socket.IO text frames to run the echo and broadcast scenarios, with no framework at all.
//!
//! One task per connection reads frames and writes the replies itself (no writer task, no
//! channel on the echo path); broadcast frames reach members through an unbounded queue that
//! their task drains in one batch before a single flush. A broadcast frame is one shared
//! `Utf8Bytes` cloned per member (a reference count, no copy). Same TCP settings as the
//! framework servers (`TCP_NODELAY` unless `BENCH_NODELAY=0`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// The members' queues by room name.
type Members = Arc<Mutex<HashMap<String, Vec<mpsc::UnboundedSender<Utf8Bytes>>>>>;

const OPEN: &str = r#"0{"sid":"bare","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", socketio_bench::port())).await?;
    let members: Members = Arc::default();
    let nodelay = socketio_bench::nodelay();
    loop {
        let (tcp, _) = listener.accept().await?;
        if nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let members = members.clone();
        tokio::spawn(async move {
            // a 4 KiB read buffer, as ours: tungstenite zero-fills the whole buffer (128 KiB by
            // default) before every read
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let accepting = tokio_tungstenite::accept_async_with_config(tcp, Some(config));
            let Ok(mut ws) = accepting.await else {
                return;
            };
            let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
            if ws.send(Message::text(OPEN)).await.is_err() {
                return;
            }
            loop {
                tokio::select! {
                    biased;
                    msg = ws.next() => {
                        let Some(Ok(msg)) = msg else { break };
                        let Message::Text(text) = msg else { continue };
                        if let Some(reply) = handle(text.as_str(), &tx, &members) {
                            if ws.feed(reply).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(frame) = rx.recv() => {
                        let mut ok = ws.feed(Message::Text(frame)).await.is_ok();
                        while let (true, Ok(frame)) = (ok, rx.try_recv()) {
                            ok = ws.feed(Message::Text(frame)).await.is_ok();
                        }
                        if !ok {
                            break;
                        }
                    }
                }
                if ws.flush().await.is_err() {
                    break;
                }
            }
        });
    }
}

/// The reply to one text frame, if any; broadcasts go to the members' queues.
fn handle(text: &str, me: &mpsc::UnboundedSender<Utf8Bytes>, members: &Members) -> Option<Message> {
    if text == "40" {
        return Some(Message::text(r#"40{"sid":"bare"}"#));
    }
    let rest = text.strip_prefix("42")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, body) = rest.split_at(digits);
    if let Some(arg) = body.strip_prefix(r#"["echo","#) {
        Some(Message::text(format!("43{id}[{arg}")))
    } else if let Some(rest) = body.strip_prefix(r#"["join""#) {
        // `["join"]` or `["join","ROOM"]`
        let room = rest
            .strip_prefix(",\"")
            .and_then(|r| r.split_once('"'))
            .map_or("bench", |(r, _)| r);
        let mut members = members.lock().unwrap();
        members.entry(room.to_owned()).or_default().push(me.clone());
        Some(Message::text(format!("43{id}[]")))
    } else if let Some(arg) = body.strip_prefix(r#"["broadcast","#) {
        // to room "bench", or to the one named first in the argument: `{"room":"ROOM",..}`
        let room = arg
            .strip_prefix(r#"{"room":""#)
            .and_then(|r| r.split_once('"'))
            .map_or("bench", |(r, _)| r);
        let frame = Utf8Bytes::from(format!(r#"42["msg",{arg}"#));
        if let Some(room) = members.lock().unwrap().get_mut(room) {
            room.retain(|m| m.send(frame.clone()).is_ok());
        }
        None
    } else {
        None
    }
}
