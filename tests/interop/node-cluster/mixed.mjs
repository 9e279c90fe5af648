// A mixed cluster's Node side, for socketio-redis/tests/node_cluster.rs and node_sharded.rs: one
// Node socket.io 4.8 server on @socket.io/redis-adapter ($ADAPTER: "classic" createAdapter with
// key = $KEY, the default, or "sharded" createShardedAdapter with channelPrefix = $KEY; the
// `emitter` and `rooms` commands are classic only), and the clients, commands and output of
// ../mixed-harness.mjs. Redis: $REDIS_URL, or the Redis Cluster of $REDIS_CLUSTER (see
// common.mjs). With CLIENTS_ONLY=1: no Node server. Commands besides the harness's:
//   emitter {rooms, except, event, args}   @socket.io/redis-emitter: to(rooms).except(..).emit
//   rooms                                  -> all rooms of the cluster (io.of("/").adapter.allRooms())
//   floodfrom {start, count, batch, every} like flood with i in [start, start + count), `batch`
//                                          emits every `every` ms (default all at once); replies
//                                          at once, prints {"flooded": start} when done
//   tally {from, to}                       {reply, tally: {client: {received, duplicates, missing}}}:
//                                          flood numbers of [from, to) received; missing ranges
//                                          [a, b) (first 20); duplicates over the whole run
import { io as ioc } from "socket.io-client";
import { Emitter } from "@socket.io/redis-emitter";
import { redisClient, sleep, startServer } from "./common.mjs";
import { bin, print, recordServerEvents, run, sel } from "../mixed-harness.mjs";

const key = process.env.KEY;
const rustPort = process.env.RUST_PORT;
if (!key || !rustPort) {
  console.error("KEY and RUST_PORT are required");
  process.exit(2);
}

const clientsOnly = !!process.env.CLIENTS_ONLY;
const adapter = process.env.ADAPTER || "classic";
if (adapter !== "classic" && adapter !== "sharded") {
  console.error(`ADAPTER must be "classic" or "sharded", not ${adapter}`);
  process.exit(2);
}
const server = clientsOnly ? null : await startServer(adapter, key);
const io = server ? server.io : { on() {} };
if (server) recordServerEvents(io);

const emitterRedis = await redisClient();
const emitter = new Emitter(emitterRedis, { key });
await run({
  ioc,
  io,
  port: server && server.port,
  rustPort,
  clientsOnly,
  extra: {
    emitter: async (c) => {
      sel(emitter, c).emit(c.event, ...bin(c.args));
      return {};
    },
    rooms: async () => ({ rooms: [...(await io.of("/").adapter.allRooms())].sort() }),
    floodfrom: async (c) => {
      const { start, count } = c;
      const batch = c.batch || count;
      (async () => {
        for (let i = start; i < start + count; i += batch) {
          for (let j = i; j < Math.min(i + batch, start + count); j++) io.to("room1").emit("flood", j);
          if (c.every) await sleep(c.every);
        }
        print({ flooded: start });
      })();
      return {};
    },
    tally: async (c, { flood }) => {
      const tally = {};
      for (const [n, f] of Object.entries(flood)) {
        let received = 0;
        const missing = [];
        for (let i = c.from; i < c.to; i++) {
          if (f.seen.has(i)) received++;
          else if (missing.length && missing.at(-1)[1] === i) missing.at(-1)[1] = i + 1;
          else if (missing.length < 20) missing.push([i, i + 1]);
        }
        tally[n] = { received, duplicates: f.duplicates, missing };
      }
      return { tally };
    },
  },
});
