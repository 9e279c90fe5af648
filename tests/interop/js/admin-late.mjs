// Namespaces made after instrument() (a static one, and children of a dynamic namespace),
// seen by the admin namespace the way @socket.io/admin-ui 0.5's UI reads it (driven by
// tests/admin_ui.rs): all_sockets, socket_connected, room_joined, event_received /
// event_sent with the child's own name, and server_stats listing them.
//
// Usage: node admin-late.mjs <base-url> <polling|websocket>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { recorder } from "./recorder.mjs";

const [base, transport] = process.argv.slice(2);
let step = "start";
const at = (name) => {
  step = name;
};
setTimeout(() => {
  console.error(`timeout at ${step}`, JSON.stringify(globalThis.seen ?? []).slice(0, 3000));
  process.exit(3);
}, 30_000).unref();

const open = (path, opts = {}) =>
  io(`${base}${path}`, { transports: [transport], reconnection: false, timeout: 5000, forceNew: true, ...opts });
const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
const ask = (socket, ...args) => socket.timeout(5000).emitWithAck(...args);


try {
  // a socket of /late (made after instrument()) before the UI connects: in all_sockets
  at("late socket before the UI");
  const late = open("/late");
  await connected(late);
  const admin = open("/admin");
  const rec = recorder(admin);
  globalThis.seen = rec.seen;
  await connected(admin);
  const [all] = await rec.next("all_sockets");
  assert.ok(all.some((s) => s.nsp === "/late" && s.id === late.id), `/late in ${JSON.stringify(all)}`);

  // its events reach the UI
  at("late events");
  assert.equal(await ask(late, "ping", 1), "pong");
  const [nsp, id, args] = await rec.next("event_received", (n) => n === "/late");
  assert.deepEqual([nsp, id, args], ["/late", late.id, ["ping", 1]]);

  // a child of the dynamic namespace, made after the UI connected: socket_connected, its
  // rooms, its events in and out under its own name
  at("dynamic child");
  const child = open("/room-5");
  await connected(child);
  at("dynamic child: socket_connected");
  const [sock] = await rec.next("socket_connected", (s) => s.id === child.id);
  assert.equal(sock.nsp, "/room-5");
  assert.equal(await ask(child, "hi", "there"), "hello");
  at("dynamic child: event_received");
  const [rn, rid, rargs] = await rec.next("event_received", (n) => n === "/room-5");
  assert.deepEqual([rn, rid, rargs], ["/room-5", child.id, ["hi", "there"]]);
  at("dynamic child: event_sent");
  const [sn, sid, sargs] = await rec.next("event_sent", (n) => n === "/room-5");
  assert.deepEqual([sn, sid, sargs], ["/room-5", child.id, ["welcome", "/room-5"]]);
  at("dynamic child: room_joined");
  const [jn, room, jid] = await rec.next("room_joined", (n, r) => r === "fans");
  assert.deepEqual([jn, room, jid], ["/room-5", "fans", child.id]);

  // a second child: its own events, the parent's listeners not doubled
  at("second child");
  const other = open("/room-6");
  await connected(other);
  await rec.next("socket_connected", (s) => s.id === other.id && s.nsp === "/room-6");
  assert.equal(await ask(other, "hi", "again"), "hello");
  await rec.next("event_received", (n, i) => n === "/room-6" && i === other.id);
  await new Promise((r) => setTimeout(r, 300));
  const received = rec.seen.filter((e) => e.ev === "event_received" && e.args[0] === "/room-6");
  assert.equal(received.length, 1, "one event_received per event");

  // server_stats lists the late namespaces with their sockets
  at("server_stats");
  await rec.next("server_stats", (s) =>
    ["/late", "/room-5", "/room-6"].every((name) => s.namespaces.some((n) => n.name === name && n.socketsCount === 1)),
  );

  // a child socket leaves: socket_disconnected under the child's name
  at("disconnect");
  child.close();
  const [dn, did] = await rec.next("socket_disconnected", (n) => n === "/room-5");
  assert.deepEqual([dn, did], ["/room-5", sock.id]);
  for (const s of [late, other, admin]) s.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(`failed at ${step}:`, err);
  process.exit(1);
}
