// Middlewares, shared state, listeners, packet middlewares and dynamic namespaces as the
// official socket.io-client sees them (driven by tests/middleware.rs).
//
// Usage: node middleware.mjs <base-url> <polling|websocket> <namespace> [<namespace> ..]
// Each namespace (one set up with closures, one with #[namespace]) is checked the same way.
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [base, transport, ...namespaces] = process.argv.slice(2);
let step = "start";
let cur = "";
const at = (name) => {
  step = `${cur} ${name}`;
};
setTimeout(() => {
  console.error(`timeout at ${step}`);
  process.exit(3);
}, 30_000).unref();

const open = (path, auth) =>
  io(`${base}${path}`, { transports: [transport], reconnection: false, timeout: 5000, auth, forceNew: true });
const outcome = (socket) =>
  new Promise((resolve) => {
    socket.once("connect", () => resolve({ ok: true }));
    socket.once("connect_error", (err) => resolve({ ok: false, err }));
  });
const once = (socket, ev) => new Promise((resolve) => socket.once(ev, (...args) => resolve(args)));
const ask = (socket, ...args) => socket.timeout(5000).emitWithAck(...args);
const quiet = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  for (const ns of namespaces) {
    at(ns);
    cur = ns;
    // a middleware refuses with a message and data: connect_error carries both
    at("a middleware refuses with a message and data: connect_error ");
    const refused = open(ns, { token: "wrong" });
    const r = await outcome(refused);
    assert.equal(r.ok, false, `${ns}: a wrong token is refused`);
    assert.equal(r.err.message, "unauthorized");
    assert.deepEqual(r.err.data, { code: 401, ns });
    refused.close();

    // no auth at all: the auth payload does not decode, the first middleware refuses
    at("no auth at all: the auth payload does not decode, the first ");
    const bare = open(ns, undefined);
    const b = await outcome(bare);
    assert.equal(b.ok, false);
    assert.match(b.err.message, /^invalid auth payload/);
    bare.close();

    // accepted: the middlewares ran in order before the connect handler, which sees what
    at("accepted: the middlewares ran in order before the connect ha");
    // they stored on the socket
    at("they stored on the socket");
    const socket = open(ns, { token: "s3cret" });
    const welcome = once(socket, "welcome");
    const ok = await outcome(socket);
    assert.equal(ok.ok, true, `${ns}: ${ok.err?.message}`);
    assert.deepEqual(await welcome, [["first", "second"], "member"]);

    // shared state in an event handler
    at("shared state in an event handler");
    assert.equal(await ask(socket, "hits"), 1);
    assert.equal(await ask(socket, "hits"), 2);

    // packet middlewares: refused with an error ack, dropped silently, arguments rewritten
    at("packet middlewares: refused with an error ack, dropped silen");
    assert.deepEqual(await ask(socket, "blocked", 1), { error: "blocked by middleware" });
    socket.emit("dropped", (answer) => assert.fail(`dropped event answered ${answer}`));
    assert.deepEqual(await ask(socket, "rewrite", "abc"), ["ABC"]);

    // the any-event listener saw every event, handled, refused or dropped, in order
    at("the any-event listener saw every event, handled, refused or ");
    const seen = await ask(socket, "seen");
    assert.deepEqual(seen, ["hits", "hits", "blocked", "dropped", "rewrite", "seen"]);

    // the outgoing listener saw the events sent to this socket (not acks)
    at("the outgoing listener saw the events sent to this socket (no");
    socket.emit("shout", "x");
    await once(socket, "shout");
    assert.deepEqual(await ask(socket, "sent"), ["welcome", "shout"]);
    socket.close();
  }

  // dynamic namespaces: each matching path is its own child with the parent's handlers
  at("dynamic namespaces: each matching path is its own child with");
  const one = open("/room-1", { token: "s3cret" });
  const two = open("/room-2", { token: "s3cret" });
  const [o1, o2] = [outcome(one), outcome(two)];
  assert.equal((await o1).ok, true);
  at("room-1 connected");
  assert.equal((await o2).ok, true);
  at("room-2 connected");
  assert.equal(await ask(one, "where"), "/room-1");
  assert.equal(await ask(two, "where"), "/room-2");
  // a broadcast in one child does not reach the other
  at("a broadcast in one child does not reach the other");
  let leaked = false;
  two.on("news", () => (leaked = true));
  const heard = once(one, "news");
  await ask(one, "broadcast", "hello");
  assert.deepEqual(await heard, ["hello", "/room-1"]);
  await quiet(200);
  assert.equal(leaked, false, "a broadcast of /room-1 reached /room-2");
  // the parent's middleware guards every child
  at("the parent middleware guards every child");
  const intruder = open("/room-3", { token: "nope" });
  const i = await outcome(intruder);
  assert.equal(i.ok, false);
  assert.equal(i.err.message, "unauthorized");
  intruder.close();
  // a path no namespace matches
  at("a path no namespace matches");
  const stray = open("/roomx", {});
  const s = await outcome(stray);
  assert.equal(s.ok, false);
  assert.equal(s.err.message, "Invalid namespace");
  stray.close();
  one.close();
  two.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
