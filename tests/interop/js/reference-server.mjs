// Reference implementation of tests/TEST_SERVER.md on Node's official `socket.io` v4 server.
//
// The interop client scripts (client.mjs, ../python/client.py) are validated against this server,
// so that every expectation they encode is what real socket.io does.
//
// Usage: node reference-server.mjs [--fast]
//   Listens on 127.0.0.1, port chosen by the OS, and prints exactly one line `LISTENING <port>` to
//   stdout once ready. `--fast` selects the "protocol tests" options column of TEST_SERVER.md
//   (pingInterval 300, pingTimeout 200, connectTimeout 1000); otherwise the "interop tests" column.

import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { Server } from "socket.io";

// socket.io's package "exports" hides dist/client.js; load it by file path (same CJS module
// instance that the `socket.io` entry point uses).
const require = createRequire(import.meta.url);
const { Client } = require(path.join(path.dirname(require.resolve("socket.io")), "client.js"));

const fast = process.argv.includes("--fast");

// TEST_SERVER.md: the server emits "auth" with the auth payload, or `null` when none was sent.
// socket.io's Client.connect() replaces a missing CONNECT payload with `{}`, which would make an
// absent payload indistinguishable from an explicit `{}`. Mark the substituted object so the
// namespace handler can report `null` for it.
const NO_AUTH = new WeakSet();
const originalConnect = Client.prototype.connect;
Client.prototype.connect = function (name, auth) {
  if (auth === undefined) {
    auth = {};
    NO_AUTH.add(auth);
  }
  return originalConnect.call(this, name, auth);
};

const httpServer = http.createServer((req, res) => {
  const path = (req.url || "").split("?")[0];
  if (req.method === "GET" && path === "/health") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("ok");
    return;
  }
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: fast ? 300 : 25000,
  pingTimeout: fast ? 200 : 20000,
  connectTimeout: fast ? 1000 : 45000,
  maxHttpBufferSize: 1_000_000,
  cors: { origin: "*" },
});

function sortedRooms(socket) {
  return [...socket.rooms].map(String).sort();
}

// Splits the trailing ack callback (if any) off the event arguments.
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, () => {}];
}

function authPayload(socket) {
  const auth = socket.handshake.auth;
  return NO_AUTH.has(auth) ? null : auth;
}

function registerEvents(socket) {
  socket.on("echo", (...raw) => {
    const [args] = splitAck(raw); // "echo" never acks
    socket.emit("echo", ...args);
  });

  socket.on("ack", (...raw) => {
    const [args, ack] = splitAck(raw);
    ack(...args);
  });

  socket.on("join", async (...raw) => {
    const [[room], ack] = splitAck(raw);
    await socket.join(room);
    ack(sortedRooms(socket));
  });

  socket.on("leave", async (...raw) => {
    const [[room], ack] = splitAck(raw);
    await socket.leave(room);
    ack(sortedRooms(socket));
  });

  socket.on("rooms", (...raw) => {
    const [, ack] = splitAck(raw);
    ack(sortedRooms(socket));
  });

  socket.on("to-room", (...raw) => {
    const [[room, payload], ack] = splitAck(raw);
    socket.to(room).emit("room-message", payload); // excludes the sender
    ack(true);
  });

  socket.on("to-room-all", (...raw) => {
    const [[room, payload], ack] = splitAck(raw);
    socket.nsp.to(room).emit("room-message", payload); // sender included
    ack(true);
  });

  socket.on("ask", (...raw) => {
    const [[payload], ack] = splitAck(raw);
    socket.timeout(5000).emit("question", payload, (err, a0) => {
      if (err) ack({ error: "timeout" });
      else ack(a0);
    });
  });

  socket.on("transport", (...raw) => {
    const [, ack] = splitAck(raw);
    ack(socket.conn.transport.name);
  });

  socket.on("disconnect-me", () => {
    socket.disconnect(); // this namespace only; the client sees "io server disconnect"
  });

  socket.on("close-me", () => {
    // Close the whole Engine.IO connection (no socket.io DISCONNECT packets first).
    socket.conn.close();
  });
}

function onConnection(socket) {
  registerEvents(socket);
  socket.emit("auth", authPayload(socket));
}

for (const name of ["/", "/custom"]) {
  const nsp = io.of(name);
  nsp.use((socket, next) => {
    const auth = authPayload(socket);
    if (auth !== null && typeof auth === "object" && auth.reject === true) {
      next(new Error("rejected by server"));
    } else {
      next();
    }
  });
  nsp.on("connection", onConnection);
}

const admin = io.of("/admin");
admin.use((socket, next) => {
  const auth = authPayload(socket);
  const ok =
    auth !== null &&
    typeof auth === "object" &&
    !Array.isArray(auth) &&
    Object.keys(auth).length === 1 &&
    auth.token === "secret";
  if (ok) next();
  else next(new Error("unauthorized"));
});
admin.on("connection", onConnection);

// Any other namespace: socket.io itself answers CONNECT_ERROR {"message": "Invalid namespace"}.

httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
