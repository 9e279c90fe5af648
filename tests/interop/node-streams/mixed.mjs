// A mixed cluster's Node side, for socketio-redis/tests/streams_cluster.rs: one Node socket.io 4.8
// server on @socket.io/redis-streams-adapter (streamName = channelPrefix = $STREAM, with
// connectionStateRecovery, maxLen = $MAXLEN or 10000; STREAM_COUNT, SHARDED_PUBSUB=1 and
// ONLY_PLAINTEXT=1 set its streamCount, useShardedPubSub and onlyPlaintext options), and the
// clients, commands and output of ../mixed-harness.mjs. Redis: $REDIS_URL, or the Redis Cluster
// of $REDIS_CLUSTER (comma-separated node URLs). With CLIENTS_ONLY=1: no Node server.
// Commands besides the harness's:
//   persist {pid, sid, rooms, data}     adapter.persistSession(...) on Node's "/" adapter
//   restore {pid, offset}               adapter.restoreSession(pid, offset) -> {session} or {none}
//   offset                              the id of the last entry of namespace "/"'s stream
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createClient, createCluster } from "redis";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { run, serve, tagged } from "../mixed-harness.mjs";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const stream = process.env.STREAM;
const rustPort = process.env.RUST_PORT;
if (!stream || !rustPort) {
  console.error("STREAM and RUST_PORT are required");
  process.exit(2);
}
const streamCount = Number(process.env.STREAM_COUNT || 1);

const redis = process.env.REDIS_CLUSTER
  ? createCluster({ rootNodes: process.env.REDIS_CLUSTER.split(",").map((url) => ({ url })) })
  : createClient({ url: REDIS_URL });
redis.on("error", (e) => console.error("redis error", e.message));
await redis.connect();

const clientsOnly = !!process.env.CLIENTS_ONLY;
let io = { on() {}, of() { return { adapter: null }; } };
let port = 0;
if (!clientsOnly) {
  ({ io, port } = await serve(Server, {
    adapter: createAdapter(redis, {
      streamName: stream,
      channelPrefix: stream,
      sessionKeyPrefix: `${stream}:session:`,
      maxLen: Number(process.env.MAXLEN || 10000),
      streamCount,
      useShardedPubSub: !!process.env.SHARDED_PUBSUB,
      onlyPlaintext: !!process.env.ONLY_PLAINTEXT,
    }),
    connectionStateRecovery: { maxDisconnectionDuration: 60000 },
  }));
}

await run({
  ioc,
  io,
  port,
  rustPort,
  clientsOnly,
  extra: {
    persist: async (c) => {
      io.of("/").adapter.persistSession({ sid: c.sid, pid: c.pid, rooms: c.rooms, data: c.data });
      await new Promise((r) => setTimeout(r, 50));
      return {};
    },
    restore: async (c) => {
      const session = await io.of("/").adapter.restoreSession(c.pid, c.offset).catch(() => null);
      return session ? { session: tagged(session) } : { none: true };
    },
    offset: async () => {
      // The stream of namespace "/" (47 is hashCode("/"); see the adapter's computeStreamName).
      const nspStream = streamCount === 1 ? stream : `${stream}-${47 % streamCount}`;
      const last = await redis.xRevRange(nspStream, "+", "-", { COUNT: 1 });
      return { offset: last.length ? last[0].id : null };
    },
  },
});
