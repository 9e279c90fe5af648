// Interop client: drives a server implementing tests/TEST_SERVER.md with the official
// `socket.io-client` v4.
//
// Usage: node client.mjs <base-url> <polling|websocket|upgrade>
//   base-url: e.g. http://127.0.0.1:PORT
// Prints `ok <scenario>` / `FAIL <scenario>: <reason>` per scenario, then
// `interop-js <mode>: N passed, M failed`. Exit status 0 only when every scenario passed.

import assert from "node:assert/strict";
import { io, Manager } from "socket.io-client";

const SCENARIO_TIMEOUT_MS = 10_000;
const GLOBAL_WATCHDOG_MS = 90_000;
const QUIET_MS = 300; // how long to wait to be sure an event does NOT arrive

const [baseArg, mode] = process.argv.slice(2);
const MODES = {
  polling: { transports: ["polling"], upgrade: false },
  websocket: { transports: ["websocket"], upgrade: false },
  upgrade: { transports: ["polling", "websocket"], upgrade: true },
};
if (!baseArg || !MODES[mode]) {
  console.error("usage: node client.mjs <base-url> <polling|websocket|upgrade>");
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, "");

let passed = 0;
let failed = 0;

// A scenario abandoned on timeout (or one that failed early) may leave promises that reject
// later with nobody awaiting them; they must not crash the process.
process.on("unhandledRejection", () => {});

const watchdog = setTimeout(() => {
  console.log(`FAIL watchdog: global timeout of ${GLOBAL_WATCHDOG_MS} ms reached`);
  console.log(`interop-js ${mode}: ${passed} passed, ${failed + 1} failed`);
  process.exit(3);
}, GLOBAL_WATCHDOG_MS);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function baseOpts(extra = {}) {
  return {
    ...MODES[mode],
    reconnection: false,
    timeout: 5000,
    ...extra,
  };
}

/** Per-scenario context: tracks every socket/manager so they are all closed at the end. */
class Ctx {
  constructor() {
    this.sockets = [];
    this.managers = [];
  }

  /** A socket on its own Manager (own Engine.IO connection). */
  socket(nsp = "/", extra = {}) {
    const s = io(base + nsp, baseOpts({ forceNew: true, ...extra }));
    this.sockets.push(s);
    this.managers.push(s.io);
    return s;
  }

  manager(extra = {}) {
    const m = new Manager(base, baseOpts({ autoConnect: true, ...extra }));
    this.managers.push(m);
    return m;
  }

  managerSocket(m, nsp, extra = {}) {
    const s = m.socket(nsp, extra);
    this.sockets.push(s);
    return s;
  }

  close() {
    for (const s of this.sockets) {
      try {
        s.disconnect();
      } catch {}
    }
    for (const m of this.managers) {
      try {
        m._close(); // idempotent; makes sure the Engine.IO connection is gone
      } catch {}
    }
  }
}

/** Resolves with the args array of the next `event` on `emitter`; rejects on timeout. */
function waitFor(emitter, event, ms = 5000) {
  return settled(new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(event, h);
      reject(new Error(`no "${event}" event within ${ms} ms`));
    }, ms);
    const h = (...args) => {
      clearTimeout(t);
      emitter.off(event, h);
      resolve(args);
    };
    emitter.on(event, h);
  }));
}

/** Marks a promise as handled (it still rejects for whoever awaits it). */
function settled(p) {
  p.catch(() => {});
  return p;
}

/** Connects `socket` (already opening) and resolves once "connect" fires; rejects on connect_error. */
function connected(socket, ms = 5000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`socket on "${socket.nsp}" not connected within ${ms} ms`));
    }, ms);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error on "${socket.nsp}": ${err && err.message}`));
    };
    const cleanup = () => {
      clearTimeout(t);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** Resolves with the connect_error Error; rejects if the socket connects instead. */
function connectError(socket, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`no connect_error on "${socket.nsp}" within ${ms} ms`));
    }, ms);
    const onConnect = () => {
      cleanup();
      reject(new Error(`socket on "${socket.nsp}" connected, expected connect_error`));
    };
    const onError = (err) => {
      cleanup();
      resolve(err);
    };
    const cleanup = () => {
      clearTimeout(t);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** emit with a callback; resolves with ALL ack args. */
function emitAckAll(socket, event, ...args) {
  return new Promise((resolve) => socket.emit(event, ...args, (...ackArgs) => resolve(ackArgs)));
}

function recorder(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

function toBytes(x) {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof ArrayBuffer) return Buffer.from(x);
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new Error(`expected binary, got ${typeof x} ${JSON.stringify(x)}`);
}

function assertBuffer(x, expected, what) {
  assert.ok(Buffer.isBuffer(x), `${what}: expected a Buffer, got ${Object.prototype.toString.call(x)}`);
  assert.ok(toBytes(x).equals(expected), `${what}: bytes differ`);
}

// ---------------------------------------------------------------------------------------------
// scenarios

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

scenario("health", async () => {
  const res = await fetch(base + "/health", { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok");
});

scenario("connect-auth-multiplex", async (ctx) => {
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/", { auth: { token: "abc" } });
  const mainAuth = waitFor(main, "auth");
  await connected(main);
  assert.deepEqual((await mainAuth)[0], { token: "abc" });

  const custom = ctx.managerSocket(m, "/custom");
  const customAuth = waitFor(custom, "auth");
  await connected(custom);
  const [a] = await customAuth;
  assert.ok(a === null || (typeof a === "object" && Object.keys(a).length === 0),
    `/custom auth without payload: expected null (or {}), got ${JSON.stringify(a)}`);
  assert.equal(main.io, custom.io, "sockets must share one Manager");
  assert.ok(main.id && custom.id, "both sockets must have an id");
  assert.notEqual(main.id, custom.id, "/ and /custom sockets must have different ids");

  // auth passed explicitly on the multiplexed namespace comes back too
  const custom2 = ctx.socket("/custom", { auth: { token: "xyz", n: 1 } });
  const custom2Auth = waitFor(custom2, "auth");
  await connected(custom2);
  assert.deepEqual((await custom2Auth)[0], { token: "xyz", n: 1 });

  // both namespaces work over the shared connection
  assert.equal(await main.emitWithAck("ack", "on-main"), "on-main");
  assert.equal(await custom.emitWithAck("ack", "on-custom"), "on-custom");
});

scenario("ack-mixed-args", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  const first = await s.timeout(5000).emitWithAck("ack", "hello", 42, { a: 1 }, [1, 2]);
  assert.equal(first, "hello");
  const all = await emitAckAll(s, "ack", "hello", 42, { a: 1 }, [1, 2]);
  assert.deepEqual(all, ["hello", 42, { a: 1 }, [1, 2]]);
  const mixed = await emitAckAll(s, "ack", null, true, 1.5, "", { nested: { deep: [null, false] } });
  assert.deepEqual(mixed, [null, true, 1.5, "", { nested: { deep: [null, false] } }]);
  const none = await emitAckAll(s, "ack");
  assert.deepEqual(none, []);
  const unicode = await emitAckAll(s, "ack", "héllo wörld ✓ 🚀");
  assert.deepEqual(unicode, ["héllo wörld ✓ 🚀"]);
});

scenario("binary", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  const bytes = Buffer.from([0, 1, 2, 3, 254, 255, 128, 10, 13]);
  const [back] = await emitAckAll(s, "ack", bytes);
  assertBuffer(back, bytes, "ack binary");

  const other = Buffer.from("second buffer \u0000\u00ff", "latin1");
  const echo = waitFor(s, "echo");
  s.emit("echo", { bin: bytes, n: 1 }, other);
  const args = await echo;
  assert.equal(args.length, 2, `echo: expected 2 args, got ${args.length}`);
  assert.equal(args[0].n, 1);
  assertBuffer(args[0].bin, bytes, "echo nested binary");
  assertBuffer(args[1], other, "echo top-level binary");

  // several attachments in one ack, mixed with plain values
  const big = Buffer.alloc(100_000, 7);
  const multi = await emitAckAll(s, "ack", "txt", [bytes, { b: big }], 3);
  assert.equal(multi[0], "txt");
  assertBuffer(multi[1][0], bytes, "ack multi [0]");
  assertBuffer(multi[1][1].b, big, "ack multi big");
  assert.equal(multi[2], 3);
});

scenario("server-to-client-ack", async (ctx) => {
  const s = ctx.socket("/");
  s.on("question", (p, cb) => cb("answer-" + p));
  await connected(s);
  assert.equal(await s.timeout(5000).emitWithAck("ask", "x"), "answer-x");
  assert.equal(await s.timeout(5000).emitWithAck("ask", 7), "answer-7");
});

scenario("server-to-client-ack-timeout", async (ctx) => {
  const s = ctx.socket("/");
  const questions = recorder(s, "question"); // receives the question, never acks
  await connected(s);
  const started = Date.now();
  const r = await s.timeout(8000).emitWithAck("ask", "y");
  assert.deepEqual(r, { error: "timeout" });
  assert.equal(questions.length, 1);
  assert.equal(questions[0][0], "y");
  assert.equal(typeof questions[0][1], "function", "question must be emitted with an ack id");
  assert.ok(Date.now() - started >= 4500, "server answered the timeout too early");
});

scenario("rooms", async (ctx) => {
  const A = ctx.socket("/");
  const B = ctx.socket("/");
  const C = ctx.socket("/");
  await Promise.all([connected(A), connected(B), connected(C)]);
  const gotA = recorder(A, "room-message");
  const gotB = recorder(B, "room-message");
  const gotC = recorder(C, "room-message");

  for (const s of [A, B]) {
    const rooms = await s.timeout(5000).emitWithAck("join", "r1");
    assert.ok(Array.isArray(rooms), `join ack must be an array, got ${JSON.stringify(rooms)}`);
    assert.ok(rooms.includes("r1"), `join ack ${JSON.stringify(rooms)} lacks r1`);
    assert.ok(rooms.includes(s.id), `join ack ${JSON.stringify(rooms)} lacks own id ${s.id}`);
    assert.deepEqual(rooms, [...rooms].sort(), "join ack must be sorted");
  }
  assert.deepEqual(await C.timeout(5000).emitWithAck("rooms"), [C.id]);

  // to-room excludes the sender
  assert.equal(await A.timeout(5000).emitWithAck("to-room", "r1", { m: 1 }), true);
  await until(() => gotB.length >= 1, 5000, "B to receive room-message");
  await sleep(QUIET_MS);
  assert.deepEqual(gotB, [[{ m: 1 }]]);
  assert.deepEqual(gotA, [], "sender A must not receive to-room");
  assert.deepEqual(gotC, [], "C is not in r1");

  // to-room-all includes the sender
  assert.equal(await A.timeout(5000).emitWithAck("to-room-all", "r1", { m: 2 }), true);
  await until(() => gotA.length >= 1 && gotB.length >= 2, 5000, "A and B to receive to-room-all");
  await sleep(QUIET_MS);
  assert.deepEqual(gotA, [[{ m: 2 }]]);
  assert.deepEqual(gotB, [[{ m: 1 }], [{ m: 2 }]]);
  assert.deepEqual(gotC, [], "C is not in r1");

  // B leaves
  const left = await B.timeout(5000).emitWithAck("leave", "r1");
  assert.deepEqual(left, [B.id]);
  assert.equal(await A.timeout(5000).emitWithAck("to-room-all", "r1", { m: 3 }), true);
  await until(() => gotA.length >= 2, 5000, "A to receive the second to-room-all");
  await sleep(QUIET_MS);
  assert.deepEqual(gotA, [[{ m: 2 }], [{ m: 3 }]]);
  assert.equal(gotB.length, 2, "B left r1 and must not receive");
  assert.deepEqual(gotC, []);
  const roomsA = await A.timeout(5000).emitWithAck("rooms");
  assert.deepEqual(roomsA, [A.id, "r1"].sort());
});

scenario("transport", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  if (mode === "upgrade") {
    if (s.io.engine.transport.name !== "websocket") {
      await Promise.race([
        waitFor(s.io.engine, "upgrade", 5000),
        until(() => s.io.engine.transport.name === "websocket", 5000, "upgrade to websocket"),
      ]);
    }
    assert.equal(s.io.engine.transport.name, "websocket");
    assert.equal(await s.timeout(5000).emitWithAck("transport"), "websocket");
  } else {
    assert.equal(s.io.engine.transport.name, mode);
    assert.equal(await s.timeout(5000).emitWithAck("transport"), mode);
    await sleep(QUIET_MS);
    assert.equal(s.io.engine.transport.name, mode, "transport must not change");
    assert.equal(await s.timeout(5000).emitWithAck("transport"), mode);
  }
});

scenario("unknown-namespace", async (ctx) => {
  const s = ctx.socket("/nope");
  const err = await connectError(s);
  assert.equal(err.message, "Invalid namespace");
  assert.equal(s.connected, false);
});

scenario("admin", async (ctx) => {
  const noAuth = ctx.socket("/admin");
  assert.equal((await connectError(noAuth)).message, "unauthorized");
  const wrong = ctx.socket("/admin", { auth: { token: "nope" } });
  assert.equal((await connectError(wrong)).message, "unauthorized");
  const extra = ctx.socket("/admin", { auth: { token: "secret", x: 1 } });
  assert.equal((await connectError(extra)).message, "unauthorized");
  const ok = ctx.socket("/admin", { auth: { token: "secret" } });
  await connected(ok);
  assert.equal(await ok.timeout(5000).emitWithAck("ack", "admin"), "admin");
});

scenario("rejection", async (ctx) => {
  const s = ctx.socket("/", { auth: { reject: true } });
  const err = await connectError(s);
  assert.equal(err.message, "rejected by server");
  const c = ctx.socket("/custom", { auth: { reject: true } });
  assert.equal((await connectError(c)).message, "rejected by server");
  // reject: false (not exactly true) is accepted
  const fine = ctx.socket("/", { auth: { reject: false } });
  await connected(fine);
});

scenario("disconnect-me", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  const d = waitFor(s, "disconnect");
  s.emit("disconnect-me");
  const [reason] = await d;
  assert.equal(reason, "io server disconnect");
  assert.equal(s.connected, false);
});

scenario("disconnect-me-multiplexed", async (ctx) => {
  // disconnecting one namespace leaves the other namespace on the same connection alive
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const custom = ctx.managerSocket(m, "/custom");
  await Promise.all([connected(main), connected(custom)]);
  const d = waitFor(custom, "disconnect");
  custom.emit("disconnect-me");
  assert.equal((await d)[0], "io server disconnect");
  assert.equal(await main.timeout(5000).emitWithAck("ack", "still-here"), "still-here");
});

scenario("close-me", async (ctx) => {
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const custom = ctx.managerSocket(m, "/custom");
  await Promise.all([connected(main), connected(custom)]);
  const d1 = waitFor(main, "disconnect");
  const d2 = waitFor(custom, "disconnect");
  main.emit("close-me");
  const [[r1], [r2]] = await Promise.all([d1, d2]);
  assert.equal(r1, "transport close");
  assert.equal(r2, "transport close");
});

// ---------------------------------------------------------------------------------------------
// runner

for (const { name, fn } of scenarios) {
  const ctx = new Ctx();
  let timer;
  try {
    await Promise.race([
      fn(ctx),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`scenario timeout after ${SCENARIO_TIMEOUT_MS} ms`)),
          SCENARIO_TIMEOUT_MS,
        );
      }),
    ]);
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    let msg = (e && e.message ? e.message : String(e)).replace(/\s+/g, " ");
    if (msg.length > 500) msg = msg.slice(0, 500) + "...";
    console.log(`FAIL ${name}: ${msg}`);
  } finally {
    clearTimeout(timer);
    ctx.close();
  }
}

console.log(`interop-js ${mode}: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
