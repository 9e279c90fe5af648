// The admin namespace driven the way @socket.io/admin-ui 0.5's UI drives it (driven by
// tests/admin_ui.rs): basic auth and sessions, config, all_sockets, socket/room/event
// notifications, server_stats and the join/leave/emit/_disconnect actions.
//
// Usage: node admin.mjs <base-url> <polling|websocket> <development|readonly|production>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { recorder } from "./recorder.mjs";

const [base, transport, mode] = process.argv.slice(2);
let step = "start";
const at = (name) => {
  step = name;
};
setTimeout(() => {
  console.error(`timeout at ${step}`);
  process.exit(3);
}, 30_000).unref();

const open = (path, opts = {}) =>
  io(`${base}${path}`, { transports: [transport], reconnection: false, timeout: 5000, forceNew: true, ...opts });
const outcome = (socket) =>
  new Promise((resolve) => {
    socket.once("connect", () => resolve({ ok: true }));
    socket.once("connect_error", (err) => resolve({ ok: false, err }));
  });
const ask = (socket, ...args) => socket.timeout(5000).emitWithAck(...args);

// The aggregatedEvents of every server_stats so far, summed by type (the dashboard's charts):
// waits until `pred(sums)` holds.
const aggregated = async (rec, pred) => {
  for (;;) {
    const sums = {};
    for (const e of rec.seen.filter((e) => e.ev === "server_stats")) {
      for (const a of e.args[0].aggregatedEvents) {
        assert.equal(typeof a.timestamp, "number");
        assert.equal(a.timestamp % 1000, 0, "per second");
        assert.equal(typeof a.count, "number");
        sums[a.type] = (sums[a.type] ?? 0) + a.count;
        if (a.type === "rawDisconnection") assert.equal(typeof a.subType, "string");
      }
    }
    if (pred(sums)) return sums;
    await new Promise((r) => setTimeout(r, 100));
  }
};
const trafficSeen = (s) =>
  s.rawConnection >= 3 && s.rawDisconnection >= 1 && s.packetsIn >= 1 && s.bytesIn > s.packetsIn && s.packetsOut >= 1 && s.bytesOut > s.packetsOut;
const isDate = (d) => typeof d === "string" && !Number.isNaN(Date.parse(d)) && d.endsWith("Z");

try {
  // a socket of /chat, connected before the UI (its connect handler joins "early")
  at("early socket");
  const early = open("/chat");
  assert.equal((await outcome(early)).ok, true);

  // bad credentials: connect_error "invalid credentials", as the package's middleware
  at("bad credentials");
  for (const auth of [{ username: "admin", password: "wrong" }, { username: "nobody", password: "s3cret" }, undefined]) {
    const bad = open("/admin", { auth });
    const r = await outcome(bad);
    assert.equal(r.ok, false, `refused: ${JSON.stringify(auth)}`);
    assert.equal(r.err.message, "invalid credentials");
    bad.close();
  }

  // good credentials: session, config, all_sockets (development mode)
  at("good credentials");
  const admin = open("/admin", { auth: { username: "admin", password: "s3cret" } });
  const rec = recorder(admin);
  assert.equal((await outcome(admin)).ok, true);
  const [sessionId] = await rec.next("session");
  assert.match(sessionId, /^[0-9a-f]{16}$/);
  const [config] = await rec.next("config");
  const features = config.supportedFeatures;
  if (mode === "development") {
    assert.deepEqual(features, ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"]);
  } else if (mode === "readonly") {
    assert.deepEqual(features, ["AGGREGATED_EVENTS", "ALL_EVENTS"]);
  } else {
    assert.deepEqual(features, ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS"]);
  }

  // the session id alone lets the UI back in (what it does on reconnection)
  at("session id");
  const again = open("/admin", { auth: { sessionId } });
  assert.equal((await outcome(again)).ok, true, "a known session id is accepted");
  again.close();
  const stale = open("/admin", { auth: { sessionId: "0123456789abcdef" } });
  assert.equal((await outcome(stale)).ok, false, "an unknown session id is refused");
  stale.close();

  if (mode !== "production") {
    const [all] = await rec.next("all_sockets");
    // the pre-existing socket of /chat (connected by the test before) and this admin socket
    const chat = all.find((s) => s.nsp === "/chat" && s.id === early.id);
    assert.ok(chat, `a /chat socket in ${JSON.stringify(all)}`);
    assert.deepEqual(chat.rooms.sort(), [chat.id, "early"].sort());
    assert.ok(all.some((s) => s.nsp === "/admin" && s.id === admin.id), "the admin socket itself");
  }

  // a client of "/" connects: socket_connected with the serialized socket, its rooms joined
  at("socket_connected");
  const client = open("/", { query: { who: "ann" } });
  assert.equal((await outcome(client)).ok, true);
  if (mode === "production") {
    // stats sent after the connection: nothing about the socket came before them
    await rec.next("server_stats", (s) => s.namespaces.some((n) => n.name === "/" && n.socketsCount === 1));
    assert.ok(!rec.seen.some((e) => ["socket_connected", "room_joined", "all_sockets"].includes(e.ev)), "production mode sends no socket details");
    const [stats] = await rec.next("server_stats");
    assert.equal(stats.serverId, "test-node");
    at("aggregatedEvents");
    await aggregated(rec, trafficSeen);
    admin.close();
    client.close();
    console.log("ok");
    process.exit(0);
  }
  const [sock, when] = await rec.next("socket_connected", (s) => s.id === client.id);
  assert.ok(isDate(when), `a date: ${when}`);
  assert.equal(sock.nsp, "/");
  assert.equal(sock.clientId.length, 12);
  assert.equal(sock.transport, transport);
  assert.deepEqual(sock.data, { user: "ann" });
  assert.deepEqual(sock.rooms.sort(), [client.id, "lobby"].sort());
  assert.equal(sock.handshake.query.who, "ann");
  assert.equal(typeof sock.handshake.headers, "object");
  assert.equal(typeof sock.handshake.issued, "number");
  assert.ok(isDate(sock.handshake.time));
  const [nsp1, room1, id1, d1] = await rec.next("room_joined", (_n, room) => room === "lobby");
  assert.deepEqual([nsp1, room1, id1], ["/", "lobby", client.id]);
  assert.ok(isDate(d1));

  // server_stats: our server id, namespaces with their socket counts
  at("server_stats");
  const [stats] = await rec.next("server_stats", (s) => s.namespaces.some((n) => n.name === "/" && n.socketsCount === 1));
  assert.equal(stats.serverId, "test-node");
  assert.equal(typeof stats.hostname, "string");
  assert.equal(typeof stats.pid, "number");
  assert.equal(typeof stats.uptime, "number");
  assert.ok(stats.clientsCount >= 3, `clientsCount ${stats.clientsCount}`);
  assert.ok(Array.isArray(stats.aggregatedEvents));
  assert.ok(stats.namespaces.some((n) => n.name === "/admin" && n.socketsCount === 1));

  // events both ways (development mode)
  at("event_received / event_sent");
  assert.equal(await ask(client, "echo", { n: 1 }), "ok");
  const [rn, rid, rargs, rd] = await rec.next("event_received", (_n, id) => id === client.id);
  assert.deepEqual([rn, rid, rargs], ["/", client.id, ["echo", { n: 1 }]]);
  assert.ok(isDate(rd));
  const [sn, sid, sargs] = await rec.next("event_sent", (_n, id) => id === client.id);
  assert.deepEqual([sn, sid, sargs], ["/", client.id, ["echoed", { n: 1 }]]);

  // room changes the server makes: room_joined / room_left
  at("room changes by the server");
  assert.equal(await ask(client, "enter", "side"), "ok");
  assert.deepEqual((await rec.next("room_joined", (_n, r) => r === "side")).slice(0, 3), ["/", "side", client.id]);
  assert.equal(await ask(client, "exit", "side"), "ok");
  assert.deepEqual((await rec.next("room_left", (_n, r) => r === "side")).slice(0, 3), ["/", "side", client.id]);

  if (mode === "readonly") {
    // the actions are ignored: after them (and an ack of the admin socket's next event, which
    // comes after them in order), the client is still in the same rooms
    at("readonly");
    admin.emit("join", "/", "vip", client.id);
    admin.emit("_disconnect", "/", false, client.id);
    admin.emit("emit", "/", client.id, "news", 1);
    await ask(client, "echo", "sync");
    assert.deepEqual((await ask(client, "rooms")).sort(), [client.id, "lobby"].sort());
    assert.ok(client.connected);
    assert.ok(!rec.seen.some((e) => e.ev === "room_joined" && e.args[1] === "vip"));
  } else {
    // actions: join, emit to the room, leave, disconnect, by the socket's id as filter
    at("action join");
    admin.emit("join", "/", "vip", client.id);
    assert.deepEqual((await rec.next("room_joined", (_n, r) => r === "vip")).slice(0, 3), ["/", "vip", client.id]);
    assert.deepEqual((await ask(client, "rooms")).sort(), [client.id, "lobby", "vip"].sort());
    at("action emit");
    const news = new Promise((resolve) => client.once("news", (...args) => resolve(args)));
    admin.emit("emit", "/", "vip", "news", "hello", 2);
    assert.deepEqual(await news, ["hello", 2]);
    at("action leave");
    admin.emit("leave", "/", "vip", null);
    assert.deepEqual((await rec.next("room_left", (_n, r) => r === "vip")).slice(0, 3), ["/", "vip", client.id]);
    assert.deepEqual((await ask(client, "rooms")).sort(), [client.id, "lobby"].sort());
    at("action _disconnect");
    const gone = new Promise((resolve) => client.once("disconnect", resolve));
    admin.emit("_disconnect", "/", false, "lobby");
    assert.equal(await gone, "io server disconnect");
    const [dn, did, reason, dd] = await rec.next("socket_disconnected", (_n, id) => id === sock.id);
    assert.deepEqual([dn, did, reason], ["/", sock.id, "server namespace disconnect"]);
    assert.ok(isDate(dd));
  }

  // a client that goes away by itself
  at("socket_disconnected");
  const other = open("/chat");
  assert.equal((await outcome(other)).ok, true);
  const otherId = other.id;
  await rec.next("socket_connected", (s) => s.id === otherId);
  other.close();
  const [, , why] = await rec.next("socket_disconnected", (_n, id) => id === otherId);
  assert.equal(why, "client namespace disconnect");

  // the dashboard's charts: connections, disconnections, packets and bytes both ways
  at("aggregatedEvents");
  await aggregated(rec, trafficSeen);

  client.close();
  early.close();
  admin.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(`failed at ${step}:`, err);
  process.exit(1);
}
