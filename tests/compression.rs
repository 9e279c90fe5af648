//! HTTP compression of polling responses and socket.io's `compress(false)`: a response is
//! compressed (gzip or deflate, per `Accept-Encoding`, from the threshold on) when any packet
//! in it was emitted without `compress(false)`, as engine.io's polling transport decides
//! (`packets.some(p => p.options.compress)`). Raw HTTP for the exact batches, and
//! socket.io-client with its fetch transport (which asks for gzip) and its default XHR one
//! (which cannot send `Accept-Encoding` in Node).

mod support;

use std::io::Read as _;
use std::net::SocketAddr;

use socketio_core::adapter::RecoveryConfig;
use socketio_core::{SocketIo, SocketIoBuilder, SocketRef};
use support::client::{decode_payload, EioPacket, Polling};
use support::script::run_js;

/// Payload size of a "big" event, above the 1024-byte default threshold.
const BIG: usize = 4000;

/// `burst(flags, size)` emits one `data` event of `size` characters per flag, with that
/// `compress` flag, straight to the socket; `burst-room` the same through a broadcast to the
/// socket's own room; `burst-volatile` as volatile emits. All before the handler's first
/// `.await`, so they are queued when the POST that carried the event is answered.
async fn serve(builder: SocketIoBuilder) -> (SocketIo, SocketAddr) {
    // Default timers: no ping lands in a batch under test.
    let io = builder.build();
    io.ns("/")
        .on(
            "burst",
            |socket: SocketRef, flags: Vec<bool>, size: usize| async move {
                for (i, compress) in flags.into_iter().enumerate() {
                    socket
                        .compress(compress)
                        .emit("data", &(i, "x".repeat(size)))
                        .unwrap();
                }
            },
        )
        .on(
            "burst-room",
            |socket: SocketRef, flags: Vec<bool>, size: usize| async move {
                for (i, compress) in flags.into_iter().enumerate() {
                    socket
                        .namespace()
                        .to(socket.id().to_string())
                        .compress(compress)
                        .emit("data", &(i, "x".repeat(size)))
                        .unwrap();
                }
            },
        )
        .on(
            "ask",
            |socket: SocketRef, compress: bool, size: usize| async move {
                // answered by the client; only the request matters here
                drop(
                    socket
                        .compress(compress)
                        .emit_with_ack::<(), _>("question", &"y".repeat(size)),
                );
            },
        );
    let addr = support::server::serve(&io).await;
    (io, addr)
}

/// A polling session connected to `/`.
async fn connect(addr: SocketAddr) -> Polling {
    let polling = Polling::open(addr).await;
    polling.send_text("40").await;
    let answer = polling.poll().await;
    assert!(
        matches!(&answer[..], [EioPacket::Text(t)] if t.starts_with("40{")),
        "{answer:?}"
    );
    polling
}

/// POSTs `event` and GETs the response with `Accept-Encoding: accept`: its content coding and
/// its packets (decompressed).
async fn answer_to(
    polling: &Polling,
    event: &str,
    accept: &str,
) -> (Option<String>, Vec<EioPacket>) {
    polling.send_text(&format!("4{event}")).await;
    let resp = polling
        .http
        .request(
            http::Method::GET,
            &polling.url(),
            &[("accept-encoding", accept)],
            "",
        )
        .await;
    assert_eq!(resp.status, 200);
    let coding = resp.header("content-encoding");
    let mut text = String::new();
    match coding.as_deref() {
        Some("gzip") => {
            flate2::read::GzDecoder::new(&resp.body[..])
                .read_to_string(&mut text)
                .unwrap();
        }
        Some("deflate") => {
            flate2::read::ZlibDecoder::new(&resp.body[..])
                .read_to_string(&mut text)
                .unwrap();
        }
        Some(other) => panic!("unexpected coding {other}"),
        None => text = resp.text(),
    }
    let packets = decode_payload(&text).unwrap();
    (coding, packets)
}

/// The `data` events of a batch, as their index.
fn data_indexes(packets: &[EioPacket]) -> Vec<u64> {
    packets
        .iter()
        .map(|p| match p {
            EioPacket::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t[2..]).unwrap();
                assert_eq!(v[0], "data", "{t:.40}");
                v[1].as_u64().unwrap()
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// Every combination that matters, per emit path: a batch is sent as it is only when all its
/// packets said `compress(false)` or it is below the threshold.
async fn batches_follow_the_compress_flags(builder: SocketIoBuilder) {
    let (_io, addr) = serve(builder).await;
    let polling = connect(addr).await;
    for event in ["burst", "burst-room"] {
        for (flags, size, expected) in [
            ("[true]", BIG, Some("gzip")),
            ("[false]", BIG, None),
            ("[false,false]", BIG, None),
            ("[false,true]", BIG, Some("gzip")),
            ("[true,false]", BIG, Some("gzip")),
            // below the threshold, whatever the flag
            ("[true]", 10, None),
        ] {
            let (coding, packets) =
                answer_to(&polling, &format!(r#"2["{event}",{flags},{size}]"#), "gzip").await;
            assert_eq!(coding.as_deref(), expected, "{event} {flags} {size}");
            let count = flags.matches(',').count() + 1;
            assert_eq!(
                data_indexes(&packets),
                (0..count as u64).collect::<Vec<_>>()
            );
        }
    }
    // deflate when that is what the client takes
    let (coding, _) = answer_to(&polling, &format!(r#"2["burst",[true],{BIG}]"#), "deflate").await;
    assert_eq!(coding.as_deref(), Some("deflate"));
    // an emit with ack carries the flag too
    for (compress, expected) in [(true, Some("gzip")), (false, None)] {
        let (coding, packets) =
            answer_to(&polling, &format!(r#"2["ask",{compress},{BIG}]"#), "gzip").await;
        assert_eq!(coding.as_deref(), expected, "ask {compress}");
        assert!(
            matches!(&packets[..], [EioPacket::Text(t)] if t.starts_with("42") && t.contains("[\"question\"")),
            "{packets:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_batches_follow_the_compress_flags() {
    batches_follow_the_compress_flags(SocketIo::builder()).await;
}

/// With connection state recovery, a socket's own emits go through the adapter (and its
/// session store, which appends the offset): the flag survives that path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_survives_the_recovery_store() {
    batches_follow_the_compress_flags(
        SocketIo::builder().connection_state_recovery(RecoveryConfig::default()),
    )
    .await;
}

/// `http_compression(false)` wins over everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_off_sends_every_batch_as_it_is() {
    let (_io, addr) = serve(SocketIo::builder().http_compression(false)).await;
    let polling = connect(addr).await;
    let (coding, packets) =
        answer_to(&polling, &format!(r#"2["burst",[true],{BIG}]"#), "gzip").await;
    assert_eq!(coding, None);
    assert_eq!(data_indexes(&packets), [0]);
}

/// socket.io-client 4.8 in Node, polling only: with the fetch transport (Node's fetch asks for
/// `gzip, deflate`) big events arrive in compressed responses unless emitted with
/// `compress(false)`, small ones uncompressed; with the default XHR transport (no
/// `Accept-Encoding`: a forbidden header there) everything arrives uncompressed. The script
/// checks the `Content-Encoding` of the response that carried each event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_over_compressed_polling() {
    let (_io, addr) = serve(SocketIo::builder()).await;
    let url = format!("http://{addr}");
    for transport in ["fetch", "xhr"] {
        run_js("compress.mjs", &[&url, transport]).await;
    }
}
