// Connection state recovery as the official socket.io-client 4.8 sees it (driven by
// tests/recovery.rs, whose servers have `connection_state_recovery`).
//
// Usage: node recovery.mjs single <base-url> <short-base-url> <polling|websocket>
//   <short-base-url> is a server whose max_disconnection_duration is 300 ms.
// or:    node recovery.mjs cluster <node-a-url> <node-b-url> <polling|websocket>
//   two nodes of one cluster (Redis Streams or Postgres adapter): the client leaves node A and
//   recovers on node B, with what both nodes broadcast while it was away.
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

const [mode, base, shortBase, transport] = process.argv.slice(2);
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 50_000).unref();

const options = (auth) => ({
  transports: [transport],
  forceNew: true,
  reconnection: false, // the script reconnects by hand, when the server side is ready
  timeout: 5000,
  auth,
});
const once = (s, ev) => new Promise((resolve) => s.once(ev, (...args) => resolve(args)));
const ask = (s, ...args) => s.timeout(5000).emitWithAck(...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Connects and waits for the server's "hello" (the first event, so the client has an offset).
async function open(url, auth = {}) {
  const s = io(url, options(auth));
  const hello = once(s, "hello");
  await once(s, "connect");
  const [recovered, offset] = await hello;
  assert.equal(recovered, false, "a first connection is not recovered");
  assert.equal(typeof offset, "string", `"hello" carries an offset: ${offset}`);
  return s;
}

// An observer in the server's "observers" room, told of every disconnection ("gone", sid).
async function observer(url) {
  const s = await open(url);
  assert.equal(await ask(s, "observe"), true);
  return s;
}

// Closes the client's connection (not a disconnect the client chose) and waits until the
// server has seen the socket go.
async function lose(s, obs) {
  const id = s.id;
  const gone = new Promise((resolve) => {
    const f = (sid) => {
      if (sid === id) {
        obs.off("gone", f);
        resolve();
      }
    };
    obs.on("gone", f);
  });
  const closed = once(s, "disconnect");
  s.io.engine.close();
  const [reason] = await closed;
  assert.equal(reason, "forced close"); // the client's word; the server sees "transport close"
  await gone;
}

async function reconnect(s) {
  const hello = once(s, "hello");
  const connected = once(s, "connect");
  s.connect();
  await connected;
  const [recovered] = await hello;
  return recovered;
}

async function recovers(obs) {
  const a = await open(base + "/", { user: "ana" });
  assert.equal(a.recovered, false);
  assert.deepEqual(await ask(a, "join", "room-c"), [a.id, "room-a", "room-c"].sort());
  await ask(a, "set-score", 7);
  const before = await ask(a, "whoami");
  assert.deepEqual(before.data, { user: "ana", score: 7 });
  assert.equal(before.recovered, false);

  const news = [];
  a.on("news", (...args) => news.push(args));
  await lose(a, obs);

  // while it is away: broadcasts to its rooms, to its id, to everyone, and some it must not get
  const b = await open(base + "/");
  assert.equal(await ask(b, "spread", before.id), true);
  b.disconnect();

  assert.equal(await reconnect(a), true, "the connect handler ran and saw recovered()");
  assert.equal(a.recovered, true, "socket.recovered");
  assert.equal(a.id, before.id, "same id");
  const after = await ask(a, "whoami");
  assert.equal(after.recovered, true);
  assert.equal(after.id, before.id);
  assert.deepEqual(after.rooms, before.rooms, "same rooms");
  assert.deepEqual(after.data, before.data, "same data");
  // the ack above came after everything queued before it: the missed packets, in order, each
  // with its offset as last argument; not the volatile one, not those of other rooms
  assert.deepEqual(news.map((args) => args[0]), [1, 2, 3, 4], JSON.stringify(news));
  for (const args of news) {
    assert.equal(args.length, 2, JSON.stringify(args));
    assert.equal(typeof args[1], "string");
  }
  assert.equal(new Set(news.map((args) => args[1])).size, 4, "distinct offsets");

  // and it can recover again, from the offsets it got since
  await lose(a, obs);
  assert.equal(await reconnect(a), true, "recovered a second time");
  assert.equal(a.id, before.id);
  assert.deepEqual((await ask(a, "whoami")).rooms, before.rooms);
  a.disconnect();
}

async function macroNamespaceRecovers(obs) {
  const m = await open(base + "/macro", { user: "bo" });
  const before = await ask(m, "whoami");
  assert.deepEqual(before.data, { user: "bo" });
  await lose(m, obs);
  assert.equal(await reconnect(m), true, "#[on_connect] saw recovered()");
  assert.equal(m.recovered, true);
  const after = await ask(m, "whoami");
  assert.deepEqual(after, { ...before, recovered: true });
  m.disconnect();
}

async function notRecovered(s, before, label) {
  assert.equal(s.recovered, false, `${label}: socket.recovered`);
  const now = await ask(s, "whoami");
  assert.equal(now.recovered, false, label);
  assert.notEqual(now.id, before.id, `${label}: a new id`);
  assert.deepEqual(now.rooms, [now.id, "room-a"].sort(), `${label}: fresh rooms`);
  s.disconnect();
}

async function serverDisconnect() {
  const s = await open(base + "/", { user: "cy" });
  await ask(s, "join", "room-c");
  const before = await ask(s, "whoami");
  const closed = once(s, "disconnect");
  s.emit("disconnect-me");
  assert.equal((await closed)[0], "io server disconnect");
  assert.equal(await reconnect(s), false);
  await notRecovered(s, before, "after socket.disconnect() on the server");
}

async function clientDisconnect() {
  const s = await open(base + "/", { user: "di" });
  await ask(s, "join", "room-c");
  const before = await ask(s, "whoami");
  s.disconnect();
  assert.equal(await reconnect(s), false);
  await notRecovered(s, before, "after the client's socket.disconnect()");
}

async function unknownPid(obs) {
  const s = await open(base + "/", { user: "ed" });
  const before = await ask(s, "whoami");
  await lose(s, obs);
  s._pid = "not-a-session-id";
  assert.equal(await reconnect(s), false);
  await notRecovered(s, before, "with an unknown pid");
}

async function tooLate() {
  const obs = await observer(shortBase + "/");
  const s = await open(shortBase + "/", { user: "fi" });
  const before = await ask(s, "whoami");
  await lose(s, obs);
  await sleep(1000); // max_disconnection_duration is 300 ms there
  assert.equal(await reconnect(s), false);
  await notRecovered(s, before, "after max_disconnection_duration");
  obs.disconnect();
}

// Waits for the next "news" `n` on `s`.
const news = (s, n) =>
  new Promise((resolve) => {
    const f = (got) => {
      if (got === n) {
        s.off("news", f);
        resolve();
      }
    };
    s.on("news", f);
  });

async function movesToAnotherNode(nodeA, nodeB) {
  const obsA = await observer(nodeA + "/");
  const a = await open(nodeA + "/", { user: "ana" });
  await ask(a, "join", "room-c");
  await ask(a, "set-score", 7);
  const before = await ask(a, "whoami");
  const got = [];
  a.on("news", (...args) => got.push(args));
  await lose(a, obsA);

  // both nodes broadcast while it is away; each waits until its own writes are done (its own
  // client got the last "news", which is delivered once the node's entry is written)
  const written = news(obsA, 4);
  assert.equal(await ask(obsA, "spread", before.id), true);
  await written;
  const b = await open(nodeB + "/");
  const writtenB = news(b, 4);
  assert.equal(await ask(b, "spread", before.id), true);
  await writtenB;

  a.io.uri = nodeB; // the client comes back on the other node
  assert.equal(await reconnect(a), true, "the connect handler on node B saw recovered()");
  assert.equal(a.recovered, true);
  assert.equal(a.id, before.id);
  const after = await ask(a, "whoami");
  assert.equal(after.recovered, true);
  assert.deepEqual(after.rooms, before.rooms, "same rooms on node B");
  assert.deepEqual(after.data, before.data, "same data on node B");
  assert.deepEqual(got.map((args) => args[0]), [1, 2, 3, 4, 1, 2, 3, 4], JSON.stringify(got));
  for (const args of got) {
    assert.equal(args.length, 2, JSON.stringify(args));
    assert.equal(typeof args[1], "string");
  }

  // recovered on B, it can lose the connection again and recover on A
  const obsB = await observer(nodeB + "/");
  await lose(a, obsB);
  a.io.uri = nodeA;
  assert.equal(await reconnect(a), true, "back on node A");
  assert.deepEqual(await ask(a, "whoami"), after);
  for (const s of [a, b, obsA, obsB]) s.disconnect();
}

try {
  if (mode === "cluster") {
    await movesToAnotherNode(base, shortBase);
    console.log("ok");
    process.exit(0);
  }
  const obs = await observer(base + "/");
  await recovers(obs);
  await macroNamespaceRecovers(obs);
  await serverDisconnect();
  await clientDisconnect();
  await unknownPid(obs);
  await tooLate();
  obs.disconnect();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
