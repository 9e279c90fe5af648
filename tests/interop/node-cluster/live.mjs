// One Node socket.io server on @socket.io/redis-adapter (classic, key = $KEY) with one
// socket.io-client connected to it in room "room1". Prints JSON lines on stdout:
//   {"ready": true, "uid": "<adapter uid>"}         once the client is connected
//   {"client": [event, ...args]}                    every event the client receives
//   {"server": [event, ...args]}                    every serverSideEmit the server receives
// and obeys commands read line by line on stdin:
//   emit  -> io.to("room1").emit("to-rust", "hi", Buffer [9, 8, 7], {n: 1.25})
//   sse   -> io.serverSideEmit("node-sse", 7, "x")
//   quit  -> exit
// Binary values print as {"$bin": "<hex>"}.
import { createInterface } from "node:readline";
import { connectClient, startServer, tagged } from "./common.mjs";

const key = process.env.KEY;
if (!key) {
  console.error("KEY is required");
  process.exit(2);
}
const print = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const server = await startServer("classic", key);
server.io.on("from-rust", (...args) => print({ server: ["from-rust", ...args].map(tagged) }));
const client = await connectClient(server.port, "/", { rooms: ["room1"] });
client.onAny((event, ...args) => print({ client: [event, ...args].map(tagged) }));
print({ ready: true, uid: server.io.of("/").adapter.uid });

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === "emit") {
    server.io.to("room1").emit("to-rust", "hi", Buffer.from([9, 8, 7]), { n: 1.25 });
  } else if (cmd === "sse") {
    server.io.serverSideEmit("node-sse", 7, "x");
  } else if (cmd === "quit") {
    break;
  }
}
client.close();
await server.close();
process.exit(0);
