// Interop client: drives a server implementing tests/TEST_SERVER.md with the LEGACY official
// `socket.io-client` 2.x (Engine.IO protocol v3 / Socket.IO protocol v4).
//
// Usage: node client.js <base-url> <polling|websocket|upgrade>
//   base-url: e.g. http://127.0.0.1:PORT
// Prints `ok <scenario>` / `FAIL <scenario>: <reason>` per scenario, then
// `interop-js-legacy <mode>: N passed, M failed`. Exit status 0 only when every scenario passed.
//
// What differs from the v5 protocol (and from ../js/client.mjs):
// - "/" is connected by the server as soon as the Engine.IO connection opens; the client sends a
//   CONNECT only for other namespaces, optionally with a query string (`40/custom?token=abc,`),
//   which the test server turns into the namespace's `auth` object (values are strings). There is
//   no other auth payload, so "/" always reports `null`.
// - A refused namespace CONNECT is an ERROR packet whose data is the bare message string;
//   socket.io-client 2.x emits it as an `error` event on the socket (not `connect_error`, which is
//   reserved for Engine.IO connection failures).
// - The client does not learn its socket id from the server: it computes it, as `<engine id>` on
//   "/" and `<nsp>#<engine id>` elsewhere (what the socket.io 2.x server uses).

"use strict";

const assert = require("assert").strict;
const http = require("http");
const io = require("socket.io-client");

const SCENARIO_TIMEOUT_MS = 10000;
const GLOBAL_WATCHDOG_MS = 90000;
const QUIET_MS = 300; // how long to wait to be sure an event does NOT arrive

const [baseArg, mode] = process.argv.slice(2);
const MODES = {
  polling: { transports: ["polling"], upgrade: false },
  websocket: { transports: ["websocket"], upgrade: false },
  upgrade: { transports: ["polling", "websocket"], upgrade: true },
};
if (!baseArg || !MODES[mode]) {
  console.error("usage: node client.js <base-url> <polling|websocket|upgrade>");
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, "");
const LABEL = `interop-js-legacy ${mode}`;

let passed = 0;
let failed = 0;

// A scenario abandoned on timeout (or one that failed early) may leave promises that reject
// later with nobody awaiting them; they must not crash the process.
process.on("unhandledRejection", () => {});

const watchdog = setTimeout(() => {
  console.log(`FAIL watchdog: global timeout of ${GLOBAL_WATCHDOG_MS} ms reached`);
  console.log(`${LABEL}: ${passed} passed, ${failed + 1} failed`);
  process.exit(3);
}, GLOBAL_WATCHDOG_MS);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function baseOpts(extra = {}) {
  return Object.assign({}, MODES[mode], { reconnection: false, timeout: 5000 }, extra);
}

/** Per-scenario context: tracks every socket/manager so they are all closed at the end. */
class Ctx {
  constructor() {
    this.sockets = [];
    this.managers = [];
  }

  /** A socket on its own Manager (own Engine.IO connection). */
  socket(nsp = "/", extra = {}) {
    const s = io(base + nsp, baseOpts(Object.assign({ forceNew: true }, extra)));
    this.sockets.push(s);
    this.managers.push(s.io);
    return s;
  }

  /** A Manager (one Engine.IO connection) to multiplex namespaces on. */
  manager(extra = {}) {
    const m = new io.Manager(base, baseOpts(extra));
    this.managers.push(m);
    return m;
  }

  /** A socket of `m`; `extra.query` is sent in the namespace CONNECT packet. */
  managerSocket(m, nsp, extra = {}) {
    const s = m.socket(nsp, extra);
    this.sockets.push(s);
    return s;
  }

  close() {
    for (const s of this.sockets) {
      try {
        s.close();
      } catch (e) {}
    }
    for (const m of this.managers) {
      try {
        m.close(); // idempotent; makes sure the Engine.IO connection is gone
      } catch (e) {}
    }
  }
}

/** Marks a promise as handled (it still rejects for whoever awaits it). */
function settled(p) {
  p.catch(() => {});
  return p;
}

/** Resolves with the args array of the next `event` on `emitter`; rejects on timeout. */
function waitFor(emitter, event, ms = 5000) {
  return settled(
    new Promise((resolve, reject) => {
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
    }),
  );
}

/**
 * Resolves once `socket` is connected; rejects on an `error` (refused namespace), a
 * `connect_error` / `connect_timeout` (Engine.IO connection failed) or a timeout.
 */
function connected(socket, ms = 5000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => done(new Error(`socket on "${socket.nsp}" not connected within ${ms} ms`)), ms);
    const handlers = {
      connect: () => done(null),
      error: (data) => done(new Error(`error on "${socket.nsp}": ${JSON.stringify(data)}`)),
      connect_error: (err) => done(new Error(`connect_error on "${socket.nsp}": ${err && err.message}`)),
      connect_timeout: () => done(new Error(`connect_timeout on "${socket.nsp}"`)),
    };
    const done = (err) => {
      clearTimeout(t);
      for (const [ev, h] of Object.entries(handlers)) socket.off(ev, h);
      if (err) reject(err);
      else resolve();
    };
    for (const [ev, h] of Object.entries(handlers)) socket.on(ev, h);
  });
}

/**
 * Resolves with the args of the `error` event a refused namespace CONNECT produces; rejects if
 * the socket connects instead.
 */
function refused(socket, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => done(new Error(`no "error" on "${socket.nsp}" within ${ms} ms`)), ms);
    const handlers = {
      connect: () => done(new Error(`socket on "${socket.nsp}" connected, expected an "error" event`)),
      error: (...args) => done(null, args),
      connect_error: (err) => done(new Error(`connect_error on "${socket.nsp}": ${err && err.message}`)),
    };
    const done = (err, args) => {
      clearTimeout(t);
      for (const [ev, h] of Object.entries(handlers)) socket.off(ev, h);
      if (err) reject(err);
      else resolve(args);
    };
    for (const [ev, h] of Object.entries(handlers)) socket.on(ev, h);
  });
}

/** emit with a callback; resolves with ALL ack args; rejects after `ms`. */
function emitAck(socket, event, ...args) {
  const ms = 5000;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ack for "${event}" within ${ms} ms`)), ms);
    socket.emit(event, ...args, (...ackArgs) => {
      clearTimeout(t);
      resolve(ackArgs);
    });
  });
}

/** emit with a callback; resolves with the FIRST ack arg. */
async function emitAck1(socket, event, ...args) {
  return (await emitAck(socket, event, ...args))[0];
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

function assertBuffer(x, expected, what) {
  assert.ok(Buffer.isBuffer(x), `${what}: expected a Buffer, got ${Object.prototype.toString.call(x)} ${JSON.stringify(x)}`);
  assert.ok(x.equals(expected), `${what}: bytes differ (${x.toString("hex")})`);
}

/** Waits until a socket in upgrade mode runs over websocket. */
async function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name !== "websocket") {
    await Promise.race([
      waitFor(engine, "upgrade", 5000),
      until(() => engine.transport.name === "websocket", 5000, "upgrade to websocket"),
    ]);
  }
  assert.equal(engine.transport.name, "websocket");
}

// ---------------------------------------------------------------------------------------------
// scenarios

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

scenario("health", async () => {
  const [status, body] = await new Promise((resolve, reject) => {
    const req = http.get(base + "/health", { timeout: 5000 }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve([res.statusCode, data]));
    });
    req.on("timeout", () => req.destroy(new Error("GET /health timed out")));
    req.on("error", reject);
  });
  assert.equal(status, 200);
  assert.equal(body, "ok");
});

scenario("connect-auth-query", async (ctx) => {
  // "/" is connected by the server itself; there is no auth payload in protocol v4
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const mainAuth = waitFor(main, "auth");
  await connected(main);
  assert.deepEqual((await mainAuth)[0], null, '"/" auth');

  // another namespace on the same connection: its CONNECT carries the query
  const custom = ctx.managerSocket(m, "/custom", { query: { token: "abc" } });
  const customAuth = waitFor(custom, "auth");
  await connected(custom);
  assert.deepEqual((await customAuth)[0], { token: "abc" }, '"/custom" auth (namespace query)');
  assert.equal(main.io, custom.io, "sockets must share one Manager");
  assert.ok(main.id && custom.id, "both sockets must have an id");
  assert.notEqual(main.id, custom.id, "/ and /custom sockets must have different ids");

  // a namespace opened with io(url + nsp, { query }) on its own connection
  const other = ctx.socket("/custom", { query: { token: "xyz", n: 1 } });
  const otherAuth = waitFor(other, "auth");
  await connected(other);
  assert.deepEqual((await otherAuth)[0], { token: "xyz", n: "1" }, "query values are strings");

  // both namespaces work over the shared connection
  assert.equal(await emitAck1(main, "ack", "on-main"), "on-main");
  assert.equal(await emitAck1(custom, "ack", "on-custom"), "on-custom");
});

scenario("socket-ids", async (ctx) => {
  // socket.io-client 2.x computes its socket ids (`<engine id>` on "/", `<nsp>#<engine id>`
  // elsewhere) as the socket.io 2.x server does; the server's id of a socket is the only entry of
  // its rooms.
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const custom = ctx.managerSocket(m, "/custom");
  await Promise.all([connected(main), connected(custom)]);
  assert.equal(main.id, m.engine.id, 'client-side id of "/"');
  assert.equal(custom.id, "/custom#" + m.engine.id, 'client-side id of "/custom"');
  const mismatches = [];
  for (const s of [main, custom]) {
    const rooms = await emitAck1(s, "rooms");
    if (JSON.stringify(rooms) !== JSON.stringify([s.id])) {
      mismatches.push(`"${s.nsp}": client socket.id ${JSON.stringify(s.id)}, server-side rooms ${JSON.stringify(rooms)}`);
    }
  }
  assert.ok(mismatches.length === 0, `server socket id != client socket.id: ${mismatches.join("; ")}`);
});

scenario("ack-mixed-args", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  assert.equal(await emitAck1(s, "ack", "hello", 42, { a: 1 }, [1, 2]), "hello");
  const all = await emitAck(s, "ack", "hello", 42, { a: 1 }, [1, 2]);
  assert.deepEqual(all, ["hello", 42, { a: 1 }, [1, 2]]);
  const mixed = await emitAck(s, "ack", null, true, 1.5, "", { nested: { deep: [null, false] } });
  assert.deepEqual(mixed, [null, true, 1.5, "", { nested: { deep: [null, false] } }]);
  assert.deepEqual(await emitAck(s, "ack"), []);
  assert.deepEqual(await emitAck(s, "ack", "héllo wörld ✓ 🚀"), ["héllo wörld ✓ 🚀"]);
});

scenario("binary", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  const bytes = Buffer.from([0, 1, 2, 3, 254, 255, 128, 10, 13]);
  const [back] = await emitAck(s, "ack", bytes);
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
  const big = Buffer.alloc(100000, 7);
  const multi = await emitAck(s, "ack", "txt", [bytes, { b: big }], 3);
  assert.equal(multi[0], "txt");
  assertBuffer(multi[1][0], bytes, "ack multi [0]");
  assertBuffer(multi[1][1].b, big, "ack multi big");
  assert.equal(multi[2], 3);
});

scenario("server-to-client-ack", async (ctx) => {
  const s = ctx.socket("/");
  const questions = [];
  s.on("question", (p, cb) => {
    questions.push(p);
    cb("answer-" + p);
  });
  await connected(s);
  assert.equal(await emitAck1(s, "ask", "x"), "answer-x");
  assert.equal(await emitAck1(s, "ask", 7), "answer-7");
  assert.deepEqual(questions, ["x", 7]);
});

scenario("rooms", async (ctx) => {
  const A = ctx.socket("/");
  const B = ctx.socket("/");
  const C = ctx.socket("/");
  await Promise.all([connected(A), connected(B), connected(C)]);
  const gotA = recorder(A, "room-message");
  const gotB = recorder(B, "room-message");
  const gotC = recorder(C, "room-message");
  // the server's socket ids (compared with the client's own in "socket-ids")
  const [idA, idB, idC] = await Promise.all([A, B, C].map(async (s) => {
    const rooms = await emitAck1(s, "rooms");
    assert.ok(Array.isArray(rooms) && rooms.length === 1, `rooms of a fresh socket: ${JSON.stringify(rooms)}`);
    return rooms[0];
  }));

  for (const [s, id] of [[A, idA], [B, idB]]) {
    const rooms = await emitAck1(s, "join", "r1");
    assert.deepEqual(rooms, [id, "r1"].sort(), "join ack: sorted rooms");
  }
  assert.deepEqual(await emitAck1(C, "rooms"), [idC]);

  // to-room excludes the sender
  assert.equal(await emitAck1(A, "to-room", "r1", { m: 1 }), true);
  await until(() => gotB.length >= 1, 5000, "B to receive room-message");
  await sleep(QUIET_MS);
  assert.deepEqual(gotB, [[{ m: 1 }]]);
  assert.deepEqual(gotA, [], "sender A must not receive to-room");
  assert.deepEqual(gotC, [], "C is not in r1");

  // to-room-all includes the sender
  assert.equal(await emitAck1(A, "to-room-all", "r1", { m: 2 }), true);
  await until(() => gotA.length >= 1 && gotB.length >= 2, 5000, "A and B to receive to-room-all");
  await sleep(QUIET_MS);
  assert.deepEqual(gotA, [[{ m: 2 }]]);
  assert.deepEqual(gotB, [[{ m: 1 }], [{ m: 2 }]]);
  assert.deepEqual(gotC, [], "C is not in r1");

  // B leaves
  assert.deepEqual(await emitAck1(B, "leave", "r1"), [idB]);
  assert.equal(await emitAck1(A, "to-room-all", "r1", { m: 3 }), true);
  await until(() => gotA.length >= 2, 5000, "A to receive the second to-room-all");
  await sleep(QUIET_MS);
  assert.deepEqual(gotA, [[{ m: 2 }], [{ m: 3 }]]);
  assert.equal(gotB.length, 2, "B left r1 and must not receive");
  assert.deepEqual(gotC, []);
  assert.deepEqual(await emitAck1(A, "rooms"), [idA, "r1"].sort());
});

scenario("transport", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  if (mode === "upgrade") {
    await upgraded(s);
    assert.equal(await emitAck1(s, "transport"), "websocket");
  } else {
    assert.equal(s.io.engine.transport.name, mode);
    assert.equal(await emitAck1(s, "transport"), mode);
    await sleep(QUIET_MS);
    assert.equal(s.io.engine.transport.name, mode, "transport must not change");
    assert.equal(await emitAck1(s, "transport"), mode);
  }
});

scenario("unknown-namespace", async (ctx) => {
  // socket.io-client 2.x: a refused CONNECT (ERROR packet) is emitted as `error` with the data
  const s = ctx.socket("/nope");
  assert.deepEqual(await refused(s), ["Invalid namespace"]);
  assert.equal(s.connected, false);
});

scenario("admin", async (ctx) => {
  const noAuth = ctx.socket("/admin");
  assert.deepEqual(await refused(noAuth), ["unauthorized"], "without query");
  assert.equal(noAuth.connected, false);
  const wrong = ctx.socket("/admin", { query: { token: "nope" } });
  assert.deepEqual(await refused(wrong), ["unauthorized"], "wrong token");
  const extra = ctx.socket("/admin", { query: { token: "secret", x: 1 } });
  assert.deepEqual(await refused(extra), ["unauthorized"], "extra query key");
  const ok = ctx.socket("/admin", { query: { token: "secret" } });
  const auth = waitFor(ok, "auth");
  await connected(ok);
  assert.deepEqual((await auth)[0], { token: "secret" });
  assert.equal(await emitAck1(ok, "ack", "admin"), "admin");
});

scenario("disconnect-me", async (ctx) => {
  const s = ctx.socket("/");
  await connected(s);
  const d = waitFor(s, "disconnect");
  s.emit("disconnect-me");
  assert.deepEqual(await d, ["io server disconnect"]);
  assert.equal(s.connected, false);
});

scenario("disconnect-me-multiplexed", async (ctx) => {
  // disconnecting one namespace leaves the other namespace on the same connection alive
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const custom = ctx.managerSocket(m, "/custom");
  await Promise.all([connected(main), connected(custom)]);
  const mainGone = recorder(main, "disconnect");
  const d = waitFor(custom, "disconnect");
  custom.emit("disconnect-me");
  assert.deepEqual(await d, ["io server disconnect"]);
  assert.equal(await emitAck1(main, "ack", "still-here"), "still-here");
  assert.deepEqual(mainGone, [], '"/" must not be disconnected');
});

scenario("close-me", async (ctx) => {
  const m = ctx.manager();
  const main = ctx.managerSocket(m, "/");
  const custom = ctx.managerSocket(m, "/custom");
  await Promise.all([connected(main), connected(custom)]);
  // In "upgrade" mode this close may race the polling → websocket upgrade (the exact race is
  // pinned down in tests/engine_protocol.rs).
  const d1 = waitFor(main, "disconnect");
  const d2 = waitFor(custom, "disconnect");
  main.emit("close-me");
  const [r1, r2] = await Promise.all([d1, d2]);
  assert.deepEqual(r1, ["transport close"]);
  assert.deepEqual(r2, ["transport close"]);
});

// ---------------------------------------------------------------------------------------------
// runner

(async () => {
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
  console.log(`${LABEL}: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
