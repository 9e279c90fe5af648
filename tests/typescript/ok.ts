// A client written against the declarations the server generates (generated/server.d.ts,
// written by tests/typescript.rs): it must compile without a single error.
import { io, type Socket } from "socket.io-client";
import type * as S from "./generated/server";

// examples/chat, namespace "/"
const chat: Socket<S.ServerToClientEvents, S.ClientToServerEvents> = io("http://127.0.0.1:3000", {
  auth: { name: "ann" } satisfies S.SocketAuth,
  autoConnect: false,
});
chat.emit("join", "lobby", (room) => {
  const joined: string = room;
  console.log(joined);
});
chat.emit("message", "hello", (res) => {
  if ("error" in res) {
    const why: string = res.error;
    console.log(why);
  } else {
    const count: number = res.recipients;
    console.log(count);
  }
});
chat.on("message", (line) => console.log(`${line.from} in ${line.room}: ${line.text}`));
chat.on("system", (text) => console.log(text.toUpperCase()));
chat.on("members", ({ room, names }) => console.log(room, names.join(", ")));
export async function joinWithAck(): Promise<string> {
  return await chat.emitWithAck("join", "lobby");
}

// the richer namespace "/rich"
const rich: Socket<S.RichServerToClientEvents, S.RichClientToServerEvents> = io("http://127.0.0.1:3000/rich", {
  auth: { token: "t", client: null } satisfies S.RichSocketAuth,
  autoConnect: false,
});
const order: S.NewOrder = {
  customerId: 7,
  items: [{ sku: "a", qty: 2 }],
  note: null,
  tags: { gift: 1 },
  source: "web",
};
rich.emit("order", order, (res) => {
  if ("error" in res) console.log(res.error.length);
  else console.log(res.id, res.total.toFixed(2));
});
rich.emit("draw", { kind: "circle", radius: 2 }, [1, 2], (inside, corners) => {
  const both: [boolean, number] = [inside, corners];
  console.log(both);
});
rich.emit("draw", { kind: "rect", w: 1, h: 2 }, [0, 0], () => {});
rich.emit("note", "hi");
rich.emit("note", "hi", "red");
rich.emit("memo", "hi", null);
rich.emit("add numbers", 1, null, (sum) => console.log(sum + 1));
rich.emit("later", (...args) => console.log(args));
rich.emit("raw", 1, "two", { three: 3 });
rich.on("shape", (shape, by) => {
  if (shape.kind === "rect") console.log(shape.w * shape.h, by);
  else console.log(shape.radius, by);
});
rich.on("tick", () => console.log("tick"));
rich.on("pair", ([a, b]) => console.log(a + b));
rich.on("receipt", (receipt) => console.log(receipt.id));

// closures described with describe_event, namespace "/closures"
const closures: Socket<S.ClosuresServerToClientEvents, S.ClosuresClientToServerEvents> = io("/closures", {
  autoConnect: false,
});
closures.emit("scores", { ann: [1, 2] }, (n) => console.log(n.toFixed(0)));
closures.emit("nothing");
