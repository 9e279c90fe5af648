// The example chat (examples/chat) in headless Chromium, as a user sees it: two pages join
// (a nickname over the limit and one in use refused in red, a non-ASCII one of exactly 32
// characters accepted), talk both ways, switch rooms without reloading and see the member
// list change, wrap a long word, lose their network (connection state recovery brings the
// missed message) and live through a server restart.
//
// Usage: node chat.mjs <base-url>   (driven by tests/browser.rs)
// The server restart is the Rust test's job: this script prints "STOP" and waits for
// "STOPPED" on stdin, later prints "START" and waits for "STARTED".
// CHROMIUM: the browser (default /usr/bin/chromium, Debian's package).
// CHAT_SCREENSHOT: if set, a screenshot of the second page is written there.
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const url = process.argv[2];
assert.ok(url, "usage: node chat.mjs <base-url>");
setTimeout(() => {
  console.log("FAIL browser chat: watchdog (60 s)");
  process.exit(3);
}, 60_000).unref();

const WAIT = 10_000; // every wait of this script, at most
const RED = "rgb(187, 0, 0)";

// Lines from the Rust test, one at a time.
const lines = createInterface({ input: process.stdin });
const pending = [];
const waiters = [];
lines.on("line", (l) => (waiters.length ? waiters.shift()(l) : pending.push(l)));
const nextLine = () =>
  new Promise((resolve, reject) => {
    if (pending.length) return resolve(pending.shift());
    const timer = setTimeout(() => reject(new Error("no answer from the test on stdin")), 20_000);
    waiters.push((l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
async function tell(word, answer) {
  console.log(word);
  assert.equal(await nextLine(), answer);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
});
let failed = true;
try {
  await run();
  failed = false;
} catch (e) {
  console.log(`FAIL browser chat: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(failed ? "browser chat: 0 passed, 1 failed" : "browser chat: 1 passed, 0 failed");
process.exit(failed ? 1 : 0);

async function run() {
  // Every HTTP answer of the pages, to catch 404s (the favicon) and to see the icon served.
  const responses = [];
  const open = async (who) => {
    const context = await browser.newContext({ viewport: { width: 820, height: 540 } });
    context.setDefaultTimeout(WAIT);
    context.on("response", (r) => responses.push({ who, status: r.status(), url: r.url() }));
    const page = await context.newPage();
    page.on("pageerror", (e) => console.log(`${who} page error: ${e}`));
    await page.goto(url);
    // Gone if the page reloads.
    await page.evaluate(() => (window.loadedOnce = true));
    return { who, context, page };
  };
  const ann = await open("ann");
  const bob = await open("bob");

  const status = (p) => p.page.textContent("#status");
  const logLines = (p) => p.page.$$eval("#log > div", (l) => l.map((d) => d.textContent));
  const members = (p) => p.page.$$eval("#members li", (l) => l.map((li) => li.textContent));
  // Waits for `fn(arg)` to be true in the page; a timeout says what was awaited and what the
  // page shows.
  const waitFor = (p, what, fn, arg) =>
    p.page.waitForFunction(fn, arg, { timeout: WAIT }).catch(async (e) => {
      const seen = { status: await status(p), members: await members(p), log: (await logLines(p)).slice(-6) };
      throw new Error(`${p.who}: waited for ${what}; the page shows ${JSON.stringify(seen, null, 1)}\n(${e.message.split("\n")[0]})`);
    });
  const waitStatus = (p, prefix) =>
    waitFor(p, `status "${prefix}…"`, (s) => document.querySelector("#status").textContent.startsWith(s), prefix);
  const waitLog = (p, text) =>
    waitFor(p, `line "${text}"`, (t) => [...document.querySelectorAll("#log > div")].some((d) => d.textContent === t), text);
  const waitMembers = (p, names) =>
    waitFor(
      p,
      `members ${JSON.stringify(names)}`,
      (n) => JSON.stringify([...document.querySelectorAll("#members li")].map((li) => li.textContent)) === n,
      JSON.stringify(names),
    );
  const login = async (p, name) => {
    await p.page.fill("#login input[name=name]", name);
    await p.page.click("#login button");
  };
  const refusedInRed = async (p, message) => {
    await waitStatus(p, "refused: ");
    assert.equal(await status(p), `refused: ${message}`);
    const color = await p.page.$eval("#status", (e) => getComputedStyle(e).color);
    assert.equal(color, RED, `${p.who}: the refusal is shown in red`);
    assert.equal(await p.page.isVisible("#login"), true, `${p.who}: the login form is back`);
  };
  const send = async (p, text) => {
    await p.page.fill("#send input", text);
    await p.page.click("#send button");
  };
  const switchTo = async (p, room) => {
    await p.page.click(`#rooms button[data-room="${room}"]`);
    await waitFor(p, `room ${room}`, (r) => document.querySelector("#room").textContent === r, room);
    await waitLog(p, `you are in ${room}`);
    assert.equal(await p.page.getAttribute(`#rooms button[data-room="${room}"]`, "aria-pressed"), "true");
  };
  const notReloaded = async (p) =>
    assert.equal(await p.page.evaluate(() => window.loadedOnce), true, `${p.who}: the page reloaded`);

  // 1. Nicknames: 33 characters refused (in red), exactly 32 non-ASCII characters (61 bytes)
  //    accepted, the same name refused to the second page, then "bob".
  const long = "Анна-Мария Благовещенская-Ильина";
  assert.equal([...long].length, 32);
  assert.ok(Buffer.byteLength(long) > 32);
  await login(ann, `${long}!`);
  await refusedInRed(ann, "pick a nickname of 1 to 32 characters");
  await login(ann, long);
  await waitStatus(ann, `connected as ${long}`);
  await login(bob, long);
  await refusedInRed(bob, `the nickname ${long} is in use, pick another`);
  await login(bob, "bob");
  await waitStatus(bob, "connected as bob");
  for (const p of [ann, bob]) {
    await waitLog(p, "you are in lobby");
    await waitMembers(p, ["bob", long]);
    assert.equal(await p.page.textContent("#room"), "lobby");
  }

  // 2. Messages both ways, with the sender's ack.
  await send(ann, "hi bob");
  await waitLog(bob, `${long}: hi bob`);
  await waitLog(ann, "me: hi bob (seen by 1)");
  await send(bob, "hello Анна");
  await waitLog(ann, "bob: hello Анна");

  // 3. Rooms, without reloading: bob goes to rust, each list has one name; ann follows.
  await switchTo(bob, "rust");
  await waitMembers(bob, ["bob"]);
  await waitMembers(ann, [long]);
  await waitLog(ann, "bob left lobby");
  await switchTo(ann, "rust");
  await waitMembers(ann, ["bob", long]);
  await waitMembers(bob, ["bob", long]);
  await waitLog(bob, `${long} joined rust`);
  await send(bob, "welcome to #rust");
  await waitLog(ann, "bob: welcome to #rust");
  for (const p of [ann, bob]) await notReloaded(p);
  if (process.env.CHAT_SCREENSHOT) await bob.page.screenshot({ path: process.env.CHAT_SCREENSHOT });

  // 4. A long unbroken word wraps: nothing wider than the log.
  const word = "w".repeat(400);
  await send(ann, word);
  await waitLog(bob, `${long}: ${word}`);
  for (const p of [ann, bob]) {
    const sizes = await p.page.$eval("#log", (log) => {
      const last = log.lastElementChild;
      return { log: [log.scrollWidth, log.clientWidth], line: [last.scrollWidth, last.clientWidth] };
    });
    assert.ok(sizes.log[0] <= sizes.log[1], `${p.who}: the log scrolls sideways ${JSON.stringify(sizes)}`);
    assert.ok(sizes.line[0] <= sizes.line[1], `${p.who}: the line overflows ${JSON.stringify(sizes)}`);
  }

  // 5. Ann's network drops: the page keeps trying (a connect error does not stop it), bob
  //    talks meanwhile, and when the network is back ann's socket is recovered: same room,
  //    the missed line delivered, no join needed.
  const annId = await ann.page.evaluate(() => socket.id);
  await ann.context.setOffline(true);
  await waitStatus(ann, "connection lost, reconnecting… (");
  assert.equal(await ann.page.$eval("#status", (e) => e.className), "warn");
  await waitLog(bob, `${long} left`);
  await waitMembers(bob, ["bob"]);
  await send(bob, "while you were away");
  await waitLog(bob, "me: while you were away (seen by 0)");
  await ann.context.setOffline(false);
  await waitStatus(ann, `connected as ${long}`);
  await waitLog(ann, "reconnected: same socket, back in rust");
  await waitLog(ann, "bob: while you were away");
  assert.equal(await ann.page.evaluate(() => socket.id), annId, "the recovered socket keeps its id");
  await waitLog(bob, `${long} is back`);
  await waitMembers(bob, ["bob", long]);
  await waitMembers(ann, ["bob", long]);

  // 6. The server restarts: both pages keep trying while it is down, reconnect to the new
  //    one (a new socket: its sessions are gone), join their room again and talk.
  await tell("STOP", "STOPPED");
  for (const p of [ann, bob]) await waitStatus(p, "connection lost, reconnecting… (");
  await tell("START", "STARTED");
  for (const p of [ann, bob]) {
    await waitStatus(p, "connected as ");
    await waitMembers(p, ["bob", long]);
    assert.equal(await p.page.textContent("#room"), "rust");
  }
  await send(ann, "after the restart");
  await waitLog(bob, `${long}: after the restart`);
  await waitLog(ann, "me: after the restart (seen by 1)");
  for (const p of [ann, bob]) await notReloaded(p);

  // 7. The icon the page names is served (no 404 from the browser's favicon request), and
  //    so is /favicon.ico for clients that ask for it anyway; no page resource failed.
  const icon = responses.find((r) => /\/favicon\.(svg|ico)$/.test(r.url));
  const paths = [...new Set(responses.map((r) => new URL(r.url).pathname))];
  assert.ok(icon, `the browser asked for no icon; it asked for ${JSON.stringify(paths)}`);
  assert.equal(icon.status, 200, `favicon: ${JSON.stringify(icon)}`);
  const ico = await ann.page.request.get(new URL("/favicon.ico", url).href);
  assert.equal(ico.status(), 200);
  assert.match(ico.headers()["content-type"], /^image\//);
  const failures = responses.filter((r) => r.status >= 400 && !new URL(r.url).pathname.startsWith("/socket.io/"));
  assert.deepEqual(failures, [], "failed page resources");
}
