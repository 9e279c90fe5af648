//! A node whose broker connection is cut (Redis or RabbitMQ) reconnects by itself and keeps
//! serving. (Its own test binary: cutting connections server-wide must not disturb the other
//! cluster tests, and cargo runs test binaries one after another.)

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use socketio_core::Sid;
use support::client::{Conn, Event};
use support::cluster::{amqp, client, join, nodes, redis};

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

    recovers(&mut a, &mut b).await;
}

/// Closes every RabbitMQ connection whose client properties mention `name`
/// (`rabbitmqctl close_connection`); returns how many.
fn close_amqp_connections(name: &str) -> usize {
    let rabbitmqctl = |args: &[&str]| {
        Command::new("rabbitmqctl")
            .args(args)
            .output()
            .expect("rabbitmqctl (RabbitMQ's CLI, installed with the server) runs")
    };
    let listed = rabbitmqctl(&["-s", "list_connections", "pid", "client_properties"]);
    assert!(
        listed.status.success(),
        "rabbitmqctl list_connections: {listed:?}"
    );
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|line| line.contains(name))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|pid| {
            rabbitmqctl(&["-s", "close_connection", pid, "test: connection cut"])
                .status
                .success()
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_connection_cut_is_restored() {
    if std::env::var("AMQP_URL").is_ok() {
        eprintln!("AMQP_URL is set: this test only runs against the local RabbitMQ");
        return;
    }
    let name = format!("socketio-test-{}", Sid::new());
    let (n, _) = nodes(|| amqp().with_connection_name(&name), 2).await;
    let (mut a, _) = client(&n[0]).await;
    let (mut b, _) = client(&n[1]).await;
    join(&mut a, "r", 1).await;
    join(&mut b, "r", 1).await;

    let cut = close_amqp_connections(&name);
    eprintln!("closed {cut} RabbitMQ connections");
    assert!(cut >= 2, "both nodes' subscriptions were cut");
    recovers(&mut a, &mut b).await;
}

/// After a cut: a room emit from `a`'s node reaches `b` again (its node resubscribed), and both
/// nodes still serve their clients.
async fn recovers(a: &mut Conn, b: &mut Conn) {
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
    for c in [a, b] {
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
