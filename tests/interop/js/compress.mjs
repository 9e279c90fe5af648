// socket.io-client over HTTP long-polling against a server that compresses polling responses
// (driven by tests/compression.rs): events arrive whole, and with the fetch transport (Node's
// fetch sends `Accept-Encoding: gzip, deflate` and inflates transparently) the response that
// carried each event is compressed exactly when it should be: big and emitted without
// compress(false). The default XHR transport cannot send Accept-Encoding in Node (a forbidden
// header for xmlhttprequest-ssl), so its responses are never compressed; it must still work.
//
// Usage: node compress.mjs <base-url> <fetch|xhr>
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { io, Fetch, NodeXHR } from "socket.io-client";

const [base, kind] = process.argv.slice(2);

// The Content-Encoding of the last polling GET answered (fetch transport only).
let lastGet = null;
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const res = await realFetch(url, init);
  if ((init?.method ?? "GET") === "GET") {
    lastGet = { coding: res.headers.get("content-encoding") };
  }
  return res;
};

const socket = io(base, {
  transports: [kind === "fetch" ? Fetch : NodeXHR],
  reconnection: false,
  timeout: 5000,
});
setTimeout(() => {
  console.error("timeout");
  process.exit(3);
}, 30_000).unref();

const once = (ev) => new Promise((resolve) => socket.once(ev, (...args) => resolve(args)));

// Asks for one `data` event of `size` characters with `compress`, and returns it with the
// coding of the response that carried it (read in the event handler: the client handles a
// response's packets before it sends its next GET).
async function data(event, compress, size) {
  const got = new Promise((resolve) =>
    socket.once("data", (index, text) => resolve({ index, text, coding: lastGet?.coding ?? null })),
  );
  socket.emit(event, [compress], size);
  return got;
}

try {
  await once("connect");
  assert.equal(socket.io.engine.transport.name, "polling");
  const gzipOrDeflate = (coding) => kind === "fetch" && ["gzip", "deflate"].includes(coding);
  for (const event of ["burst", "burst-room"]) {
    const big = await data(event, true, 4000);
    assert.equal(big.text, "x".repeat(4000), `${event}: the big event arrives whole`);
    if (kind === "fetch") {
      assert.ok(gzipOrDeflate(big.coding), `${event}: big event compressed, got ${big.coding}`);
    }
    const plain = await data(event, false, 4000);
    assert.equal(plain.text.length, 4000);
    if (kind === "fetch") {
      assert.equal(plain.coding, null, `${event}: compress(false) is sent as it is`);
    }
    const small = await data(event, true, 10);
    assert.equal(small.text, "x".repeat(10));
    if (kind === "fetch") {
      assert.equal(small.coding, null, `${event}: below the threshold`);
    }
  }
  socket.disconnect();
  console.log(`ok (${kind})`);
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
