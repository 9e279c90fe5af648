// @socket.io/admin-ui's own built UI (ui/dist, served by the test server at <base>/) in
// headless Chromium against our server (driven by tests/admin_ui.rs): fill the connection form
// (server URL, credentials), then the sockets page lists our sockets and the rooms page our
// rooms.
//
// Usage: node admin-ui.mjs <base-url> <username> <password> [<screenshot.png>]
// Chromium: $CHROMIUM or /usr/bin/chromium (scripts/setup-browser.sh installs it).
// Exits 0 when every check passed; prints what failed otherwise.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { io } from "socket.io-client";

const [base, username, password, screenshot] = process.argv.slice(2);
let step = "start";
const at = (name) => {
  step = name;
};
setTimeout(() => {
  console.error(`timeout at ${step}`);
  process.exit(3);
}, 60_000).unref();

const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });

let browser;
try {
  // our sockets: one in "/" (the server makes it join "lobby"), one in "/chat" ("early")
  at("clients");
  const ann = io(`${base}/`, { transports: ["websocket"], forceNew: true, reconnection: false });
  const bob = io(`${base}/chat`, { transports: ["websocket"], forceNew: true, reconnection: false });
  await Promise.all([connected(ann), connected(bob)]);

  at("browser");
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  // fonts and icons from CDNs: not reachable here, and not needed
  await page.route("**/*", (route) =>
    route.request().url().startsWith(base) ? route.continue() : route.abort(),
  );
  const errors = [];
  page.on("pageerror", (err) => errors.push(String(err)));

  at("connection form");
  await page.goto(`${base}/#/sockets/`);
  const form = page.locator(".v-dialog form");
  await form.waitFor({ state: "visible" });
  // a wrong password first: the form says so
  await form.locator("input").nth(0).fill(base);
  await form.locator("input").nth(1).fill(username);
  await form.locator("input[type=password]").fill("not the password");
  await form.locator("button[type=submit]").click();
  await form.locator(".red--text").waitFor({ state: "visible" });
  assert.match(await form.locator(".red--text").innerText(), /invalid credentials|credentials/i);
  await form.locator("input[type=password]").fill(password);
  await form.locator("button[type=submit]").click();
  await form.waitFor({ state: "hidden" });

  at("sockets page lists our socket of /");
  await page.getByText(ann.id, { exact: false }).first().waitFor({ state: "visible" });

  at("rooms page lists our room");
  await page.goto(`${base}/#/rooms/`);
  await page.getByText("lobby", { exact: true }).first().waitFor({ state: "visible" });

  at("a room joined now shows up live");
  ann.emit("enter", "live-room");
  await page.getByText("live-room", { exact: true }).first().waitFor({ state: "visible" });

  at("the /chat namespace");
  // the namespace selector of the rooms page: pick /chat, its room "early" is listed
  await page.locator(".selector .v-input__slot").first().click();
  await page.getByRole("option", { name: "/chat" }).click();
  await page.getByText("early", { exact: true }).first().waitFor({ state: "visible" });

  if (screenshot) {
    at("screenshot");
    await page.goto(`${base}/#/sockets/`);
    await page.locator(".selector .v-input__slot").first().click();
    await page.getByRole("option", { name: "/", exact: true }).click();
    await page.locator(".menuable__content__active").waitFor({ state: "hidden" });
    await page.waitForTimeout(500); // the menu's fade-out, for the picture only
    await page.getByText(ann.id, { exact: false }).first().waitFor({ state: "visible" });
    await page.screenshot({ path: screenshot });
  }

  assert.deepEqual(errors, [], "no error in the page");
  ann.close();
  bob.close();
  await browser.close();
  console.log("ok");
  process.exit(0);
} catch (err) {
  console.error(`failed at ${step}:`, err);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}
