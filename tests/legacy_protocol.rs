//! Engine.IO v3 / Socket.IO v4 (the protocol of socket.io-client 1.x/2.x and python-socketio
//! 4.x), raw over loopback: the cases of the official v3 test suites plus binary framing.

mod support;

use std::time::Duration;

use support::client::{engine_url, parse_open_packet, Event, Http, Ws};
use support::server::{start_protocol_server, start_protocol_server_with};

const WAIT: Duration = Duration::from_secs(5);

/// Decodes a v3 text payload (`<utf16 length>:<packet>`…) into its packets.
fn decode_v3(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (len, after) = rest.split_once(':').expect("length prefix");
        let units: usize = len.parse().expect("numeric length");
        let mut taken = 0;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            if taken == units {
                end = i;
                break;
            }
            taken += c.len_utf16();
        }
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

fn encode_v3(packets: &[&str]) -> String {
    packets
        .iter()
        .map(|p| format!("{}:{p}", p.encode_utf16().count()))
        .collect()
}

struct V3Polling {
    http: Http,
    url: String,
    /// Packets received but not yet matched by `until`.
    pending: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl V3Polling {
    async fn open(addr: std::net::SocketAddr) -> (V3Polling, serde_json::Value) {
        let http = Http::new();
        let resp = http.get(&engine_url(addr, "EIO=3&transport=polling")).await;
        assert_eq!(resp.status, 200);
        let body = resp.text();
        let (len, content) = body.split_once(':').expect("framed open packet");
        assert_eq!(
            len,
            content.encode_utf16().count().to_string(),
            "length prefix"
        );
        let open = parse_open_packet(content);
        let sid = open["sid"].as_str().unwrap().to_string();
        let url = engine_url(addr, &format!("EIO=3&transport=polling&sid={sid}"));
        let pending = Default::default();
        (V3Polling { http, url, pending }, open)
    }

    async fn get(&self) -> Vec<String> {
        let resp = self.http.get(&self.url).await;
        assert_eq!(resp.status, 200, "GET: {:?}", resp.text());
        decode_v3(&resp.text())
    }

    async fn post(&self, packets: &[&str]) -> u16 {
        self.http.post(&self.url, encode_v3(packets)).await.status
    }

    /// Polls until a packet satisfies `pred`; returns it. Pings before each poll (in v3 the
    /// client keeps the session alive).
    async fn until(&self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            {
                let mut pending = self.pending.lock().unwrap();
                if let Some(at) = pending.iter().position(|p| pred(p)) {
                    return pending.remove(at).unwrap();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no matching packet within {WAIT:?}"
            );
            assert_eq!(self.post(&["2"]).await, 200, "ping");
            let got = self.get().await;
            self.pending.lock().unwrap().extend(got);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_handshake_is_length_prefixed_and_connects_main_namespace() {
    let server = start_protocol_server().await;
    let (p, open) = V3Polling::open(server.addr).await;
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(open["pingInterval"], 300);
    assert_eq!(open["pingTimeout"], 200);
    assert_eq!(open["maxPayload"], 1_000_000);
    // Socket.IO v4: "/" is connected without a CONNECT from the client, and the answer has no
    // payload.
    let packets = p.get().await;
    assert_eq!(
        packets.first().map(String::as_str),
        Some("40"),
        "{packets:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_client_driven_ping_pong() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    for _ in 0..3 {
        assert_eq!(p.post(&["2"]).await, 200);
        p.until(|pk| pk == "3").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_session_closes_without_client_ping() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    // pingInterval + pingTimeout is 500 ms; any packet counts as a sign of life, so send none.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        p.post(&["2"]).await,
        400,
        "the session should be gone (v3 heartbeat)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_events_acks_and_utf16_lengths() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    p.until(|pk| pk == "40").await;
    assert_eq!(p.post(&["2", r#"421["ack","é😀",1]"#]).await, 200);
    let ack = p.until(|pk| pk.starts_with("431")).await;
    assert_eq!(ack, r#"431["é😀",1]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_binary_payload_in_and_base64_out() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    p.until(|pk| pk == "40").await;
    // A binary payload: the BINARY_EVENT as a text packet, then its attachment.
    let text = r#"451-1["ack",{"_placeholder":true,"num":0}]"#;
    let mut body = vec![0u8];
    body.extend(text.len().to_string().bytes().map(|d| d - b'0'));
    body.push(255);
    body.extend_from_slice(text.as_bytes());
    body.extend_from_slice(&[1, 4, 255, 4, 1, 2, 3]);
    let resp = p
        .http
        .request(
            http::Method::POST,
            &p.url,
            &[("content-type", "application/octet-stream")],
            body,
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.text());
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    while !seen.iter().any(|pk: &String| pk.starts_with('b')) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no binary ack: {seen:?}"
        );
        seen.extend(p.get().await);
    }
    let at = seen
        .iter()
        .position(|pk| pk.starts_with("461"))
        .expect("BINARY_ACK");
    assert_eq!(seen[at], r#"461-1[{"_placeholder":true,"num":0}]"#);
    assert_eq!(seen[at + 1], "b4AQID", "attachment as b4 + base64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_v3_framing_closes_the_session() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    assert_eq!(p.http.post(&p.url, "abc").await.status, 400);
    assert_eq!(p.http.get(&p.url).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_use_v4_packet_shapes() {
    let server = start_protocol_server().await;
    let (p, _) = V3Polling::open(server.addr).await;
    p.until(|pk| pk == "40").await;
    assert_eq!(p.post(&["40/custom?token=abc,"]).await, 200);
    p.until(|pk| pk == "40/custom,").await;
    let auth = p.until(|pk| pk.starts_with("42/custom,")).await;
    assert_eq!(auth, r#"42/custom,["auth",{"token":"abc"}]"#);
    assert_eq!(p.post(&["40/nope,"]).await, 200);
    let err = p.until(|pk| pk.starts_with("44/nope")).await;
    assert_eq!(err, r#"44/nope,"Invalid namespace""#);
    assert_eq!(p.post(&["40/admin,"]).await, 200);
    let err = p.until(|pk| pk.starts_with("44/admin")).await;
    assert_eq!(err, r#"44/admin,"unauthorized""#);
    assert_eq!(p.post(&["40/admin?token=secret,"]).await, 200);
    p.until(|pk| pk == "40/admin,").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_ping_pong_and_prefixed_binary() {
    let server = start_protocol_server().await;
    let url = format!("ws://{}/socket.io/?EIO=3&transport=websocket", server.addr);
    let mut ws = Ws::connect(&url, false).await;
    let open = match ws.recv(WAIT).await {
        Some(Event::Text(t)) => parse_open_packet(&t),
        other => panic!("expected the open packet, got {other:?}"),
    };
    assert_eq!(open["upgrades"], serde_json::json!([]));
    assert_eq!(ws.recv(WAIT).await, Some(Event::Text("40".into())));
    assert_eq!(
        ws.recv(WAIT).await,
        Some(Event::Text(r#"42["auth",null]"#.into()))
    );
    for _ in 0..3 {
        ws.send_text("2").await;
        assert_eq!(ws.recv(WAIT).await, Some(Event::Text("3".into())));
    }
    ws.send_text(r#"451-["echo",{"_placeholder":true,"num":0}]"#)
        .await;
    ws.send_binary(&[4, 9, 8, 7]).await;
    assert_eq!(
        ws.recv(WAIT).await,
        Some(Event::Text(
            r#"451-["echo",{"_placeholder":true,"num":0}]"#.into()
        ))
    );
    assert_eq!(ws.recv(WAIT).await, Some(Event::Binary(vec![4, 9, 8, 7])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_polling_to_websocket() {
    let server = start_protocol_server().await;
    let (p, open) = V3Polling::open(server.addr).await;
    p.until(|pk| pk == "40").await;
    let sid = open["sid"].as_str().unwrap();
    let url = format!(
        "ws://{}/socket.io/?EIO=3&transport=websocket&sid={sid}",
        server.addr
    );
    let mut ws = Ws::connect(&url, false).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.recv(WAIT).await, Some(Event::Text("3probe".into())));
    ws.send_text("5").await;
    ws.send_text(r#"421["transport"]"#).await;
    loop {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "6" || t.starts_with("42") => continue,
            Some(Event::Text(t)) => {
                assert_eq!(t, r#"431["websocket"]"#);
                break;
            }
            other => panic!("expected the ack over the websocket, got {other:?}"),
        }
    }
    assert_eq!(
        p.http.get(&p.url).await.status,
        400,
        "polling after upgrade"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eio3_can_be_turned_off() {
    let server = start_protocol_server_with(|b| b.allow_eio3(false)).await;
    let http = Http::new();
    http.get(&engine_url(server.addr, "EIO=3&transport=polling"))
        .await
        .assert_engine_error(400, 5, "Unsupported protocol version");
}
