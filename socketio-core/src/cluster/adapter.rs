//! [`BusAdapter`]: the cluster over a message bus as an [`Adapter`] wrapping the local one, and
//! the application of other nodes' operations to the local adapter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::wire::{decode_attachments, encode_attachments, Kind, Message, Selection};
use super::{Cluster, REQUEST_TIMEOUT};
use crate::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions, EncodedPacket, LocalSockets,
    RestoredSession, Session, SocketInfo,
};
use crate::args::Args;
use crate::engine::sid::Sid;
use crate::error::AckError;
use crate::future::BoxFuture;

/// The adapter of a namespace once its server joined a cluster
/// ([`crate::SocketIo::join_cluster`]): every operation is applied by the wrapped local adapter
/// and, unless its options say `local`, published on the bus for the other nodes, which apply it
/// to their own local adapter (so nothing is ever forwarded twice). Requests (`fetch_sockets`,
/// `all_rooms`, `broadcast_with_ack`) wait for the nodes heard of in the last three heartbeats.
/// Sessions stay with the local adapter.
pub struct BusAdapter {
    cluster: Arc<Cluster>,
    nsp: String,
    local: Arc<dyn Adapter>,
}

impl std::fmt::Debug for BusAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusAdapter")
            .field("nsp", &self.nsp)
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl BusAdapter {
    pub(crate) fn new(cluster: Arc<Cluster>, nsp: String, local: Arc<dyn Adapter>) -> Self {
        BusAdapter {
            cluster,
            nsp,
            local,
        }
    }

    fn publish(&self, opts: &BroadcastOptions, kind: impl FnOnce(Selection) -> Kind) {
        if !opts.flags.local {
            self.cluster.publish(&self.nsp, kind(Selection::of(opts)));
        }
    }
}

impl Adapter for BusAdapter {
    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        self.local.add_all(sid, rooms);
    }

    fn del(&self, sid: Sid, room: &str) {
        self.local.del(sid, room);
    }

    fn del_all(&self, sid: Sid) {
        self.local.del_all(sid);
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<String> {
        self.local.socket_rooms(sid)
    }

    fn sockets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.local.sockets(opts)
    }

    fn rooms(&self) -> Vec<String> {
        self.local.rooms()
    }

    fn broadcast(&self, packet: &EncodedPacket, opts: &BroadcastOptions) {
        if !opts.flags.local {
            match packet.parts() {
                Ok(parts) => {
                    let (args, attachments) = parts.args.into_parts();
                    self.cluster.publish(
                        &self.nsp,
                        Kind::Broadcast {
                            selection: Selection::of(opts),
                            event: parts.event,
                            args,
                            attachments: encode_attachments(&attachments),
                        },
                    );
                }
                Err(err) => tracing::error!(%err, "broadcast not published to the cluster"),
            }
        }
        self.local.broadcast(packet, opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers> {
        let local = self.local.broadcast_with_ack(packet, opts, timeout);
        if opts.flags.local {
            return local;
        }
        let parts = match packet.parts() {
            Ok(parts) => parts,
            Err(err) => {
                tracing::error!(%err, "broadcast with acks not published to the cluster");
                return local;
            }
        };
        let request = self.cluster.request();
        let (args, attachments) = parts.args.into_parts();
        self.cluster.publish(
            &self.nsp,
            Kind::BroadcastWithAck {
                rid: request.rid,
                selection: Selection::of(opts),
                event: parts.event,
                args,
                attachments: encode_attachments(&attachments),
                timeout_ms: timeout.as_millis() as u64,
            },
        );
        Box::pin(async move {
            // Remote nodes time sockets out themselves; allow for the bus round trip.
            let remote = gather_acks(request, timeout, timeout + REQUEST_TIMEOUT);
            let (mut answers, remote) = tokio::join!(local, remote);
            answers.extend(remote);
            answers
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        self.publish(opts, |selection| Kind::Join {
            selection,
            targets: rooms.to_vec(),
        });
        self.local.add_sockets(opts, rooms);
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[String]) {
        self.publish(opts, |selection| Kind::Leave {
            selection,
            targets: rooms.to_vec(),
        });
        self.local.del_sockets(opts, rooms);
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        self.publish(opts, |selection| Kind::Disconnect { selection, close });
        self.local.disconnect_sockets(opts, close);
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>> {
        let local = self.local.fetch_sockets(opts);
        if opts.flags.local {
            return local;
        }
        let request = self.cluster.request();
        self.cluster.publish(
            &self.nsp,
            Kind::FetchSockets {
                rid: request.rid,
                selection: Selection::of(opts),
            },
        );
        Box::pin(async move {
            let mut all = local.await;
            request
                .collect(REQUEST_TIMEOUT, |_, kind| match kind {
                    Kind::Sockets { sockets, .. } => {
                        all.extend(sockets);
                        true
                    }
                    _ => false,
                })
                .await;
            all
        })
    }

    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        let local = self.local.all_rooms();
        let request = self.cluster.request();
        self.cluster
            .publish(&self.nsp, Kind::AllRooms { rid: request.rid });
        Box::pin(async move {
            let mut rooms: std::collections::BTreeSet<String> = local.await.into_iter().collect();
            request
                .collect(REQUEST_TIMEOUT, |_, kind| match kind {
                    Kind::Rooms { rooms: theirs, .. } => {
                        rooms.extend(theirs);
                        true
                    }
                    _ => false,
                })
                .await;
            rooms.into_iter().collect()
        })
    }

    fn server_side_emit(
        &self,
        _event: &str,
        _args: Args,
        _timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
        // The bus wire format has no message for it yet.
        Box::pin(std::future::ready(Err(AdapterError::Unsupported(
            "server-side emit over a message bus",
        ))))
    }

    fn server_count(&self) -> BoxFuture<usize> {
        let count = self.cluster.live_peers().len() + 1;
        Box::pin(std::future::ready(count))
    }

    fn persist_session(&self, session: Session) {
        self.local.persist_session(session);
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        self.local.restore_session(pid, offset)
    }

    /// Leaves the cluster (every namespace shares one membership; the first close ends it),
    /// then closes the local adapter.
    fn close(&self) -> BoxFuture<()> {
        self.cluster.leave();
        self.local.close()
    }
}

/// Collects the remote acks of a `broadcast_with_ack` request: every node first says how many
/// sockets it asked (`ack_count`), then sends one `ack` per socket, in any order.
async fn gather_acks(
    request: super::Request,
    socket_timeout: Duration,
    timeout: Duration,
) -> AckAnswers {
    // Answers still expected per node (`None`: its count has not arrived yet).
    let mut waiting: HashMap<String, Option<usize>> = HashMap::new();
    let mut out = Vec::new();
    request
        .collect(timeout, |uid, kind| {
            let left = waiting.entry(uid.to_owned()).or_insert(None);
            match kind {
                Kind::AckCount { count, .. } => *left = Some(left.unwrap_or(0) + count),
                Kind::Ack {
                    sid,
                    args,
                    attachments,
                    ..
                } => {
                    *left = Some(left.unwrap_or(0).saturating_sub(1));
                    if let Ok(sid) = sid.parse::<Sid>() {
                        let answer = match args {
                            Some(values) => match decode_attachments(&attachments) {
                                Ok(atts) => Ok(Args::new(values, atts)),
                                Err(err) => {
                                    tracing::warn!(%err, "cluster ack with invalid attachments");
                                    Err(AckError::Closed)
                                }
                            },
                            None => Err(AckError::Timeout(socket_timeout)),
                        };
                        out.push((sid, answer));
                    }
                }
                _ => return false,
            }
            *left == Some(0)
        })
        .await;
    out
}

/// Applies another node's operation to this node's sockets of namespace `local` (never
/// republished: the local adapter does not talk to the bus), answering requests on the
/// requester's channel.
pub(super) fn apply_remote(
    cluster: &Arc<Cluster>,
    local: &dyn Adapter,
    sockets: &LocalSockets,
    msg: Message,
) {
    let Message {
        uid: from,
        nsp,
        kind,
    } = msg;
    match kind {
        Kind::Broadcast {
            selection,
            event,
            args,
            attachments,
        } => match decode_attachments(&attachments) {
            Ok(atts) => {
                let packet = EncodedPacket::event(&nsp, &event, Args::new(args, atts));
                local.broadcast(&packet, &selection.into_options());
            }
            Err(err) => tracing::warn!(%err, "cluster broadcast with invalid attachments"),
        },
        Kind::Join { selection, targets } => local.add_sockets(&selection.into_options(), &targets),
        Kind::Leave { selection, targets } => {
            local.del_sockets(&selection.into_options(), &targets)
        }
        Kind::Disconnect { selection, close } => {
            local.disconnect_sockets(&selection.into_options(), close)
        }
        Kind::CloseRoom { room } => {
            let opts = BroadcastOptions {
                rooms: vec![room.clone()],
                ..Default::default()
            };
            local.del_sockets(&opts, &[room]);
        }
        Kind::FetchSockets { rid, selection } => {
            let found = local.fetch_sockets(&selection.into_options());
            let cluster = cluster.clone();
            tokio::spawn(async move {
                let sockets = found.await;
                cluster.reply(&from, &nsp, Kind::Sockets { rid, sockets });
            });
        }
        Kind::AllRooms { rid } => {
            let rooms = local.rooms();
            cluster.reply(&from, &nsp, Kind::Rooms { rid, rooms });
        }
        Kind::BroadcastWithAck {
            rid,
            selection,
            event,
            args,
            attachments,
            timeout_ms,
        } => {
            let atts = match decode_attachments(&attachments) {
                Ok(atts) => atts,
                Err(err) => {
                    return tracing::warn!(%err, "cluster ack request with invalid attachments")
                }
            };
            let packet = EncodedPacket::event(&nsp, &event, Args::new(args, atts));
            let timeout = Duration::from_millis(timeout_ms);
            let selected = sockets.among(local.sockets(&selection.into_options()));
            cluster.reply(
                &from,
                &nsp,
                Kind::AckCount {
                    rid,
                    count: selected.len(),
                },
            );
            for socket in &selected {
                let answer = sockets.request_ack(socket, &packet, timeout);
                let sid = socket.id().to_string();
                let (cluster, from, nsp) = (cluster.clone(), from.clone(), nsp.clone());
                tokio::spawn(async move {
                    let (args, attachments) = match answer.await {
                        Ok(args) => {
                            let (values, atts) = args.into_parts();
                            (Some(values), encode_attachments(&atts))
                        }
                        Err(_) => (None, Vec::new()),
                    };
                    let kind = Kind::Ack {
                        rid,
                        sid,
                        args,
                        attachments,
                    };
                    cluster.reply(&from, &nsp, kind);
                });
            }
        }
        Kind::Heartbeat
        | Kind::AdapterClose
        | Kind::Sockets { .. }
        | Kind::Rooms { .. }
        | Kind::AckCount { .. }
        | Kind::Ack { .. } => {}
    }
}
