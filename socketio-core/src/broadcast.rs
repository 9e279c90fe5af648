//! Selecting sockets of a namespace by room and acting on them all, on this node and, when the
//! server is in a cluster, on every other node.

use foldhash::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::args::{Args, FromAck};
use crate::cluster::wire::{Kind, Message, Selection, SocketInfo};
use crate::cluster::{encode_attachments, Request, REQUEST_TIMEOUT};
use crate::engine::sid::Sid;
use crate::error::{AckError, EmitError};
use crate::namespace::Namespace;
use crate::socket::{event_frame, wait_ack, SocketRef};

/// A selection of sockets in one namespace: everyone, or the members of some rooms, minus the
/// members of others. Built with [`Namespace::to`], [`crate::Socket::to`],
/// [`crate::Socket::broadcast`] and [`crate::SocketIo::to`].
///
/// In a cluster ([`crate::SocketIo::join_cluster`]), `emit`, `emit_with_ack`, `join`, `leave`,
/// `disconnect` and `fetch_sockets` also reach the selected sockets of the other nodes;
/// `sockets` returns this node's.
///
/// ```
/// # let io = socketio_core::SocketIo::new();
/// # let ns = io.ns("/");
/// // everyone in "lobby" or "hall", except those in "muted"
/// ns.to("lobby").to("hall").except("muted").emit("news", &"hello").unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    ns: Arc<Namespace>,
    selection: Selection,
    timeout: Option<Duration>,
    /// Applied on this node only (an operation received from another node).
    local_only: bool,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        BroadcastOperator {
            ns,
            selection: Selection::default(),
            timeout: None,
            local_only: false,
        }
    }

    /// An operator that acts on this node only.
    pub(crate) fn local(ns: Arc<Namespace>, selection: Selection) -> Self {
        BroadcastOperator {
            ns,
            selection,
            timeout: None,
            local_only: true,
        }
    }

    /// Adds a room to the selection (a socket id is a room too).
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.selection.rooms.push(room.into());
        self
    }

    /// Leaves out the members of `room` (or the socket with that id: python-socketio's `skip_sid`).
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.selection.except.push(room.into());
        self
    }

    /// Sets the ack timeout of [`BroadcastOperator::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The selected sockets of this node.
    pub fn sockets(&self) -> Vec<SocketRef> {
        let Selection { rooms, except } = &self.selection;
        if rooms.is_empty() {
            let excluded: HashSet<Sid> = self.ns.rooms.excluded(except);
            self.ns
                .sockets()
                .into_iter()
                .filter(|s| !excluded.contains(&s.id()))
                .collect()
        } else {
            self.ns.sockets_among(self.ns.rooms.members(rooms, except))
        }
    }

    /// Emits to every selected socket. The packet is encoded once and shared. A socket whose
    /// queue is full misses the message (logged); the call fails only if `data` does not
    /// serialize.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        if self.cluster().is_some() {
            // The other nodes need the arguments as values.
            self.emit_args(event, Args::from_serialize(data)?);
        } else {
            self.send_to_all(crate::socket::serialize_event(self.ns.path(), event, data)?);
        }
        Ok(())
    }

    fn send_to_all(&self, frame: crate::engine::packet::Frame) {
        for socket in self.sockets() {
            if let Err(err) = socket.send_frame(frame.clone()) {
                tracing::debug!(sid = %socket.id(), %err, "broadcast not delivered");
            }
        }
    }

    /// Emits already-built arguments to every selected socket.
    pub fn emit_args(&self, event: &str, args: Args) {
        if let Some(cluster) = self.cluster() {
            cluster.publish(
                self.ns.path(),
                Kind::Broadcast {
                    selection: self.selection.clone(),
                    event: event.to_owned(),
                    args: args.values().to_vec(),
                    attachments: encode_attachments(args.attachments()),
                },
            );
        }
        self.send_to_all(event_frame(self.ns.path(), event, args, None));
    }

    /// Emits to every selected socket asking each for an ack, and gathers the answers, one per
    /// socket (in a cluster, from every node). A socket that does not answer within the timeout
    /// ([`BroadcastOperator::timeout`], default `ack_timeout`) or disconnects gets an error.
    /// Each socket needs its own ack id, so this encodes per socket.
    pub async fn emit_with_ack<T, D>(
        &self,
        event: &str,
        data: &D,
    ) -> Result<Vec<(Sid, Result<T, AckError>)>, EmitError>
    where
        T: FromAck + Send + 'static,
        D: Serialize + ?Sized,
    {
        let args = Args::from_serialize(data)?;
        let timeout = self.ack_timeout();
        let remote = self.cluster().map(|cluster| {
            let request = cluster.request();
            cluster.publish(
                self.ns.path(),
                Kind::BroadcastWithAck {
                    rid: request.rid,
                    selection: self.selection.clone(),
                    event: event.to_owned(),
                    args: args.values().to_vec(),
                    attachments: encode_attachments(args.attachments()),
                    timeout_ms: timeout.as_millis() as u64,
                },
            );
            request
        });
        let local = self.send_with_acks(event, args);
        let local = futures_util::future::join_all(
            local
                .into_iter()
                .map(|(sid, answer)| async move { (sid, answer.await) }),
        );
        let (local, remote) = match remote {
            // Remote nodes time sockets out themselves; allow for the bus round trip.
            Some(request) => tokio::join!(local, gather_acks(request, timeout + REQUEST_TIMEOUT)),
            None => (local.await, Vec::new()),
        };
        Ok(local
            .into_iter()
            .chain(remote)
            .map(|(sid, answer)| (sid, answer.and_then(|args| Ok(T::from_ack(args)?))))
            .collect())
    }

    /// Emits to every selected socket of this node asking for an ack; the answers, raw.
    pub(crate) fn send_with_acks(
        &self,
        event: &str,
        args: Args,
    ) -> Vec<(Sid, crate::handler::BoxFuture<Result<Args, AckError>>)> {
        let timeout = self.ack_timeout();
        self.sockets()
            .into_iter()
            .map(|socket| {
                let rx = socket.send_with_ack(event, args.clone());
                let answer: crate::handler::BoxFuture<_> = Box::pin(wait_ack(rx, timeout));
                (socket.id(), answer)
            })
            .collect()
    }

    /// The selected sockets of every node of the cluster (this node's alone otherwise). Nodes
    /// that do not answer within a few seconds are left out.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        let mut all = self.local_socket_infos();
        if let Some(cluster) = self.cluster() {
            let mut request = cluster.request();
            cluster.publish(
                self.ns.path(),
                Kind::FetchSockets {
                    rid: request.rid,
                    selection: self.selection.clone(),
                },
            );
            let deadline = tokio::time::Instant::now() + REQUEST_TIMEOUT;
            while !request.peers.is_empty() {
                match tokio::time::timeout_at(deadline, request.answers.recv()).await {
                    Ok(Some(Message {
                        uid,
                        kind: Kind::Sockets { sockets, .. },
                        ..
                    })) => {
                        request.peers.remove(&uid);
                        all.extend(sockets);
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
        all
    }

    pub(crate) fn local_socket_infos(&self) -> Vec<SocketInfo> {
        self.sockets()
            .iter()
            .map(|s| SocketInfo {
                id: s.id().to_string(),
                nsp: s.ns().to_owned(),
                rooms: s.rooms(),
            })
            .collect()
    }

    fn ack_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.ns.config().ack_timeout)
    }

    /// Makes every selected socket join `room`.
    pub fn join(&self, room: &str) {
        self.publish(|selection| Kind::Join {
            selection,
            targets: vec![room.to_owned()],
        });
        for socket in self.sockets() {
            socket.join(room);
        }
    }

    /// Makes every selected socket leave `room`.
    pub fn leave(&self, room: &str) {
        self.publish(|selection| Kind::Leave {
            selection,
            targets: vec![room.to_owned()],
        });
        for socket in self.sockets() {
            socket.leave(room);
        }
    }

    /// Disconnects every selected socket from the namespace.
    pub fn disconnect(&self) {
        self.publish(|selection| Kind::Disconnect {
            selection,
            close: false,
        });
        for socket in self.sockets() {
            socket.disconnect();
        }
    }

    fn cluster(&self) -> Option<&crate::cluster::Cluster> {
        if self.local_only {
            None
        } else {
            self.ns.config().cluster()
        }
    }

    fn publish(&self, kind: impl FnOnce(Selection) -> Kind) {
        if let Some(cluster) = self.cluster() {
            cluster.publish(self.ns.path(), kind(self.selection.clone()));
        }
    }
}

/// Collects the acks of a `broadcast_with_ack` request: every expected node first says how many
/// sockets it asked, then sends one answer per socket.
async fn gather_acks(
    mut request: Request<'_>,
    timeout: Duration,
) -> Vec<(Sid, Result<Args, AckError>)> {
    use std::collections::HashMap;
    let deadline = tokio::time::Instant::now() + timeout;
    // Answers still expected per node (`None`: its count has not arrived yet).
    let mut waiting: HashMap<String, Option<usize>> =
        request.peers.drain().map(|uid| (uid, None)).collect();
    let mut out = Vec::new();
    while !waiting.is_empty() {
        let msg = match tokio::time::timeout_at(deadline, request.answers.recv()).await {
            Ok(Some(msg)) => msg,
            Ok(None) | Err(_) => break,
        };
        let left = waiting.entry(msg.uid.clone()).or_insert(None);
        match msg.kind {
            Kind::AckCount { count, .. } => *left = Some(left.unwrap_or(0) + count),
            Kind::Ack {
                sid,
                args,
                attachments,
                ..
            } => {
                *left = Some(left.unwrap_or(0).saturating_sub(1));
                let Ok(sid) = sid.parse::<Sid>() else {
                    continue;
                };
                let answer = match args {
                    Some(values) => {
                        let atts = attachments
                            .iter()
                            .filter_map(|a| {
                                use base64::Engine as _;
                                base64::engine::general_purpose::STANDARD
                                    .decode(a)
                                    .ok()
                                    .map(bytes::Bytes::from)
                            })
                            .collect();
                        Ok(Args::new(values, atts))
                    }
                    None => Err(AckError::Timeout(timeout)),
                };
                out.push((sid, answer));
            }
            _ => continue,
        }
        if *left == Some(0) {
            waiting.remove(&msg.uid);
        }
    }
    out
}
