//! Helpers for tests with several server nodes on a real message bus.

use socketio_core::cluster::Bus;
use socketio_core::Sid;

use super::client::{Conn, Transport};
use super::server::{start_interop_server, TestServer};

/// A bus on the Redis at `REDIS_URL` (default 127.0.0.1:6379).
pub fn redis() -> socketio_redis::RedisBus {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    socketio_redis::RedisBus::open(&url).expect("redis url")
}

/// A bus on the RabbitMQ at `AMQP_URL` (default 127.0.0.1:5672, guest/guest).
pub fn amqp() -> socketio_amqp::AmqpBus {
    let url = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    socketio_amqp::AmqpBus::new(&url)
}

/// `count` nodes in one cluster on a fresh channel.
pub async fn nodes<B: Bus>(bus: impl Fn() -> B, count: usize) -> (Vec<TestServer>, String) {
    let channel = format!("socketio-test-{}", Sid::new());
    let mut nodes = Vec::new();
    for _ in 0..count {
        let node = start_interop_server().await;
        node.io
            .join_cluster(bus(), &channel)
            .await
            .expect("is the message broker running? (scripts/services.sh starts it)");
        nodes.push(node);
    }
    (nodes, channel)
}

/// A websocket client connected to "/" of `node`, and its socket id.
pub async fn client(node: &TestServer) -> (Conn, String) {
    let (mut c, _) = Conn::open(node.addr, Transport::WebSocket).await;
    let sid = c.connect_ns("/", None).await;
    (c, sid)
}

/// Makes the client join `room` (ack id `id`).
pub async fn join(c: &mut Conn, room: &str, id: u32) {
    c.send_sio(&format!(r#"2{id}["join","{room}"]"#)).await;
    let ack = c.expect_sio().await;
    assert!(ack.starts_with(&format!("3{id}[")), "join ack: {ack}");
}
