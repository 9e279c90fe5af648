//! Instrumentation for the [Socket.IO admin UI](https://github.com/socketio/socket.io-admin-ui)
//! (cargo feature `admin-ui`): [`instrument`] opens the admin namespace (`/admin` by default)
//! that the UI of `@socket.io/admin-ui` 0.5 (its hosted site or its `ui/dist` folder) connects
//! to, and speaks that package's server protocol (`lib/index.ts`, `lib/typed-events.ts`):
//!
//! | to the UI | when | arguments |
//! |---|---|---|
//! | `session` | basic auth accepted by password | the session id (16 hex digits) the UI reconnects with |
//! | `config` | on connection | `{supportedFeatures: [..]}` |
//! | `server_stats` | on instrument, then every [`AdminOptions::stats_interval`] (2 s) | `{serverId, hostname, pid, uptime, clientsCount, pollingClientsCount, aggregatedEvents, namespaces: [{name, socketsCount}]}`; `aggregatedEvents` are the counts since the last stats, per second: `{timestamp, type, subType?, count}` of `rawConnection`, `rawDisconnection` (subType: the reason), `packetsIn`, `bytesIn`, `packetsOut`, `bytesOut` (Socket.IO messages and binary attachments, without Engine.IO pings) |
//! | `all_sockets` | on connection (development mode) | `[serialized socket]` |
//! | `socket_connected` | development mode | serialized socket, date |
//! | `socket_updated` | development mode, after an upgrade to WebSocket | `{id, nsp, transport}` |
//! | `socket_disconnected` | development mode | nsp, id, reason, date |
//! | `room_joined` / `room_left` | development mode | nsp, room, id, date |
//! | `event_received` / `event_sent` | development mode, not for the admin namespace | nsp, id, `[event, ..args]`, date |
//!
//! A serialized socket is `{id, clientId, transport, nsp, data, handshake: {address, headers,
//! query, issued, secure, time, url, xdomain}, rooms}`; `clientId` is the first 12 characters
//! of the Engine.IO session id, `data` is the socket's [`crate::Socket::data_value`] (`{}` when
//! unset), dates are JSON dates (`"2026-11-30T03:00:00.000Z"`). The UI's actions (not in
//! [`AdminOptions::readonly`] mode): `emit(nsp, filter, event, ..args)`, `join(nsp, room,
//! filter)`, `leave(nsp, room, filter)`, `_disconnect(nsp, close, filter)`, where `filter` (a
//! room or a socket id) narrows the selection to that room and `null` means every socket of
//! the namespace. Connections, disconnections and room changes come from
//! [`crate::Namespace::watch`], events from `on_any` / `on_any_outgoing`.
//!
//! Several nodes: when the server joined a cluster ([`crate::SocketIo::join_cluster`]) before
//! [`instrument`], each node's `server_stats` (its own `serverId`, `hostname`, `pid`, sockets)
//! goes through the admin namespace's adapter to the UIs connected to any node, as in the
//! package; `all_sockets` lists every node's sockets (through `fetch_sockets`, as the package
//! does), the development-mode notifications are this node's.
//!
//! Differences from the Node package: `aggregatedEvents` counts at the Socket.IO layer
//! (each client message and each frame queued for a client), so a packet dropped by a full
//! queue is counted as sent, and `rawDisconnection`'s reason is socket.io's name for it;
//! `handshake.address` is the `cf-connecting-ip` or `x-forwarded-for` header, else the
//! peer's IP address ([`crate::Handshake::address`]; `""` when the server does not give it);
//! `uptime` counts from [`instrument`]; sessions are kept in
//! memory only (at most 10 000, for 24 hours). Namespaces created after [`instrument`]
//! (`io.ns(..)` later, dynamic namespaces' children) are watched from the moment they are
//! made ([`SocketIo::on_new_namespace`], as the package listens to `new_namespace`).
//!
//! ```no_run
//! use socketio_core::admin::{instrument, AdminOptions, BasicAuth};
//! # let io = socketio_core::SocketIo::builder().cors_allowed_origins(["https://admin.socket.io"]).cors_credentials(true).build();
//! io.ns("/chat");
//! instrument(&io, AdminOptions {
//!     // bcrypt hash of the password (e.g. `htpasswd -bnBC 10 "" secret`, or bcrypt::hash)
//!     auth: Some(BasicAuth::new("admin", "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS")),
//!     ..AdminOptions::default()
//! })
//! .expect("a valid bcrypt hash");
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use crate::adapter_api::SocketInfo;
use crate::args::{Args, Value};
use crate::broadcast::BroadcastOperator;
use crate::engine::socket::Transport;
use crate::error::ConnectError;
use crate::server::SocketIo;
use crate::socket::handler::EventName;
use crate::socket::{now_ms, Namespace, Socket, SocketChange, SocketRef};

/// Basic authentication of the admin namespace (the package's `{type: "basic", username,
/// password}`): the UI sends `auth: {username, password}` and the password is checked against
/// a bcrypt hash (`$2a$`, `$2b$` or `$2y$`, any cost).
#[derive(Debug, Clone)]
pub struct BasicAuth {
    /// The user name, compared as is.
    pub username: String,
    /// The bcrypt hash of the password (never the password itself).
    pub password_hash: String,
}

impl BasicAuth {
    /// A user name and the bcrypt hash of its password.
    pub fn new(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        BasicAuth {
            username: username.into(),
            password_hash: password_hash.into(),
        }
    }
}

/// The package's `mode` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminMode {
    /// Every socket, room change and event is sent to the UI (the package's default when
    /// `NODE_ENV` is unset).
    #[default]
    Development,
    /// Only `config` and `server_stats`: no socket list, no per-event traffic.
    Production,
}

/// Options of [`instrument`] (the package's `InstrumentOptions`).
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// The admin namespace; default `"/admin"`.
    pub namespace_name: String,
    /// `None`: no authentication (the package's `auth: false`, use with caution).
    pub auth: Option<BasicAuth>,
    /// Refuse the UI's actions (join, leave, disconnect, emit): `supportedFeatures` lists none
    /// of them and their events are ignored. Default `false`.
    pub readonly: bool,
    /// The id the UI shows for this server; default the host name.
    pub server_id: Option<String>,
    /// Development (default) or production mode.
    pub mode: AdminMode,
    /// How often `server_stats` is sent; default 2 s (the package's fixed interval).
    pub stats_interval: Duration,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            namespace_name: "/admin".to_owned(),
            auth: None,
            readonly: false,
            server_id: None,
            mode: AdminMode::Development,
            stats_interval: Duration::from_secs(2),
        }
    }
}

/// Why [`instrument`] refused its options.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// [`BasicAuth::password_hash`] is not a bcrypt hash (the package throws "the `password`
    /// field must be a valid bcrypt hash").
    #[error("the password must be a valid bcrypt hash")]
    InvalidHash,
}

/// Sessions of authenticated UIs (the package's `InMemoryStore`), bounded.
#[derive(Default)]
struct Sessions(Mutex<HashMap<String, Instant>>);

const SESSION_TTL: Duration = Duration::from_secs(24 * 3600);
const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    fn exists(&self, id: &str) -> bool {
        let sessions = self.0.lock().unwrap();
        sessions.get(id).is_some_and(|t| t.elapsed() < SESSION_TTL)
    }

    fn save(&self) -> String {
        let id: String = rand::random::<[u8; 8]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut sessions = self.0.lock().unwrap();
        sessions.retain(|_, t| t.elapsed() < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), Instant::now());
        id
    }
}

/// Instruments `io` for the admin UI: creates the admin namespace with its authentication
/// middleware and action handlers, starts the `server_stats` task (it ends with the server) and,
/// in development mode, watches every namespace that exists now. See the [module docs](self)
/// for the protocol. Bad credentials are refused with the CONNECT_ERROR `"invalid
/// credentials"`, as in the package.
///
/// # Errors
///
/// [`AdminError::InvalidHash`] when the auth's password is not a bcrypt hash.
pub fn instrument(io: &SocketIo, options: AdminOptions) -> Result<(), AdminError> {
    if let Some(auth) = &options.auth {
        auth.password_hash
            .parse::<bcrypt::HashParts>()
            .map_err(|_| AdminError::InvalidHash)?;
    }
    let admin = io.ns(&options.namespace_name);
    let development = options.mode == AdminMode::Development;
    let features = features(options.readonly, development);

    if let Some(auth) = options.auth.clone() {
        let sessions = Arc::new(Sessions::default());
        admin.use_middleware(move |socket: SocketRef| {
            let (auth, sessions) = (auth.clone(), sessions.clone());
            async move { authenticate(&socket, &auth, &sessions).await }
        });
    }

    let watched = Arc::new(Watched::default());
    let weak_io = io.downgrade();
    admin.on_connect(move |socket: SocketRef| {
        let (weak_io, features) = (weak_io.clone(), features.clone());
        async move {
            socket
                .emit("config", &json!({ "supportedFeatures": features }))
                .ok();
            if development {
                if let Some(io) = SocketIo::upgrade(&weak_io) {
                    // As in socket.io, the list has the UI's own socket, which joins its
                    // namespace's table only once this handler is done.
                    let mut all = all_sockets(&io).await;
                    let own = socket.id();
                    if !all
                        .iter()
                        .any(|s| s["id"] == own.as_str() && s["nsp"] == socket.ns())
                    {
                        all.push(serialize(&socket));
                    }
                    socket.emit("all_sockets", &all).ok();
                }
            }
        }
    });
    if !options.readonly {
        register_actions(io, &admin);
    }
    if development {
        watched.discover_initial(io, &admin);
        let weak_admin = Arc::downgrade(&admin);
        io.on_new_namespace(move |ns| {
            if let Some(admin) = weak_admin.upgrade() {
                watched.start_watching(&admin, ns);
            }
        });
    }
    spawn_stats(io, &admin, &options);
    Ok(())
}

/// The namespaces development mode watches, and the dynamic namespaces whose event listeners
/// (shared by all their children) are installed.
#[derive(Default)]
struct Watched {
    namespaces: Mutex<Vec<Weak<Namespace>>>,
    parents: Mutex<Vec<Weak<Namespace>>>,
}

/// Adds `ns` to `list` unless it is there; `true` if added. Dropped namespaces are forgotten
/// (a new one at the same path is another namespace).
fn first_sight(list: &Mutex<Vec<Weak<Namespace>>>, ns: &Arc<Namespace>) -> bool {
    let mut list = list.lock().unwrap();
    list.retain(|w| w.strong_count() > 0);
    if list
        .iter()
        .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(ns)))
    {
        return false;
    }
    list.push(Arc::downgrade(ns));
    true
}

impl Watched {
    /// Watches every namespace there is when [`instrument`] runs (their sockets reach a UI in
    /// `all_sockets`).
    fn discover_initial(&self, io: &SocketIo, admin: &Arc<Namespace>) {
        for ns in io.namespaces() {
            self.start_watching(admin, &ns);
        }
    }

    /// Watches `ns` if it is new; `true` if it was.
    fn start_watching(&self, admin: &Arc<Namespace>, ns: &Arc<Namespace>) -> bool {
        if !first_sight(&self.namespaces, ns) {
            return false;
        }
        watch_changes(admin, ns);
        match ns.parent() {
            // A child shares its parent's listeners: installed once, for all children.
            Some(parent) if first_sight(&self.parents, parent) => watch_events(admin, parent),
            Some(_) => {}
            None if !Arc::ptr_eq(admin, ns) => watch_events(admin, ns),
            None => {}
        }
        true
    }
}

/// The package's `supportedFeatures`.
fn features(readonly: bool, development: bool) -> Vec<&'static str> {
    let mut features = if readonly {
        Vec::new()
    } else {
        vec![
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ]
    };
    features.push("AGGREGATED_EVENTS");
    if development {
        features.push("ALL_EVENTS");
    }
    features
}

async fn authenticate(
    socket: &SocketRef,
    auth: &BasicAuth,
    sessions: &Sessions,
) -> Result<(), ConnectError> {
    let given = socket.handshake().auth.clone().unwrap_or(Json::Null);
    if let Some(id) = given.get("sessionId").and_then(Json::as_str) {
        if sessions.exists(id) {
            return Ok(());
        }
    }
    let refused = || ConnectError::new("invalid credentials");
    if given.get("username").and_then(Json::as_str) != Some(auth.username.as_str()) {
        return Err(refused());
    }
    let password = given
        .get("password")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let hash = auth.password_hash.clone();
    // bcrypt is slow on purpose: off the runtime's threads.
    let matching = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    if !matching {
        return Err(refused());
    }
    // Sent before the CONNECT answer; the client delivers it once connected.
    socket.emit("session", &sessions.save()).ok();
    Ok(())
}

/// The UI's actions: `emit`, `join`, `leave`, `_disconnect`, each on a namespace and an optional
/// room (`filter`).
fn register_actions(io: &SocketIo, admin: &Namespace) {
    let weak = io.downgrade();
    let target = move |args: &Args| -> Option<(Arc<Namespace>, Option<String>)> {
        let io = SocketIo::upgrade(&weak)?;
        let nsp: String = args.get(0).ok()?;
        let ns = io.of(&nsp)?;
        let filter: Option<String> = args.get(2).ok().flatten();
        Some((ns, filter))
    };
    let select = |ns: &Arc<Namespace>, filter: Option<String>| match filter {
        Some(room) => ns.to(room),
        None => BroadcastOperator::new(ns.clone()),
    };
    let t = target.clone();
    admin.on("join", move |_s: SocketRef, args: Args| {
        if let (Some((ns, filter)), Ok(room)) = (t(&args), args.get::<String>(1)) {
            select(&ns, filter).join(&room);
        }
        async {}
    });
    let t = target.clone();
    admin.on("leave", move |_s: SocketRef, args: Args| {
        if let (Some((ns, filter)), Ok(room)) = (t(&args), args.get::<String>(1)) {
            select(&ns, filter).leave(&room);
        }
        async {}
    });
    let t = target.clone();
    admin.on("_disconnect", move |_s: SocketRef, args: Args| {
        if let Some((ns, filter)) = t(&args) {
            let selection = select(&ns, filter);
            if args.get::<bool>(1).unwrap_or(false) {
                for socket in selection.sockets() {
                    socket.close_connection();
                }
            } else {
                selection.disconnect();
            }
        }
        async {}
    });
    let weak = io.downgrade();
    admin.on("emit", move |_s: SocketRef, args: Args| {
        let emitted = (|| {
            let io = SocketIo::upgrade(&weak)?;
            let ns = io.of(&args.get::<String>(0).ok()?)?;
            let filter: Option<String> = args.get(1).ok().flatten();
            let event: String = args.get(2).ok()?;
            let rest: Vec<Value> = (3..args.len())
                .map(|i| args.get::<Value>(i))
                .collect::<Result<_, _>>()
                .ok()?;
            select(&ns, filter).emit_args(&event, Args::from_values(rest));
            Some(())
        })();
        if emitted.is_none() {
            tracing::debug!("admin emit with bad arguments ignored");
        }
        async {}
    });
}

/// Development mode: tells the UI of `ns`'s connections, disconnections and room changes.
fn watch_changes(admin: &Arc<Namespace>, ns: &Arc<Namespace>) {
    let path = ns.path().to_owned();
    let to_ui = Arc::downgrade(admin);
    ns.watch(move |change| {
        let Some(admin) = to_ui.upgrade() else { return };
        let now = now_json();
        match change {
            SocketChange::Connected(socket) => {
                follow_upgrade(socket, Weak::clone(&to_ui));
                send_ui(
                    &admin,
                    "socket_connected",
                    json_args([serialize(socket), now]),
                )
            }
            SocketChange::Disconnected(socket, reason) => send_ui(
                &admin,
                "socket_disconnected",
                json_args([
                    json!(path),
                    json!(socket.id().as_str()),
                    json!(reason.as_str()),
                    now,
                ]),
            ),
            SocketChange::RoomJoined { sid, room } => send_ui(
                &admin,
                "room_joined",
                json_args([json!(path), json!(room), json!(sid.as_str()), now]),
            ),
            SocketChange::RoomLeft { sid, room } => send_ui(
                &admin,
                "room_left",
                json_args([json!(path), json!(room), json!(sid.as_str()), now]),
            ),
        }
    });
}

/// Development mode: tells the UI of the events `ns`'s sockets receive and are sent (for a
/// dynamic namespace, its children's: they share its listeners; each event names its
/// socket's own namespace).
fn watch_events(admin: &Arc<Namespace>, ns: &Arc<Namespace>) {
    let received_to = Arc::downgrade(admin);
    let sent_to = received_to.clone();
    ns.on_any(move |socket: SocketRef, event: EventName, args: Args| {
        if let Some(admin) = received_to.upgrade() {
            send_ui(
                &admin,
                "event_received",
                event_args(socket.ns(), &socket, &event, &args),
            );
        }
        async {}
    });
    ns.on_any_outgoing(move |socket: &Socket, event: &str, args: &Args| {
        if let Some(admin) = sent_to.upgrade() {
            send_ui(
                &admin,
                "event_sent",
                event_args(socket.ns(), socket, event, args),
            );
        }
    });
}

/// `socket_updated` once the socket's connection moves to WebSocket (checked a few times in
/// the upgrade's time frame: the Engine.IO layer has no upgrade hook).
fn follow_upgrade(socket: &SocketRef, admin: Weak<Namespace>) {
    if socket.transport() == Transport::Websocket {
        return;
    }
    let socket = Arc::downgrade(socket);
    tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let Some(socket) = socket.upgrade() else {
                return;
            };
            if !socket.connected() {
                return;
            }
            if socket.transport() == Transport::Websocket {
                if let Some(admin) = admin.upgrade() {
                    let update = json!({
                        "id": socket.id().as_str(),
                        "nsp": socket.ns(),
                        "transport": "websocket",
                    });
                    let _ = admin.emit("socket_updated", &update);
                }
                return;
            }
        }
    });
}

/// Sends `event` to every UI connected to the admin namespace.
fn send_ui(admin: &Arc<Namespace>, event: &str, args: Args) {
    BroadcastOperator::new(admin.clone()).emit_args(event, args);
}

fn json_args<const N: usize>(values: [Json; N]) -> Args {
    Args::new(values.into(), Vec::new())
}

/// `nsp, id, [event, ..args], date` of `event_received` / `event_sent`.
fn event_args(nsp: &str, socket: &Socket, event: &str, args: &Args) -> Args {
    let mut values = vec![Value::from(Json::from(event))];
    values.extend((0..args.len()).filter_map(|i| args.get::<Value>(i).ok()));
    Args::from_values([
        Value::from(Json::from(nsp)),
        Value::from(Json::from(socket.id().as_str())),
        Value::Array(values),
        Value::from(now_json()),
    ])
}

/// Every socket of every namespace of this node, serialized.
/// The package's `fetchAllSockets`: every namespace's sockets on every node of the cluster
/// (`fetchSockets`), this node's serialized from the sockets themselves.
async fn all_sockets(io: &SocketIo) -> Vec<Json> {
    let mut all = Vec::new();
    for ns in io.namespaces() {
        let local = ns.sockets();
        let here: HashSet<String> = local.iter().map(|s| s.id().to_string()).collect();
        all.extend(local.iter().map(serialize));
        let everywhere = BroadcastOperator::new(ns.clone()).fetch_sockets().await;
        all.extend(
            everywhere
                .iter()
                .filter(|info| !here.contains(&info.id))
                .map(serialize_remote),
        );
    }
    all
}

/// The package's `serialize(socket)` for a socket of another node (a `fetchSockets` answer):
/// the client id and transport from `socket.data._admin` where that node's admin module put
/// them (Node's does; ours does not touch an application's data), else `null`.
fn serialize_remote(info: &SocketInfo) -> Json {
    let admin = &info.data["_admin"];
    let data = match &info.data {
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "_admin")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    };
    serialized(
        &info.id,
        admin["clientId"].clone(),
        admin["transport"].clone(),
        &info.nsp,
        data,
        &info.handshake,
        &info.rooms,
    )
}

/// The package's `serialize(socket)`.
fn serialize(socket: &SocketRef) -> Json {
    let sid = socket.conn.sid.as_str();
    serialized(
        socket.id().as_str(),
        Json::from(&sid[..sid.len().min(12)]),
        Json::from(socket.transport().as_str()),
        socket.ns(),
        socket.data_value(),
        &socket.handshake().to_json(),
        &socket.rooms(),
    )
}

/// A serialized socket from its parts; `handshake` is socket.io's `socket.handshake` object
/// ([`crate::Handshake::to_json`]), of which the package keeps all but `auth`, with the
/// address of a proxy's `cf-connecting-ip` or `x-forwarded-for` header first.
fn serialized(
    id: &str,
    client_id: Json,
    transport: Json,
    nsp: &str,
    data: Json,
    handshake: &Json,
    rooms: &[String],
) -> Json {
    let header = |name: &str| handshake["headers"][name].as_str().map(str::to_owned);
    let address = header("cf-connecting-ip")
        .or_else(|| header("x-forwarded-for"))
        .or_else(|| handshake["address"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let data = if data.is_null() { json!({}) } else { data };
    json!({
        "id": id,
        "clientId": client_id,
        "transport": transport,
        "nsp": nsp,
        "data": data,
        "handshake": {
            "address": address,
            "headers": handshake["headers"],
            "query": handshake["query"],
            "issued": handshake["issued"],
            "secure": handshake["secure"],
            "time": handshake["time"],
            "url": handshake["url"],
            "xdomain": handshake["xdomain"],
        },
        "rooms": rooms,
    })
}

/// The `server_stats` task: now, then every interval, until the server is dropped.
fn spawn_stats(io: &SocketIo, admin: &Arc<Namespace>, options: &AdminOptions) {
    let hostname = hostname();
    let base = json!({
        "serverId": options.server_id.clone().unwrap_or_else(|| hostname.clone()),
        "hostname": hostname,
        "pid": std::process::id(),
    });
    let (weak_io, admin, interval) = (
        io.downgrade(),
        Arc::downgrade(admin),
        options.stats_interval,
    );
    let started = Instant::now();
    let traffic = io.core().traffic.get_or_init(Default::default).clone();
    let stats = move || -> Option<()> {
        let io = SocketIo::upgrade(&weak_io)?;
        let admin = admin.upgrade()?;
        let namespaces = io.namespaces();
        let mut polling = std::collections::HashSet::new();
        for socket in namespaces.iter().flat_map(|ns| ns.sockets()) {
            if socket.transport() == Transport::Polling {
                polling.insert(socket.conn.sid);
            }
        }
        let mut stats = base.clone();
        let fields = stats.as_object_mut()?;
        fields.insert("uptime".into(), json!(started.elapsed().as_secs_f64()));
        fields.insert("clientsCount".into(), json!(io.connection_count()));
        fields.insert("pollingClientsCount".into(), json!(polling.len()));
        let aggregated: Vec<Json> = traffic
            .take()
            .into_iter()
            .map(|a| {
                let mut event = json!({"timestamp": a.timestamp, "type": a.kind, "count": a.count});
                if let Some(sub) = a.sub_kind {
                    event["subType"] = json!(sub);
                }
                event
            })
            .collect();
        fields.insert("aggregatedEvents".into(), Json::Array(aggregated));
        let list: Vec<Json> = namespaces
            .iter()
            .map(|ns| json!({"name": ns.path(), "socketsCount": ns.sockets().len()}))
            .collect();
        fields.insert("namespaces".into(), Json::Array(list));
        admin.emit("server_stats", &stats).ok();
        Some(())
    };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
        loop {
            ticks.tick().await;
            if stats().is_none() {
                return;
            }
        }
    });
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn now_json() -> Json {
    Json::from(date_json(now_ms()))
}

/// A JavaScript `Date` as JSON: `2026-11-30T03:04:05.678Z` (the msgpack parser's
/// `Date.prototype.toJSON`; a time since the epoch in ms is always a valid date).
fn date_json(ms: u64) -> String {
    crate::protocol::msgpack::js_date_json(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_javascript_writes_them() {
        assert_eq!(date_json(0), "1970-01-01T00:00:00.000Z");
        // new Date(1700000000123).toJSON()
        assert_eq!(date_json(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        // a leap day: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)).toJSON()
        assert_eq!(date_json(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
    }

    #[test]
    fn features_follow_readonly_and_mode() {
        assert_eq!(features(true, false), vec!["AGGREGATED_EVENTS"]);
        let all = features(false, true);
        assert!(all.contains(&"MJOIN") && all.contains(&"ALL_EVENTS"));
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let id = sessions.save();
        assert_eq!(id.len(), 16);
        assert!(sessions.exists(&id));
        assert!(!sessions.exists("nope"));
    }
}
