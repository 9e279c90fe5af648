// The official socket.io-client 4.8 with socket.io-msgpack-parser against a server built with
// `.parser(Parser::MsgPack)` (driven by tests/msgpack.rs, which describes the server).
//
// Usage: node msgpack.mjs <base-url> <polling|websocket|upgrade>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";
import parser from "socket.io-msgpack-parser";

const [base, transport] = process.argv.slice(2);
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

// The parser, with every raw packet the client decodes kept (to look at number formats).
const raw = [];
class RecordingDecoder extends parser.Decoder {
  add(buffer) {
    raw.push(Buffer.from(buffer));
    super.add(buffer);
  }
}
const recording = { ...parser, Decoder: RecordingDecoder };

const connect = (nsp = "/", auth = undefined) =>
  io(base + nsp, {
    // "upgrade": polling first, then the upgrade to websocket (the client's default)
    transports: transport === "upgrade" ? ["polling", "websocket"] : [transport],
    reconnection: false,
    timeout: 5000,
    forceNew: true,
    parser: recording,
    auth,
  });
const once = (socket, ev) => new Promise((resolve) => socket.once(ev, (...args) => resolve(args)));
// the first argument of the ack
const ask = (socket, ...args) => socket.timeout(5000).emitWithAck(...args);
// every argument of the ack
const askAll = (socket, ...args) => new Promise((resolve) => socket.emit(...args, (...res) => resolve(res)));
const quiet = (socket, ev, ms) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    socket.once(ev, (...args) => {
      clearTimeout(t);
      reject(new Error(`unexpected ${ev}: ${JSON.stringify(args)}`));
    });
  });

const step = (name) => console.log(`[${transport}] ${name}`);

try {
  // connect with auth: the server's connect handler sees it and sends it back
  step("connect with auth");
  const a = connect("/", { token: "abc", n: 1, nested: { list: [1, 2.5] } });
  const [auth] = await once(a, "auth");
  assert.ok(a.connected);
  if (transport === "upgrade") {
    if (a.io.engine.transport.name !== "websocket") await once(a.io.engine, "upgrade");
    assert.equal(a.io.engine.transport.name, "websocket");
  }
  assert.deepEqual(auth, { token: "abc", n: 1, nested: { list: [1, 2.5] } });

  // typed arguments and a typed ack (a struct)
  step("typed arguments");
  const typed = await askAll(a, "typed", "pt", 7, { x: -3, y: 2.5 });
  assert.deepEqual(typed, ["pt:7", { x: -4, y: 5 }]);
  // an argument that does not fit: a readable error ack
  const bad = await ask(a, "typed", "pt", "seven", { x: 1, y: 1 });
  assert.match(bad.error, /^argument 1 does not fit u32/);

  // dynamic arguments come back as sent, binary included (Buffer, ArrayBuffer, nested)
  step("dynamic arguments and binary");
  const doc = { id: 42, body: { zeta: 1, alpha: [{ y: 1, b: 2 }] }, file: Buffer.from("hi"), z: null };
  const echoed = await ask(a, "dynamic", "s", 1, doc, Buffer.from([1, 2, 255]), new Uint8Array([9, 8]).buffer);
  assert.equal(echoed.length, 5);
  assert.equal(echoed[0], "s");
  assert.equal(echoed[1], 1);
  assert.deepEqual(Object.keys(echoed[2]), ["id", "body", "file", "z"]);
  assert.deepEqual(Object.keys(echoed[2].body), ["zeta", "alpha"]);
  assert.ok(Buffer.isBuffer(echoed[2].file), "nested Buffer stays a Buffer");
  assert.equal(echoed[2].file.toString(), "hi");
  assert.deepEqual([...echoed[3]], [1, 2, 255]);
  assert.ok(Buffer.isBuffer(echoed[3]));
  assert.deepEqual([...echoed[4]], [9, 8], "an ArrayBuffer arrives as binary");

  // binary into typed handler arguments (bytes::Bytes), and binary server → client as an event
  step("binary both ways");
  const gotBlob = once(a, "blob");
  const sizes = await ask(a, "blob", Buffer.alloc(70_000, 7), { inner: Buffer.from([5]) });
  assert.deepEqual(sizes, [70_000, 1]);
  const [blob, meta] = await gotBlob;
  assert.ok(Buffer.isBuffer(blob));
  assert.equal(blob.length, 70_000);
  assert.ok(blob.every((b) => b === 7));
  assert.deepEqual(meta, { name: "blob", inner: Buffer.from([5]) });

  // numbers keep their kind both ways
  step("numbers");
  const kinds = await ask(a, "kinds", 1, 1.5, -3, 2 ** 40, 0.1, -0.5);
  assert.deepEqual(kinds, ["int", "float", "int", "int", "float", "float"]);
  raw.length = 0;
  const [n] = await Promise.all([once(a, "numbers"), a.emit("numbers")]);
  assert.deepEqual(n, [7, 2, 2.5, -1, 2 ** 53]);
  const packet = raw.find((b) => b.includes(Buffer.from("numbers")));
  assert.ok(packet, "the numbers packet was recorded");
  // 2.0_f64 travels as float 64, 7_i64 as a positive fixint
  assert.ok(packet.includes(Buffer.from("cb4000000000000000", "hex")), packet.toString("hex"));
  assert.ok(packet.includes(Buffer.from("a76e756d6265727307cb", "hex")), packet.toString("hex"));

  // server → client acks: the server asks, the client answers with several arguments
  step("server asks for an ack");
  a.on("question", (q, cb) => cb(`answer to ${q}`, 1, Buffer.from([9, 8])));
  const answered = await ask(a, "ask");
  assert.equal(answered.length, 3);
  assert.equal(answered[0], "answer to q?");
  assert.equal(answered[1], 1);
  assert.ok(Buffer.isBuffer(answered[2]));
  assert.deepEqual([...answered[2]], [9, 8]);

  // broadcast to a room: b is in it, c is not; a broadcast with acks gathers b's answer
  step("room broadcast");
  const b = connect();
  const c = connect();
  await Promise.all([once(b, "auth"), once(c, "auth")]);
  assert.equal(await ask(b, "join", "room1"), "joined");
  const news = once(b, "news");
  const notC = quiet(c, "news", 300);
  a.emit("shout", "room1", "hello", Buffer.from([1]));
  const [text, bin] = await news;
  assert.equal(text, "hello");
  assert.deepEqual([...bin], [1]);
  await notC;
  b.on("poll", (cb) => cb("b votes", Buffer.from([2])));
  const votes = await ask(a, "poll", "room1");
  assert.deepEqual(votes.length, 1);
  assert.equal(votes[0][0], "b votes");
  assert.deepEqual([...votes[0][1]], [2]);

  // a refusing connect handler: connect_error with message and data
  step("connect_error");
  const refused = connect("/private", { token: "wrong" });
  const [err] = await once(refused, "connect_error");
  assert.equal(err.message, "unauthorized");
  assert.deepEqual(err.data, { reason: "bad token" });
  const admitted = connect("/private", { token: "secret" });
  await once(admitted, "connect");

  // the server disconnects a socket: DISCONNECT arrives
  step("server disconnect");
  const gone = once(c, "disconnect");
  c.emit("bye");
  assert.equal((await gone)[0], "io server disconnect");

  for (const s of [a, b, refused, admitted]) s.close();
  console.log(`[${transport}] ok`);
  process.exit(0);
} catch (e) {
  console.error(`[${transport}]`, e);
  process.exit(1);
}
