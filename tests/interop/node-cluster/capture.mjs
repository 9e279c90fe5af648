// Captures every raw Redis message a Node socket.io cluster (@socket.io/redis-adapter, classic and
// sharded) and @socket.io/redis-emitter publish for a list of operations, as the ground truth the
// Rust codec (socketio-redis/src/node) is tested against.
//
//   node capture.mjs OUT.json            (KEY=<prefix> to choose the channel prefix)
//
// Output: { versions, key, sharded_key, uids: {a, a_admin, b, c, d}, messages: [{step, sharded, channel, base64}] }
// `step` names the operation that produced the message (see the list below). Messages are in
// arrival order; within one step the order between nodes is not guaranteed.
import { writeFileSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Emitter } from "@socket.io/redis-emitter";
import { connectClient, redisClient, sleep, startServer } from "./common.mjs";

const require = createRequire(import.meta.url);
const out = process.argv[2];
if (!out) {
  console.error("usage: node capture.mjs OUT.json");
  process.exit(2);
}
const key = process.env.KEY || `capture-${process.pid}-${Date.now()}`;
const shardedKey = `${key}-sharded`;

const versionOf = (pkg) =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;
const versions = Object.fromEntries(
  ["socket.io", "socket.io-adapter", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "notepack.io", "redis"].map(
    (p) => [p, versionOf(p)],
  ),
);

const messages = [];
let step = "setup";
const record = (sharded) => (message, channel) => {
  messages.push({ step, sharded, channel: channel.toString(), base64: message.toString("base64") });
};

// Classic adapter: everything is published on channels starting with the key.
const spy = await redisClient();
await spy.pSubscribe(`${key}*`, record(false), true);

const a = await startServer("classic", key);
// B answers requests on the requester's own response channel.
const b = await startServer("classic", key, { publishOnSpecificResponseChannel: true });
const c = await startServer("sharded", shardedKey);
const d = await startServer("sharded", shardedKey);
const uids = {
  a: a.io.of("/").adapter.uid,
  // each namespace has its own adapter, so its own uid
  a_admin: a.io.of("/admin").adapter.uid,
  b: b.io.of("/").adapter.uid,
  c: c.io.of("/").adapter.uid,
  d: d.io.of("/").adapter.uid,
};
// Sharded pub/sub messages reach SSUBSCRIBE only (not PSUBSCRIBE): name each channel.
const sspy = await redisClient();
for (const ch of [
  `${shardedKey}#/#`,
  `${shardedKey}#/#room1#`,
  `${shardedKey}#/#${uids.c}#`,
  `${shardedKey}#/#${uids.d}#`,
]) {
  await sspy.sSubscribe(ch, record(true), true);
}

// Clients: a1 on A; b1, b2, b3 on B; c1 on C; d1, d2 on D.
const a1 = await connectClient(a.port, "/", { rooms: ["room1"] });
const b1 = await connectClient(b.port, "/", { rooms: ["room1", "room2"] });
const b2 = await connectClient(b.port, "/", { rooms: ["room2"] });
const b3 = await connectClient(b.port, "/", { rooms: ["doomed"] });
const bAdmin = await connectClient(b.port, "/admin", { rooms: ["r"] });
const c1 = await connectClient(c.port, "/", { rooms: ["room1"] });
const d1 = await connectClient(d.port, "/", { rooms: ["room1", "room2"] });
const d2 = await connectClient(d.port, "/", { rooms: ["doomed"] });
for (const s of [a1, b1, b2, c1, d1]) {
  s.on("ack-me", (n, cb) => cb(`ok-${n}`));
}
// b2 and d1 acknowledge with binary.
b2.removeAllListeners("ack-me").on("ack-me", (n, cb) => cb(Buffer.from([0xca, 0xfe])));
d1.removeAllListeners("ack-me").on("ack-me", (n, cb) => cb(Buffer.from([0xbe, 0xef])));
for (const srv of [a, b, c, d]) {
  srv.io.on("hello", () => {});
  srv.io.on("ping", (n, cb) => cb({ pong: n }));
}
await sleep(200);

async function run(name, fn) {
  step = name;
  await fn();
  await sleep(250);
}

const blob = Buffer.from([1, 2, 3, 255]);

// --- classic adapter, from server A ---
await run("classic.broadcast_all", () => a.io.emit("all", { a: 1 }));
await run("classic.broadcast_single_room", () => a.io.to("room1").emit("single", "x"));
await run("classic.broadcast_rooms_except_binary", () =>
  a.io
    .to("room1")
    .to("room2")
    .except("room3")
    .emit("multi", "text", 42, -7, 1.5, blob, { nested: true, n: null, big: 4294967296, neg: -300 }),
);
await run("classic.broadcast_flags", () => a.io.compress(false).volatile.emit("flags", 1));
await run("classic.broadcast_namespace", () => a.io.of("/admin").to("r").emit("admin", "hi"));
await run("classic.broadcast_ack", () => a.io.timeout(1000).emit("ack-me", 1, () => {}));
await run("classic.fetch_sockets", () => a.io.in("room1").fetchSockets());
await run("classic.fetch_sockets_from_b", () => b.io.in("room1").except("room2").fetchSockets());
await run("classic.all_rooms", () => a.io.of("/").adapter.allRooms());
await run("classic.sockets_join", () => a.io.in("room1").except("room2").socketsJoin(["room4", "room5"]));
await run("classic.sockets_leave", () => a.io.in("room1").socketsLeave("room4"));
await run("classic.server_side_emit", () => a.io.serverSideEmit("hello", "world", 1));
await run("classic.server_side_emit_ack", () => a.io.serverSideEmitWithAck("ping", 2));
await run("classic.disconnect_sockets", () => a.io.in("doomed").disconnectSockets(true));

// --- emitter ---
const emitterClient = await redisClient();
const emitter = new Emitter(emitterClient, { key });
await run("emitter.emit", () => emitter.emit("e1", 1, "two"));
await run("emitter.to_room_binary", () => emitter.to("room1").emit("e2", blob));
await run("emitter.to_except", () => emitter.to("room1").to("room2").except("room3").emit("e3"));
await run("emitter.flags", () => emitter.volatile.compress(true).emit("e4", false));
await run("emitter.namespace", () => emitter.of("/admin").to("r").emit("e5", null));
await run("emitter.sockets_join", () => emitter.in("room1").socketsJoin(["x", "y"]));
await run("emitter.sockets_leave", () => emitter.in("room1").except("room2").socketsLeave("x"));
await run("emitter.disconnect_sockets", () => emitter.in("nobody").disconnectSockets());
await run("emitter.server_side_emit", () => emitter.serverSideEmit("from-emitter", 1, { k: "v" }));

// --- sharded adapter, from server C ---
await run("sharded.broadcast_single_room", () => c.io.to("room1").emit("single", "x"));
await run("sharded.broadcast_rooms_except_binary", () =>
  c.io.to("room1").to("room2").except("room3").emit("multi", "text", 42, 1.5, blob, { nested: true }),
);
await run("sharded.broadcast_all_json", () => c.io.emit("all", { a: 1 }));
await run("sharded.broadcast_ack", () => c.io.timeout(1000).emit("ack-me", 1, () => {}));
// The spy's SSUBSCRIBE on the main channel counts as one more server (SHARDNUMSUB), so requests
// that wait for every server would time out: fire them without waiting for the answer.
await run("sharded.fetch_sockets", () => void c.io.in("room1").fetchSockets().catch(() => {}));
await run("sharded.sockets_join", () => c.io.in("room1").socketsJoin(["room4"]));
await run("sharded.sockets_leave", () => c.io.in("room1").socketsLeave("room4"));
await run("sharded.server_side_emit", () => c.io.serverSideEmit("hello", "world", blob));
await run("sharded.server_side_emit_ack", () => void c.io.serverSideEmitWithAck("ping", 3).catch(() => {}));
await run("sharded.disconnect_sockets", () => c.io.in("doomed").disconnectSockets(false));

step = "teardown";
for (const s of [a1, b1, b2, b3, bAdmin, c1, d1, d2]) s.close();
await Promise.all([a.close(), b.close(), c.close(), d.close()]);
await Promise.allSettled([spy.quit(), sspy.quit(), emitterClient.quit()]);

const kept = messages.filter((m) => m.step !== "setup" && m.step !== "teardown");
writeFileSync(out, JSON.stringify({ versions, key, sharded_key: shardedKey, uids, messages: kept }, null, 1) + "\n");
console.error(`captured ${kept.length} messages into ${out}`);
process.exit(0);
