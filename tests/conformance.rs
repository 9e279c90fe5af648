//! The cases of the official test suites (socketio/engine.io-protocol and
//! socketio/socket.io-protocol, `test-suite/test-suite.js`, Engine.IO v4 / Socket.IO v5),
//! rewritten in Rust against our two conformance example servers, in process.

mod support;

#[allow(dead_code)]
#[path = "../examples/conformance-engineio.rs"]
mod conformance_engineio;
#[allow(dead_code)]
#[path = "../examples/conformance-socketio.rs"]
mod conformance_socketio;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use socketio_axum::SocketIoRouterExt;
use support::client::{parse_open_packet, Event, Http, Ws};

const WAIT: Duration = Duration::from_secs(5);
const PING_INTERVAL: Duration = Duration::from_millis(300);
const PING_TIMEOUT: Duration = Duration::from_millis(200);

async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The Engine.IO suite's server; returns its base URL with the path (`http://…/engine.io/`).
async fn engineio() -> (String, String) {
    let eio = conformance_engineio::server();
    let addr = listen(Router::new().route_service(eio.path(), eio.service())).await;
    (
        format!("http://{addr}/engine.io/"),
        format!("ws://{addr}/engine.io/"),
    )
}

/// The Socket.IO suite's server.
async fn socketio() -> (String, String) {
    let io = conformance_socketio::server();
    let addr = listen(Router::new().socketio(&io)).await;
    (
        format!("http://{addr}/socket.io/"),
        format!("ws://{addr}/socket.io/"),
    )
}

async fn open_polling(http: &Http, base: &str) -> String {
    let resp = http.get(&format!("{base}?EIO=4&transport=polling")).await;
    assert_eq!(resp.status, 200);
    parse_open_packet(&resp.text())["sid"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn recv_text(ws: &mut Ws) -> String {
    match ws.recv(WAIT).await {
        Some(Event::Text(t)) => t,
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Next message that is not a ping (the suite's `waitForPackets`).
async fn recv_non_ping(ws: &mut Ws) -> Event {
    loop {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "2" => continue,
            Some(event) => return event,
            None => panic!("nothing arrived within {WAIT:?}"),
        }
    }
}

async fn expect_ws_closed(ws: &mut Ws) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match ws.recv(deadline - tokio::time::Instant::now()).await {
            Some(Event::Closed(_)) => return,
            Some(_) => continue,
            None => panic!("the connection was not closed within {WAIT:?}"),
        }
    }
}

fn assert_open_packet(text: &str, upgrades: serde_json::Value) {
    let open = parse_open_packet(text);
    let mut keys: Vec<_> = open.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ]
    );
    assert!(open["sid"].is_string());
    assert_eq!(open["upgrades"], upgrades);
    assert_eq!(open["pingInterval"], 300);
    assert_eq!(open["pingTimeout"], 200);
    assert_eq!(open["maxPayload"], 1_000_000);
}

// ---------------------------------------------------------------- Engine.IO: handshake

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_handshake_polling_opens_a_session() {
    let (base, _) = engineio().await;
    let resp = Http::new()
        .get(&format!("{base}?EIO=4&transport=polling"))
        .await;
    assert_eq!(resp.status, 200);
    assert_open_packet(&resp.text(), serde_json::json!(["websocket"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_handshake_rejects_bad_eio_transport_and_method() {
    let (base, _) = engineio().await;
    let http = Http::new();
    for query in [
        "transport=polling",
        "EIO=abc&transport=polling",
        "EIO=4",
        "EIO=4&transport=abc",
    ] {
        assert_eq!(
            http.get(&format!("{base}?{query}")).await.status,
            400,
            "{query}"
        );
    }
    let url = format!("{base}?EIO=4&transport=polling");
    assert_eq!(http.post(&url, "").await.status, 400, "POST handshake");
    let put = http.request(http::Method::PUT, &url, &[], "").await;
    assert_eq!(put.status, 400, "PUT handshake");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_handshake_websocket_opens_a_session() {
    let (_, ws_base) = engineio().await;
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), false).await;
    assert_open_packet(&recv_text(&mut ws).await, serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_handshake_websocket_rejects_bad_eio_and_transport() {
    let (_, ws_base) = engineio().await;
    for query in [
        "transport=websocket",
        "EIO=abc&transport=websocket",
        "EIO=4",
        "EIO=4&transport=abc",
    ] {
        let url = format!("{ws_base}?{query}");
        assert!(
            Ws::try_connect(&url, false).await.is_err(),
            "{query} should be refused"
        );
    }
}

// ---------------------------------------------------------------- Engine.IO: message

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_polling_echoes_text_several_and_binary_packets() {
    let (base, _) = engineio().await;
    let http = Http::new();
    for body in [
        "4hello",
        "4test1\x1e4test2\x1e4test3",
        "4hello\x1ebAQIDBA==",
    ] {
        let sid = open_polling(&http, &base).await;
        let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
        let push = http.post(&url, body).await;
        assert_eq!((push.status, push.text().as_str()), (200, "ok"));
        let poll = http.get(&url).await;
        assert_eq!((poll.status, poll.text()), (200, body.to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_polling_invalid_packet_closes_the_session() {
    let (base, _) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http.post(&url, "abc").await.status, 400);
    assert_eq!(http.get(&url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_polling_duplicate_poll_closes_the_session() {
    let (base, _) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
    // Which of the two overlapping GETs comes first is up to the scheduler: one is refused with
    // 400, the other (parked) one is released with the close packet.
    let (a, b) = tokio::join!(http.get(&url), async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        http.get(&format!("{url}&t=burst")).await
    });
    let mut outcomes = [(a.status, a.text()), (b.status, b.text())];
    outcomes.sort();
    assert_eq!(outcomes[0], (200, "1".to_string()), "{outcomes:?}");
    assert_eq!(outcomes[1].0, 400, "{outcomes:?}");
    assert_eq!(http.get(&url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_websocket_echoes_text_and_binary() {
    let (_, ws_base) = engineio().await;
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), true).await;
    recv_text(&mut ws).await;
    ws.send_text("4hello").await;
    assert_eq!(recv_non_ping(&mut ws).await, Event::Text("4hello".into()));
    ws.send_binary(&[1, 2, 3, 4]).await;
    assert_eq!(
        recv_non_ping(&mut ws).await,
        Event::Binary(vec![1, 2, 3, 4])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_websocket_invalid_packet_closes() {
    let (_, ws_base) = engineio().await;
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), true).await;
    recv_text(&mut ws).await;
    ws.send_text("abc").await;
    expect_ws_closed(&mut ws).await;
}

// ---------------------------------------------------------------- Engine.IO: heartbeat

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_polling_heartbeat() {
    let (base, _) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
    for _ in 0..3 {
        let poll = http.get(&url).await;
        assert_eq!((poll.status, poll.text().as_str()), (200, "2"));
        assert_eq!(http.post(&url, "3").await.status, 200);
    }
    // No pong: the session is closed after pingInterval + pingTimeout.
    let sid = open_polling(&http, &base).await;
    tokio::time::sleep(PING_INTERVAL + PING_TIMEOUT + Duration::from_millis(300)).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http.get(&url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_websocket_heartbeat() {
    let (_, ws_base) = engineio().await;
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), false).await;
    recv_text(&mut ws).await;
    for _ in 0..3 {
        assert_eq!(recv_text(&mut ws).await, "2");
        ws.send_text("3").await;
    }
    // Stop answering: closed after the next ping times out.
    expect_ws_closed(&mut ws).await;
}

// ---------------------------------------------------------------- Engine.IO: close

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_polling_forced_close() {
    let (base, _) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let url = format!("{base}?EIO=4&transport=polling&sid={sid}");
    let (poll, push) = tokio::join!(http.get(&url), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        http.post(&url, "1").await
    });
    assert_eq!(push.status, 200);
    assert_eq!((poll.status, poll.text().as_str()), (200, "6"));
    assert_eq!(http.get(&url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_websocket_forced_close() {
    let (_, ws_base) = engineio().await;
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), true).await;
    recv_text(&mut ws).await;
    ws.send_text("1").await;
    expect_ws_closed(&mut ws).await;
}

// ---------------------------------------------------------------- Engine.IO: upgrade

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_upgrade_from_polling_to_websocket() {
    let (base, ws_base) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let mut ws = Ws::connect(
        &format!("{ws_base}?EIO=4&transport=websocket&sid={sid}"),
        true,
    )
    .await;
    ws.send_text("2probe").await;
    assert_eq!(recv_text(&mut ws).await, "3probe");
    let poll = http
        .get(&format!("{base}?EIO=4&transport=polling&sid={sid}"))
        .await;
    assert_eq!(
        (poll.status, poll.text().as_str()),
        (200, "6"),
        "noop ends the long-poll"
    );
    ws.send_text("5").await;
    ws.send_text("4hello").await;
    assert_eq!(recv_non_ping(&mut ws).await, Event::Text("4hello".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio_after_upgrade_http_and_second_websocket_are_refused() {
    let (base, ws_base) = engineio().await;
    let http = Http::new();
    let sid = open_polling(&http, &base).await;
    let ws_url = format!("{ws_base}?EIO=4&transport=websocket&sid={sid}");
    let mut ws = Ws::connect(&ws_url, true).await;
    ws.send_text("2probe").await;
    assert_eq!(recv_text(&mut ws).await, "3probe");
    ws.send_text("5").await;
    // A round trip: the switch is done (and no stray noop went out on the websocket).
    ws.send_text("4sync").await;
    assert_eq!(recv_non_ping(&mut ws).await, Event::Text("4sync".into()));
    let poll = http
        .get(&format!("{base}?EIO=4&transport=polling&sid={sid}"))
        .await;
    assert_eq!(poll.status, 400);
    // The suite's "ignores WebSocket connection with same sid after upgrade": the second
    // websocket gets its 101, then the server closes it.
    let mut second = Ws::try_connect(&ws_url, false)
        .await
        .unwrap_or_else(|e| panic!("second websocket on the same sid must get 101: {e:?}"));
    expect_ws_closed(&mut second).await;
    ws.send_text("4hello").await;
    assert_eq!(recv_non_ping(&mut ws).await, Event::Text("4hello".into()));
}

// ---------------------------------------------------------------- Socket.IO: connect

async fn sio_ws(ws_base: &str) -> Ws {
    let mut ws = Ws::connect(&format!("{ws_base}?EIO=4&transport=websocket"), true).await;
    recv_text(&mut ws).await; // Engine.IO handshake
    ws
}

/// Connected to "/" with the "auth" packet consumed (the suite's `initSocketIOConnection`).
async fn sio_connected(ws_base: &str) -> Ws {
    let mut ws = sio_ws(ws_base).await;
    ws.send_text("40").await;
    assert!(recv_non_ping(&mut ws).await.await_text().starts_with("40"));
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"42["auth",{}]"#
    );
    ws
}

trait EventText {
    fn await_text(self) -> String;
}

impl EventText for Event {
    fn await_text(self) -> String {
        match self {
            Event::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

async fn check_connect(ws_base: &str, send: &str, prefix: &str, auth: &str) {
    let mut ws = sio_ws(ws_base).await;
    ws.send_text(send).await;
    let answer = recv_non_ping(&mut ws).await.await_text();
    let handshake: serde_json::Value =
        serde_json::from_str(answer.strip_prefix(prefix).expect("CONNECT answer")).unwrap();
    let keys: Vec<_> = handshake.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["sid"]);
    assert!(handshake["sid"].is_string());
    let expected = format!(r#"{}["auth",{auth}]"#, prefix.replacen("40", "42", 1));
    assert_eq!(recv_non_ping(&mut ws).await.await_text(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_connect_main_and_custom_namespaces_with_and_without_payload() {
    let (_, ws_base) = socketio().await;
    check_connect(&ws_base, "40", "40", "{}").await;
    check_connect(&ws_base, r#"40{"token":"123"}"#, "40", r#"{"token":"123"}"#).await;
    check_connect(&ws_base, "40/custom,", "40/custom,", "{}").await;
    check_connect(
        &ws_base,
        r#"40/custom,{"token":"abc"}"#,
        "40/custom,",
        r#"{"token":"abc"}"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_unknown_namespace_and_invalid_handshake() {
    let (_, ws_base) = socketio().await;
    let mut ws = sio_ws(&ws_base).await;
    ws.send_text("40/random").await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"44/random,{"message":"Invalid namespace"}"#
    );
    let mut ws = sio_ws(&ws_base).await;
    ws.send_text("4abc").await;
    expect_ws_closed(&mut ws).await;
}

// ---------------------------------------------------------------- Socket.IO: disconnect

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_disconnect_from_custom_keeps_main() {
    let (_, ws_base) = socketio().await;
    let mut ws = sio_connected(&ws_base).await;
    ws.send_text("40/custom").await;
    assert!(recv_non_ping(&mut ws)
        .await
        .await_text()
        .starts_with("40/custom,"));
    recv_non_ping(&mut ws).await; // auth packet
    ws.send_text("41/custom").await;
    ws.send_text(r#"42["message","message to main namespace"]"#)
        .await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"42["message-back","message to main namespace"]"#
    );
}

// ---------------------------------------------------------------- Socket.IO: message

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_plain_and_binary_messages_with_and_without_ack() {
    let (_, ws_base) = socketio().await;
    let mut ws = sio_connected(&ws_base).await;
    ws.send_text(r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    ws.send_text(r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(recv_non_ping(&mut ws).await, Event::Binary(vec![1, 2, 3]));
    assert_eq!(recv_non_ping(&mut ws).await, Event::Binary(vec![4, 5, 6]));
    ws.send_text(r#"42456["message-with-ack",1,"2",{"3":[false]}]"#)
        .await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"43456[1,"2",{"3":[false]}]"#
    );
    ws.send_text(r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        .await;
    ws.send_binary(&[1, 2, 3]).await;
    ws.send_binary(&[4, 5, 6]).await;
    assert_eq!(
        recv_non_ping(&mut ws).await.await_text(),
        r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(recv_non_ping(&mut ws).await, Event::Binary(vec![1, 2, 3]));
    assert_eq!(recv_non_ping(&mut ws).await, Event::Binary(vec![4, 5, 6]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sio_invalid_packets_close_the_connection() {
    let (_, ws_base) = socketio().await;
    for bad in [
        "4abc",
        "42{}",
        r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#,
    ] {
        let mut ws = sio_connected(&ws_base).await;
        ws.send_text(bad).await;
        expect_ws_closed(&mut ws).await;
    }
}
