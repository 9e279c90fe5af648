//! Socket.IO v5 packet-level tests over real loopback sockets: raw Engine.IO messages carrying
//! Socket.IO packets, over WebSocket frames and/or HTTP long-polling payloads.
//!
//! The server under test is described in tests/TEST_SERVER.md ("protocol tests" options:
//! pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000, connectTimeout 1000 ms).
//! Tests written as `async fn name(transport)` run once per transport (`name::websocket`,
//! `name::polling`).

mod support;

use std::time::{Duration, Instant};

use support::client::{parse_connect_answer, parse_with_id, Conn, Transport, WAIT};
use support::server::start_protocol_server;

/// Runs `async fn $name(Transport)` as two tests: `$name::websocket` and `$name::polling`.
macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn websocket() {
                super::$name(super::Transport::WebSocket).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn polling() {
                super::$name(super::Transport::Polling).await
            }
        }
    )*};
}

on_both_transports!(
    connect_to_main_namespace,
    connect_with_auth_payload,
    connect_to_custom_namespace,
    event_with_ack,
    namespace_event_with_ack,
    binary_event_with_ack,
    binary_echo_with_two_attachments,
    server_to_client_ack,
    transport_event_reports_transport,
    no_connect_within_connect_timeout_closes_session,
    invalid_packets_close_the_connection,
);

/// Expected rooms ack payload: the sorted rooms.
fn sorted_rooms(rooms: &[&str]) -> serde_json::Value {
    let mut rooms: Vec<&str> = rooms.to_vec();
    rooms.sort_unstable();
    serde_json::json!([rooms])
}

// ----------------------------------------------------------------------------------------------
// CONNECT / CONNECT_ERROR
// ----------------------------------------------------------------------------------------------

/// `40` → `40{"sid":...}`, then the server's `"auth"` event with `null`.
async fn connect_to_main_namespace(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, open) = Conn::open(server.addr, transport).await;
    c.send_sio("0").await;
    let answer = c.expect_sio().await;
    let sid = parse_connect_answer(&answer, "/");
    assert!(!sid.is_empty());
    assert_ne!(
        Some(sid.as_str()),
        open["sid"].as_str(),
        "the Socket.IO sid is not the Engine.IO sid"
    );
    c.expect_sio_eq(r#"2["auth",null]"#).await;
}

/// `40{"token":"abc"}` → CONNECT, then `42["auth",{"token":"abc"}]`.
async fn connect_with_auth_payload(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.send_sio(r#"0{"token":"abc"}"#).await;
    parse_connect_answer(&c.expect_sio().await, "/");
    c.expect_sio_eq(r#"2["auth",{"token":"abc"}]"#).await;
}

/// `40/custom,` → `40/custom,{"sid":...}` with a sid different from the `/` one.
async fn connect_to_custom_namespace(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    let main_sid = c.connect_ns("/", None).await;
    c.send_sio("0/custom,").await;
    let custom_sid = parse_connect_answer(&c.expect_sio().await, "/custom");
    assert_ne!(main_sid, custom_sid, "each namespace gets its own sid");
    c.expect_sio_eq(r#"2/custom,["auth",null]"#).await;
    // Both namespaces are usable on the one connection.
    c.send_sio(r#"2/custom,1["ack","c"]"#).await;
    c.expect_sio_eq(r#"3/custom,1["c"]"#).await;
    c.send_sio(r#"22["ack","m"]"#).await;
    c.expect_sio_eq(r#"32["m"]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_unknown_namespace_is_refused() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.send_sio("0/nope,").await;
    c.expect_sio_eq(r#"4/nope,{"message":"Invalid namespace"}"#)
        .await;
    // The connection stays usable.
    c.connect_ns("/", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_rejected_by_middleware() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.send_sio(r#"0{"reject":true}"#).await;
    c.expect_sio_eq(r#"4{"message":"rejected by server"}"#)
        .await;
    c.send_sio(r#"0/custom,{"reject":true}"#).await;
    c.expect_sio_eq(r#"4/custom,{"message":"rejected by server"}"#)
        .await;
    // Refused, not closed: a later CONNECT succeeds.
    c.connect_ns("/", Some(r#"{"reject":false}"#)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_namespace_requires_token() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.send_sio("0/admin,").await;
    c.expect_sio_eq(r#"4/admin,{"message":"unauthorized"}"#)
        .await;
    c.send_sio(r#"0/admin,{"token":"wrong"}"#).await;
    c.expect_sio_eq(r#"4/admin,{"message":"unauthorized"}"#)
        .await;
    let sid = c.connect_ns("/admin", Some(r#"{"token":"secret"}"#)).await;
    assert!(!sid.is_empty());
    c.send_sio(r#"2/admin,5["ack","in admin"]"#).await;
    c.expect_sio_eq(r#"3/admin,5["in admin"]"#).await;
}

// ----------------------------------------------------------------------------------------------
// EVENT / ACK
// ----------------------------------------------------------------------------------------------

/// `421["ack","a",1]` → `431["a",1]`.
async fn event_with_ack(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/", None).await;
    c.send_sio(r#"21["ack","a",1]"#).await;
    c.expect_sio_eq(r#"31["a",1]"#).await;
    // Plain event without ack id: "echo" emits back, with the same arguments.
    c.send_sio(r#"2["echo",1,"2",{"3":[true]},null]"#).await;
    c.expect_sio_eq(r#"2["echo",1,"2",{"3":[true]},null]"#)
        .await;
}

/// `42/custom,7["ack",1]` → `43/custom,7[1]`.
async fn namespace_event_with_ack(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/custom", None).await;
    c.send_sio(r#"2/custom,7["ack",1]"#).await;
    c.expect_sio_eq(r#"3/custom,7[1]"#).await;
    c.send_sio(r#"2/custom,["echo","x"]"#).await;
    c.expect_sio_eq(r#"2/custom,["echo","x"]"#).await;
}

/// `451-0["ack",{"_placeholder":true,"num":0}]` + attachment → `461-0[{"_placeholder":...}]` +
/// the same bytes (a binary frame on websocket, `b<base64>` on polling).
async fn binary_event_with_ack(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/", None).await;
    let data: &[u8] = &[0, 1, 2, 3, 255, 254];
    c.send_sio_with_binary(r#"51-0["ack",{"_placeholder":true,"num":0}]"#, &[data])
        .await;
    c.expect_sio_eq(r#"61-0[{"_placeholder":true,"num":0}]"#)
        .await;
    assert_eq!(c.expect_binary().await, data);
}

/// Two attachments, placeholders in two positions, "echo" in a custom namespace.
async fn binary_echo_with_two_attachments(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/custom", None).await;
    let a: &[u8] = &[1, 2, 3];
    let b: &[u8] = &[4, 5, 6, 7];
    let header =
        r#"2-/custom,["echo",{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]"#;
    c.send_sio_with_binary(&format!("5{header}"), &[a, b]).await;
    c.expect_sio_eq(&format!("5{header}")).await;
    assert_eq!(c.expect_binary().await, a);
    assert_eq!(c.expect_binary().await, b);
}

/// Server→client ack: `423["ask","x"]` → `42N["question","x"]`; `43N["answer"]` → `433["answer"]`.
async fn server_to_client_ack(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/", None).await;
    c.send_sio(r#"23["ask","x"]"#).await;
    let question = c.expect_sio().await;
    let (id, args) = parse_with_id(&question, '2', "/");
    let id = id.unwrap_or_else(|| panic!("the question must ask for an ack: {question:?}"));
    assert_eq!(args, serde_json::json!(["question", "x"]));
    c.send_sio(&format!(r#"3{id}["answer","ignored"]"#)).await;
    c.expect_sio_eq(r#"33["answer"]"#).await;
}

/// `"transport"` acks with the transport the server sees.
async fn transport_event_reports_transport(transport: Transport) {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.connect_ns("/", None).await;
    c.send_sio(r#"20["transport"]"#).await;
    let expected = match transport {
        Transport::WebSocket => r#"30["websocket"]"#,
        Transport::Polling => r#"30["polling"]"#,
    };
    c.expect_sio_eq(expected).await;
}

// ----------------------------------------------------------------------------------------------
// DISCONNECT
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_then_reconnect_gets_new_socket() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let first = c.connect_ns("/", None).await;
    c.connect_ns("/custom", None).await;
    c.send_sio("1").await;
    // A round trip on another namespace makes sure the DISCONNECT was handled before the new
    // CONNECT (the reference server handles a DISCONNECT one tick late and closes the connection
    // on a CONNECT for a namespace it still sees as connected).
    c.send_sio(r#"2/custom,9["ack"]"#).await;
    c.expect_sio_eq("3/custom,9[]").await;
    // The Engine.IO session survives a namespace DISCONNECT: a new CONNECT gives a new socket.
    let second = c.connect_ns("/", None).await;
    assert_ne!(first, second, "a reconnection creates a new socket");
    c.send_sio(r#"21["ack",1]"#).await;
    c.expect_sio_eq(r#"31[1]"#).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_client_disconnect_are_not_handled() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.connect_ns("/", None).await;
    c.connect_ns("/custom", None).await;
    c.send_sio("1/custom,").await;
    // The other namespace is unaffected.
    c.send_sio(r#"21["ack",1]"#).await;
    c.expect_sio_eq(r#"31[1]"#).await;
    // An event for the left namespace gets no answer. (The reference server treats it as an
    // invalid state and closes the whole connection; ignoring it is accepted too.)
    let _ = c.try_send_eio(r#"42/custom,2["ack",2]"#).await;
    let _closed = c.expect_no_sio().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_disconnect_sends_disconnect_packet() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.connect_ns("/", None).await;
    c.connect_ns("/custom", None).await;
    c.send_sio(r#"2/custom,["disconnect-me"]"#).await;
    c.expect_sio_eq("1/custom,").await;
    // Only that namespace is disconnected.
    c.send_sio(r#"21["ack",1]"#).await;
    c.expect_sio_eq(r#"31[1]"#).await;
    c.send_sio(r#"2["disconnect-me"]"#).await;
    c.expect_sio_eq("1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_me_closes_the_engine_connection() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.connect_ns("/", None).await;
    c.send_sio(r#"2["close-me"]"#).await;
    c.expect_closed(WAIT).await;
}

/// No CONNECT within connectTimeout (1 s) → the Engine.IO session is closed (pings answered).
async fn no_connect_within_connect_timeout_closes_session(transport: Transport) {
    let server = start_protocol_server().await;
    let start = Instant::now();
    let (mut c, _) = Conn::open(server.addr, transport).await;
    c.expect_closed(Duration::from_secs(4)).await;
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(700),
        "closed after {elapsed:?}: sooner than connectTimeout (1 s) although pings were answered"
    );
}

// ----------------------------------------------------------------------------------------------
// Invalid packets
// ----------------------------------------------------------------------------------------------

/// Malformed Socket.IO packets close the connection.
async fn invalid_packets_close_the_connection(transport: Transport) {
    let server = start_protocol_server().await;
    for packet in [
        "4abc",
        r#"42{"not":"an array"}"#,
        "49",
        r#"40"not an object""#,
        "42[]",
        // reserved event names (socket.io-parser refuses them as an invalid payload)
        r#"42["disconnect"]"#,
        r#"42["connect",{}]"#,
        r#"42["newListener","x"]"#,
    ] {
        let (mut c, _) = Conn::open(server.addr, transport).await;
        c.connect_ns("/", None).await;
        let _ = c.try_send_eio(packet).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match c.recv(left).await {
                None => panic!("connection still open after invalid packet {packet:?}"),
                Some(support::client::Event::Closed(_)) => break,
                Some(support::client::Event::Text(t)) if t == "6" => {}
                Some(other) => panic!("after invalid packet {packet:?}: unexpected {other:?}"),
            }
        }
    }
}

/// A binary packet whose attachments add up to more than 10 × maxPayload closes the connection
/// instead of buffering without bound (each frame alone is within maxPayload).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_attachment_total_closes_the_connection() {
    let server = start_protocol_server().await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.connect_ns("/", None).await;
    let placeholders: Vec<String> = (0..12)
        .map(|n| format!(r#"{{"_placeholder":true,"num":{n}}}"#))
        .collect();
    c.send_eio(&format!(r#"4512-["echo",{}]"#, placeholders.join(",")))
        .await;
    let chunk = vec![7u8; 999_000];
    let Conn::Ws(ws) = &c else {
        unreachable!("opened over websocket")
    };
    for _ in 0..12 {
        if !ws.try_send_binary(&chunk).await {
            break;
        }
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.recv(left).await {
            None => panic!("connection still open after 12 MB of attachments"),
            Some(support::client::Event::Closed(_)) => break,
            Some(support::client::Event::Binary(_)) => panic!("the oversized packet was echoed"),
            Some(_) => {}
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Rooms
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_and_broadcast_skip_the_sender() {
    let server = start_protocol_server().await;
    let (mut a, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let (mut b, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let sid_a = a.connect_ns("/", None).await;
    let sid_b = b.connect_ns("/", None).await;

    a.send_sio(r#"21["join","r1"]"#).await;
    let (id, rooms) = parse_with_id(&a.expect_sio().await, '3', "/");
    assert_eq!(id, Some(1));
    assert_eq!(rooms, sorted_rooms(&[&sid_a, "r1"]));
    b.send_sio(r#"21["join","r1"]"#).await;
    let (_, rooms) = parse_with_id(&b.expect_sio().await, '3', "/");
    assert_eq!(rooms, sorted_rooms(&[&sid_b, "r1"]));
    a.send_sio(r#"22["rooms"]"#).await;
    let (_, rooms) = parse_with_id(&a.expect_sio().await, '3', "/");
    assert_eq!(rooms, sorted_rooms(&[&sid_a, "r1"]));

    // "to-room": everyone in the room but the sender.
    a.send_sio(r#"23["to-room","r1","hi"]"#).await;
    a.expect_sio_eq("33[true]").await;
    b.expect_sio_eq(r#"2["room-message","hi"]"#).await;

    // "to-room-all": the sender too. A's next packets are this message and the ack, which also
    // shows that A never got "hi" (it would have been queued before them).
    a.send_sio(r#"24["to-room-all","r1","all"]"#).await;
    let mut got = vec![a.expect_sio().await, a.expect_sio().await];
    got.sort();
    assert_eq!(got, [r#"2["room-message","all"]"#, "34[true]"]);
    b.expect_sio_eq(r#"2["room-message","all"]"#).await;

    // After "leave", B no longer gets room messages.
    b.send_sio(r#"22["leave","r1"]"#).await;
    let (_, rooms) = parse_with_id(&b.expect_sio().await, '3', "/");
    assert_eq!(rooms, sorted_rooms(&[&sid_b]));
    a.send_sio(r#"25["to-room","r1","after-leave"]"#).await;
    a.expect_sio_eq("35[true]").await;
    // Anything sent to B by that broadcast was queued before this ack.
    b.send_sio(r#"23["rooms"]"#).await;
    let (id, rooms) = parse_with_id(&b.expect_sio().await, '3', "/");
    assert_eq!(id, Some(3));
    assert_eq!(rooms, sorted_rooms(&[&sid_b]));
}

/// A client that sends a long burst before it reads again fills its receive window with the
/// server's answers; the server must keep reading meanwhile, or both ends wait on each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_writing_without_reading_does_not_deadlock() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = support::server::start_interop_server().await;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    let next_text = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => break t.to_string(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    };
    assert!(next_text(&mut ws).await.starts_with('0'), "open packet");
    ws.send(Message::text("40")).await.unwrap();
    assert!(next_text(&mut ws).await.starts_with("40"), "CONNECT answer");

    // 300 × 100 kB each way: far more than the loopback socket buffers of both ends hold.
    let frame = format!(r#"42["echo","{}"]"#, "x".repeat(100_000));
    let burst = async {
        for _ in 0..300 {
            ws.send(Message::text(frame.as_str())).await?;
        }
        Ok::<_, tokio_tungstenite::tungstenite::Error>(())
    };
    tokio::time::timeout(Duration::from_secs(30), burst)
        .await
        .expect("the burst could not be written: the server stopped reading")
        .expect("the burst was written");

    // Every echo arrives, then the answer to an ack request sent after the burst.
    ws.send(Message::text(r#"421["ack","alive"]"#))
        .await
        .unwrap();
    let mut echoes = 0;
    loop {
        let text = next_text(&mut ws).await;
        if text.starts_with(r#"42["echo","#) {
            echoes += 1;
        } else if text == r#"431["alive"]"# {
            break;
        }
    }
    assert_eq!(echoes, 300);
}
