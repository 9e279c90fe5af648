// A mixed cluster's Node side, for socketio-postgres/tests/node_cluster.rs: one Node socket.io 4.8
// server on @socket.io/postgres-adapter (channelPrefix = $PREFIX, heartbeats every $HB_MS, dropped
// after 3 x $HB_MS), the clients, commands and output of ../mixed-harness.mjs, and a
// @socket.io/postgres-emitter. PostgreSQL: $PGHOST/$PGUSER/$PGDATABASE (pg's own environment
// variables). With CLIENTS_ONLY=1: no Node server. Commands besides the harness's:
//   emitter {rooms, except, event, args}   @socket.io/postgres-emitter: to(rooms).except(..).emit
import pg from "pg";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createAdapter } from "@socket.io/postgres-adapter";
import { Emitter } from "@socket.io/postgres-emitter";
import { bin, run, sel, serve } from "../mixed-harness.mjs";

const prefix = process.env.PREFIX;
const rustPort = process.env.RUST_PORT;
const hb = Number(process.env.HB_MS || 5000);
if (!prefix || !rustPort) {
  console.error("PREFIX and RUST_PORT are required");
  process.exit(2);
}

const pool = new pg.Pool({ max: 4 });
pool.on("error", (e) => console.error("pg error", e.message));
const clientsOnly = !!process.env.CLIENTS_ONLY;
let io = { on() {} };
let port = null;
if (!clientsOnly) {
  ({ io, port } = await serve(Server, {
    adapter: createAdapter(pool, {
      channelPrefix: prefix,
      heartbeatInterval: hb,
      heartbeatTimeout: 3 * hb,
      errorHandler: (e) => console.error("adapter error", e.message),
    }),
  }));
}

const emitter = new Emitter(pool, "/", { channelPrefix: prefix });
await run({
  ioc,
  io,
  port,
  rustPort,
  clientsOnly,
  extra: {
    emitter: async (c) => {
      await sel(emitter, c).emit(c.event, ...bin(c.args));
      return {};
    },
  },
});
