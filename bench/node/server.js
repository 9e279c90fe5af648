// The benchmark server on Node's socket.io v4 (the reference implementation), same handlers as
// the others: "echo" acks its argument, "join" joins room "bench", "broadcast" emits "msg" to
// room "bench". Listens on 127.0.0.1 only; Node's http server sets TCP_NODELAY by default.
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || process.env.PORT || 3190);
const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });
io.on("connection", (socket) => {
  socket.on("echo", (data, ack) => ack(data));
  // join: room "bench" or the one named; broadcast: to "bench" or data.room (multi-process runs)
  socket.on("join", (...args) => {
    const ack = args.pop();
    socket.join(typeof args[0] === "string" ? args[0] : "bench");
    ack();
  });
  socket.on("broadcast", (data) => io.to((data && data.room) || "bench").emit("msg", data));
});
httpServer.listen(port, "127.0.0.1");
