//! The adapter seam, end to end over loopback: the factory given to the builder makes each
//! namespace's adapter, and rooms and broadcasts go through it; a broadcast with acks is encoded
//! once and each socket gets its own ack id in it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use socketio_core::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions, EncodedPacket, LocalAdapter, LocalSockets,
    RestoredSession, Session, SocketInfo,
};
use socketio_core::{Args, BoxFuture, Sid};
use support::client::{Conn, Transport};
use support::server::start_protocol_server_with;

/// A LocalAdapter that writes down what the Socket.IO layer asks of it.
struct Recording {
    inner: LocalAdapter,
    log: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn note(&self, what: String) {
        self.log.lock().unwrap().push(what);
    }
}

impl Adapter for Recording {
    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        if rooms != [sid.as_str()] {
            self.note(format!("add_all {rooms:?}"));
        }
        self.inner.add_all(sid, rooms)
    }
    fn del(&self, sid: Sid, room: &str) {
        self.note(format!("del {room}"));
        self.inner.del(sid, room)
    }
    fn del_all(&self, sid: Sid) {
        self.note("del_all".into());
        self.inner.del_all(sid)
    }
    fn socket_rooms(&self, sid: Sid) -> Vec<String> {
        self.inner.socket_rooms(sid)
    }
    fn sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.inner.sockets(opts)
    }
    fn rooms(&self) -> Vec<String> {
        self.inner.rooms()
    }
    fn broadcast(&self, packet: &EncodedPacket, opts: &BroadcastOptions) {
        self.note(format!(
            "broadcast {} to {:?} except {} local={}",
            packet.text(),
            opts.rooms,
            opts.except.len(),
            opts.flags.local
        ));
        self.inner.broadcast(packet, opts)
    }
    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers> {
        self.note(format!("broadcast_with_ack {}", packet.text()));
        self.inner.broadcast_with_ack(packet, opts, timeout)
    }
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        self.inner.add_sockets(opts, rooms)
    }
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        self.note(format!("del_sockets {:?} {rooms:?}", opts.rooms));
        self.inner.del_sockets(opts, rooms)
    }
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.inner.disconnect_sockets(opts, close)
    }
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>> {
        self.inner.fetch_sockets(opts)
    }
    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        self.inner.all_rooms()
    }
    fn server_side_emit(
        &self,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
        self.inner.server_side_emit(event, args, timeout)
    }
    fn server_count(&self) -> BoxFuture<usize> {
        self.inner.server_count()
    }
    fn persist_session(&self, session: Session) {
        self.inner.persist_session(session)
    }
    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        self.inner.restore_session(pid, offset)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builders_adapter_carries_rooms_and_broadcasts() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let made = log.clone();
    let server = start_protocol_server_with(move |b| {
        b.adapter(move |sockets: LocalSockets| {
            made.lock()
                .unwrap()
                .push(format!("made for {}", sockets.nsp()));
            Arc::new(Recording {
                inner: LocalAdapter::new(sockets),
                log: made.clone(),
            })
        })
    })
    .await;
    let (mut a, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let (mut b, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let sid_a = a.connect_ns("/", None).await;
    b.connect_ns("/", None).await;
    let ns = server.io.of("/").unwrap();
    ns.socket(sid_a.parse().unwrap()).unwrap().join("r");
    ns.to("r").emit("news", &1).unwrap();
    a.expect_sio_eq(r#"2["news",1]"#).await;
    b.expect_no_sio().await; // b is not in r
    ns.to("r").local().emit("news", &2).unwrap();
    a.expect_sio_eq(r#"2["news",2]"#).await;
    ns.close_room("r");
    assert!(ns.rooms().iter().all(|r| r != "r"));

    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"made for /".to_string()), "{log:?}");
    assert!(log.contains(&r#"add_all ["r"]"#.to_string()), "{log:?}");
    assert!(
        log.contains(&r#"broadcast 2["news",1] to ["r"] except 0 local=false"#.to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&r#"broadcast 2["news",2] to ["r"] except 0 local=true"#.to_string()),
        "{log:?}"
    );
    assert!(
        log.contains(&r#"del_sockets ["r"] ["r"]"#.to_string()),
        "{log:?}"
    );
}

/// `emit_with_ack` to a room, in a namespace and with a binary argument: the adapter gets the
/// packet encoded once without an id; each socket receives it with its own ack id, and each
/// answer comes back under its socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_with_acks_gives_each_socket_its_own_ack_id() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let made = log.clone();
    let server = start_protocol_server_with(move |b| {
        b.adapter(move |sockets: LocalSockets| {
            Arc::new(Recording {
                inner: LocalAdapter::new(sockets),
                log: made.clone(),
            })
        })
    })
    .await;
    let (mut a, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let (mut b, _) = Conn::open(server.addr, Transport::WebSocket).await;
    let sid_a: Sid = a.connect_ns("/custom", None).await.parse().unwrap();
    let sid_b: Sid = b.connect_ns("/custom", None).await.parse().unwrap();
    let ns = server.io.of("/custom").unwrap();
    // A socket already used an ack id of its own: ids stay per socket.
    let _ = ns
        .socket(sid_b)
        .unwrap()
        .emit_with_ack::<Args, _>("warmup", &());
    b.expect_sio_eq(r#"2/custom,0["warmup"]"#).await;
    ns.socket(sid_a).unwrap().join("all");
    ns.socket(sid_b).unwrap().join("all");
    let asking = {
        let ns = ns.clone();
        let data = ("q", socketio_core::Value::Binary(vec![1, 2, 3].into()));
        tokio::spawn(async move {
            ns.to("all")
                .timeout(Duration::from_secs(5))
                .emit_with_ack::<String, _>("ask", &data)
                .await
        })
    };
    let header = r#"["ask","q",{"_placeholder":true,"num":0}]"#;
    a.expect_sio_eq(&format!("51-/custom,0{header}")).await;
    assert_eq!(a.expect_binary().await, [1, 2, 3]);
    b.expect_sio_eq(&format!("51-/custom,1{header}")).await;
    assert_eq!(b.expect_binary().await, [1, 2, 3]);
    a.send_sio(r#"3/custom,0["from a"]"#).await;
    b.send_sio(r#"3/custom,1["from b"]"#).await;
    let mut answers = asking.await.unwrap().unwrap();
    answers.sort_by_key(|(sid, _)| *sid != sid_a);
    let answers: Vec<(Sid, String)> = answers
        .into_iter()
        .map(|(sid, r)| (sid, r.unwrap()))
        .collect();
    assert_eq!(
        answers,
        [(sid_a, "from a".to_string()), (sid_b, "from b".to_string())]
    );
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains(&format!("broadcast_with_ack 51-/custom,{header}")),
        "{log:?}"
    );
}
