// The chat example (examples/chat, written with #[namespace]) driven by the real
// socket.io-client: refused nicknames (empty, too long in characters, in use), rooms and
// their members, message delivery and acks.
// Usage: node chat.mjs <base-url>
import { io } from "socket.io-client";

const url = process.argv[2];
setTimeout(() => { console.log("FAIL chat: watchdog"); process.exit(3); }, 30000);

const fail = (msg) => { console.log(`FAIL chat: ${msg}`); process.exit(1); };
const eq = (a, b, what) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) fail(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
};
const connected = (s) => new Promise((res, rej) => { s.once("connect", res); s.once("connect_error", rej); });
const next = (s, ev) => new Promise((res) => s.once(ev, res));

const refused = io(url, { auth: { name: "  " }, forceNew: true });
try { await connected(refused); fail("an empty nickname was accepted"); } catch (e) {
  eq(e.message, "pick a nickname of 1 to 32 characters", "refusal");
}
refused.close();

// Nicknames are counted in characters, not bytes (32 at most), and one in use is refused.
const long = io(url, { auth: { name: "ß".repeat(32) }, forceNew: true });
await connected(long);
const twin = io(url, { auth: { name: " " + "ß".repeat(32) }, forceNew: true });
try { await connected(twin); fail("a nickname in use was accepted"); } catch (e) {
  eq(e.message, `the nickname ${"ß".repeat(32)} is in use, pick another`, "refusal of a twin");
}
twin.close();
const tooLong = io(url, { auth: { name: "ß".repeat(33) }, forceNew: true });
try { await connected(tooLong); fail("33 characters were accepted"); } catch (e) {
  eq(e.message, "pick a nickname of 1 to 32 characters", "refusal of 33 characters");
}
tooLong.close();
long.close();

const ann = io(url, { auth: { name: "ann" }, forceNew: true });
const bob = io(url, { auth: { name: "bob" }, forceNew: true, transports: ["websocket"] });
await Promise.all([connected(ann), connected(bob)]);

eq(await ann.emitWithAck("join", "rust"), "rust", "ann join ack");
const joinedNotice = next(ann, "system");
const members = next(ann, "members");
eq(await bob.emitWithAck("join", "rust"), "rust", "bob join ack");
eq(await joinedNotice, "bob joined rust", "ann sees bob join");
eq(await members, { room: "rust", names: ["ann", "bob"] }, "members after bob joined");
eq(await bob.emitWithAck("join", "no such room"), "rust", "an unknown room is not joined");

eq(await ann.emitWithAck("message", "  "), { error: "an empty message" }, "an empty line is refused");
const line = next(bob, "message");
eq(await ann.emitWithAck("message", "hi bob"), { recipients: 1 }, "message ack");
eq(await line, { from: "ann", text: "hi bob", room: "rust" }, "bob's line");

const loner = io(url, { auth: { name: "cid" }, forceNew: true });
await connected(loner);
eq(await loner.emitWithAck("message", "anyone?"), { error: "join a room first" }, "error ack");

const leftNotice = next(ann, "system");
bob.close();
eq(await leftNotice, "bob left", "ann sees bob leave");

for (const s of [ann, loner]) s.close();
console.log("chat example: 1 passed, 0 failed");
process.exit(0);
