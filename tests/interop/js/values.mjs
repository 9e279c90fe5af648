// Values keep their type end to end, as the official socket.io-client sees them (driven by
// tests/values.rs, whose server relays arguments as dynamic values).
//
// Usage: node values.mjs <base-url> <polling|websocket>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [base, transport] = process.argv.slice(2);
const socket = io(base, { transports: [transport], reconnection: false, timeout: 5000 });
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

const once = (ev) => new Promise((resolve) => socket.once(ev, (...args) => resolve(args)));
const ask = (...args) => socket.timeout(5000).emitWithAck(...args);

try {
  await once("connect");

  // a Buffer kept by the server as a dynamic value comes back as a Buffer (event and ack)
  socket.emit("store", Buffer.from([1, 2, 255]));
  const stored = once("stored");
  const acked = await ask("give-back");
  const [event] = await stored;
  assert.ok(Buffer.isBuffer(acked), `ack is a Buffer, got ${JSON.stringify(acked)}`);
  assert.deepEqual([...acked], [1, 2, 255]);
  assert.ok(Buffer.isBuffer(event), `event argument is a Buffer, got ${JSON.stringify(event)}`);

  // nested binary and key order
  const doc = { id: 42, body: { zeta: 1, alpha: [{ y: 1, b: 2 }] }, file: Buffer.from("hi"), z: null };
  socket.emit("store", doc);
  const back = await ask("give-back");
  assert.deepEqual(Object.keys(back), ["id", "body", "file", "z"]);
  assert.deepEqual(Object.keys(back.body), ["zeta", "alpha"]);
  assert.ok(Buffer.isBuffer(back.file), "nested Buffer stays a Buffer");
  assert.equal(back.z, null);
  const echoed = await ask("echo-json", { b: 1, a: 2, c: { y: 0, x: 1 } });
  assert.equal(JSON.stringify(echoed), '{"b":1,"a":2,"c":{"y":0,"x":1}}');

  // null is an argument: the callback's first argument is null, not undefined
  const nulls = once("null");
  const ackArgs = await new Promise((resolve) => socket.emit("null-value", (...args) => resolve(args)));
  assert.deepEqual(ackArgs, [null]);
  assert.deepEqual(await nulls, [null]);

  // every argument of a multi-argument callback reaches the server
  socket.on("question", (cb) => cb("a", 1, Buffer.from([9, 8])));
  for (const ev of ["ask-all", "ask-room-all"]) {
    const all = await ask(ev);
    assert.equal(all.length, 3, `${ev}: ${JSON.stringify(all)}`);
    assert.equal(all[0], "a");
    assert.equal(all[1], 1);
    assert.ok(Buffer.isBuffer(all[2]), `${ev}: third argument is a Buffer`);
  }

  // an argument that does not fit: a readable error
  const err = await ask("typed", "seven");
  assert.equal(err.error, 'argument 0 does not fit u32: invalid type: string "seven", expected u32');

  console.log(`values ${transport}: ok`);
  socket.close();
  process.exit(0);
} catch (e) {
  console.error(`values ${transport}: FAIL`, e);
  process.exit(1);
}
