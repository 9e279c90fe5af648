// One socket's own listeners and packet middlewares (socket.onAny / prependAny / offAny /
// onAnyOutgoing / offAnyOutgoing / socket.use on the server), as the official
// socket.io-client sees them (driven by tests/middleware.rs, namespace /own). The server logs
// each hook call per socket; the `log` event answers with the log so far and empties it.
//
// Usage: node own-hooks.mjs <base-url> <polling|websocket>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [base, transport] = process.argv.slice(2);
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

const socket = io(`${base}/own`, { transports: [transport], reconnection: false, timeout: 5000 });
const once = (ev) => new Promise((resolve) => socket.once(ev, (...args) => resolve(args)));
const ask = (...args) => socket.timeout(5000).emitWithAck(...args);
// What each incoming event goes through while the socket's own hooks are all there.
const incoming = (ev) => [`ns-any:${ev}`, `own-first:${ev}`, `own-any:${ev}`, `ns-mw:${ev}`, `own-mw:${ev}`];

try {
  await once("connect");
  const pong = once("pong");
  const news = once("news");
  assert.equal(await ask("hello"), "hi");
  await pong;
  await news;
  assert.deepEqual(await ask("log"), [
    ...incoming("hello"),
    // the emit, then the broadcast to the socket's room: namespace listener first
    "ns-out:pong",
    "own-out:pong",
    "ns-out:news",
    "own-out:news",
    ...incoming("log"),
  ]);

  // the socket's own middleware refuses one event (error ack) and drops another
  assert.deepEqual(await ask("secret"), { error: "no secrets here" });
  socket.emit("muted");
  assert.deepEqual(await ask("log"), [...incoming("secret"), ...incoming("muted"), ...incoming("log")]);

  // offAny() and offAnyOutgoing(listener): those are gone, the middleware stays
  assert.deepEqual(await ask("off"), [true, true, false]);
  const pong2 = once("pong");
  assert.equal(await ask("hello"), "hi");
  await pong2;
  assert.deepEqual(await ask("log"), [
    ...incoming("off"),
    "ns-any:hello",
    "ns-mw:hello",
    "own-mw:hello",
    "ns-out:pong",
    "ns-out:news",
    "ns-any:log",
    "ns-mw:log",
    "own-mw:log",
  ]);
  // the server disconnects it (a client-side disconnect may not reach it before exit)
  const gone = once("disconnect");
  socket.emit("bye");
  assert.equal((await gone)[0], "io server disconnect");
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
