// A mixed cluster's Node side, for socketio-redis/tests/node_cluster.rs and node_sharded.rs: one
// Node socket.io 4.8 server on @socket.io/redis-adapter ($ADAPTER: "classic" createAdapter with
// key = $KEY, the default, or "sharded" createShardedAdapter with channelPrefix = $KEY; the
// `emitter` and `rooms` commands are classic only), two socket.io-client clients on it
// ("n1", "n2") and two on the Rust server at $RUST_PORT ("r1", "r2"), all in room "room1"
// ("n2" and "r2" in "room2" too). Prints JSON lines on stdout:
//   {"ready": true, "ids": {n1: sid, ...}}            once every client is connected
//   {"client": name, "event": ev, "args": [...]}      every event a client receives
//                                                      (except "flood", counted instead)
//   {"server": ev, "args": [...]}                     a serverSideEmit the Node server receives
//   {"reply": id, ...}                                the answer to command `id`
// and obeys JSON commands read line by line on stdin, each {id, cmd, ...}:
//   emit {rooms, except, event, args}      io.to(rooms).except(except).emit(event, ...args)
//   ack {rooms, timeout}                   io.to(rooms).timeout(t).emitWithAck("ask", "q")
//   fetch {rooms}                          io.in(rooms).fetchSockets() -> sockets [{id, rooms, data}]
//   join/leave {rooms, room}               io.in(rooms).socketsJoin/Leave(room)
//   disconnect {rooms}                     io.in(rooms).disconnectSockets()
//   sse {args} / sseack {args}             io.serverSideEmit("node-sse", ...) (WithAck)
//   emitter {rooms, except, event, args}   @socket.io/redis-emitter: to(rooms).except(..).emit
//   flood {count}                          io.to("room1").emit("flood", i) for i < count
//   counts                                 {reply, counts: {client: [received, duplicates, inOrder]}}
//   rooms                                  -> all rooms of the cluster (io.of("/").adapter.allRooms())
//   count                                  -> serverCount
//   floodfrom {start, count, batch, every} like flood with i in [start, start + count), `batch`
//                                          emits every `every` ms (default all at once); replies
//                                          at once, prints {"flooded": start} when done
//   tally {from, to}                       {reply, tally: {client: {received, duplicates, missing}}}:
//                                          flood numbers of [from, to) received; missing ranges
//                                          [a, b) (first 20); duplicates over the whole run
// Binary values print as {"$bin": "<hex>"}. "ask" events are acked with the client's name.
import { createInterface } from "node:readline";
import { Emitter } from "@socket.io/redis-emitter";
import { connectClient, redisClient, sleep, startServer, tagged } from "./common.mjs";

const key = process.env.KEY;
const rustPort = process.env.RUST_PORT;
if (!key || !rustPort) {
  console.error("KEY and RUST_PORT are required");
  process.exit(2);
}
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// CLIENTS_ONLY=1: no server, clients "c1" (room1) and "c2" (room1, room2) on the Rust server.
const clientsOnly = !!process.env.CLIENTS_ONLY;
const adapter = process.env.ADAPTER || "classic";
if (adapter !== "classic" && adapter !== "sharded") {
  console.error(`ADAPTER must be "classic" or "sharded", not ${adapter}`);
  process.exit(2);
}
const server = clientsOnly ? null : await startServer(adapter, key);
const io = server ? server.io : { on() {} };
io.on("rs-sse", (...args) => {
  const cb = typeof args.at(-1) === "function" ? args.pop() : null;
  print({ server: "rs-sse", args: args.map(tagged) });
  if (cb) cb({ from: "node", got: args.length });
});

const clients = {};
const flood = {};
async function client(name, port, rooms) {
  const socket = await connectClient(port, "/", { rooms });
  flood[name] = { received: 0, duplicates: 0, inOrder: true, seen: new Set(), last: -1 };
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
  await client("n1", server.port, ["room1"]);
  await client("n2", server.port, ["room1", "room2"]);
  await client("r1", rustPort, ["room1"]);
  await client("r2", rustPort, ["room1", "room2"]);
}
const emitterRedis = await redisClient();
const emitter = new Emitter(emitterRedis, { key });
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
        reply({ sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })) });
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
        sel(emitter, c).emit(c.event, ...bin(c.args));
        reply({});
        break;
      case "flood":
        for (let i = 0; i < c.count; i++) io.to("room1").emit("flood", i);
        reply({});
        break;
      case "counts":
        reply({ counts: Object.fromEntries(Object.entries(flood).map(([n, f]) => [n, [f.received, f.duplicates, f.inOrder]])) });
        break;
      case "rooms":
        reply({ rooms: [...(await io.of("/").adapter.allRooms())].sort() });
        break;
      case "count":
        reply({ count: await io.of("/").adapter.serverCount() });
        break;
      case "floodfrom": {
        const { start, count } = c;
        const batch = c.batch || count;
        reply({});
        (async () => {
          for (let i = start; i < start + count; i += batch) {
            for (let j = i; j < Math.min(i + batch, start + count); j++) io.to("room1").emit("flood", j);
            if (c.every) await sleep(c.every);
          }
          print({ flooded: start });
        })();
        break;
      }
      case "tally": {
        const tally = {};
        for (const [n, f] of Object.entries(flood)) {
          let received = 0;
          const missing = [];
          for (let i = c.from; i < c.to; i++) {
            if (f.seen.has(i)) received++;
            else if (missing.length && missing.at(-1)[1] === i) missing.at(-1)[1] = i + 1;
            else if (missing.length < 20) missing.push([i, i + 1]);
          }
          tally[n] = { received, duplicates: f.duplicates, missing };
        }
        reply({ tally });
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
await emitterRedis.quit();
if (server) await server.close();
process.exit(0);
