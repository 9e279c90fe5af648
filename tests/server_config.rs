//! Server options, observed over loopback: upgrades off, compression, cookie, path, CORS, the
//! bound on a client's outbound queue, and acks that end when the client disconnects.

mod support;

use std::future::IntoFuture as _;
use std::io::Read as _;
use std::time::Duration;

use socketio_core::{AckError, Cors};
use support::client::{engine_url, parse_open_packet, Conn, Http, Transport, Ws};
use support::server::start_protocol_server_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_upgrades_false_advertises_and_refuses_no_upgrade() {
    let server = start_protocol_server_with(|b| b.allow_upgrades(false)).await;
    let http = Http::new();
    let open = parse_open_packet(
        &http
            .get(&engine_url(server.addr, "EIO=4&transport=polling"))
            .await
            .text(),
    );
    assert_eq!(open["upgrades"], serde_json::json!([]));
    let sid = open["sid"].as_str().unwrap();
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket&sid={sid}",
        server.addr
    );
    assert!(
        Ws::try_connect(&url, false).await.is_err(),
        "upgrade must be refused"
    );
    // A websocket-only session is still fine.
    Ws::open(server.addr, true).await;
}

/// A polling response at least `compression_threshold` long is compressed as the client asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_responses_are_compressed_per_accept_encoding() {
    let server = start_protocol_server_with(|b| b.compression_threshold(10)).await;
    let http = Http::new();
    for (encoding, expect) in [
        ("gzip", Some("gzip")),
        ("deflate", Some("deflate")),
        ("br", None),
        // q-values weigh the codings (RFC 9110 §12.5.3); q=0 refuses one; `*` stands for the
        // codings not listed.
        ("gzip;q=0.5, deflate;q=0.9", Some("deflate")),
        ("gzip;q=0", None),
        ("gzip;q=0, *;q=0.1", Some("deflate")),
        ("*;q=0.1", Some("gzip")),
        ("identity", None),
    ] {
        let resp = http
            .request(
                http::Method::GET,
                &engine_url(server.addr, "EIO=4&transport=polling"),
                &[("accept-encoding", encoding)],
                "",
            )
            .await;
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-encoding").as_deref(),
            expect,
            "{encoding}"
        );
        let mut text = String::new();
        match expect {
            Some("gzip") => flate2::read::GzDecoder::new(&resp.body[..])
                .read_to_string(&mut text)
                .unwrap(),
            Some(_) => flate2::read::ZlibDecoder::new(&resp.body[..])
                .read_to_string(&mut text)
                .unwrap(),
            None => {
                text = resp.text();
                0
            }
        };
        assert!(
            text.starts_with("0{") && text.contains("\"sid\""),
            "{encoding}: {text:?}"
        );
    }
    // Off: never compressed.
    let server =
        start_protocol_server_with(|b| b.compression_threshold(10).http_compression(false)).await;
    let resp = http
        .request(
            http::Method::GET,
            &engine_url(server.addr, "EIO=4&transport=polling"),
            &[("accept-encoding", "gzip")],
            "",
        )
        .await;
    assert_eq!(resp.header("content-encoding"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_carries_the_session_id() {
    let server = start_protocol_server_with(|b| b.cookie(Some("io"))).await;
    let resp = Http::new()
        .get(&engine_url(server.addr, "EIO=4&transport=polling"))
        .await;
    let sid = parse_open_packet(&resp.text())["sid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        resp.header("set-cookie").as_deref(),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    // Default: no cookie.
    let server = start_protocol_server_with(|b| b).await;
    let resp = Http::new()
        .get(&engine_url(server.addr, "EIO=4&transport=polling"))
        .await;
    assert_eq!(resp.header("set-cookie"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_path() {
    let server = start_protocol_server_with(|b| b.path("/rt")).await;
    let http = Http::new();
    let resp = http
        .get(&format!(
            "http://{}/rt/?EIO=4&transport=polling",
            server.addr
        ))
        .await;
    assert_eq!(resp.status, 200);
    let old = http
        .get(&engine_url(server.addr, "EIO=4&transport=polling"))
        .await;
    assert_eq!(old.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origin_list_and_credentials() {
    let server = start_protocol_server_with(|b| {
        b.cors(Cors::Origins(vec!["https://app.example".into()]))
            .cors_credentials(true)
    })
    .await;
    let http = Http::new();
    let url = engine_url(server.addr, "EIO=4&transport=polling");
    let ok = http
        .request(
            http::Method::GET,
            &url,
            &[("origin", "https://app.example")],
            "",
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        ok.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let refused = http
        .request(
            http::Method::GET,
            &url,
            &[("origin", "https://evil.example")],
            "",
        )
        .await;
    refused.assert_engine_error(403, 4, "Forbidden");
    assert_eq!(refused.header("access-control-allow-origin"), None);
    // Requests without an Origin (non-browser clients) are not subject to CORS.
    assert_eq!(http.get(&url).await.status, 200);
}

/// A server emit waiting for an ack ends with `AckError::Closed` as soon as the client goes
/// away, not after the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_ack_fails_fast_when_the_client_disconnects() {
    let server = start_protocol_server_with(|b| b).await;
    let (mut c, _) = Conn::open(server.addr, Transport::WebSocket).await;
    c.connect_ns("/", None).await;
    let socket = server
        .io
        .of("/")
        .unwrap()
        .sockets()
        .pop()
        .expect("one socket");
    let ack = tokio::spawn(
        socket
            .emit_with_ack::<serde_json::Value, _>("question", &"anyone?")
            .timeout(Duration::from_secs(30))
            .into_future(),
    );
    c.expect_sio().await; // the question
    drop(c);
    let result = tokio::time::timeout(Duration::from_secs(5), ack)
        .await
        .expect("the ack wait must end when the client leaves")
        .unwrap();
    assert!(matches!(result, Err(AckError::Closed)), "{result:?}");
}

/// `max_buffer_size` bounds what waits for a client that is not reading: emits beyond it are
/// refused (dropped, not kept for later) and the session carries on once the client reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_buffer_size_bounds_the_queue_of_a_client_not_reading() {
    use support::client::{EioPacket, Polling};
    let server = start_protocol_server_with(|b| {
        b.max_buffer_size(4)
            .ping_interval(Duration::from_secs(10))
            .ping_timeout(Duration::from_secs(5))
    })
    .await;
    let p = Polling::open(server.addr).await;
    p.send_text("40").await;
    p.poll_until(
        Duration::from_secs(5),
        |pk| matches!(pk, EioPacket::Text(t) if t.starts_with(r#"42["auth""#)),
    )
    .await;
    // Ten echo events in one POST while nobody polls: each handler emits one packet back.
    let events: Vec<EioPacket> = (0..10)
        .map(|i| EioPacket::text(format!(r#"42["echo",{i}]"#)))
        .collect();
    p.send(&events).await;
    let expected: Vec<EioPacket> = (0..4)
        .map(|i| EioPacket::text(format!(r#"42["echo",{i}]"#)))
        .collect();
    assert_eq!(p.poll().await, expected, "the first four, the rest refused");
    // Not kept for later: the next poll carries only what is emitted after.
    p.send_text(r#"42["echo","after"]"#).await;
    assert_eq!(
        p.poll().await,
        vec![EioPacket::text(r#"42["echo","after"]"#)]
    );
}

/// Preflight requests with an origin list: an allowed origin gets 204 with the CORS answers, a
/// refused one the 403 its documentation names, without CORS headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_with_an_origin_list() {
    let server =
        start_protocol_server_with(|b| b.cors_allowed_origins(["https://app.example"])).await;
    let http = Http::new();
    let url = engine_url(server.addr, "EIO=4&transport=polling");
    let preflight = |origin: &'static str| {
        vec![
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ]
    };
    let ok = http
        .request(
            http::Method::OPTIONS,
            &url,
            &preflight("https://app.example"),
            "",
        )
        .await;
    assert_eq!(ok.status, 204);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    let methods = ok
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("GET") && methods.contains("POST"),
        "{methods}"
    );
    assert_eq!(
        ok.header("access-control-allow-headers").as_deref(),
        Some("content-type")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), None);
    let refused = http
        .request(
            http::Method::OPTIONS,
            &url,
            &preflight("https://evil.example"),
            "",
        )
        .await;
    refused.assert_engine_error(403, 4, "Forbidden");
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

/// `SocketIo::stats` counts sessions, sockets and rooms per namespace, and all of them go back
/// to 0 when the clients leave, cleanly or not (what the soak, `scripts/soak.sh`, relies on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_sessions_sockets_and_rooms() {
    let server = start_protocol_server_with(|b| b).await;
    let ns_stats = |path: &str| {
        let stats = server.io.stats();
        let ns = stats.namespaces.iter().find(|n| n.path == path).cloned();
        (stats.sessions, ns.map(|n| (n.sockets, n.rooms)))
    };
    assert_eq!(ns_stats("/"), (0, Some((0, 0))));
    let (mut a, _) = Conn::open(server.addr, Transport::WebSocket).await;
    a.connect_ns("/", None).await;
    let (mut b, _) = Conn::open(server.addr, Transport::Polling).await;
    b.connect_ns("/", None).await;
    for c in [&mut a, &mut b] {
        c.send_sio(r#"21["join","lobby"]"#).await;
        while !c.expect_sio().await.starts_with("31") {} // the "auth" event, then the ack
    }
    // two sockets, each in its own room, both in "lobby"
    assert_eq!(ns_stats("/"), (2, Some((2, 3))));
    let stats = server.io.stats();
    assert_eq!((stats.sockets(), stats.rooms()), (2, 3));
    assert_eq!(stats.sessions, server.io.connection_count());

    drop(a); // the WebSocket goes without a close
    b.send_sio("1").await; // DISCONNECT from "/", the session stays
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ns_stats("/") != (1, Some((0, 0))) {
        assert!(
            std::time::Instant::now() < deadline,
            "left: {:?}",
            ns_stats("/")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `Handshake::address` (socket.io's `socket.handshake.address`) is the TCP peer on
/// `socketio_axum::Server`, and on `axum::serve` with `ConnectInfo` and the `peer_address`
/// layer; plain `axum::serve` has none to give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_address_is_the_peer() {
    use axum::{middleware, Router};
    use socketio_axum::SocketIoRouterExt;
    use socketio_core::{SocketIo, SocketRef};
    use std::net::SocketAddr;

    /// A server whose `/` answers CONNECT and then emits `address` with the handshake's.
    fn io() -> SocketIo {
        let io = SocketIo::new();
        io.ns("/").on_connect(|socket: SocketRef| async move {
            let address = socket.handshake().address.map(|a| a.to_string());
            socket.emit("address", &address).ok();
        });
        io
    }
    /// What `/` says of a client connecting to `addr` from 127.0.0.1 over `transport`.
    async fn seen(addr: SocketAddr, transport: Transport) -> String {
        let (mut c, _) = Conn::open(addr, transport).await;
        c.send_sio("0").await;
        let connect = c.expect_sio().await;
        assert!(connect.starts_with("0{\"sid\""), "{connect}");
        c.expect_sio().await
    }

    for transport in [Transport::Polling, Transport::WebSocket] {
        // socketio_axum::Server
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = socketio_axum::Server::new(listener, io());
        let task = tokio::spawn(server.run());
        let said = seen(addr, transport).await;
        assert!(said.starts_with(r#"2["address","127.0.0.1:"#), "{said}");
        task.abort();

        // axum::serve with ConnectInfo and the layer
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .socketio(&io())
            .layer(middleware::from_fn(socketio_axum::peer_address));
        let task = tokio::spawn(
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .into_future(),
        );
        let said = seen(addr, transport).await;
        assert!(said.starts_with(r#"2["address","127.0.0.1:"#), "{said}");
        task.abort();

        // plain axum::serve: no address
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(axum::serve(listener, Router::new().socketio(&io())).into_future());
        assert_eq!(seen(addr, transport).await, r#"2["address",null]"#);
        task.abort();
    }
}
