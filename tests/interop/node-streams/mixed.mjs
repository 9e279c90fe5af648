// A mixed cluster's Node side, for socketio-redis/tests/streams_cluster.rs: one Node socket.io 4.8
// server on @socket.io/redis-streams-adapter (streamName = channelPrefix = $STREAM, with
// connectionStateRecovery, maxLen = $MAXLEN or 10000), two socket.io-client clients on it ("n1", "n2") and two on the Rust
// server at $RUST_PORT ("r1", "r2"), all in room "room1" ("n2" and "r2" in "room2" too).
// CLIENTS_ONLY=1: no server, clients "c1" (room1) and "c2" (room1, room2) on the Rust server.
// Prints JSON lines on stdout:
//   {"ready": true, "ids": {n1: sid, ...}}       once every client is connected
//   {"client": name, "event": ev, "args": [...]} every event a client receives ("flood" counted)
//   {"server": ev, "args": [...]}                a serverSideEmit the Node server receives
//   {"reply": id, ...}                           the answer to command `id`
// Commands (JSON lines on stdin, each {id, cmd, ...}):
//   emit {rooms, except, event, args} | ack {rooms, timeout} | fetch {rooms} | join/leave {rooms, room}
//   disconnect {rooms} | sse {args} | sseack {args} | flood {count, start} | counts | count
//   persist {pid, sid, rooms, data}     adapter.persistSession(...) on Node's "/" adapter
//   restore {pid, offset}               adapter.restoreSession(pid, offset) -> {session} or {none}
//   offset                              the id of the last entry of the stream
// Binary values print as {"$bin": "<hex>"}. "ask" events are acked with the client's name.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createClient, createCluster } from "redis";
import { createAdapter } from "@socket.io/redis-streams-adapter";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const stream = process.env.STREAM;
const rustPort = process.env.RUST_PORT;
if (!stream || !rustPort) {
  console.error("STREAM and RUST_PORT are required");
  process.exit(2);
}
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function tagged(value) {
  if (value === undefined) return { $undefined: true };
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const b = value.buffer ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(value);
    return { $bin: b.toString("hex") };
  }
  if (Array.isArray(value)) return value.map(tagged);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = tagged(v);
    return out;
  }
  return value;
}

// REDIS_CLUSTER: comma-separated node URLs of a Redis Cluster to use instead of REDIS_URL.
const redis = process.env.REDIS_CLUSTER
  ? createCluster({ rootNodes: process.env.REDIS_CLUSTER.split(",").map((url) => ({ url })) })
  : createClient({ url: REDIS_URL });
redis.on("error", (e) => console.error("redis error", e.message));
await redis.connect();

const clientsOnly = !!process.env.CLIENTS_ONLY;
let io = { on() {}, of() { return { adapter: null }; } };
let port = 0;
if (!clientsOnly) {
  const http = createServer();
  io = new Server(http, {
    adapter: createAdapter(redis, {
      streamName: stream,
      channelPrefix: stream,
      sessionKeyPrefix: `${stream}:session:`,
      maxLen: Number(process.env.MAXLEN || 10000),
      // STREAM_COUNT, SHARDED_PUBSUB=1, ONLY_PLAINTEXT=1: the adapter's streamCount,
      // useShardedPubSub and onlyPlaintext options.
      streamCount: Number(process.env.STREAM_COUNT || 1),
      useShardedPubSub: !!process.env.SHARDED_PUBSUB,
      onlyPlaintext: !!process.env.ONLY_PLAINTEXT,
    }),
    connectionStateRecovery: { maxDisconnectionDuration: 60000 },
  });
  io.on("connection", (socket) => socket.join(socket.handshake.auth.rooms || []));
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  port = http.address().port;
  io.on("rs-sse", (...args) => {
    const cb = typeof args.at(-1) === "function" ? args.pop() : null;
    print({ server: "rs-sse", args: args.map(tagged) });
    if (cb) cb({ from: "node", got: args.length });
  });
}

const clients = {};
const flood = {};
async function client(name, p, rooms) {
  const socket = ioc(`http://127.0.0.1:${p}/`, { auth: { rooms }, transports: ["websocket"], reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  flood[name] = { received: 0, duplicates: 0, seen: new Set() };
  socket.onAny((event, ...args) => {
    if (typeof args.at(-1) === "function") args.pop()(name);
    if (event === "flood") {
      const f = flood[name];
      if (f.seen.has(args[0])) f.duplicates++;
      else f.received++;
      f.seen.add(args[0]);
      return;
    }
    print({ client: name, event, args: args.map(tagged) });
  });
  socket.on("disconnect", (reason) => print({ client: name, event: "$disconnect", args: [reason] }));
  clients[name] = socket;
}
if (clientsOnly) {
  await client("c1", rustPort, ["room1"]);
  await client("c2", rustPort, ["room1", "room2"]);
} else {
  await client("n1", port, ["room1"]);
  await client("n2", port, ["room1", "room2"]);
  await client("r1", rustPort, ["room1"]);
  await client("r2", rustPort, ["room1", "room2"]);
}
print({ ready: true, ids: Object.fromEntries(Object.entries(clients).map(([n, s]) => [n, s.id])) });

const sel = (op, c) => {
  if (c.rooms && c.rooms.length) op = op.to(c.rooms);
  if (c.except && c.except.length) op = op.except(c.except);
  return op;
};
const bin = (args) => (args || []).map((a) => (a && a.$bin !== undefined ? Buffer.from(a.$bin, "hex") : a));

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  const reply = (obj) => print({ reply: c.id, ...obj });
  try {
    switch (c.cmd) {
      case "emit":
        sel(io, c).emit(c.event, ...bin(c.args));
        reply({});
        break;
      case "ack": {
        const answers = await sel(io, c).timeout(c.timeout).emitWithAck("ask", "q").catch((e) => ({ error: e.message }));
        reply({ answers });
        break;
      }
      case "fetch": {
        const sockets = await sel(io, c).fetchSockets();
        reply({ sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort() })) });
        break;
      }
      case "join":
        sel(io, c).socketsJoin(c.room);
        reply({});
        break;
      case "leave":
        sel(io, c).socketsLeave(c.room);
        reply({});
        break;
      case "disconnect":
        sel(io, c).disconnectSockets();
        reply({});
        break;
      case "sse":
        io.serverSideEmit("node-sse", ...bin(c.args));
        reply({});
        break;
      case "sseack": {
        const answers = await io.serverSideEmitWithAck("node-sse", ...bin(c.args)).catch((e) => ({ error: e.message }));
        reply({ answers: tagged(answers) });
        break;
      }
      case "flood":
        for (let i = 0; i < c.count; i++) io.to("room1").emit("flood", (c.start || 0) + i);
        reply({});
        break;
      case "counts":
        reply({ counts: Object.fromEntries(Object.entries(flood).map(([n, f]) => [n, [f.received, f.duplicates]])) });
        break;
      case "count":
        reply({ count: await io.of("/").adapter.serverCount() });
        break;
      case "persist":
        io.of("/").adapter.persistSession({ sid: c.sid, pid: c.pid, rooms: c.rooms, data: c.data });
        await new Promise((r) => setTimeout(r, 50));
        reply({});
        break;
      case "restore": {
        const session = await io.of("/").adapter.restoreSession(c.pid, c.offset).catch(() => null);
        reply(session ? { session: tagged(session) } : { none: true });
        break;
      }
      case "offset": {
        // The stream of namespace "/" (47 is hashCode("/"); see the adapter's computeStreamName).
        const count = Number(process.env.STREAM_COUNT || 1);
        const nspStream = count === 1 ? stream : `${stream}-${47 % count}`;
        const last = await redis.xRevRange(nspStream, "+", "-", { COUNT: 1 });
        reply({ offset: last.length ? last[0].id : null });
        break;
      }
      default:
        reply({ error: `unknown command ${c.cmd}` });
    }
  } catch (e) {
    reply({ error: String(e && e.message) });
  }
}
for (const s of Object.values(clients)) s.close();
process.exit(0);
