//! Engine.IO v4 protocol tests over real loopback sockets (raw HTTP long-polling and WebSocket).
//!
//! The server under test is described in tests/TEST_SERVER.md ("protocol tests" options:
//! pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000, connectTimeout 1000 ms).
//! Engine.IO messages carry Socket.IO packets there, so tests that last longer than the connect
//! timeout first send a Socket.IO CONNECT (`40`).

mod support;

use std::time::{Duration, Instant};

use support::client::{
    decode_payload, encode_payload, engine_url, parse_open_packet, polling_url, ws_url, EioPacket,
    Event, Http, Polling, Ws, WsConnectError, SEP, WAIT,
};
use support::server::{start_protocol_server, start_protocol_server_with};

/// How long a session may take to be closed once it should be (generous: loaded 2-core machine).
const CLOSE_WITHIN: Duration = Duration::from_secs(4);

fn assert_open_packet(open: &serde_json::Value, upgrades: serde_json::Value) {
    let mut keys: Vec<&str> = open
        .as_object()
        .expect("object")
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ],
        "open packet fields: {open}"
    );
    let sid = open["sid"].as_str().expect("sid is a string");
    assert!(!sid.is_empty(), "sid must not be empty");
    assert_eq!(open["upgrades"], upgrades, "upgrades in {open}");
    assert_eq!(open["pingInterval"], 300, "pingInterval in {open}");
    assert_eq!(open["pingTimeout"], 200, "pingTimeout in {open}");
    assert_eq!(open["maxPayload"], 1_000_000, "maxPayload in {open}");
}

/// Polls (pong-ing pings) until `count` Engine.IO packets other than pings have been collected,
/// in arrival order.
async fn collect_packets(p: &Polling, count: usize) -> Vec<EioPacket> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    while got.len() < count {
        assert!(
            Instant::now() < deadline,
            "only got {got:?} of {count} packets within {WAIT:?}"
        );
        let mut ping = false;
        for packet in p.poll().await {
            if packet == EioPacket::text("2") {
                ping = true;
            } else {
                got.push(packet);
            }
        }
        if ping {
            p.send_text("3").await;
        }
    }
    got
}

// ----------------------------------------------------------------------------------------------
// Handshake
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_handshake_returns_open_packet() {
    let server = start_protocol_server().await;
    let response = Http::new().get(&polling_url(server.addr)).await;
    assert_eq!(response.status, 200, "handshake body {:?}", response.text());
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "polling responses are text/plain, got {content_type:?}"
    );
    let body = response.text();
    assert!(
        !body.contains(SEP),
        "the handshake payload holds only the open packet: {body:?}"
    );
    let open = parse_open_packet(&body);
    assert_open_packet(&open, serde_json::json!(["websocket"]));

    // Two handshakes give two different sessions.
    let other = Polling::open(server.addr).await;
    assert_ne!(
        other.sid,
        open["sid"].as_str().unwrap(),
        "each handshake creates a new sid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_handshake_first_frame_is_open_packet() {
    let server = start_protocol_server().await;
    let (mut ws, open) = Ws::open(server.addr, false).await;
    assert_open_packet(&open, serde_json::json!([]));
    ws.close().await;
    let _ = ws.recv(Duration::from_millis(100)).await;
}

// ----------------------------------------------------------------------------------------------
// Request validation and error bodies
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_unsupported_eio_is_rejected_with_code_5() {
    let server = start_protocol_server().await;
    let http = Http::new();
    for query in [
        "transport=polling",
        "EIO=5&transport=polling",
        "EIO=abc&transport=polling",
    ] {
        let response = http.get(&engine_url(server.addr, query)).await;
        response.assert_engine_error(400, 5, "Unsupported protocol version");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_with_missing_or_unsupported_eio_gets_no_session() {
    let server = start_protocol_server().await;
    for query in [
        "transport=websocket",
        "EIO=5&transport=websocket",
        "EIO=abc&transport=websocket",
    ] {
        let url = format!("ws://{}/socket.io/?{query}", server.addr);
        match Ws::try_connect(&url, false).await {
            // Refusing the upgrade is the clean answer...
            Err(WsConnectError::Status(status, _)) => assert_eq!(status, 400, "{query}"),
            Err(WsConnectError::Other(e)) => panic!("{query}: unexpected failure {e}"),
            // ...but the reference server upgrades first and then writes an HTTP 400 into the
            // socket: the client sees a broken connection and never an open packet.
            Ok(mut ws) => match ws.recv(WAIT).await {
                Some(Event::Closed(_)) => {}
                other => panic!("{query}: expected no session (400 or closed), got {other:?}"),
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_missing_transport_is_rejected_with_code_0() {
    let server = start_protocol_server().await;
    let http = Http::new();
    for query in ["EIO=4", "EIO=4&transport=abc"] {
        let response = http.get(&engine_url(server.addr, query)).await;
        response.assert_engine_error(400, 0, "Transport unknown");
    }
    // Same over a websocket upgrade request.
    let url = format!("ws://{}/socket.io/?EIO=4&transport=abc", server.addr);
    match Ws::try_connect(&url, false).await {
        Err(WsConnectError::Status(status, _)) => assert_eq!(status, 400),
        Err(e) => panic!("expected HTTP 400 for an unknown transport, got {e:?}"),
        Ok(_) => panic!("a websocket upgrade with transport=abc must be refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sid_is_rejected_with_code_1_on_polling() {
    let server = start_protocol_server().await;
    let http = Http::new();
    let url = format!("{}&sid=doesnotexist", polling_url(server.addr));
    http.get(&url)
        .await
        .assert_engine_error(400, 1, "Session ID unknown");
    http.post(&url, "40")
        .await
        .assert_engine_error(400, 1, "Session ID unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sid_is_rejected_on_websocket() {
    let server = start_protocol_server().await;
    match Ws::try_connect(&ws_url(server.addr, Some("doesnotexist")), false).await {
        Err(WsConnectError::Status(status, _)) => assert_eq!(status, 400),
        Err(e) => panic!("expected HTTP 400 for an unknown sid, got {e:?}"),
        Ok(_) => panic!("a websocket upgrade with an unknown sid must be refused"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_rejected_with_codes_2_and_3() {
    let server = start_protocol_server().await;
    let http = Http::new();
    // A websocket-transport request that is not an upgrade: code 3 "Bad request".
    http.get(&engine_url(server.addr, "EIO=4&transport=websocket"))
        .await
        .assert_engine_error(400, 3, "Bad request");
    // A handshake must be a GET: code 2 "Bad handshake method".
    http.post(&polling_url(server.addr), "40")
        .await
        .assert_engine_error(400, 2, "Bad handshake method");
}

// ----------------------------------------------------------------------------------------------
// Polling transport rules
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_polling_get_is_rejected_and_closes_the_session() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    let spawn_get = |p: Polling| tokio::spawn(async move { p.try_get().await });
    let first = spawn_get(p.clone());
    // Give the first GET time to be parked on the server. Which one is parked does not matter:
    // the checks below do not depend on the order.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = spawn_get(p.clone());
    let results = [
        first.await.expect("GET task"),
        second.await.expect("GET task"),
    ];
    let rejected = results
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status == 400))
        .count();
    assert_eq!(
        rejected, 1,
        "exactly one of two concurrent GETs gets 400: {results:?}"
    );
    // The parked GET is released (the reference sends the close packet `1`), or cut.
    for response in results.iter().flatten().filter(|r| r.status != 400) {
        assert_eq!(response.status, 200, "parked GET: {response:?}");
        let packets = decode_payload(&response.text()).expect("valid payload");
        assert!(
            packets
                .iter()
                .all(|p| matches!(p, EioPacket::Text(t) if t == "1" || t == "6")),
            "the parked GET is released with close/noop only, got {packets:?}"
        );
    }
    // The session is gone.
    p.get()
        .await
        .assert_engine_error(400, 1, "Session ID unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_post_over_max_payload_gets_413() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    let body = format!("4{}", "a".repeat(1_100_000));
    let response = p
        .http
        .try_request(
            http::Method::POST,
            &p.url(),
            &[("content-type", "text/plain;charset=UTF-8")],
            body,
        )
        .await
        .unwrap_or_else(|e| panic!("expected a 413 answer to an oversized POST, got {e}"));
    assert_eq!(
        response.status,
        413,
        "oversized POST body {:?}",
        response.text()
    );
    // Note: the reference server does NOT close the session after a 413 (a following GET still
    // answers 200), so nothing is asserted about the session here.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_post_with_several_packets_is_delivered_in_order() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    // Socket.IO CONNECT first: events must wait for the CONNECT answer (the reference server
    // closes the connection on an event for a namespace that is not connected yet).
    p.send_text("40").await;
    let packets = collect_packets(&p, 2).await;
    assert!(
        matches!(&packets[0], EioPacket::Text(t) if t.starts_with("40{")),
        "CONNECT answer first, got {packets:?}"
    );
    assert_eq!(packets[1], EioPacket::text(r#"42["auth",null]"#));

    // Three messages in one payload...
    let payload = format!(r#"42["echo","hello"]{SEP}42["echo","world"]{SEP}42["echo","!"]"#);
    let response = p.post(payload).await;
    assert_eq!(response.status, 200, "POST body {:?}", response.text());
    assert_eq!(response.text(), "ok");
    let packets = collect_packets(&p, 3).await;
    assert_eq!(
        packets,
        [
            EioPacket::text(r#"42["echo","hello"]"#),
            EioPacket::text(r#"42["echo","world"]"#),
            EioPacket::text(r#"42["echo","!"]"#),
        ]
    );

    // ...and a text packet plus a binary one (`b<base64>`) in one payload.
    let payload = encode_payload(&[
        EioPacket::text(r#"451-["echo",{"_placeholder":true,"num":0}]"#),
        EioPacket::binary(vec![1u8, 2, 3, 4]),
    ]);
    assert!(
        payload.ends_with(&format!("{SEP}bAQIDBA==")),
        "encoding: {payload:?}"
    );
    let response = p.post(payload).await;
    assert_eq!(response.status, 200, "POST body {:?}", response.text());
    let packets = collect_packets(&p, 2).await;
    assert_eq!(
        packets,
        [
            EioPacket::text(r#"451-["echo",{"_placeholder":true,"num":0}]"#),
            EioPacket::binary(vec![1u8, 2, 3, 4]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_invalid_packet_closes_the_session() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    // Connected and answering pings: neither timeout can be what closes the session below.
    p.send_text("40").await;
    collect_packets(&p, 2).await;
    // `a` is no Engine.IO packet type. The reference answers the POST `200 ok` and closes the
    // session; 400 (or a cut connection) is accepted too.
    if let Ok(r) = p
        .http
        .try_request(
            http::Method::POST,
            &p.url(),
            &[("content-type", "text/plain")],
            "abc",
        )
        .await
    {
        assert!(
            r.status == 200 || r.status == 400,
            "POST of an invalid packet: {}",
            r.status
        );
    }
    let deadline = Instant::now() + CLOSE_WITHIN;
    loop {
        let r = p.get().await;
        if r.status == 400 {
            r.assert_engine_error(400, 1, "Session ID unknown");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "session still open after an invalid packet"
        );
        let packets = decode_payload(&r.text()).expect("valid payload");
        if packets.contains(&EioPacket::text("2")) {
            // Pong; if the session is already gone this is refused, which the next GET shows.
            let _ = p.post("3").await;
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Heartbeat
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_heartbeat_pings_and_session_survives_with_pongs() {
    let server = start_protocol_server().await;
    let start = Instant::now();
    let p = Polling::open(server.addr).await;
    p.send_text("40").await; // Socket.IO CONNECT: no connect timeout during this test
    let mut pings = 0;
    while pings < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "only {pings} pings in 10 s"
        );
        for packet in p.poll().await {
            if packet == EioPacket::text("2") {
                pings += 1;
                p.send_text("3").await;
            }
        }
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(800),
        "3 pings with pingInterval 300 ms cannot arrive after only {elapsed:?}"
    );
    // Still alive: an acknowledged event round-trips.
    p.send_text(r#"421["ack","alive"]"#).await;
    let (answer, _) = p
        .poll_until(
            WAIT,
            |pk| matches!(pk, EioPacket::Text(t) if t.starts_with("43")),
        )
        .await;
    assert_eq!(answer, EioPacket::text(r#"431["alive"]"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_heartbeat_pings_and_session_survives_with_pongs() {
    let server = start_protocol_server().await;
    let start = Instant::now();
    let (mut ws, _) = Ws::open(server.addr, false).await;
    ws.send_text("40").await;
    let mut pings = 0;
    while pings < 3 {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "2" => {
                pings += 1;
                ws.send_text("3").await;
            }
            Some(Event::Text(_)) => {}
            other => panic!("expected pings, got {other:?} after {pings} pings"),
        }
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(800),
        "3 pings with pingInterval 300 ms cannot arrive after only {elapsed:?}"
    );
    ws.send_text(r#"421["ack","alive"]"#).await;
    loop {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "2" => ws.send_text("3").await,
            Some(Event::Text(t)) => {
                assert_eq!(t, r#"431["alive"]"#);
                break;
            }
            other => panic!("expected the ack, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_session_closed_without_pong() {
    let server = start_protocol_server().await;
    let start = Instant::now();
    let p = Polling::open(server.addr).await;
    p.send_text("40").await;
    let mut saw_ping = false;
    loop {
        let elapsed = start.elapsed();
        assert!(
            elapsed < CLOSE_WITHIN + Duration::from_secs(1),
            "session not closed after {elapsed:?}"
        );
        // A transport error is retried: the next GET tells whether the session is gone.
        let Ok(r) = p.try_get().await else { continue };
        if r.status == 400 {
            r.assert_engine_error(400, 1, "Session ID unknown");
            break;
        }
        assert_eq!(r.status, 200);
        let packets = decode_payload(&r.text()).expect("valid payload");
        saw_ping |= packets.contains(&EioPacket::text("2"));
    }
    assert!(saw_ping, "a ping must be sent before the session times out");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed after {elapsed:?}: sooner than pingInterval + pingTimeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_session_closed_without_pong() {
    let server = start_protocol_server().await;
    let start = Instant::now();
    let (mut ws, _) = Ws::open(server.addr, false).await;
    ws.send_text("40").await;
    let mut saw_ping = false;
    loop {
        match ws.recv(CLOSE_WITHIN).await {
            None => panic!(
                "websocket not closed without pongs after {:?}",
                start.elapsed()
            ),
            Some(Event::Closed(_)) => break,
            Some(Event::Text(t)) => saw_ping |= t == "2",
            Some(Event::Binary(_)) => {}
        }
    }
    assert!(saw_ping, "a ping must be sent before the session times out");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "closed after {elapsed:?}: sooner than pingInterval + pingTimeout"
    );
}

// ----------------------------------------------------------------------------------------------
// Close
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_client_close_packet_ends_the_session() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    let parked = tokio::spawn({
        let p = p.clone();
        async move { p.try_get().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    p.send_text("1").await;
    // The parked GET is released (the reference answers a noop `6`). Had it not been parked yet
    // when the close was handled, it finds the session gone (400).
    let parked = parked.await.expect("GET task");
    if let Ok(r) = parked.as_ref() {
        assert!(r.status == 200 || r.status == 400, "parked GET: {r:?}");
    }
    if let Some(r) = parked.ok().filter(|r| r.status == 200) {
        let packets = decode_payload(&r.text()).expect("valid payload");
        assert!(
            packets
                .iter()
                .all(|p| matches!(p, EioPacket::Text(t) if t == "1" || t == "6")),
            "parked GET released with close/noop only, got {packets:?}"
        );
    }
    p.get()
        .await
        .assert_engine_error(400, 1, "Session ID unknown");
}

/// Upgrades a polling session to websocket (probe, noop, upgrade) and returns both.
async fn upgrade(server_addr: std::net::SocketAddr) -> (Polling, Ws) {
    let (p, mut ws) = probe(server_addr).await;
    ws.send_text("5").await;
    // A round trip on the websocket: the server handled "5" before it, so the switch is done.
    ws.send_text(r#"4299["transport"]"#).await;
    loop {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == r#"4399["websocket"]"# => break,
            Some(Event::Text(_)) => {}
            other => panic!("expected the transport ack, got {other:?}"),
        }
    }
    (p, ws)
}

/// Starts an upgrade and stops where a client has paused polling: a connected polling session
/// and a websocket that got `3probe`, the polling GET released by a noop.
async fn probe(server_addr: std::net::SocketAddr) -> (Polling, Ws) {
    let p = Polling::open(server_addr).await;
    p.send_text("40").await;
    p.poll_until(
        WAIT,
        |pk| matches!(pk, EioPacket::Text(t) if t.starts_with(r#"42["auth""#)),
    )
    .await;
    let mut ws = Ws::connect(&ws_url(server_addr, Some(&p.sid)), true).await;
    ws.send_text("2probe").await;
    match ws.recv(WAIT).await {
        Some(Event::Text(t)) => assert_eq!(t, "3probe", "probe answer"),
        other => panic!("expected 3probe, got {other:?}"),
    }
    p.poll_until(WAIT, |pk| *pk == EioPacket::text("6")).await;
    (p, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_during_upgrade_is_delivered_on_the_websocket() {
    let server = start_protocol_server().await;
    let (p, mut ws) = probe(server.addr).await;
    // The client has paused polling and listens on the websocket only: the server closes the
    // connection now, before the client's "5".
    p.send_text(r#"42["close-me"]"#).await;
    ws.send_text("5").await;
    match ws.recv(WAIT).await {
        Some(Event::Closed(reason)) => assert!(
            reason.starts_with("close frame"),
            "a clean websocket close, got {reason:?}"
        ),
        other => panic!("expected the close on the websocket, got {other:?}"),
    }
    assert_eq!(p.get().await.status, 400, "the session is over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_ends_the_session() {
    let server = start_protocol_server().await;
    let (p, mut ws) = upgrade(server.addr).await;
    // While the session lives, polling on it is a transport mismatch (400, not "unknown sid").
    let r = p.get().await;
    assert_eq!(r.status, 400, "GET after upgrade: {:?}", r.text());
    // The client ends the session: close packet, then the websocket close. (The reference server
    // ignores a `1` packet received over websocket; only the websocket close ends its session.)
    let _ = ws.try_send_text("1").await;
    ws.close().await;
    let _ = ws.recv(Duration::from_millis(200)).await;
    let deadline = Instant::now() + CLOSE_WITHIN;
    loop {
        let r = p.get().await;
        assert_eq!(r.status, 400, "GET on a closed session: {:?}", r.text());
        if r.json()["code"] == 1 {
            r.assert_engine_error(400, 1, "Session ID unknown");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "session still known after the websocket closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// WebSocket control frames: a ping is answered with a pong carrying its payload (between
/// Engine.IO messages, which keep flowing), and a client close is answered with a close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_control_frames_are_answered() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = start_protocol_server().await;
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(ws_url(server.addr, None)),
    )
    .await
    .expect("connect timeout")
    .expect("connect");
    let open = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("no open packet");
    assert!(matches!(open, Some(Ok(Message::Text(t))) if t.starts_with('0')));
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    ws.send(Message::text("40")).await.unwrap();
    let (mut pong, mut connected) = (false, false);
    while !(pong && connected) {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
        {
            Some(Ok(Message::Pong(data))) => {
                assert_eq!(&data[..], b"are you there");
                pong = true;
            }
            Some(Ok(Message::Text(t))) if t.starts_with("40") => connected = true,
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                ws.send(Message::text("3")).await.unwrap()
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    ws.send(Message::Close(None)).await.unwrap();
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no close answer in time")
        {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("close handshake failed: {err}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_invalid_packet_closes_the_connection() {
    let server = start_protocol_server().await;
    let (mut ws, _) = Ws::open(server.addr, true).await;
    // Connected and answering pings: neither timeout can be what closes the connection below.
    ws.send_text("40").await;
    for _ in 0..2 {
        assert!(
            matches!(ws.recv(WAIT).await, Some(Event::Text(_))),
            "CONNECT answer and auth"
        );
    }
    ws.send_text("abc").await;
    loop {
        match ws.recv(WAIT).await {
            None => panic!("websocket still open after an invalid Engine.IO packet"),
            Some(Event::Closed(_)) => break,
            Some(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_over_max_payload_closes_the_connection() {
    let server = start_protocol_server().await;
    let (mut ws, _) = Ws::open(server.addr, true).await;
    ws.send_text("40").await;
    // The frame may be cut half-way by the server closing: the send result is not asserted.
    let _ = ws
        .try_send_text(&format!(r#"42["echo","{}"]"#, "a".repeat(1_100_000)))
        .await;
    loop {
        match ws.recv(WAIT).await {
            None => panic!("websocket still open after a message over maxPayload"),
            Some(Event::Closed(_)) => break,
            Some(Event::Text(t)) => {
                assert!(
                    !t.starts_with(r#"42["echo""#),
                    "the oversized message was processed"
                )
            }
            Some(Event::Binary(_)) => {}
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Upgrade
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_polling_to_websocket() {
    let server = start_protocol_server().await;
    let p = Polling::open(server.addr).await;
    p.send_text("40").await;
    p.poll_until(
        WAIT,
        |pk| matches!(pk, EioPacket::Text(t) if t.starts_with(r#"42["auth""#)),
    )
    .await;

    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    // A GET parked on the polling transport while the upgrade happens.
    let parked = tokio::spawn({
        let p = p.clone();
        async move { p.get().await }
    });

    ws.send_text("2probe").await;
    match ws.recv(WAIT).await {
        Some(Event::Text(t)) => assert_eq!(t, "3probe", "probe answer"),
        other => panic!("expected 3probe, got {other:?}"),
    }

    // The polling GET is released with a noop (pings may come first: answer them and poll again).
    let mut response = parked.await.expect("GET task");
    loop {
        assert_eq!(
            response.status,
            200,
            "GET during upgrade: {:?}",
            response.text()
        );
        let packets = decode_payload(&response.text()).expect("valid payload");
        if packets.contains(&EioPacket::text("6")) {
            break;
        }
        assert!(
            packets.iter().all(|pk| *pk == EioPacket::text("2")),
            "during the upgrade the polling transport carries only pings/noop, got {packets:?}"
        );
        p.send_text("3").await;
        response = p.get().await;
    }

    ws.send_text("5").await;
    ws.send_text(r#"421["transport"]"#).await;
    ws.send_text(r#"42["echo","upgraded"]"#).await;
    let mut got = Vec::new();
    while got.len() < 2 {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "6" => {}
            Some(Event::Text(t)) => got.push(t),
            other => panic!("expected messages over the websocket, got {other:?} (had {got:?})"),
        }
    }
    assert_eq!(got, [r#"431["websocket"]"#, r#"42["echo","upgraded"]"#]);

    // Polling requests on the upgraded session are rejected.
    // (engine.io: code 3 "Bad request", a transport mismatch; the session is still known.)
    p.get().await.assert_engine_error(400, 3, "Bad request");
    let post = p.post("42[\"echo\",\"late\"]").await;
    assert_eq!(post.status, 400, "POST after upgrade: {:?}", post.text());
    // The session itself is untouched.
    ws.send_text(r#"422["ack","still"]"#).await;
    match ws.recv(WAIT).await {
        Some(Event::Text(t)) => assert_eq!(t, r#"432["still"]"#),
        other => panic!("expected the ack over the websocket, got {other:?}"),
    }
}

// ----------------------------------------------------------------------------------------------
// HTTP surroundings
// ----------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_and_origin_get_allow_origin() {
    let server = start_protocol_server().await;
    let http = Http::new();
    let origin = "http://example.test";
    let preflight = http
        .request(
            http::Method::OPTIONS,
            &polling_url(server.addr),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            "",
        )
        .await;
    assert!(
        (200..300).contains(&preflight.status),
        "preflight status {} body {:?}",
        preflight.status,
        preflight.text()
    );
    let allow = preflight.header("access-control-allow-origin");
    assert!(
        allow.as_deref() == Some("*") || allow.as_deref() == Some(origin),
        "preflight Access-Control-Allow-Origin: {allow:?}"
    );

    let response = http
        .request(
            http::Method::GET,
            &polling_url(server.addr),
            &[("origin", origin)],
            "",
        )
        .await;
    assert_eq!(response.status, 200);
    let allow = response.header("access-control-allow-origin");
    assert!(
        allow.as_deref() == Some("*") || allow.as_deref() == Some(origin),
        "handshake Access-Control-Allow-Origin: {allow:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_route_answers_beside_socketio() {
    let server = start_protocol_server().await;
    let response = Http::new()
        .get(&format!("{}/health", server.http_url()))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
}

// ----------------------------------------------------------------------------------------------
// The upgrade window: every request that can arrive while a WebSocket upgrades a polling session
// ----------------------------------------------------------------------------------------------

/// A polling session connected to "/" (auth packet consumed) on a server whose heartbeat stays
/// out of the way (10 s), so that any quick polling answer comes from the upgrade logic.
async fn quiet_polling_session() -> (support::server::TestServer, Polling) {
    let server = support::server::start_protocol_server_with(|b| {
        b.ping_interval(Duration::from_secs(10))
            .ping_timeout(Duration::from_secs(5))
    })
    .await;
    let p = Polling::open(server.addr).await;
    p.send_text("40").await;
    p.poll_until(
        WAIT,
        |pk| matches!(pk, EioPacket::Text(t) if t.starts_with(r#"42["auth""#)),
    )
    .await;
    (server, p)
}

async fn expect_text(ws: &mut Ws, expected: &str) {
    match ws.recv(WAIT).await {
        Some(Event::Text(t)) => assert_eq!(t, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

async fn expect_ws_closed_by_server(ws: &mut Ws) {
    match ws.recv(WAIT).await {
        Some(Event::Closed(_)) => {}
        other => panic!("expected the server to close this websocket, got {other:?}"),
    }
}

/// Finishes an upgrade with `5` and checks the session answers on the websocket.
async fn finish_upgrade(ws: &mut Ws) {
    ws.send_text("5").await;
    ws.send_text(r#"421["transport"]"#).await;
    expect_text(ws, r#"431["websocket"]"#).await;
}

/// After the probe, every polling GET is answered with a noop on a short timer (the reference's
/// 100 ms "fast upgrade" check), not only the first one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_window_answers_each_polling_get_with_a_noop() {
    let (server, p) = quiet_polling_session().await;
    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    ws.send_text("2probe").await;
    expect_text(&mut ws, "3probe").await;
    for i in 0..3 {
        let started = Instant::now();
        let r = p
            .http
            .try_request_within(
                http::Method::GET,
                &p.url(),
                &[],
                Default::default(),
                Duration::from_secs(1),
            )
            .await
            .unwrap_or_else(|e| panic!("GET {i} in the upgrade window: {e}"));
        assert_eq!(r.status, 200, "GET {i}: {:?}", r.text());
        assert_eq!(r.text(), "6", "GET {i}");
        assert!(
            started.elapsed() < Duration::from_millis(800),
            "GET {i} took {:?}",
            started.elapsed()
        );
    }
    finish_upgrade(&mut ws).await;
    // The noops went to polling only: nothing stray on the websocket.
    ws.send_text(r#"42["echo","after"]"#).await;
    expect_text(&mut ws, r#"42["echo","after"]"#).await;
}

/// A polling POST during the upgrade is still accepted and its packets handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_window_accepts_polling_posts() {
    let (server, p) = quiet_polling_session().await;
    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    ws.send_text("2probe").await;
    expect_text(&mut ws, "3probe").await;
    let r = p.post(r#"42["echo","posted mid-upgrade"]"#).await;
    assert_eq!(r.status, 200, "POST during upgrade: {:?}", r.text());
    // The echo is delivered, on polling (still the transport) or after the switch.
    let r = p.get().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), r#"42["echo","posted mid-upgrade"]"#);
    finish_upgrade(&mut ws).await;
}

/// A probe websocket that goes away before `5` leaves the session on polling, usable; a new
/// upgrade can follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_window_probe_closing_before_upgrade_keeps_polling() {
    let (server, p) = quiet_polling_session().await;
    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    ws.send_text("2probe").await;
    expect_text(&mut ws, "3probe").await;
    ws.close().await;
    drop(ws);
    p.send_text(r#"42["echo","still polling"]"#).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let r = p.get().await;
        assert_eq!(
            r.status,
            200,
            "GET after the probe went away: {:?}",
            r.text()
        );
        if r.text() == r#"42["echo","still polling"]"# {
            break;
        }
        assert_eq!(r.text(), "6", "only noops before the echo");
        assert!(Instant::now() < deadline, "no echo on polling");
    }
    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    ws.send_text("2probe").await;
    expect_text(&mut ws, "3probe").await;
    finish_upgrade(&mut ws).await;
}

/// `5` without a probe upgrades (as the reference does); a polling GET then gets 400 code 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_without_probe_switches_and_polling_gets_400() {
    let (server, p) = quiet_polling_session().await;
    let mut ws = Ws::connect(&ws_url(server.addr, Some(&p.sid)), true).await;
    finish_upgrade(&mut ws).await;
    p.get().await.assert_engine_error(400, 3, "Bad request");
}

/// A second websocket for the sid while the first is mid-upgrade, and one after the upgrade:
/// each completes its handshake (101) and is then closed by the server; the first carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_websocket_during_and_after_upgrade_is_closed_after_101() {
    let (server, p) = quiet_polling_session().await;
    let url = ws_url(server.addr, Some(&p.sid));
    let mut ws = Ws::connect(&url, true).await;
    ws.send_text("2probe").await;
    expect_text(&mut ws, "3probe").await;
    let mut second = Ws::try_connect(&url, true)
        .await
        .unwrap_or_else(|e| panic!("second websocket mid-upgrade must get 101, got {e:?}"));
    expect_ws_closed_by_server(&mut second).await;
    finish_upgrade(&mut ws).await;
    let mut third = Ws::try_connect(&url, true)
        .await
        .unwrap_or_else(|e| panic!("websocket after the upgrade must get 101, got {e:?}"));
    expect_ws_closed_by_server(&mut third).await;
    ws.send_text(r#"42["echo","first"]"#).await;
    expect_text(&mut ws, r#"42["echo","first"]"#).await;
}

/// A client that closes its connection while its polling GET is pending (a closed browser tab)
/// ends the session at once; the reference server calls this "poll connection closed
/// prematurely" and closes with "transport error" (socket.io 4.8 reports that reason to the
/// disconnect handler). A GET answered normally does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_polling_get_ends_the_session_at_once() {
    use tokio::io::AsyncWriteExt as _;
    let server = support::server::start_protocol_server_with(|b| {
        b.ping_interval(Duration::from_secs(10))
            .ping_timeout(Duration::from_secs(5))
    })
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    server.io.ns("/gone").on_disconnect(
        move |_s: socketio_core::SocketRef, reason: socketio_core::DisconnectReason| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((reason.to_string(), Instant::now()));
            }
        },
    );
    let p = Polling::open(server.addr).await;
    p.send_text("40/gone,").await;
    p.poll_until(
        WAIT,
        |pk| matches!(pk, EioPacket::Text(t) if t.starts_with("40/gone,")),
    )
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: {}\r\n\r\n",
        p.sid, server.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        rx.try_recv().is_err(),
        "the session must live while its GET is pending"
    );
    let dropped = Instant::now();
    drop(tcp);
    let (reason, at) = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("the disconnect handler must run promptly after the GET's connection closed")
        .unwrap();
    assert_eq!(reason, "transport error");
    assert!(
        at - dropped < Duration::from_secs(1),
        "took {:?}",
        at - dropped
    );
    p.get()
        .await
        .assert_engine_error(400, 1, "Session ID unknown");
}

/// The WebSocket handshake headers are checked as the `ws` library behind the reference server
/// does: `Sec-WebSocket-Version` 13 or 8 (else 400 naming them), a well-formed key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_handshake_checks_version_and_key() {
    let server = start_protocol_server().await;
    let http = Http::new();
    let url = engine_url(server.addr, "EIO=4&transport=websocket");
    let good_key = "dGhlIHNhbXBsZSBub25jZQ==";
    let handshake = |version: &'static str, key: &'static str| {
        vec![
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", version),
            ("sec-websocket-key", key),
        ]
    };
    for version in ["12", "14", "abc", ""] {
        let r = http
            .request(http::Method::GET, &url, &handshake(version, good_key), "")
            .await;
        assert_eq!(r.status, 400, "version {version:?}");
        assert_eq!(r.header("sec-websocket-version").as_deref(), Some("13, 8"));
    }
    for key in [
        "short",
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZ!==",
    ] {
        let r = http
            .request(http::Method::GET, &url, &handshake("13", key), "")
            .await;
        assert_eq!(r.status, 400, "key {key:?}");
    }
    let r = http
        .request(http::Method::GET, &url, &handshake("13", good_key), "")
        .await;
    assert_eq!(r.status, 101, "a valid handshake");
}

/// A WebSocket client on a raw TCP connection: it writes client frames byte by byte as the test
/// chooses (several in one write, one across several writes, fragmented messages), and answers
/// the server's Engine.IO pings.
struct RawWs {
    tcp: tokio::net::TcpStream,
    /// Bytes read and not yet parsed.
    buf: Vec<u8>,
}

impl RawWs {
    async fn connect(addr: std::net::SocketAddr) -> RawWs {
        use tokio::io::AsyncWriteExt;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let head = format!(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut ws = RawWs {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(at) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            ws.fill().await;
        };
        let response = String::from_utf8_lossy(&ws.buf[..end]).into_owned();
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        ws.buf.drain(..end);
        ws
    }

    async fn fill(&mut self) {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut chunk))
            .await
            .expect("the server answers in time")
            .unwrap();
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// A masked client frame.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn text(text: &str) -> Vec<u8> {
        Self::frame(true, 1, text.as_bytes())
    }

    async fn write(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.tcp.write_all(bytes).await.unwrap();
    }

    /// Writes `bytes` in pieces cut at `cuts`, with a pause after each piece so that the server
    /// reads them apart.
    async fn write_in_pieces(&mut self, bytes: &[u8], cuts: &[usize]) {
        let mut from = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            self.write(&bytes[from..cut]).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            from = cut;
        }
    }

    /// The next server frame (opcode, payload), Engine.IO pings answered and skipped; within
    /// [`WAIT`].
    async fn next(&mut self) -> (u8, Vec<u8>) {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no frame but pings within {WAIT:?}"
            );
            let frame = loop {
                if let Some(frame) = self.parse() {
                    break frame;
                }
                self.fill().await;
            };
            if frame == (1, b"2".to_vec()) {
                self.write(&Self::text("3")).await;
                continue;
            }
            return frame;
        }
    }

    fn parse(&mut self) -> Option<(u8, Vec<u8>)> {
        let b = &self.buf;
        if b.len() < 2 {
            return None;
        }
        assert_eq!(b[1] & 0x80, 0, "server frames are not masked");
        let (len, at) = match b[1] & 0x7f {
            126 => (
                u16::from_be_bytes(b.get(2..4)?.try_into().ok()?) as usize,
                4,
            ),
            127 => (
                u64::from_be_bytes(b.get(2..10)?.try_into().ok()?) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        let payload = b.get(at..at + len)?.to_vec();
        assert_eq!(b[0] & 0x80, 0x80, "the server does not fragment");
        let opcode = b[0] & 0x0f;
        self.buf.drain(..at + len);
        Some((opcode, payload))
    }

    async fn next_text(&mut self) -> String {
        let (opcode, payload) = self.next().await;
        assert_eq!(opcode, 1, "a text frame: {payload:?}");
        String::from_utf8(payload).unwrap()
    }
}

/// Client frames reach the server however TCP delivers them: several in one segment, one cut
/// anywhere across several, a message in fragments with a ping between them, messages longer
/// than the read buffer. Each is read as soon as it is whole (the server's reads stop early
/// when it knows nothing is buffered; this checks that nothing buffered is left behind).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_frames_are_read_however_they_arrive() {
    // No heartbeat during the test: a message left unread would otherwise be read when the
    // client's pong arrives, and the test would pass, only slower.
    let server = start_protocol_server_with(|b| {
        b.ping_interval(Duration::from_secs(60))
            .ping_timeout(Duration::from_secs(60))
    })
    .await;
    let mut ws = RawWs::connect(server.addr).await;
    assert!(ws.next_text().await.starts_with("0{"), "the open packet");
    ws.write(&RawWs::text("40")).await;
    assert!(
        ws.next_text().await.starts_with("40{"),
        "the CONNECT answer"
    );
    assert_eq!(ws.next_text().await, r#"42["auth",null]"#);
    let ack = |id: u32, arg: &str| (format!(r#"42{id}["ack",{arg}]"#), format!("43{id}[{arg}]"));

    // two and three messages in one write
    let (a, a_ack) = ack(1, "1");
    let (b, b_ack) = ack(2, r#""two""#);
    let (c, c_ack) = ack(3, "[3]");
    ws.write(&[RawWs::text(&a), RawWs::text(&b)].concat()).await;
    assert_eq!(ws.next_text().await, a_ack);
    assert_eq!(ws.next_text().await, b_ack);
    ws.write(&[RawWs::text(&a), RawWs::text(&b), RawWs::text(&c)].concat())
        .await;
    for expected in [&a_ack, &b_ack, &c_ack] {
        assert_eq!(&ws.next_text().await, expected);
    }

    // one message cut in the header, in the mask, in the payload
    let frame = RawWs::text(&a);
    for cuts in [&[1][..], &[2, 4], &[6], &[7, 9, 10]] {
        ws.write_in_pieces(&frame, cuts).await;
        assert_eq!(ws.next_text().await, a_ack, "cut at {cuts:?}");
    }

    // a whole message and the start of the next in one write, the rest later
    let both = [RawWs::text(&b), RawWs::text(&c)].concat();
    ws.write_in_pieces(&both, &[RawWs::text(&b).len() + 3])
        .await;
    assert_eq!(ws.next_text().await, b_ack);
    assert_eq!(ws.next_text().await, c_ack);

    // a WebSocket ping alone (nothing else to read) is answered at once, after a message and
    // after another ping
    for _ in 0..2 {
        ws.write(&RawWs::frame(true, 9, b"alone")).await;
        assert_eq!(ws.next().await, (10, b"alone".to_vec()), "the pong");
    }

    // a message in three fragments, a WebSocket ping between two of them
    let (d, d_ack) = ack(4, r#""fragmented""#);
    let parts = [
        RawWs::frame(false, 1, &d.as_bytes()[..3]),
        RawWs::frame(true, 9, b"hi"),
        RawWs::frame(false, 0, &d.as_bytes()[3..10]),
        RawWs::frame(true, 0, &d.as_bytes()[10..]),
    ];
    let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
    let all = parts.concat();
    ws.write_in_pieces(&all, &[lens[0], lens[0] + lens[1]])
        .await;
    assert_eq!(ws.next().await, (10, b"hi".to_vec()), "the pong");
    assert_eq!(ws.next_text().await, d_ack);
    // and the same in one write
    ws.write(&all).await;
    assert_eq!(ws.next().await, (10, b"hi".to_vec()), "the pong");
    assert_eq!(ws.next_text().await, d_ack);

    // messages longer than the read buffer (16- and 64-bit lengths), then a short one
    for size in [3_000, 70_000] {
        let long = format!(r#""{}""#, "x".repeat(size));
        let (e, e_ack) = ack(5, &long);
        let frame = RawWs::text(&e);
        ws.write_in_pieces(&[frame, RawWs::text(&a)].concat(), &[100, 2_500])
            .await;
        assert_eq!(ws.next_text().await, e_ack, "{size} bytes");
        assert_eq!(ws.next_text().await, a_ack);
    }

    // still served after all that
    ws.write(&RawWs::text(&c)).await;
    assert_eq!(ws.next_text().await, c_ack);
}
