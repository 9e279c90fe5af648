// Decodes Redis adapter messages the way the Node adapters do (first byte `{` -> JSON.parse,
// otherwise notepack.io) and prints what Node sees.
//
//   stdin:  a JSON array of base64 strings
//   stdout: a JSON array, one entry per input: {"ok": <value>} or {"error": "<message>"},
//           with Buffers as {"$bin": "<hex>"} and undefined as {"$undefined": true}
import { decode } from "notepack.io";
import { tagged } from "./common.mjs";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((b64) => {
  const buf = Buffer.from(b64, "base64");
  try {
    return { ok: tagged(buf[0] === 0x7b ? JSON.parse(buf.toString()) : decode(buf)) };
  } catch (e) {
    return { error: e.message };
  }
});
process.stdout.write(JSON.stringify(out) + "\n");
