//! The Node Redis-adapter codec (`socketio_redis::node`) against Node itself:
//!
//! * every message captured from a real Node cluster (`tests/fixtures/node-cluster-capture.json`,
//!   made by `tests/interop/node-cluster/capture.mjs`) decodes into the expected typed value
//!   and re-encodes to the same bytes (or, where only key order differs, to bytes Node's own
//!   decoder reads as the same value);
//! * live: a Node socket.io server on the Redis adapter and its client receive what Rust
//!   publishes, and Rust decodes what the Node server publishes (real Redis on 6379, real Node;
//!   `scripts/setup-interop.sh` installs `tests/interop/node-cluster`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use serde_json::{json, Value as Json};
use socketio_redis::node::{
    BroadcastFlags, BroadcastMessage, BroadcastOptions, ClassicChannels, ClusterBody,
    ClusterMessage, Packet, Request, Response, ShardedChannels, SubscriptionMode, Value,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node-cluster");
    assert!(
        dir.join("node_modules/@socket.io/redis-adapter").is_dir(),
        "{} has no node_modules: run scripts/setup-interop.sh",
        dir.display()
    );
    dir
}

// ---------------------------------------------------------------- fixtures

struct Captured {
    step: String,
    channel: String,
    sharded: bool,
    bytes: Vec<u8>,
}

struct Capture {
    key: String,
    sharded_key: String,
    uids: Json,
    messages: Vec<Captured>,
}

fn capture() -> Capture {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node-cluster-capture.json");
    let raw: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let messages = raw["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Captured {
            step: m["step"].as_str().unwrap().to_owned(),
            channel: m["channel"].as_str().unwrap().to_owned(),
            sharded: m["sharded"].as_bool().unwrap(),
            bytes: base64::engine::general_purpose::STANDARD
                .decode(m["base64"].as_str().unwrap())
                .unwrap(),
        })
        .collect();
    Capture {
        key: raw["key"].as_str().unwrap().to_owned(),
        sharded_key: raw["sharded_key"].as_str().unwrap().to_owned(),
        uids: raw["uids"].clone(),
        messages,
    }
}

/// A captured message, decoded by the channel it came on.
#[derive(Debug, Clone, PartialEq)]
enum Decoded {
    Broadcast(BroadcastMessage),
    Request(Request),
    Response(Response),
    Cluster(ClusterMessage),
}

impl Decoded {
    fn encode(&self) -> Vec<u8> {
        match self {
            Decoded::Broadcast(m) => m.encode(),
            Decoded::Request(m) => m.encode(),
            Decoded::Response(m) => m.encode(),
            Decoded::Cluster(m) => m.encode(),
        }
    }
}

fn decode_captured(cap: &Capture, m: &Captured) -> Decoded {
    let what = format!("{} on {}", m.step, m.channel);
    if m.sharded {
        assert!(
            m.channel.starts_with(&format!("{}#", cap.sharded_key)),
            "{what}"
        );
        return Decoded::Cluster(
            ClusterMessage::decode(&m.bytes).unwrap_or_else(|e| panic!("{what}: {e}")),
        );
    }
    let nsp = if m.channel.contains("#/admin#") {
        "/admin"
    } else {
        "/"
    };
    let ch = ClassicChannels::new(&cap.key, nsp);
    if m.channel == ch.request() {
        Decoded::Request(Request::decode(&m.bytes).unwrap_or_else(|e| panic!("{what}: {e}")))
    } else if m.channel.starts_with(ch.response()) {
        Decoded::Response(Response::decode(&m.bytes).unwrap_or_else(|e| panic!("{what}: {e}")))
    } else {
        assert!(
            ch.room_of(&m.channel).is_some(),
            "{what}: not a broadcast channel"
        );
        Decoded::Broadcast(
            BroadcastMessage::decode(&m.bytes).unwrap_or_else(|e| panic!("{what}: {e}")),
        )
    }
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

fn opts(rooms: &[&str], except: &[&str], flags: Option<&[(&str, Value)]>) -> BroadcastOptions {
    BroadcastOptions {
        rooms: strs(rooms),
        except: strs(except),
        flags: flags
            .map(|f| BroadcastFlags(f.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())),
    }
}

fn event(nsp: Option<&str>, data: Vec<Value>) -> Packet {
    Packet {
        packet_type: 2,
        data: Some(Value::Array(data)),
        nsp: nsp.map(str::to_owned),
        id: None,
    }
}

fn blob() -> Value {
    Value::Binary(vec![1, 2, 3, 255])
}

/// Every captured message decodes and re-encodes to exactly Node's bytes, except the
/// emitter's broadcasts, whose `opts` keys Node writes in another order (checked against
/// Node's decoder in `fixtures_reencoded_read_the_same_in_node`).
#[test]
fn fixtures_decode_and_reencode_byte_for_byte() {
    let cap = capture();
    assert!(cap.messages.len() >= 40, "the capture is complete");
    for m in &cap.messages {
        let decoded = decode_captured(&cap, m);
        let again = decoded.encode();
        let emitter_broadcast =
            m.step.starts_with("emitter.") && matches!(decoded, Decoded::Broadcast(_));
        if emitter_broadcast {
            assert_ne!(
                again, m.bytes,
                "{}: the emitter's key order is {{rooms, flags, except}}",
                m.step
            );
            assert_eq!(
                BroadcastMessage::decode(&again).unwrap(),
                match &decoded {
                    Decoded::Broadcast(b) => b.clone(),
                    _ => unreachable!(),
                }
            );
        } else {
            assert_eq!(
                again,
                m.bytes,
                "{} on {}: re-encoded\n  {}\nNode wrote\n  {}",
                m.step,
                m.channel,
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&m.bytes)
            );
        }
    }
}

fn decoded_step(cap: &Capture, step: &str) -> Vec<(String, Decoded)> {
    let found: Vec<_> = cap
        .messages
        .iter()
        .filter(|m| m.step == step)
        .map(|m| (m.channel.clone(), decode_captured(cap, m)))
        .collect();
    assert!(!found.is_empty(), "no message captured for {step}");
    found
}

fn only(cap: &Capture, step: &str) -> (String, Decoded) {
    let mut found = decoded_step(cap, step);
    assert_eq!(found.len(), 1, "{step}: {found:?}");
    found.remove(0)
}

/// The captured messages decode into the typed values the Node operations mean.
#[test]
fn fixtures_decode_to_the_expected_messages() {
    let cap = capture();
    let uid = |n: &str| cap.uids[n].as_str().unwrap().to_owned();
    let classic = ClassicChannels::new(&cap.key, "/");
    let sharded = ShardedChannels::new(&cap.sharded_key, "/");
    let bcast =
        |uid: String, packet, opts| Decoded::Broadcast(BroadcastMessage { uid, packet, opts });

    // --- classic broadcasts
    assert_eq!(
        only(&cap, "classic.broadcast_all"),
        (
            classic.broadcast().to_owned(),
            bcast(
                uid("a"),
                event(Some("/"), vec![s("all"), map(&[("a", Value::from(1))])]),
                opts(&[], &[], Some(&[]))
            )
        )
    );
    assert_eq!(
        only(&cap, "classic.broadcast_single_room"),
        (
            classic.room("room1"),
            bcast(
                uid("a"),
                event(Some("/"), vec![s("single"), s("x")]),
                opts(&["room1"], &[], Some(&[]))
            )
        )
    );
    let multi_args = vec![
        s("multi"),
        s("text"),
        Value::from(42),
        Value::from(-7),
        Value::F64(1.5),
        blob(),
        map(&[
            ("nested", Value::Boolean(true)),
            ("n", Value::Nil),
            ("big", Value::from(4294967296u64)),
            ("neg", Value::from(-300)),
        ]),
    ];
    assert_eq!(
        only(&cap, "classic.broadcast_rooms_except_binary"),
        (
            classic.broadcast().to_owned(),
            bcast(
                uid("a"),
                event(Some("/"), multi_args),
                opts(&["room1", "room2"], &["room3"], Some(&[]))
            )
        )
    );
    let (_, flags) = only(&cap, "classic.broadcast_flags");
    let Decoded::Broadcast(flags) = flags else {
        panic!()
    };
    let f = flags.opts.flags.unwrap();
    assert_eq!(
        (f.compress(), f.volatile(), f.local(), f.timeout_ms()),
        (Some(false), true, false, None)
    );
    assert_eq!(
        only(&cap, "classic.broadcast_namespace"),
        (
            ClassicChannels::new(&cap.key, "/admin").room("r"),
            bcast(
                uid("a_admin"),
                event(Some("/admin"), vec![s("admin"), s("hi")]),
                opts(&["r"], &[], Some(&[]))
            )
        )
    );

    // --- classic broadcast with acks: request (msgpack), client count (JSON), acks (msgpack)
    let ack = decoded_step(&cap, "classic.broadcast_ack");
    let Decoded::Request(Request::BroadcastWithAck {
        uid: from,
        request_id,
        packet,
        opts: o,
    }) = &ack[0].1
    else {
        panic!("{ack:?}")
    };
    assert_eq!((&ack[0].0[..], from), (classic.request(), &uid("a")));
    assert_eq!(packet, &event(Some("/"), vec![s("ack-me"), Value::from(1)]));
    assert_eq!(o, &opts(&[], &[], Some(&[("timeout", Value::from(1000))])));
    // B answers on A's own response channel (publishOnSpecificResponseChannel).
    let mut answers: Vec<_> = ack[1..].to_vec();
    for (ch, _) in &answers {
        assert_eq!(ch, &classic.specific_response(&uid("a")));
    }
    // sorted by their Debug text: Binary < String < ClientCount
    answers.sort_by_key(|(_, d)| format!("{d:?}"));
    let rid = request_id.clone();
    assert_eq!(
        answers.into_iter().map(|(_, d)| d).collect::<Vec<_>>(),
        vec![
            Decoded::Response(Response::BroadcastAck {
                request_id: rid.clone(),
                packet: Some(Value::Binary(vec![0xca, 0xfe]))
            }),
            Decoded::Response(Response::BroadcastAck {
                request_id: rid.clone(),
                packet: Some(s("ok-1"))
            }),
            Decoded::Response(Response::BroadcastClientCount {
                request_id: rid,
                client_count: 3
            }),
        ]
    );

    // --- classic requests without answers
    assert_eq!(
        only(&cap, "classic.sockets_join").1,
        Decoded::Request(Request::SocketsJoin {
            uid: Some(uid("a")),
            opts: opts(&["room1"], &["room2"], None),
            rooms: strs(&["room4", "room5"])
        })
    );
    assert_eq!(
        only(&cap, "classic.sockets_leave").1,
        Decoded::Request(Request::SocketsLeave {
            uid: Some(uid("a")),
            opts: opts(&["room1"], &[], None),
            rooms: strs(&["room4"])
        })
    );
    assert_eq!(
        only(&cap, "classic.disconnect_sockets").1,
        Decoded::Request(Request::DisconnectSockets {
            uid: Some(uid("a")),
            opts: opts(&["doomed"], &[], None),
            close: true
        })
    );
    assert_eq!(
        only(&cap, "classic.server_side_emit").1,
        Decoded::Request(Request::ServerSideEmit {
            uid: uid("a"),
            request_id: None,
            data: vec![s("hello"), s("world"), Value::from(1)]
        })
    );

    // --- classic requests with answers
    let sse = decoded_step(&cap, "classic.server_side_emit_ack");
    let Decoded::Request(Request::ServerSideEmit {
        request_id: Some(rid),
        data,
        ..
    }) = &sse[0].1
    else {
        panic!()
    };
    assert_eq!(data, &vec![s("ping"), Value::from(2)]);
    // always on the shared response channel
    assert_eq!(
        sse[1],
        (
            classic.response().to_owned(),
            Decoded::Response(Response::ServerSideEmit {
                request_id: rid.clone(),
                data: Some(map(&[("pong", Value::from(2))]))
            })
        )
    );
    let rooms = decoded_step(&cap, "classic.all_rooms");
    let Decoded::Request(Request::AllRooms { request_id, .. }) = &rooms[0].1 else {
        panic!()
    };
    let Decoded::Response(Response::AllRooms {
        request_id: answered,
        rooms,
    }) = &rooms[1].1
    else {
        panic!()
    };
    assert_eq!(answered, request_id);
    for room in ["room1", "room2", "doomed"] {
        assert!(rooms.contains(&room.to_owned()), "{rooms:?}");
    }
    let fetch = decoded_step(&cap, "classic.fetch_sockets");
    let Decoded::Request(Request::FetchSockets {
        request_id,
        opts: o,
        ..
    }) = &fetch[0].1
    else {
        panic!()
    };
    assert_eq!(o, &opts(&["room1"], &[], None));
    let Decoded::Response(Response::FetchSockets {
        request_id: answered,
        sockets,
    }) = &fetch[1].1
    else {
        panic!()
    };
    assert_eq!(answered, request_id);
    assert_eq!(sockets.len(), 1, "b1 is B's only socket in room1");
    assert_eq!(
        sockets[0].rooms,
        vec![sockets[0].id.clone(), "room1".into(), "room2".into()]
    );
    let auth = sockets[0]
        .handshake
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some("auth"));
    assert_eq!(
        auth.unwrap().1,
        map(&[("rooms", Value::Array(vec![s("room1"), s("room2")]))])
    );
    assert_eq!(sockets[0].data, Some(map(&[])));
    // A (without publishOnSpecificResponseChannel) answers B on the shared channel.
    let fetch_b = decoded_step(&cap, "classic.fetch_sockets_from_b");
    assert_eq!(fetch_b[1].0, classic.response());
    let Decoded::Request(Request::FetchSockets {
        uid: from, opts: o, ..
    }) = &fetch_b[0].1
    else {
        panic!()
    };
    assert_eq!((from, o), (&uid("b"), &opts(&["room1"], &["room2"], None)));

    // --- emitter
    assert_eq!(
        only(&cap, "emitter.to_room_binary"),
        (
            classic.room("room1"),
            bcast(
                "emitter".into(),
                event(Some("/"), vec![s("e2"), blob()]),
                opts(&["room1"], &[], Some(&[]))
            )
        )
    );
    assert_eq!(
        only(&cap, "emitter.to_except").1,
        bcast(
            "emitter".into(),
            event(Some("/"), vec![s("e3")]),
            opts(&["room1", "room2"], &["room3"], Some(&[]))
        )
    );
    let Decoded::Broadcast(flags) = only(&cap, "emitter.flags").1 else {
        panic!()
    };
    let f = flags.opts.flags.unwrap();
    assert_eq!((f.volatile(), f.compress()), (true, Some(true)));
    assert_eq!(
        only(&cap, "emitter.namespace").1,
        bcast(
            "emitter".into(),
            event(Some("/admin"), vec![s("e5"), Value::Nil]),
            opts(&["r"], &[], Some(&[]))
        )
    );
    assert_eq!(
        only(&cap, "emitter.sockets_join").1,
        Decoded::Request(Request::SocketsJoin {
            uid: None,
            opts: opts(&["room1"], &[], None),
            rooms: strs(&["x", "y"])
        })
    );
    assert_eq!(
        only(&cap, "emitter.sockets_leave").1,
        Decoded::Request(Request::SocketsLeave {
            uid: None,
            opts: opts(&["room1"], &["room2"], None),
            rooms: strs(&["x"])
        })
    );
    assert_eq!(
        only(&cap, "emitter.disconnect_sockets").1,
        Decoded::Request(Request::DisconnectSockets {
            uid: None,
            opts: opts(&["nobody"], &[], None),
            close: false
        })
    );
    assert_eq!(
        only(&cap, "emitter.server_side_emit").1,
        Decoded::Request(Request::ServerSideEmit {
            uid: "emitter".into(),
            request_id: None,
            data: vec![s("from-emitter"), Value::from(1), map(&[("k", s("v"))])]
        })
    );

    // --- sharded
    let cmsg = |body| {
        Decoded::Cluster(ClusterMessage {
            uid: uid("c"),
            nsp: Some("/".into()),
            body,
        })
    };
    let single = only(&cap, "sharded.broadcast_single_room");
    assert_eq!(
        single,
        (
            sharded.room("room1"),
            cmsg(ClusterBody::Broadcast {
                packet: event(None, vec![s("single"), s("x")]),
                request_id: None,
                opts: opts(&["room1"], &[], Some(&[]))
            })
        )
    );
    let Decoded::Cluster(single) = single.1 else {
        panic!()
    };
    assert_eq!(
        sharded.channel_for(&single, SubscriptionMode::Dynamic),
        sharded.room("room1")
    );
    assert_eq!(
        sharded.channel_for(&single, SubscriptionMode::Static),
        sharded.main()
    );
    assert_eq!(
        only(&cap, "sharded.broadcast_rooms_except_binary"),
        (
            sharded.main().to_owned(),
            cmsg(ClusterBody::Broadcast {
                packet: event(
                    None,
                    vec![
                        s("multi"),
                        s("text"),
                        Value::from(42),
                        Value::F64(1.5),
                        blob(),
                        map(&[("nested", Value::Boolean(true))])
                    ]
                ),
                request_id: None,
                opts: opts(&["room1", "room2"], &["room3"], Some(&[]))
            })
        )
    );
    assert_eq!(
        cap.messages
            .iter()
            .find(|m| m.step == "sharded.broadcast_rooms_except_binary")
            .unwrap()
            .bytes[0],
        0x84
    );
    assert_eq!(
        cap.messages
            .iter()
            .find(|m| m.step == "sharded.broadcast_all_json")
            .unwrap()
            .bytes[0],
        b'{'
    );
    let ack = decoded_step(&cap, "sharded.broadcast_ack");
    let Decoded::Cluster(ClusterMessage {
        body:
            ClusterBody::Broadcast {
                request_id: Some(rid),
                opts: o,
                ..
            },
        ..
    }) = &ack[0].1
    else {
        panic!()
    };
    assert_eq!(o, &opts(&[], &[], Some(&[("timeout", Value::from(1000))])));
    let dmsg = |body| {
        Decoded::Cluster(ClusterMessage {
            uid: uid("d"),
            nsp: Some("/".into()),
            body,
        })
    };
    let mut answers: Vec<_> = ack[1..].to_vec();
    answers.sort_by_key(|(_, d)| format!("{d:?}"));
    assert_eq!(
        answers,
        vec![
            (
                sharded.response(&uid("c")),
                dmsg(ClusterBody::BroadcastAck {
                    request_id: rid.clone(),
                    packet: Some(Value::Binary(vec![0xbe, 0xef]))
                })
            ),
            (
                sharded.response(&uid("c")),
                dmsg(ClusterBody::BroadcastClientCount {
                    request_id: rid.clone(),
                    client_count: 2
                })
            ),
        ]
    );
    let fetch = decoded_step(&cap, "sharded.fetch_sockets");
    let Decoded::Cluster(ClusterMessage {
        body: ClusterBody::FetchSockets {
            request_id,
            opts: o,
        },
        ..
    }) = &fetch[0].1
    else {
        panic!()
    };
    assert_eq!(o, &opts(&["room1"], &[], Some(&[])));
    let Decoded::Cluster(ClusterMessage {
        body:
            ClusterBody::FetchSocketsResponse {
                request_id: answered,
                sockets,
            },
        ..
    }) = &fetch[1].1
    else {
        panic!()
    };
    assert_eq!((answered, sockets.len()), (request_id, 1));
    assert_eq!(
        only(&cap, "sharded.sockets_join").1,
        cmsg(ClusterBody::SocketsJoin {
            opts: opts(&["room1"], &[], Some(&[])),
            rooms: strs(&["room4"])
        })
    );
    assert_eq!(
        only(&cap, "sharded.sockets_leave").1,
        cmsg(ClusterBody::SocketsLeave {
            opts: opts(&["room1"], &[], Some(&[])),
            rooms: strs(&["room4"])
        })
    );
    assert_eq!(
        only(&cap, "sharded.server_side_emit").1,
        cmsg(ClusterBody::ServerSideEmit {
            request_id: None,
            packet: vec![s("hello"), s("world"), blob()]
        })
    );
    let sse = decoded_step(&cap, "sharded.server_side_emit_ack");
    let Decoded::Cluster(ClusterMessage {
        body:
            ClusterBody::ServerSideEmit {
                request_id: Some(rid),
                packet,
            },
        ..
    }) = &sse[0].1
    else {
        panic!()
    };
    assert_eq!(packet, &vec![s("ping"), Value::from(3)]);
    assert_eq!(
        sse[1],
        (
            sharded.response(&uid("c")),
            dmsg(ClusterBody::ServerSideEmitResponse {
                request_id: rid.clone(),
                packet: Some(map(&[("pong", Value::from(3))]))
            })
        )
    );
    assert_eq!(
        only(&cap, "sharded.disconnect_sockets").1,
        cmsg(ClusterBody::DisconnectSockets {
            opts: opts(&["doomed"], &[], Some(&[])),
            close: false
        })
    );
}

/// Runs Node's decoding (`decode.mjs`: JSON.parse or notepack.io, as the adapters do) on each
/// message; returns what Node sees, `Err` where it fails to decode.
async fn node_decode(messages: &[Vec<u8>]) -> Vec<Result<Json, String>> {
    let b64: Vec<String> = messages
        .iter()
        .map(|m| base64::engine::general_purpose::STANDARD.encode(m))
        .collect();
    let mut child = Command::new("node")
        .arg("decode.mjs")
        .current_dir(node_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node is installed");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(&b64).unwrap().as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("decode.mjs finishes")
        .unwrap();
    assert!(out.status.success());
    let results: Vec<Json> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .into_iter()
        .map(|r| match r.get("ok") {
            Some(v) => Ok(v.clone()),
            None => Err(r["error"].to_string()),
        })
        .collect()
}

/// Node's own decoder reads each re-encoded fixture message as the same value it reads from
/// the bytes Node wrote (this covers the emitter broadcasts, which are not byte-equal).
#[tokio::test]
async fn fixtures_reencoded_read_the_same_in_node() {
    let cap = capture();
    let mut inputs = Vec::new();
    for m in &cap.messages {
        inputs.push(m.bytes.clone());
        inputs.push(decode_captured(&cap, m).encode());
    }
    let seen = node_decode(&inputs).await;
    for (m, pair) in cap.messages.iter().zip(seen.chunks(2)) {
        let node = pair[0]
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", m.step));
        let ours = pair[1]
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: Node cannot read ours: {e}", m.step));
        assert_eq!(node, ours, "{}", m.step);
    }
}

/// Messages Rust builds (not copied from Node) are read by Node as intended: binary as a
/// Buffer, integers and floats as numbers, unicode strings, absent fields left out, and the
/// sharded encoding switching to msgpack only with binary.
#[tokio::test]
async fn rust_built_messages_read_in_node_as_meant() {
    let packet = Packet::event(
        "/chat",
        "news",
        [
            Value::Binary(vec![0, 255]),
            Value::from(-1),
            Value::from(u64::from(u32::MAX) + 1),
            Value::F64(0.25),
            s("héllo ☃ \"q\"\n"),
            map(&[(
                "deep",
                Value::Array(vec![Value::Nil, Value::Boolean(false)]),
            )]),
        ],
    );
    let broadcast = BroadcastMessage {
        uid: "rust01".into(),
        packet: packet.clone(),
        opts: opts(&["a"], &["b"], Some(&[("volatile", Value::Boolean(true))])),
    };
    let sse = Request::ServerSideEmit {
        uid: "rust01".into(),
        request_id: Some("r1".into()),
        data: vec![s("ev"), Value::F64(2.0)],
    };
    let ack = Response::BroadcastAck {
        request_id: "r2".into(),
        packet: None,
    };
    let sharded_json = ClusterMessage {
        uid: "u".into(),
        nsp: Some("/".into()),
        body: ClusterBody::ServerSideEmit {
            request_id: None,
            packet: vec![s("ev"), Value::from(1)],
        },
    };
    let sharded_bin = ClusterMessage {
        uid: "u".into(),
        nsp: Some("/".into()),
        body: ClusterBody::Broadcast {
            packet,
            request_id: Some("r3".into()),
            opts: opts(&[], &[], Some(&[])),
        },
    };
    assert_eq!(sharded_json.encode()[0], b'{');
    assert_ne!(sharded_bin.encode()[0], b'{');
    let seen = node_decode(&[
        broadcast.encode(),
        sse.encode(),
        ack.encode(),
        sharded_json.encode(),
        sharded_bin.encode(),
    ])
    .await;
    let seen: Vec<Json> = seen.into_iter().map(|r| r.unwrap()).collect();
    let node_packet = json!({"type": 2, "data": ["news", {"$bin": "00ff"}, -1, 4294967296u64, 0.25, "héllo ☃ \"q\"\n", {"deep": [null, false]}], "nsp": "/chat"});
    assert_eq!(
        seen[0],
        json!(["rust01", node_packet, {"rooms": ["a"], "except": ["b"], "flags": {"volatile": true}}])
    );
    assert_eq!(
        seen[1],
        json!({"uid": "rust01", "requestId": "r1", "type": 6, "data": ["ev", 2]})
    );
    assert_eq!(seen[2], json!({"type": 9, "requestId": "r2"}));
    assert_eq!(
        seen[3],
        json!({"type": 9, "data": {"packet": ["ev", 1]}, "uid": "u", "nsp": "/"})
    );
    assert_eq!(
        seen[4],
        json!({"type": 3, "data": {"packet": node_packet, "requestId": "r3", "opts": {"rooms": [], "except": [], "flags": {}}}, "uid": "u", "nsp": "/"})
    );
}

// ---------------------------------------------------------------- live

/// The Node process of `live.mjs`; killed when dropped, test failure included.
struct NodeProcess {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::sync::mpsc::UnboundedReceiver<Json>,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl NodeProcess {
    fn start(key: &str) -> NodeProcess {
        let mut child = Command::new("node")
            .arg("live.mjs")
            .current_dir(node_dir())
            .env("KEY", key)
            .env("REDIS_URL", REDIS_URL)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Ok(v) = serde_json::from_str::<Json>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        NodeProcess {
            child,
            stdin,
            lines,
        }
    }

    async fn command(&mut self, cmd: &str) {
        self.stdin
            .write_all(format!("{cmd}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next line that has `field`, within 15 s.
    async fn next_with(&mut self, field: &str) -> Json {
        tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                let line = self.lines.recv().await.expect("live.mjs exited");
                if line.get(field).is_some() {
                    return line;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no `{field}` line from live.mjs in 15 s"))
    }
}

fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-node-wire-{test}-{}-{nanos}", std::process::id())
}

async fn publish(conn: &mut redis::aio::MultiplexedConnection, channel: &str, payload: &[u8]) {
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(conn)
        .await
        .unwrap();
}

/// Rust -> Node: a broadcast Rust encodes reaches the Node server's client (binary intact,
/// `except` honoured), a socketsJoin request Rust encodes makes the Node server join its
/// socket, and a serverSideEmit Rust encodes reaches the Node server's handler.
#[tokio::test]
async fn node_server_and_client_receive_what_rust_publishes() {
    let key = unique_key("to-node");
    let mut node = NodeProcess::start(&key);
    node.next_with("ready").await;
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ch = ClassicChannels::new(&key, "/");

    // Excluded by `except`: must not arrive (the marker after it proves the order).
    let skipped = BroadcastMessage {
        uid: "rust01".into(),
        packet: Packet::event("/", "skipped", []),
        opts: opts(&[], &["room1"], Some(&[])),
    };
    publish(
        &mut conn,
        &ch.broadcast_for(&skipped.opts.rooms),
        &skipped.encode(),
    )
    .await;
    let hello = BroadcastMessage {
        uid: "rust01".into(),
        packet: Packet::event(
            "/",
            "from-rust",
            [
                s("hello"),
                Value::Binary(vec![0, 1, 2]),
                Value::F64(3.5),
                map(&[("k", s("v"))]),
            ],
        ),
        opts: opts(&["room1"], &[], Some(&[])),
    };
    publish(
        &mut conn,
        &ch.broadcast_for(&hello.opts.rooms),
        &hello.encode(),
    )
    .await;
    assert_eq!(
        node.next_with("client").await["client"],
        json!(["from-rust", "hello", {"$bin": "000102"}, 3.5, {"k": "v"}])
    );

    let join = Request::SocketsJoin {
        uid: Some("rust01".into()),
        opts: opts(&["room1"], &[], None),
        rooms: strs(&["joined-by-rust"]),
    };
    publish(&mut conn, ch.request(), &join.encode()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let to_new_room = BroadcastMessage {
        uid: "rust01".into(),
        packet: Packet::event("/", "in-new-room", [Value::from(1)]),
        opts: opts(&["joined-by-rust"], &[], Some(&[])),
    };
    publish(&mut conn, &ch.room("joined-by-rust"), &to_new_room.encode()).await;
    assert_eq!(
        node.next_with("client").await["client"],
        json!(["in-new-room", 1])
    );

    let sse = Request::ServerSideEmit {
        uid: "rust01".into(),
        request_id: None,
        data: vec![s("from-rust"), Value::from(1), Value::Binary(vec![7])],
    };
    publish(&mut conn, ch.request(), &sse.encode()).await;
    // JSON carries a Buffer as Node's Buffer.toJSON() object, as between two Node servers.
    assert_eq!(
        node.next_with("server").await["server"],
        json!(["from-rust", 1, {"type": "Buffer", "data": [7]}])
    );
    node.command("quit").await;
}

async fn next_message(
    messages: &mut (impl futures_util::Stream<Item = redis::Msg> + Unpin),
) -> (String, Vec<u8>) {
    let msg = tokio::time::timeout(Duration::from_secs(15), messages.next())
        .await
        .expect("a message from the Node server within 15 s")
        .expect("subscription open");
    (
        msg.get_channel_name().to_owned(),
        msg.get_payload_bytes().to_vec(),
    )
}

/// Node -> Rust: `io.to("room1").emit(...)` and `io.serverSideEmit(...)` on the Node server
/// arrive on the channels Rust computes and decode into the expected messages.
#[tokio::test]
async fn rust_decodes_what_the_node_server_publishes() {
    let key = unique_key("from-node");
    let ch = ClassicChannels::new(&key, "/");
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.psubscribe(ch.broadcast_pattern()).await.unwrap();
    pubsub.subscribe(ch.request()).await.unwrap();
    let mut messages = pubsub.into_on_message();

    let mut node = NodeProcess::start(&key);
    let node_uid = node.next_with("ready").await["uid"]
        .as_str()
        .unwrap()
        .to_owned();

    node.command("emit").await;
    let (channel, bytes) = next_message(&mut messages).await;
    assert_eq!(channel, ch.room("room1"));
    assert_eq!(ch.room_of(&channel), Some("room1"));
    assert_eq!(
        BroadcastMessage::decode(&bytes).unwrap(),
        BroadcastMessage {
            uid: node_uid.clone(),
            packet: event(
                Some("/"),
                vec![
                    s("to-rust"),
                    s("hi"),
                    Value::Binary(vec![9, 8, 7]),
                    map(&[("n", Value::F64(1.25))])
                ]
            ),
            opts: opts(&["room1"], &[], Some(&[])),
        }
    );

    node.command("sse").await;
    let (channel, bytes) = next_message(&mut messages).await;
    assert_eq!(channel, ch.request());
    assert_eq!(
        Request::decode(&bytes).unwrap(),
        Request::ServerSideEmit {
            uid: node_uid,
            request_id: None,
            data: vec![s("node-sse"), Value::from(7), s("x")]
        }
    );
    node.command("quit").await;
}
