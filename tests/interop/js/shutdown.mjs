// Graceful shutdown as the official socket.io-client sees it (driven by tests/hostile.rs).
//
// Usage: node shutdown.mjs <base-url> <polling|websocket>
// Prints one JSON line per happening: {"connected":true}, {"event":[...]} for each "news"
// event, then {"disconnect":"<reason>"} and exits 0. Exits 3 if nothing ends it in 30 s.

import { io } from "socket.io-client";

const [base, transport] = process.argv.slice(2);
const socket = io(base, { transports: [transport], reconnection: false, timeout: 5000 });
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

const say = (line) => console.log(JSON.stringify(line));
socket.on("connect", () => say({ connected: true }));
socket.on("news", (...args) => say({ event: args }));
socket.on("connect_error", (err) => {
  say({ connect_error: err.message });
  process.exit(2);
});
socket.on("disconnect", (reason) => {
  say({ disconnect: reason });
  process.exit(0);
});
