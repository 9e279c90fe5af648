//! What the write-only emitters of the Node-compatible adapter crates share
//! (`socketio_redis::node::Emitter`, `socketio_redis::streams::Emitter`,
//! `socketio_postgres::Emitter`): the [`Selection`] an emitter targets (the state of the Node
//! emitters' `BroadcastOperator`: namespace, rooms, excluded rooms, flags), the refusal of
//! reserved event names ([`check_event`]), and the messages built from a selection, in
//! socket.io-adapter's `ClusterAdapter` shapes ([`ClusterBody`], [`ClusterMessage`]) or as
//! the parts the classic Redis format carries ([`Selection::event`],
//! [`Selection::options`], [`server_event`]).
//!
//! Each emitter keeps its transport, its settings and its own error type; this module only
//! builds what they publish, so that every emitter selects and refuses alike. Ground truth:
//! the `BroadcastOperator` of `@socket.io/redis-emitter` 5.x, `@socket.io/postgres-emitter`
//! 0.1 and `@socket.io/redis-streams-emitter` 0.1.
//!
//! ```
//! use socketio_core::node_compat::cluster::ClusterBody;
//! use socketio_core::node_compat::emitter::{check_event, Selection};
//! let args = socketio_core::Args::from_serialize(&("hello", 1)).unwrap();
//! let selection = Selection::of("chat").to("lobby").except("muted").volatile();
//! assert_eq!(selection.nsp(), "/chat");
//! let msg = selection.message(selection.broadcast("news", &args).unwrap());
//! assert_eq!((msg.uid.as_str(), msg.nsp.as_deref()), ("emitter", Some("/chat")));
//! let ClusterBody::Broadcast { opts, .. } = &msg.body else { unreachable!() };
//! assert_eq!(opts.rooms, ["lobby"]);
//! assert_eq!(opts.except, ["muted"]);
//! assert_eq!(check_event("disconnect").unwrap_err().to_string(), r#""disconnect" is a reserved event name"#);
//! ```

use super::args_to_node;
use super::cluster::{BroadcastFlags, BroadcastOptions, ClusterBody, ClusterMessage, Packet};
use crate::args::Args;
use rmpv::Value;

/// The uid every Node emitter puts in its messages (`"emitter"`). It is no node's uid, so a
/// node applies these messages, and a heartbeat-based adapter does not count their sender as
/// a node.
pub const EMITTER_UID: &str = "emitter";

/// An event name socket.io reserves, refused by [`check_event`]. Displays as Node's error:
/// `"<name>" is a reserved event name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is a reserved event name")]
pub struct ReservedEvent(pub String);

/// Refuses the event names socket.io reserves (`connect`, `connect_error`, `disconnect`,
/// `disconnecting`, `newListener`, `removeListener`: [`Namespace::RESERVED_EVENTS`]), as the
/// Node emitters' `emit` does (`RESERVED_EVENTS` of each emitter package).
///
/// # Errors
/// [`ReservedEvent`] with the name.
///
/// [`Namespace::RESERVED_EVENTS`]: crate::Namespace::RESERVED_EVENTS
pub fn check_event(event: &str) -> Result<(), ReservedEvent> {
    if crate::protocol::packet::RESERVED_EVENTS.contains(&event) {
        return Err(ReservedEvent(event.to_owned()));
    }
    Ok(())
}

/// The data of a server-side emit: `[event, ...args]` (Node values, binary inline). Not
/// checked against the reserved names: the Node emitters' `serverSideEmit` does not check
/// them (an emitter that refuses them calls [`check_event`] first).
pub fn server_event(event: &str, args: &Args) -> Vec<Value> {
    let mut data = vec![Value::from(event)];
    data.extend(args_to_node(args));
    data
}

/// What an emitter targets: its namespace, the rooms whose sockets it selects (every socket of
/// the namespace while there is none), the rooms whose sockets it leaves out, and its
/// broadcast flags (`volatile`). The state of the Node emitters' `BroadcastOperator`, shared
/// by our emitters.
///
/// Selecting methods return a new selection. The default selects all of namespace `/`.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    nsp: String,
    rooms: Vec<String>,
    except: Vec<String>,
    flags: BroadcastFlags,
}

impl Default for Selection {
    fn default() -> Self {
        Selection::of("/")
    }
}

impl Selection {
    /// Every socket of namespace `nsp` (a leading `/` is added when missing), no flags.
    pub fn of(nsp: &str) -> Selection {
        Selection {
            nsp: crate::protocol::normalize_namespace(nsp),
            rooms: Vec::new(),
            except: Vec::new(),
            flags: BroadcastFlags::default(),
        }
    }

    /// The namespace, with its leading `/`.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The selected rooms, in the order they were added, each once (empty: every socket).
    pub fn rooms(&self) -> &[String] {
        &self.rooms
    }

    /// The rooms left out, in the order they were added, each once.
    pub fn except_rooms(&self) -> &[String] {
        &self.except
    }

    /// The broadcast flags: `{}`, or `{volatile: true}` after [`Selection::volatile`].
    pub fn flags(&self) -> &BroadcastFlags {
        &self.flags
    }

    /// Selects the sockets in `room` too (a room already selected is not added twice).
    pub fn to(&self, room: impl Into<String>) -> Selection {
        let mut next = self.clone();
        add_once(&mut next.rooms, room.into());
        next
    }

    /// Leaves out the sockets in `room` (or with that id; a room already left out is not
    /// added twice).
    pub fn except(&self, room: impl Into<String>) -> Selection {
        let mut next = self.clone();
        add_once(&mut next.except, room.into());
        next
    }

    /// Sets the `volatile` flag: a client that cannot take a broadcast now misses it.
    pub fn volatile(&self) -> Selection {
        let mut next = self.clone();
        next.flags.set("volatile", true);
        next
    }

    /// The options on the wire: rooms, except and, with `flags` (as broadcasts carry them;
    /// joins, leaves and disconnects carry none), the flags.
    pub fn options(&self, flags: bool) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            flags: flags.then(|| self.flags.clone()),
        }
    }

    /// The EVENT packet of `event` with `args` for this namespace (`{type: 2, data: [event,
    /// ...args], nsp}`), as the emitters broadcast it.
    ///
    /// # Errors
    /// [`ReservedEvent`] when `event` is reserved ([`check_event`]).
    pub fn event(&self, event: &str, args: &Args) -> Result<Packet, ReservedEvent> {
        check_event(event)?;
        Ok(Packet::event(self.nsp.as_str(), event, args_to_node(args)))
    }

    /// `BROADCAST` of `event` with `args` to the selected sockets: the
    /// [`event`](Selection::event) packet and the options with flags, no request id (nothing
    /// is acknowledged).
    ///
    /// # Errors
    /// [`ReservedEvent`] when `event` is reserved ([`check_event`]).
    pub fn broadcast(&self, event: &str, args: &Args) -> Result<ClusterBody, ReservedEvent> {
        Ok(ClusterBody::Broadcast {
            packet: self.event(event, args)?,
            request_id: None,
            opts: self.options(true),
        })
    }

    /// `SOCKETS_JOIN`: the selected sockets join `rooms`.
    pub fn sockets_join(&self, rooms: &[&str]) -> ClusterBody {
        ClusterBody::SocketsJoin {
            opts: self.options(false),
            rooms: owned(rooms),
        }
    }

    /// `SOCKETS_LEAVE`: the selected sockets leave `rooms`.
    pub fn sockets_leave(&self, rooms: &[&str]) -> ClusterBody {
        ClusterBody::SocketsLeave {
            opts: self.options(false),
            rooms: owned(rooms),
        }
    }

    /// `DISCONNECT_SOCKETS`: the selected sockets are disconnected (`close`: their whole
    /// connection).
    pub fn disconnect_sockets(&self, close: bool) -> ClusterBody {
        ClusterBody::DisconnectSockets {
            opts: self.options(false),
            close,
        }
    }

    /// `SERVER_SIDE_EMIT` of [`server_event`] (not checked for reserved names), no request
    /// id. The rooms do not apply: every node of the namespace gets it, as in Node.
    pub fn server_side_emit(&self, event: &str, args: &Args) -> ClusterBody {
        ClusterBody::ServerSideEmit {
            request_id: None,
            packet: server_event(event, args),
        }
    }

    /// The message carrying `body` from the emitter ([`EMITTER_UID`]) with this namespace as
    /// its `nsp`.
    pub fn message(&self, body: ClusterBody) -> ClusterMessage {
        ClusterMessage {
            uid: EMITTER_UID.to_owned(),
            nsp: Some(self.nsp.clone()),
            body,
        }
    }
}

fn add_once(list: &mut Vec<String>, room: String) {
    if !list.contains(&room) {
        list.push(room);
    }
}

fn owned(rooms: &[&str]) -> Vec<String> {
    rooms.iter().map(|r| (*r).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Args {
        Args::from_serialize(&("hi", 1)).unwrap()
    }

    #[test]
    fn selecting_adds_the_slash_and_each_room_once() {
        let base = Selection::of("chat");
        assert_eq!(base, Selection::of("/chat"));
        assert_eq!(Selection::default().nsp(), "/");
        let s = base
            .to("a")
            .to("b")
            .to("a")
            .except("x")
            .except("x")
            .volatile();
        assert_eq!(s.nsp(), "/chat");
        assert_eq!(s.rooms(), ["a", "b"]);
        assert_eq!(s.except_rooms(), ["x"]);
        assert_eq!(s.flags().get("volatile"), Some(&Value::from(true)));
        // selecting returns a new selection
        assert!(base.rooms().is_empty() && base.flags().get("volatile").is_none());
        assert_eq!(s.options(false).flags, None);
        assert_eq!(s.options(true).flags.as_ref(), Some(s.flags()));
    }

    #[test]
    fn reserved_names_are_refused_where_node_refuses_them() {
        for name in crate::Namespace::RESERVED_EVENTS {
            let err = check_event(name).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("\"{name}\" is a reserved event name")
            );
            assert_eq!(Selection::default().broadcast(name, &args()), Err(err));
            // serverSideEmit does not check (as Node)
            assert_eq!(server_event(name, &args())[0], Value::from(name));
        }
        assert!(check_event("connection").is_ok());
    }

    #[test]
    fn messages_carry_the_selection() {
        let s = Selection::of("/n").to("r").except("e");
        let msg = s.message(s.broadcast("ev", &args()).unwrap());
        assert_eq!(msg.uid, EMITTER_UID);
        assert_eq!(msg.nsp.as_deref(), Some("/n"));
        let ClusterBody::Broadcast {
            packet,
            request_id: None,
            opts,
        } = msg.body
        else {
            panic!("a broadcast: {:?}", msg.body)
        };
        assert_eq!(packet.nsp.as_deref(), Some("/n"));
        assert_eq!(
            packet.data,
            Some(Value::Array(vec!["ev".into(), "hi".into(), 1.into()]))
        );
        assert_eq!(opts, s.options(true));
        assert_eq!(
            s.sockets_join(&["j"]),
            ClusterBody::SocketsJoin {
                opts: s.options(false),
                rooms: vec!["j".into()]
            }
        );
        assert_eq!(
            s.sockets_leave(&["l"]),
            ClusterBody::SocketsLeave {
                opts: s.options(false),
                rooms: vec!["l".into()]
            }
        );
        assert_eq!(
            s.disconnect_sockets(true),
            ClusterBody::DisconnectSockets {
                opts: s.options(false),
                close: true
            }
        );
        assert_eq!(
            s.server_side_emit("ev", &args()),
            ClusterBody::ServerSideEmit {
                request_id: None,
                packet: vec!["ev".into(), "hi".into(), 1.into()]
            }
        );
    }
}
