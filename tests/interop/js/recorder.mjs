// Shared by the admin UI scripts (admin.mjs, admin-late.mjs): records every event an admin
// socket gets; `next(ev, pred)` waits for the first matching one not yet taken.
export const recorder = (socket) => {
  const seen = [];
  const waiting = [];
  socket.onAny((ev, ...args) => {
    seen.push({ ev, args });
    for (const w of [...waiting]) w();
  });
  const next = (ev, pred = () => true) =>
    new Promise((resolve) => {
      const check = () => {
        const i = seen.findIndex((e) => e.ev === ev && !e.taken && pred(...e.args));
        if (i < 0) return false;
        seen[i].taken = true;
        waiting.splice(waiting.indexOf(check), 1);
        resolve(seen[i].args);
        return true;
      };
      waiting.push(check);
      check();
    });
  return { seen, next };
};
