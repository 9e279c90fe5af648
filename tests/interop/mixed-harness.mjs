// The Node side of a mixed cluster test, shared by tests/interop/node-streams/mixed.mjs and
// tests/interop/node-postgres/mixed.mjs (each brings its adapter and extra commands). Node
// builtins only: socket.io-client comes from the caller's node_modules (`ioc`).
//
// Clients: "n1", "n2" on the Node server, "r1", "r2" on the Rust server, all in "room1" ("n2"
// and "r2" in "room2" too); with CLIENTS_ONLY (no Node server) "c1" (room1) and "c2" (room1,
// room2) on the Rust server only. Every client acks an "ask" with its name.
// Prints JSON lines on stdout:
//   {"ready": true, "ids": {n1: sid, ...}}            once every client is connected
//   {"client": name, "event": ev, "args": [...]}      every event a client receives
//                                                      (except "flood", counted instead)
//   {"server": "rs-sse", "args": [...]}               a serverSideEmit the Node server receives
//   {"reply": id, ...}                                the answer to command `id`
// and obeys JSON commands read line by line on stdin, each {id, cmd, ...}:
//   emit {rooms, except, event, args}      io.to(rooms).except(except).emit(event, ...args)
//   ack {rooms, timeout}                   io.to(rooms).timeout(t).emitWithAck("ask", "q")
//   fetch {rooms}                          io.in(rooms).fetchSockets() -> sockets [{id, rooms, data}]
//   join/leave {rooms, room}               io.in(rooms).socketsJoin/Leave(room)
//   disconnect {rooms}                     io.in(rooms).disconnectSockets()
//   sse {args} / sseack {args}             io.serverSideEmit("node-sse", ...) (WithAck)
//   flood {count, start}                   io.to("room1").emit("flood", start + i) for i < count
//   counts                                 {counts: {client: [received, duplicates, inOrder]}}
//   reset                                  forget the flood counts
//   count                                  -> serverCount
// plus the caller's own commands. Binary values print as {"$bin": "<hex>"} and are written
// the same way in `args`; `undefined` prints as {"$undefined": true}.
import { createServer } from "node:http";
import { createInterface } from "node:readline";

export const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

/** A value with its binary parts as {$bin: hex} and `undefined` as {$undefined: true}. */
export function tagged(value) {
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

/** Command arguments with {$bin: hex} turned into Buffers. */
export const bin = (args) => (args || []).map((a) => (a && a.$bin !== undefined ? Buffer.from(a.$bin, "hex") : a));

/** `op` narrowed to the command's rooms and except. */
export const sel = (op, c) => {
  if (c.rooms && c.rooms.length) op = op.to(c.rooms);
  if (c.except && c.except.length) op = op.except(c.except);
  return op;
};

/** Prints the serverSideEmits `io` receives and acks them with {from: "node", got}. */
export function recordServerEvents(io) {
  io.on("rs-sse", (...args) => {
    const cb = typeof args.at(-1) === "function" ? args.pop() : null;
    print({ server: "rs-sse", args: args.map(tagged) });
    if (cb) cb({ from: "node", got: args.length });
  });
}

/**
 * A Node socket.io server (`Server`, the caller's socket.io, with `options`) on an ephemeral
 * port of 127.0.0.1: each client joins the rooms its handshake auth names, and the server's
 * serverSideEmits are recorded (`recordServerEvents`). Returns `{io, port}`.
 */
export async function serve(Server, options) {
  const http = createServer();
  const io = new Server(http, options);
  io.on("connection", (socket) => socket.join(socket.handshake.auth.rooms || []));
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  recordServerEvents(io);
  return { io, port: http.address().port };
}

/**
 * Connects the clients (see the top of this file) with socket.io-client's `ioc`, prints the
 * ready line, then runs the commands of `io` (the Node server, or a stub without one) until
 * stdin ends. `extra` maps the caller's own command names to async functions of the command
 * (and of `{flood}`: each client's flood record `{received, duplicates, inOrder, seen, last}`)
 * that return the reply's fields.
 */
export async function run({ ioc, io, port, rustPort, clientsOnly, extra = {} }) {
  const clients = {};
  let flood = {};
  const resetFlood = () => {
    flood = Object.fromEntries(
      Object.keys(clients).map((n) => [n, { received: 0, duplicates: 0, inOrder: true, seen: new Set(), last: -1 }]),
    );
  };
  async function client(name, p, rooms) {
    const socket = ioc(`http://127.0.0.1:${p}/`, { auth: { rooms }, transports: ["websocket"], reconnection: false });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
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
  print({ ready: true, ids: Object.fromEntries(Object.entries(clients).map(([n, s]) => [n, s.id])) });

  const commands = {
    emit: async (c) => {
      sel(io, c).emit(c.event, ...bin(c.args));
      return {};
    },
    ack: async (c) => ({
      answers: await sel(io, c)
        .timeout(c.timeout)
        .emitWithAck("ask", "q")
        .catch((e) => ({ error: e.message, responses: e.responses })),
    }),
    fetch: async (c) => {
      const sockets = await sel(io, c).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data })) };
    },
    join: async (c) => {
      sel(io, c).socketsJoin(c.room);
      return {};
    },
    leave: async (c) => {
      sel(io, c).socketsLeave(c.room);
      return {};
    },
    disconnect: async (c) => {
      sel(io, c).disconnectSockets();
      return {};
    },
    sse: async (c) => {
      io.serverSideEmit("node-sse", ...bin(c.args));
      return {};
    },
    sseack: async (c) => ({
      answers: tagged(await io.serverSideEmitWithAck("node-sse", ...bin(c.args)).catch((e) => ({ error: e.message }))),
    }),
    flood: async (c) => {
      for (let i = 0; i < c.count; i++) io.to("room1").emit("flood", (c.start || 0) + i);
      return {};
    },
    counts: async () => ({
      counts: Object.fromEntries(Object.entries(flood).map(([n, f]) => [n, [f.received, f.duplicates, f.inOrder]])),
    }),
    reset: async () => {
      resetFlood();
      return {};
    },
    count: async () => ({ count: await io.of("/").adapter.serverCount() }),
    ...extra,
  };
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    const reply = (obj) => print({ reply: c.id, ...obj });
    const command = commands[c.cmd];
    if (!command) {
      reply({ error: `unknown command ${c.cmd}` });
      continue;
    }
    try {
      reply(await command(c, { flood }));
    } catch (e) {
      reply({ error: String(e && e.message) });
    }
  }
  process.exit(0);
}
