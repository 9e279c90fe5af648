import { io, type Socket } from "socket.io-client";
import type * as S from "./generated/server";

const chat: Socket<S.ServerToClientEvents, S.ClientToServerEvents> = io("http://127.0.0.1:3000", {
  auth: { name: "ann" } satisfies S.SocketAuth,
});
const rich: Socket<S.RichServerToClientEvents, S.RichClientToServerEvents> = io("/rich");
// a wrong argument type: the room is a string
chat.emit("join", 42, (room) => console.log(room));
// a wrong ack type: the join ack is the room's name
chat.emit("join", "lobby", (n: number) => console.log(n));
// an event the server does not handle
chat.emit("shout", "hello");
// a field the ack does not have
chat.emit("message", "hi", (res) => { if (!("error" in res)) console.log(res.recipient); });
// a server event's payload read as the wrong type
chat.on("system", (text) => { const n: string = text.length; console.log(n); });
// an enum variant with a field of another variant
rich.emit("draw", { kind: "circle", w: 1 }, [0, 0], () => {});
// a server event that is not declared
rich.on("tock", () => {});
// the "add numbers" ack is a number
rich.emit("add numbers", 1, 2, (n: string) => console.log(n));
