/**
 * `npm run bench:web -- [--runs N]`: the web wallet in Debian's Chromium against a provider in this
 * process (PGlite), as a person meets it.
 * - first screen: the JavaScript and CSS `index.html` loads before anything is clicked (its module
 *   scripts, their preloaded imports and stylesheets), gzipped at zlib's default level; and what the
 *   engine worker loads when the device is unlocked, for comparison;
 * - create → first address: from the click on "Create wallet" (a hybrid wallet: distributed key
 *   generation with the provider in the engine's worker) until the Ethereum address is on screen.
 * Prints the figures as JSON.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { timeSequential } from "../../provider/bench/timing.js";
import { mailedCode } from "../../provider/test/harness.js";
import { addVirtualAuthenticator, showing, startWebApp } from "../test/browser.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));

const { values } = parseArgs({ options: { runs: { type: "string" } } });
const runs = values.runs === undefined ? 5 : Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write("--runs is a whole number (default 5)\n");
  process.exit(2);
}

const gzipped = (files: readonly string[]) =>
  files.reduce((total, file) => total + gzipSync(readFileSync(join(DIST, file))).length, 0);
const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;

/** The files `index.html` makes the browser load at once: scripts, preloads and stylesheets under /app/. */
function firstScreenFiles(): string[] {
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const linked = [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\/app\/([^"]+)"[^>]*>/g)]
    .filter(([tag]) => /type="module"|rel="modulepreload"|rel="stylesheet"/.test(tag ?? ""))
    .map(([, file]) => file as string);
  return [...new Set(linked)];
}

const assets = readdirSync(join(DIST, "assets")).map((name) => `assets/${name}`);
const firstScreen = firstScreenFiles();
const firstScreenJs = firstScreen.filter((file) => file.endsWith(".js"));
const engineJs = assets.filter((file) => file.endsWith(".js") && !firstScreenJs.includes(file));
const engineWasm = assets.filter((file) => file.endsWith(".wasm"));

const web = await startWebApp();
try {
  const page: Page = await web.newPage();
  await addVirtualAuthenticator(page);
  await page.goto(web.appUrl);
  await showing(page, page.getByRole("heading", { name: "Set up this device" }));
  await page.getByLabel("Email").fill("bench@example.com");
  await page.getByLabel("Device name").fill("bench browser");
  await page.getByRole("button", { name: "Continue" }).click();
  await showing(page, page.getByRole("heading", { name: "Check your email" }));
  await page.getByLabel("Code").fill(await mailedCode(web.provider.mails, "bench@example.com"));
  await page.getByRole("button", { name: "Verify" }).click();
  await showing(page, page.getByRole("heading", { name: "Wallets", exact: true }));

  let n = 0;
  const createToAddress = await timeSequential(runs, async () => {
    const name = `bench ${++n}`;
    await page.getByLabel("Wallet name").fill(name);
    await page.getByRole("button", { name: "Create wallet" }).click();
    const address = page.getByRole("region", { name: "Ethereum", exact: true }).locator("code");
    await showing(page, address, 240_000);
    await page.getByRole("link", { name: "Wallets" }).click();
    await showing(page, page.getByRole("heading", { name: "Wallets", exact: true }));
  });

  process.stdout.write(
    `${JSON.stringify(
      {
        first_screen_js_gzip_kb: kb(gzipped(firstScreenJs)),
        first_screen_css_gzip_kb: kb(gzipped(firstScreen.filter((file) => file.endsWith(".css")))),
        engine_js_gzip_kb: kb(gzipped(engineJs)),
        engine_wasm_kb: kb(engineWasm.reduce((total, file) => total + statSync(join(DIST, file)).size, 0)),
        create_to_first_address: { runs, ...createToAddress },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await web.close();
}
