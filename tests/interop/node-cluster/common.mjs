// Shared helpers for the node-cluster scripts (capture.mjs, live.mjs, decode.mjs).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createClient, createCluster } from "redis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";

export const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
// REDIS_CLUSTER: comma-separated node URLs of a Redis Cluster to use instead of REDIS_URL.
export const REDIS_CLUSTER = process.env.REDIS_CLUSTER ? process.env.REDIS_CLUSTER.split(",") : null;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh connected node-redis v4 client (a cluster client with REDIS_CLUSTER). */
export async function redisClient() {
  const c = REDIS_CLUSTER
    ? createCluster({ rootNodes: REDIS_CLUSTER.map((url) => ({ url })) })
    : createClient({ url: REDIS_URL });
  c.on("error", (e) => console.error("redis error", e.message));
  await c.connect();
  return c;
}

/**
 * A socket.io server on an ephemeral port with the Redis adapter.
 * kind: "classic" (createAdapter, opts.key = prefix) or "sharded" (createShardedAdapter,
 * opts.channelPrefix = prefix).
 */
export async function startServer(kind, prefix, extraOpts = {}) {
  const pub = await redisClient();
  const sub = pub.duplicate();
  sub.on("error", (e) => console.error("redis error", e.message));
  await sub.connect();
  const adapter =
    kind === "sharded"
      ? createShardedAdapter(pub, sub, { channelPrefix: prefix, ...extraOpts })
      : createAdapter(pub, sub, { key: prefix, ...extraOpts });
  const http = createServer();
  const io = new Server(http, { adapter });
  // Clients say which rooms to join in their handshake auth: { rooms: [...] }.
  // socket.data = {from: "node", rooms}: what fetchSockets on another node should see.
  const joinFromAuth = (socket) => {
    socket.data = { from: "node", rooms: socket.handshake.auth.rooms || [] };
    socket.join(socket.handshake.auth.rooms || []);
  };
  io.on("connection", joinFromAuth);
  io.of("/admin").on("connection", joinFromAuth);
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  const port = http.address().port;
  return {
    io,
    port,
    async close() {
      io.close();
      await sleep(50);
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** A socket.io-client connected to `port` (namespace `nsp`), resolved once connected. */
export async function connectClient(port, nsp = "/", auth = {}) {
  const socket = ioc(`http://127.0.0.1:${port}${nsp}`, {
    auth,
    transports: ["websocket"],
    reconnection: false,
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** Values with binary as {"$bin": "<hex>"} (the mixed-cluster harness's). */
export { tagged } from "../mixed-harness.mjs";
