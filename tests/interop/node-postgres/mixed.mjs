// A mixed cluster's Node side, for socketio-postgres/tests/node_cluster.rs: one Node socket.io 4.8
// server on @socket.io/postgres-adapter (channelPrefix = $PREFIX, heartbeats every $HB_MS, dropped
// after 3 x $HB_MS), two socket.io-client clients on it ("n1", "n2") and two on the Rust server at
// $RUST_PORT ("r1", "r2"), all in room "room1" ("n2" and "r2" in "room2" too), and a
// @socket.io/postgres-emitter. With CLIENTS_ONLY=1: no server, clients "c1" (room1) and "c2"
// (room1, room2) on the Rust server only. PostgreSQL: $PGHOST/$PGUSER/$PGDATABASE (pg's own
// environment variables). Prints JSON lines on stdout:
//   {"ready": true, "ids": {n1: sid, ...}}            once every client is connected
//   {"client": name, "event": ev, "args": [...]}      every event a client receives
//                                                      (except "flood", counted instead)
//   {"server": ev, "args": [...]}                     a serverSideEmit the Node server receives
//   {"reply": id, ...}                                the answer to command `id`
// and obeys JSON commands read line by line on stdin, each {id, cmd, ...}:
//   emit {rooms, except, event, args}      io.to(rooms).except(except).emit(event, ...args)
//   ack {rooms, timeout}                   io.to(rooms).timeout(t).emitWithAck("ask", "q")
//   fetch {rooms}                          io.in(rooms).fetchSockets() -> sockets [{id, rooms}]
//   join/leave {rooms, room}               io.in(rooms).socketsJoin/Leave(room)
//   disconnect {rooms}                     io.in(rooms).disconnectSockets()
//   sse {args} / sseack {args}             io.serverSideEmit("node-sse", ...) (WithAck)
//   emitter {rooms, except, event, args}   @socket.io/postgres-emitter: to(rooms).except(..).emit
//   flood {count}                          io.to("room1").emit("flood", i) for i < count
//   counts                                 {counts: {client: [received, duplicates, inOrder]}}
//   reset                                  forget the flood counts
//   count                                  -> serverCount
// Binary values print as {"$bin": "<hex>"}. "ask" events are acked with the client's name.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import pg from "pg";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createAdapter } from "@socket.io/postgres-adapter";
import { Emitter } from "@socket.io/postgres-emitter";

const prefix = process.env.PREFIX;
const rustPort = process.env.RUST_PORT;
const hb = Number(process.env.HB_MS || 5000);
if (!prefix || !rustPort) {
  console.error("PREFIX and RUST_PORT are required");
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

const pool = new pg.Pool({ max: 4 });
pool.on("error", (e) => console.error("pg error", e.message));
const clientsOnly = !!process.env.CLIENTS_ONLY;
let io = { on() {} };
let port = null;
if (!clientsOnly) {
  const http = createServer();
  io = new Server(http, {
    adapter: createAdapter(pool, {
      channelPrefix: prefix,
      heartbeatInterval: hb,
      heartbeatTimeout: 3 * hb,
      errorHandler: (e) => console.error("adapter error", e.message),
    }),
  });
  io.on("connection", (socket) => socket.join(socket.handshake.auth.rooms || []));
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  port = http.address().port;
}
io.on("rs-sse", (...args) => {
  const cb = typeof args.at(-1) === "function" ? args.pop() : null;
  print({ server: "rs-sse", args: args.map(tagged) });
  if (cb) cb({ from: "node", got: args.length });
});

async function connectClient(port, auth) {
  const socket = ioc(`http://127.0.0.1:${port}/`, { auth, transports: ["websocket"], reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}
const clients = {};
let flood = {};
const resetFlood = () => {
  flood = Object.fromEntries(Object.keys(clients).map((n) => [n, { received: 0, duplicates: 0, inOrder: true, seen: new Set(), last: -1 }]));
};
async function client(name, port, rooms) {
  const socket = await connectClient(port, { rooms });
  socket.onAny((event, ...args) => {
    if (typeof args.at(-1) === "function") args.pop()(name);
    if (event === "flood") {
      const f = flood[name];
      const n = args[0];
      if (f.seen.has(n)) f.duplicates++;
      else f.received++;
      if (n <= f.last) f.inOrder = false;
      f.last = n;
      f.seen.add(n);
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
resetFlood();
const emitter = new Emitter(pool, "/", { channelPrefix: prefix });
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
        const answers = await sel(io, c).timeout(c.timeout).emitWithAck("ask", "q").catch((e) => ({ error: e.message, responses: e.responses }));
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
      case "emitter":
        await sel(emitter, c).emit(c.event, ...bin(c.args));
        reply({});
        break;
      case "flood":
        for (let i = 0; i < c.count; i++) io.to("room1").emit("flood", i);
        reply({});
        break;
      case "counts":
        reply({ counts: Object.fromEntries(Object.entries(flood).map(([n, f]) => [n, [f.received, f.duplicates, f.inOrder]])) });
        break;
      case "reset":
        resetFlood();
        reply({});
        break;
      case "count":
        reply({ count: await io.of("/").adapter.serverCount() });
        break;
      default:
        reply({ error: `unknown command ${c.cmd}` });
    }
  } catch (e) {
    reply({ error: String(e && e.message) });
  }
}
process.exit(0);
