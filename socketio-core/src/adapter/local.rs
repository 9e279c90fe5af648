//! [`LocalAdapter`]: rooms in memory, a single node (socket.io-adapter's in-memory `Adapter`).

use foldhash::{HashMap, HashSet};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::rooms::Rooms;
use super::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions, EncodedPacket, LocalSockets,
    RecoveryConfig, RestoredSession, Session, SocketInfo,
};
use crate::args::Args;
use crate::engine::sid::Sid;
use crate::future::BoxFuture;
use crate::socket::SocketRef;

/// The default adapter: rooms of this node in memory, nothing sent anywhere else. With
/// [`LocalAdapter::with_recovery`] (what the default factory makes when the server has
/// [`crate::SocketIoBuilder::connection_state_recovery`]) it also keeps disconnected sessions
/// and the packets broadcast since, in memory with expiry, as socket.io-adapter's
/// `SessionAwareAdapter`: each non-volatile broadcast gets an offset (a counter, as text),
/// appended to the packet as its last argument before delivery.
pub struct LocalAdapter {
    sockets: LocalSockets,
    rooms: Rooms<SocketRef>,
    store: Option<Mutex<SessionStore>>,
}

impl std::fmt::Debug for LocalAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAdapter")
            .field("nsp", &self.sockets.nsp())
            .finish()
    }
}

impl LocalAdapter {
    /// An adapter for the namespace whose sockets `sockets` reaches, without a session store
    /// ([`Adapter::persist_session`] drops sessions).
    pub fn new(sockets: LocalSockets) -> Self {
        LocalAdapter {
            sockets,
            rooms: Rooms::default(),
            store: None,
        }
    }

    /// The same with an in-memory session store: every non-volatile broadcast is kept (with an
    /// offset, appended to the packet) for `config.max_disconnection_duration` and at most
    /// `config.max_packets` of them, as are persisted sessions.
    pub fn with_recovery(sockets: LocalSockets, config: RecoveryConfig) -> Self {
        LocalAdapter {
            store: Some(Mutex::new(SessionStore::new(config))),
            ..Self::new(sockets)
        }
    }

    /// The connected sockets of this node that `opts` selects.
    fn select(&self, opts: &BroadcastOptions) -> Vec<SocketRef> {
        if opts.rooms.is_empty() {
            let excluded = self.rooms.excluded(&opts.except);
            self.sockets.filter(|sid| !excluded.contains(&sid))
        } else {
            let mut members = self.rooms.members(&opts.rooms, &opts.except);
            members.retain(|socket| socket.listed());
            members
        }
    }

    /// Puts `socket` in `rooms`. A socket that left its namespace meanwhile (its disconnection
    /// ran between finding it and joining: `close` unregisters it, then leaves every room) is
    /// taken out again, so that no room keeps a gone socket.
    fn join<'r>(&self, socket: &SocketRef, rooms: impl Iterator<Item = &'r str>) {
        let sid = socket.id();
        for room in rooms {
            if self.rooms.join(socket, room) {
                self.sockets.room_changed(sid, room, true);
            }
        }
        if self.sockets.member(sid).is_none() {
            self.del_all(sid);
        }
    }

    /// Delivers `packet` to the sockets `opts` selects. A room's members are handed to
    /// delivery as the room holds them, under the rooms' read lock, unless an outgoing
    /// listener (user code, which may join or leave rooms) could run: then a copy of the list
    /// is delivered to with no lock held.
    fn deliver(&self, packet: &EncodedPacket, opts: &BroadcastOptions) {
        let volatile = opts.flags.volatile;
        if opts.rooms.is_empty() || self.sockets.outgoing_listened() {
            self.sockets
                .deliver_as(&self.select(opts), packet, volatile, true);
        } else {
            self.rooms
                .with_selected(&opts.rooms, &opts.except, |selected| {
                    self.sockets.deliver_as(&selected, packet, volatile, false)
                });
        }
    }

    fn infos(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        self.select(opts)
            .iter()
            .map(|s| self.sockets.info(s, self.rooms.rooms_of(s.id())))
            .collect()
    }
}

impl Adapter for LocalAdapter {
    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        let Some(socket) = self.sockets.member(sid) else {
            tracing::debug!(%sid, nsp = self.sockets.nsp(), "no such socket: no room joined");
            return;
        };
        self.join(&socket, rooms.iter().copied());
    }

    fn del(&self, sid: Sid, room: &str) {
        if self.rooms.leave(sid, room) {
            self.sockets.room_changed(sid, room, false);
        }
    }

    fn del_all(&self, sid: Sid) {
        for room in self.rooms.leave_all(sid) {
            self.sockets.room_changed(sid, &room, false);
        }
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<String> {
        self.rooms.rooms_of(sid)
    }

    fn sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.select(opts).iter().map(|s| s.id()).collect()
    }

    fn rooms(&self) -> Vec<String> {
        self.rooms.all_rooms()
    }

    fn broadcast(&self, packet: &EncodedPacket, opts: &BroadcastOptions) {
        if let Some(store) = &self.store {
            if !opts.flags.volatile {
                let kept = store.lock().unwrap().record(packet, opts, Instant::now());
                self.deliver(&kept, opts);
                return;
            }
        }
        self.deliver(packet, opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers> {
        let pending: Vec<_> = self
            .select(opts)
            .iter()
            .map(|socket| {
                let answer = self.sockets.request_ack(socket, packet, timeout);
                let sid = socket.id();
                async move { (sid, answer.await) }
            })
            .collect();
        Box::pin(futures_util::future::join_all(pending))
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        for socket in self.select(opts) {
            self.join(&socket, rooms.iter().map(String::as_str));
        }
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        for sid in self.sockets(opts) {
            for room in rooms {
                if self.rooms.leave(sid, room) {
                    self.sockets.room_changed(sid, room, false);
                }
            }
        }
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        // Selected first: disconnecting calls back into `del_all`.
        let selected = self.select(opts);
        self.sockets.disconnect(&selected, close);
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>> {
        Box::pin(std::future::ready(self.infos(opts)))
    }

    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        Box::pin(std::future::ready(self.rooms()))
    }

    fn server_side_emit(
        &self,
        _event: &str,
        _args: Args,
        _timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn server_count(&self) -> BoxFuture<usize> {
        Box::pin(std::future::ready(1))
    }

    fn persist_session(&self, session: Session) {
        if let Some(store) = &self.store {
            store.lock().unwrap().persist(session, Instant::now());
        }
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        let restored = self
            .store
            .as_ref()
            .and_then(|store| store.lock().unwrap().restore(pid, offset, Instant::now()));
        Box::pin(std::future::ready(restored))
    }
}

/// Disconnected sessions and recent broadcasts, for connection state recovery. Pure logic: the
/// time is passed in.
struct SessionStore {
    config: RecoveryConfig,
    sessions: HashMap<String, (Session, Instant)>,
    packets: VecDeque<Kept>,
    next_offset: u64,
}

/// A broadcast packet kept for recovery, with the selection it went to.
struct Kept {
    offset: String,
    packet: EncodedPacket,
    rooms: Vec<String>,
    except: Vec<String>,
    at: Instant,
}

impl SessionStore {
    fn new(config: RecoveryConfig) -> Self {
        SessionStore {
            config,
            sessions: HashMap::default(),
            packets: VecDeque::new(),
            next_offset: 0,
        }
    }

    /// Forgets what is older than `max_disconnection_duration` at `now`.
    fn expire(&mut self, now: Instant) {
        let keep = self.config.max_disconnection_duration;
        let fresh = |at: Instant| now.saturating_duration_since(at) <= keep;
        while self.packets.front().is_some_and(|p| !fresh(p.at)) {
            self.packets.pop_front();
        }
        self.sessions.retain(|_, (_, at)| fresh(*at));
    }

    /// Keeps a broadcast packet under a new offset; returns it with the offset appended.
    fn record(
        &mut self,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        now: Instant,
    ) -> EncodedPacket {
        self.expire(now);
        let offset = self.next_offset.to_string();
        self.next_offset += 1;
        let packet = packet.with_offset(&offset);
        if self.packets.len() >= self.config.max_packets.max(1) {
            self.packets.pop_front();
        }
        self.packets.push_back(Kept {
            offset,
            packet: packet.clone(),
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            at: now,
        });
        packet
    }

    fn persist(&mut self, session: Session, now: Instant) {
        self.expire(now);
        self.sessions.insert(session.pid.clone(), (session, now));
    }

    fn restore(&mut self, pid: &str, offset: &str, now: Instant) -> Option<RestoredSession> {
        self.expire(now);
        let index = self.packets.iter().position(|p| p.offset == offset)?;
        let (session, _) = self.sessions.remove(pid)?;
        let rooms: HashSet<&str> = session.rooms.iter().map(String::as_str).collect();
        let missed = self
            .packets
            .iter()
            .skip(index + 1)
            .filter(|p| {
                (p.rooms.is_empty() || p.rooms.iter().any(|r| rooms.contains(r.as_str())))
                    && !p.except.iter().any(|r| rooms.contains(r.as_str()))
            })
            .map(|p| (p.offset.clone(), p.packet.clone()))
            .collect();
        Some(RestoredSession { session, missed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(n: u32) -> EncodedPacket {
        EncodedPacket::event("/", "n", Args::new(vec![n.into()], Vec::new()))
    }

    /// The offset a kept packet carries as its last argument.
    fn offset_of(packet: &EncodedPacket) -> String {
        let parts = packet.parts().unwrap();
        parts.args.get(parts.args.len() - 1).unwrap()
    }

    fn to(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            except: except.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        }
    }

    fn session(pid: &str, rooms: &[&str]) -> Session {
        Session {
            sid: Sid::new(),
            pid: pid.into(),
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            data: serde_json::json!({"user": 7}),
        }
    }

    #[test]
    fn restore_returns_the_session_and_the_packets_of_its_rooms_after_the_offset() {
        let config = RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(60),
            max_packets: 100,
            ..Default::default()
        };
        let mut store = SessionStore::new(config);
        let t0 = Instant::now();
        let seen = offset_of(&store.record(&packet(0), &to(&[], &[]), t0));
        store.persist(session("p", &["a", "sid"]), t0);
        store.record(&packet(1), &to(&["a"], &[]), t0); // its room
        store.record(&packet(2), &to(&["b"], &[]), t0); // another room
        store.record(&packet(3), &to(&[], &["sid"]), t0); // everyone but it
        store.record(&packet(4), &to(&[], &[]), t0); // everyone
        let restored = store.restore("p", &seen, t0).unwrap();
        assert_eq!(
            restored.session,
            session("p", &["a", "sid"]).with_sid(restored.session.sid)
        );
        let texts: Vec<&str> = restored.missed.iter().map(|(_, p)| p.text()).collect();
        assert_eq!(texts, [r#"2["n",1,"1"]"#, r#"2["n",4,"4"]"#]);
        let offsets: Vec<&str> = restored.missed.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(offsets, ["1", "4"]);
        // once only
        assert!(store.restore("p", &seen, t0).is_none());
    }

    #[test]
    fn sessions_and_packets_expire_and_unknown_offsets_do_not_restore() {
        let config = RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(60),
            max_packets: 2,
            ..Default::default()
        };
        let mut store = SessionStore::new(config);
        let t0 = Instant::now();
        let first = offset_of(&store.record(&packet(0), &to(&[], &[]), t0));
        store.persist(session("p", &[]), t0);
        assert!(store.restore("p", "nope", t0).is_none(), "unknown offset");
        // max_packets: the first packet is forgotten after two more.
        store.record(&packet(1), &to(&[], &[]), t0);
        store.record(&packet(2), &to(&[], &[]), t0);
        assert!(store.restore("p", &first, t0).is_none(), "offset forgotten");
        let later = t0 + Duration::from_secs(61);
        let kept = offset_of(&store.record(&packet(3), &to(&[], &[]), later));
        assert!(store.sessions.is_empty(), "the session expired");
        assert_eq!(store.packets.len(), 1, "old packets expired");
        store.persist(session("q", &[]), later);
        assert!(store.restore("q", &kept, later).unwrap().missed.is_empty());
    }

    impl Session {
        fn with_sid(mut self, sid: Sid) -> Self {
            self.sid = sid;
            self
        }
    }
}
