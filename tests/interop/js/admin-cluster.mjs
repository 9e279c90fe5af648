// Two nodes of one cluster, each instrumented (admin namespace /monitor) with its own server
// id (driven by tests/admin_ui.rs): a UI connected to one node sees both nodes' server_stats, as
// @socket.io/admin-ui shows one line per serverId, with each node's own namespaces.
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
  client.close();
  admin.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
