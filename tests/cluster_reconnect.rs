//! A node whose Redis subscription is cut reconnects by itself and keeps serving. (Its own test
//! binary: cutting connections server-wide must not disturb the other cluster tests, and cargo
//! runs test binaries one after another.)

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::client::Event;
use support::cluster::{client, join, nodes, redis};

/// Asks Redis to drop every pub/sub connection (`CLIENT KILL TYPE pubsub`); returns how many.
fn kill_pubsub_connections() -> usize {
    let mut conn = std::net::TcpStream::connect("127.0.0.1:6379").expect("redis");
    conn.write_all(b"CLIENT KILL TYPE pubsub\r\n").unwrap();
    let mut reply = [0u8; 64];
    let n = conn.read(&mut reply).unwrap();
    let text = String::from_utf8_lossy(&reply[..n]);
    text.trim()
        .trim_start_matches(':')
        .parse()
        .unwrap_or_else(|_| panic!("reply {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_cut_is_restored() {
    if std::env::var("REDIS_URL").is_ok() {
        eprintln!("REDIS_URL is set: this test only runs against the local Redis");
        return;
    }
    let (n, _) = nodes(redis, 2).await;
    let (mut a, _) = client(&n[0]).await;
    let (mut b, _) = client(&n[1]).await;
    join(&mut a, "r", 1).await;
    join(&mut b, "r", 1).await;

    assert!(
        kill_pubsub_connections() >= 2,
        "both nodes' subscriptions were cut"
    );

    // Emit from node 1 until node 2's client hears it again (its node resubscribed).
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut attempt = 0;
    loop {
        assert!(Instant::now() < deadline, "node 2 never resubscribed");
        attempt += 1;
        a.send_sio(&format!(r#"2100["to-room","r",{attempt}]"#))
            .await;
        let mut heard = false;
        while let Some(event) = b.recv(Duration::from_millis(300)).await {
            if let Event::Text(t) = event {
                heard |= t.starts_with(r#"42["room-message","#);
            }
        }
        if heard {
            break;
        }
    }
    // Both nodes still serve their clients.
    for c in [&mut a, &mut b] {
        c.send_sio(r#"2200["ack","alive"]"#).await;
        loop {
            let msg = c.expect_sio().await;
            if msg.starts_with("3200") {
                assert_eq!(msg, r#"3200["alive"]"#);
                break;
            }
        }
    }
}
