// Two nodes of one cluster, each instrumented (admin namespace /monitor) with its own server
// id (driven by tests/admin_ui.rs): a UI connected to one node sees both nodes' server_stats, as
// @socket.io/admin-ui shows one line per serverId, with each node's own namespaces, and every
// node's sockets in its socket list (all_sockets, through fetchSockets).
//
// Usage: node admin-cluster.mjs <url of node A> <url of node B> <polling|websocket>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [a, b, transport] = process.argv.slice(2);
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

const open = (url, path) =>
  io(`${url}${path}`, { transports: [transport], reconnection: false, timeout: 5000, forceNew: true });
const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });

try {
  // a client on node B only
  const client = open(b, "/");
  await connected(client);
  const admin = open(a, "/monitor");
  // development mode: the socket list has every node's sockets (fetchSockets), so the client
  // on B is there, with its handshake
  const allSockets = new Promise((resolve) => admin.once("all_sockets", resolve));
  const stats = new Map();
  const both = new Promise((resolve) =>
    admin.on("server_stats", (s) => {
      stats.set(s.serverId, s);
      if (stats.has("node-a") && stats.get("node-b")?.namespaces.some((n) => n.name === "/" && n.socketsCount === 1)) {
        resolve();
      }
    }),
  );
  await connected(admin);
  await both;
  const [statsA, statsB] = [stats.get("node-a"), stats.get("node-b")];
  for (const s of [statsA, statsB]) {
    assert.equal(typeof s.hostname, "string");
    assert.equal(typeof s.pid, "number");
    assert.equal(typeof s.uptime, "number");
  }
  // each node counts its own sockets: the UI's socket is on A, the client on B
  assert.ok(statsA.namespaces.some((n) => n.name === "/monitor" && n.socketsCount === 1), JSON.stringify(statsA));
  assert.ok(statsA.namespaces.some((n) => n.name === "/" && n.socketsCount === 0), JSON.stringify(statsA));
  assert.ok(statsB.namespaces.some((n) => n.name === "/monitor" && n.socketsCount === 0), JSON.stringify(statsB));
  assert.equal(statsB.clientsCount, 1);
  const listed = await allSockets;
  const remote = listed.find((s) => s.id === client.id);
  assert.ok(remote, `the client on B is listed on A: ${JSON.stringify(listed)}`);
  assert.equal(remote.nsp, "/");
  assert.ok(remote.rooms.includes(client.id), JSON.stringify(remote));
  assert.ok(remote.handshake.url.startsWith("/socket.io/"), JSON.stringify(remote));
  assert.equal(typeof remote.handshake.headers, "object");
  assert.equal(typeof remote.handshake.issued, "number");
  assert.equal(remote.handshake.query.EIO, "4", JSON.stringify(remote));
  assert.ok(listed.some((s) => s.id === admin.id && s.nsp === "/monitor"), JSON.stringify(listed));
  client.close();
  admin.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
