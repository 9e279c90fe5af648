// Writes the seed corpora in corpus/<target>/ (committed; rerun only to change them):
//   NODE_PATH=tests/interop/node-cluster/node_modules node socketio-core/fuzz/make_seeds.mjs
// Packets are those of the tests and of the protocol specs (engine.io-protocol v4/v3,
// socket.io-protocol v5, the Node adapters' formats); msgpack is notepack.io's, the encoder of
// socket.io-msgpack-parser and of the Node adapters.
import { createRequire } from "node:module";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(resolve(process.env.NODE_PATH || ".", "x.js"));
const notepack = require("notepack.io");
const here = dirname(fileURLToPath(import.meta.url));
const SEP = Buffer.from([0xff]);

const seeds = {};
const put = (target, ...items) => (seeds[target] ||= []).push(...items.map((i) => Buffer.isBuffer(i) ? i : Buffer.from(i)));
const join255 = (...parts) => Buffer.concat(parts.flatMap((p, i) => (i ? [SEP, Buffer.from(p)] : [Buffer.from(p)])));

// Engine.IO v4 packets and payloads
put("engine_packet", "1", "2", "2probe", "3", "3probe", "4hello", "4€😀", "5", "6", "bAQIDBA==", "b", "40",
  '42["message","hi"]', "7", "");
put("engine_payload", "4hello\x1e2\x1ebAQIDBA==", '40\x1e42["message","hi"]', "6", "3\x1e3\x1e1",
  '451-["ev",{"_placeholder":true,"num":0}]\x1ebAQID', "4\x1e\x1e4");
// Engine.IO v3 text payloads (lengths in UTF-16 units) and binary payloads
put("payload_v3_text", "6:4hello", "1:2", "6:4hello4:4é😀10:b4AQIDBA==", "6:4test16:4test2", "2:40",
  '17:42["message","hi"]', "5:4hi", "2:4😀", "1:6");
put("payload_v3_binary",
  Buffer.from([0, 6, 255, ...Buffer.from("4hello")]),
  Buffer.from([0, 1, 255, 0x32, 1, 5, 255, 4, 1, 2, 3, 4]),
  Buffer.from([0, 2, 0, 255, ...Buffer.from('42["message","hi"]'), 1, 3, 255, 4, 0xde, 0xad]),
  Buffer.from([1, 1, 255, 4]), Buffer.from([0, 9, 9, 9, 255]));

// Socket.IO v5 packets (default parser); binary attachments after 0xFF bytes
const sio = [
  "0", "0/admin,", '0{"token":"abc"}', '0/admin,{"token":"abc"}', "0/admin?token=abc,", "1", "1/admin,",
  '2["hello"]', '2["hello",1,"two",{"three":3},[4]]', '2/admin,["hello"]', '212["hello",null]',
  '2/admin,456["ev",{"a":[1,2.5,-3e10,true,false,null]}]', '2[42,"numeric name"]', '3/admin,456["ack"]',
  '31[]', '2["connect"]', '4{"message":"x"}', "2[]", '2"notarray"', '2 ["ws"]', '2["a","\\ud83d\\ude00"]',
  '21844674407370955161699["big id"]',
];
put("socketio_packet", ...sio,
  join255('51-["hello",{"_placeholder":true,"num":0}]', [1, 2, 3]),
  join255('52-/admin,456["ev",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]', [1], [2, 3]),
  join255('61-/admin,456[{"_placeholder":true,"num":0}]', [0xde, 0xad]),
  join255('51-["hello",{"_placeholder":true,"num":5}]', [1]),
  join255('51-["hello"]', [1], [2]),
  '52-["hello",{"_placeholder":true,"num":0}]', '5257-["x"]');
put("event_args", "1", '"two"', '1,"two",{"three":3},[4],null', '{"_placeholder":true,"num":0}',
  '{"room":"lobby","text":"hi","count":3,"tags":["a"],"data":{"_placeholder":true,"num":0}}',
  '"a",7', '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}', "1.5e300,-0,18446744073709551616",
  '[[[[[[]]]]]]', '{"a":{"b":{"c":null}}}', '"\\u0000\\ud800"');

// socket.io-msgpack-parser packets
const mp = (o) => notepack.encode(o);
put("msgpack",
  mp({ type: 0, nsp: "/" }), mp({ type: 0, nsp: "/admin", data: { token: "abc", bin: Buffer.from([1, 2]) } }),
  mp({ type: 1, nsp: "/" }), mp({ type: 2, nsp: "/", data: ["hello", 1, 2.5, "x", { a: [true, null] }] }),
  mp({ type: 2, nsp: "/admin", id: 3, data: ["ev", Buffer.from([1, 2, 3]), { b: Buffer.alloc(0) }] }),
  mp({ type: 3, nsp: "/", id: 7, data: ["ok", -1, 4294967296] }), mp({ type: 2, nsp: "/", data: [42, new Date(0)] }),
  mp({ type: 2, nsp: "/", data: ["x", { _placeholder: true, num: 0 }] }), mp({ type: 4, nsp: "/", data: {} }),
  mp({ type: 2, nsp: "/", data: ["connect"], options: { compress: true } }), mp([1, 2, 3]));

// our cluster bus (socketio_core::cluster::wire)
const cm = (o) => JSON.stringify(o);
put("cluster_message",
  cm({ uid: "emitter", nsp: "/chat", type: "broadcast", rooms: ["lobby"], except: [], event: "news", args: ["hi"], attachments: [] }),
  cm({ uid: "a", nsp: "/", type: "broadcast", event: "bin", args: [{ _placeholder: true, num: 0 }], attachments: ["AP9oaQ=="] }),
  cm({ uid: "a", nsp: "/", type: "join", rooms: ["r"], targets: ["t"] }), cm({ uid: "a", nsp: "/", type: "leave", except: ["x"], targets: ["t"] }),
  cm({ uid: "a", nsp: "/", type: "disconnect", close: true }), cm({ uid: "a", nsp: "/", type: "close_room", room: "r" }),
  cm({ uid: "a", nsp: "/", type: "heartbeat" }), cm({ uid: "a", nsp: "/", type: "fetch_sockets", rid: 1, rooms: ["r"] }),
  cm({ uid: "a", nsp: "/", type: "sockets", rid: 1, sockets: [{ id: "s", nsp: "/", rooms: ["s", "r"] }] }),
  cm({ uid: "a", nsp: "/", type: "all_rooms", rid: 2 }), cm({ uid: "a", nsp: "/", type: "rooms", rid: 2, rooms: ["r"] }),
  cm({ uid: "a", nsp: "/", type: "broadcast_with_ack", rid: 3, event: "q", args: [1], attachments: [], timeout_ms: 5000 }),
  cm({ uid: "a", nsp: "/", type: "ack_count", rid: 3, count: 2 }),
  cm({ uid: "a", nsp: "/", type: "ack", rid: 3, sid: "s", args: [{ _placeholder: true, num: 0 }], attachments: [""] }),
  cm({ uid: "a", nsp: "/", type: "ack", rid: 3, sid: "s", args: null }), cm({ uid: "a", nsp: "/", type: "nope" }));

// @socket.io/redis-adapter 8.x (broadcasts msgpack [uid, packet, opts]; requests/responses JSON)
const pkt = { type: 2, data: ["hi", 1, Buffer.from([1, 2])], nsp: "/" };
const opts = { rooms: ["room1"], except: ["room2"], flags: { volatile: true, timeout: 5000 } };
put("redis_node",
  mp(["abc123", pkt, opts]), mp(["emitter", { type: 2, data: ["ev"], nsp: "/chat" }, { rooms: [], except: [], flags: {} }]),
  mp(["abc123", { type: 5, data: ["ev", { _placeholder: true, num: 0 }], attachments: 1, nsp: "/" }, { rooms: [], except: [] }]),
  '{"uid":"u","requestId":"r","type":2,"sid":"s","room":"x"}', '{"uid":"u","requestId":"r","type":3,"sid":"s","room":"x"}',
  '{"uid":"u","requestId":"r","type":4,"sid":"s","close":true}', '{"uid":"u","requestId":"r","type":0,"rooms":["a"]}',
  cm({ uid: "u", requestId: "r", type: 1 }), cm({ uid: "u", requestId: "r", type: 5, opts: { rooms: ["a"], except: [] } }),
  cm({ uid: "u", requestId: "r", type: 6, data: ["ping", 1, { a: 2 }] }),
  cm({ uid: "u", requestId: "r", type: 7, packet: pkt, opts }), cm({ uid: "u", requestId: "r", type: 8, opts: { rooms: [], except: [] } }),
  cm({ uid: "u", requestId: "r", type: 9, opts: { rooms: [], except: [] }, rooms: ["x"] }),
  '{"requestId":"r","sockets":[]}', '{"requestId":"r","sockets":["a"]}', '{"requestId":"r"}',
  cm({ requestId: "r", rooms: ["a", "b"] }), cm({ requestId: "r", data: ["pong"] }),
  cm({ requestId: "r", sockets: [{ id: "s", handshake: { headers: {}, query: {}, url: "/", auth: {} }, rooms: ["s"], data: null }] }),
  cm({ requestId: "r", clientCount: 2 }), cm({ requestId: "r", packet: ["ack", 1] }),
  // sharded / Streams pub/sub envelopes {uid, nsp, type, data}
  mp({ uid: "u", nsp: "/", type: 1 }), mp({ uid: "u", nsp: "/", type: 2 }),
  mp({ uid: "u", nsp: "/", type: 3, data: { packet: pkt, opts } }),
  mp({ uid: "u", nsp: "/", type: 3, data: { packet: pkt, opts, requestId: "r" } }),
  mp({ uid: "u", nsp: "/", type: 4, data: { opts: { rooms: [], except: [] }, rooms: ["x"] } }),
  mp({ uid: "u", nsp: "/", type: 6, data: { opts: { rooms: ["a"], except: [] }, close: false } }),
  mp({ uid: "u", nsp: "/", type: 7, data: { opts: { rooms: [], except: [] }, requestId: "r" } }),
  mp({ uid: "u", nsp: "/", type: 8, data: { requestId: "r", sockets: [{ id: "s", handshake: {}, rooms: ["s"], data: {} }] } }),
  mp({ uid: "u", nsp: "/", type: 9, data: { packet: ["ev", 1], requestId: "r" } }),
  mp({ uid: "u", nsp: "/", type: 10, data: { requestId: "r", packet: ["ok"] } }),
  mp({ uid: "u", nsp: "/", type: 11, data: { requestId: "r", clientCount: 3 } }),
  mp({ uid: "u", nsp: "/", type: 12, data: { requestId: "r", packet: [1, Buffer.from([9])] } }));

// @socket.io/redis-streams-adapter entries: fields name=value joined by 0xFF
const entry = (f) => join255(...Object.entries(f).map(([k, v]) => Buffer.concat([Buffer.from(k + "="), Buffer.from(v)])));
put("redis_streams",
  entry({ uid: "u", nsp: "/", type: "3", data: '{"packet":{"type":2,"data":["hi",1],"nsp":"/"},"opts":{"rooms":["room1"],"except":["room2"],"flags":{}}}' }),
  entry({ uid: "u", nsp: "/", type: "3", data: mp({ packet: pkt, opts }).toString("base64") }),
  entry({ uid: "u", nsp: "/", type: "1" }), entry({ uid: "u", nsp: "/chat", type: "4", data: '{"opts":{"rooms":[],"except":[]},"rooms":["x"]}' }),
  entry({ uid: "u", type: "3" }), entry({ uid: "u", nsp: "/", type: "99" }),
  Buffer.from(mp({ sid: "abc", pid: "def", rooms: ["abc", "r"], data: { a: 1 } }).toString("base64")));

// @socket.io/postgres-adapter: NOTIFY payloads (JSON) and attachment rows (msgpack)
put("postgres_message",
  '{"type":3,"data":{"packet":{"type":2,"data":["ev",1],"nsp":"/"},"opts":{"rooms":["r"],"flags":{},"except":[]}},"uid":"emitter"}',
  '{"type":3,"data":{"packet":{"type":2,"data":["ev","x"],"nsp":"/"},"opts":{"rooms":[],"except":[]}},"uid":"0123456789abcdef","nsp":"/"}',
  '{"uid":"abc","type":3,"attachmentId":"42"}', '{"uid":"abc","type":3,"attachmentId":42}', '{"uid":"abc","type":9,"attachmentId":"7"}',
  '{"type":99,"uid":"u"}', '{"type":3,"uid":"u","data":{"opts":{}}}', cm({ uid: "u", nsp: "/", type: 1 }),
  cm({ uid: "u", nsp: "/", type: 9, data: { packet: ["ev", 1], requestId: "r" } }),
  mp({ uid: "u", nsp: "/", type: 3, data: { packet: pkt, opts } }),
  mp({ uid: "u", nsp: "/", type: 12, data: { requestId: "r", packet: [1, Buffer.from([9])] } }));

for (const [target, items] of Object.entries(seeds)) {
  const dir = join(here, "corpus", target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  items.forEach((buf, i) => writeFileSync(join(dir, `seed-${String(i).padStart(2, "0")}`), buf));
  console.log(target, items.length);
}
