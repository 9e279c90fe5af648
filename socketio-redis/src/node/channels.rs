//! Redis channel names of the Node adapters and emitter. See the [module docs](super).

use super::sharded::{ClusterBody, ClusterMessage};

/// The default `key` (classic adapter, emitter) and `channelPrefix` (sharded adapter).
pub const DEFAULT_PREFIX: &str = "socket.io";

pub use socketio_core::node_compat::emitter::EMITTER_UID;

/// Channels of the classic `createAdapter` (and the emitter) for one namespace.
///
/// `key` is the adapter's `key` option (default [`DEFAULT_PREFIX`]), `nsp` the namespace
/// name with its leading `/`. Names are built as Node builds them: nothing is escaped, so a
/// `#` inside a room or namespace name is ambiguous there too, and glob characters (`*?[`) in
/// the key or namespace also act in the broadcast pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicChannels {
    broadcast: String,
    request: String,
    response: String,
}

impl ClassicChannels {
    /// The channels for namespace `nsp` under `key`.
    pub fn new(key: &str, nsp: &str) -> ClassicChannels {
        ClassicChannels {
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// `{key}#{nsp}#`: broadcasts to zero or several rooms.
    pub fn broadcast(&self) -> &str {
        &self.broadcast
    }

    /// `{key}#{nsp}#{room}#`: broadcasts to exactly one room.
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.broadcast)
    }

    /// Where a broadcast to `rooms` is published: the room's channel when there is exactly
    /// one room, [`ClassicChannels::broadcast`] otherwise.
    pub fn broadcast_for(&self, rooms: &[String]) -> String {
        match rooms {
            [room] => self.room(room),
            _ => self.broadcast.clone(),
        }
    }

    /// `{key}#{nsp}#*`: the pattern (PSUBSCRIBE) a node listens to for broadcasts.
    pub fn broadcast_pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// For a message received on the broadcast pattern: `Some("")` for the namespace channel,
    /// `Some(room)` for a room channel, `None` for another namespace's channel. As in Node, a
    /// node that has no local socket in that room may skip decoding the message.
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        // Node slices off the last character (the closing '#') without checking it.
        let mut chars = rest.chars();
        chars.next_back();
        Some(chars.as_str())
    }

    /// `{key}-request#{nsp}#`: requests. Every node SUBSCRIBEs to it, and the number of its
    /// subscribers (`PUBSUB NUMSUB`) is how many answers a requester waits for.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// `{key}-response#{nsp}#`: the shared response channel.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// `{key}-response#{nsp}#{uid}#`: the response channel of node `uid`, used when the
    /// answering node has `publishOnSpecificResponseChannel: true`. Every node subscribes to
    /// both its own and the shared one.
    pub fn specific_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// Where to answer a request from `requester_uid`: its specific channel when
    /// `publish_on_specific_response_channel`, the shared one otherwise. (Node answers an
    /// acked serverSideEmit on the shared channel in both cases.)
    pub fn response_for(
        &self,
        requester_uid: &str,
        publish_on_specific_response_channel: bool,
    ) -> String {
        if publish_on_specific_response_channel {
            self.specific_response(requester_uid)
        } else {
            self.response.clone()
        }
    }

    /// The command that counts the nodes of the namespace: `PUBSUB NUMSUB {request}` (the
    /// count is the second element of the reply). Any subscriber of the request channel
    /// counts, a spying `redis-cli SUBSCRIBE` too.
    pub fn server_count_command(&self) -> [String; 3] {
        ["PUBSUB".into(), "NUMSUB".into(), self.request.clone()]
    }
}

/// `subscriptionMode` of `createShardedAdapter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubscriptionMode {
    /// `"static"`: only the namespace channel and the node's response channel.
    Static,
    /// `"dynamic"` (Node's default): also one channel per public room (not socket-id rooms),
    /// subscribed while the node has sockets in it.
    #[default]
    Dynamic,
    /// `"dynamic-private"`: one channel per room, socket-id rooms included.
    DynamicPrivate,
}

/// Whether `room` looks like a socket id to the sharded adapter: exactly 20 UTF-16 code units
/// (JavaScript's `room.length === 20`).
pub fn looks_like_a_socket_id(room: &str) -> bool {
    room.encode_utf16().count() == 20
}

/// Channels of `createShardedAdapter` for one namespace (SSUBSCRIBE / SPUBLISH).
///
/// `prefix` is the `channelPrefix` option (default [`DEFAULT_PREFIX`]). Requests, responses
/// and room broadcasts all share the shape `{prefix}#{nsp}#...#`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedChannels {
    main: String,
}

impl ShardedChannels {
    /// The channels for namespace `nsp` under `prefix`.
    pub fn new(prefix: &str, nsp: &str) -> ShardedChannels {
        ShardedChannels {
            main: format!("{prefix}#{nsp}#"),
        }
    }

    /// `{prefix}#{nsp}#`: every message but responses and dynamic-room broadcasts. Its
    /// `PUBSUB SHARDNUMSUB` count is the number of nodes.
    pub fn main(&self) -> &str {
        &self.main
    }

    /// `{prefix}#{nsp}#{uid}#`: responses to node `uid`'s requests.
    pub fn response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.main)
    }

    /// `{prefix}#{nsp}#{room}#`: broadcasts to exactly one room (dynamic modes).
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }

    /// Whether a node in `mode` subscribes to `room`'s own channel while it has sockets in it.
    /// `is_local_socket_id`: the room is the id of one of the node's sockets.
    pub fn subscribes_to_room(mode: SubscriptionMode, is_local_socket_id: bool) -> bool {
        match mode {
            SubscriptionMode::Static => false,
            SubscriptionMode::Dynamic => !is_local_socket_id,
            SubscriptionMode::DynamicPrivate => true,
        }
    }

    /// Where a node in `mode` publishes `message` (responses excepted, see
    /// [`ShardedChannels::response`]): a room's channel for a broadcast *without* acks to
    /// exactly one room (in `Dynamic` mode only when the room does not look like a socket
    /// id), the main channel otherwise.
    pub fn channel_for(&self, message: &ClusterMessage, mode: SubscriptionMode) -> String {
        if let ClusterBody::Broadcast {
            request_id: None,
            opts,
            ..
        } = &message.body
        {
            if let [room] = opts.rooms.as_slice() {
                let dynamic = match mode {
                    SubscriptionMode::Static => false,
                    SubscriptionMode::Dynamic => !looks_like_a_socket_id(room),
                    SubscriptionMode::DynamicPrivate => true,
                };
                if dynamic {
                    return self.room(room);
                }
            }
        }
        self.main.clone()
    }

    /// `PUBSUB SHARDNUMSUB {main}`: counts the nodes (any SSUBSCRIBEr of the main channel).
    pub fn server_count_command(&self) -> [String; 3] {
        ["PUBSUB".into(), "SHARDNUMSUB".into(), self.main.clone()]
    }
}
