/**
 * `npm run bench:web -- [--runs N]`: the web wallet in Debian's Chromium against a provider in this
 * process (PGlite), as a person meets it.
 * - first screen: the JavaScript and CSS `index.html` loads before anything is clicked (its module
 *   scripts, their preloaded imports and stylesheets), gzipped at zlib's default level; what the
 *   engine worker loaded by the time a wallet's address shows; and the face screens' code, models
 *   and WebAssembly, which load only when a face screen is first used;
 * - create → first address: from the click on "Create wallet" (a hybrid wallet: distributed key
 *   generation with the provider in the engine's worker) until the Ethereum address is on screen;
 * - confirm → sent: from the click on "Confirm" under the review of a 0.001 ETH send until the app
 *   says it is sent: the signature computed with the provider, the transaction broadcast to a local
 *   anvil node (which mines at once) and its receipt read.
 * Prints the figures as JSON.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { startAnvil } from "../../chains/test/anvil.js";
import { timeSequential } from "../../provider/bench/timing.js";
import { addVirtualAuthenticator, showing, startWebApp } from "../test/browser.js";
import { registerDevice } from "../test/devices.js";

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
/** The face screens' code, models and WebAssembly: loaded only when a face screen is first used. */
const faceFiles = assets.filter((file) => /face-api|_model|tfjs-backend/.test(file));
const firstScreen = firstScreenFiles();
const firstScreenJs = firstScreen.filter((file) => file.endsWith(".js"));

const anvil = await startAnvil();
const web = await startWebApp({ connectSources: [anvil.url] });
try {
  const page: Page = await web.newPage();
  // What the page and its engine worker load by the time the first wallet's address shows.
  const loaded = new Set<string>();
  page.on("response", (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/app/assets/")) loaded.add(path.slice("/app/".length));
  });
  await addVirtualAuthenticator(page);
  await registerDevice(web, page, { email: "bench@example.com", name: "bench browser" });

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

  const engineJs = [...loaded].filter((file) => file.endsWith(".js") && !firstScreenJs.includes(file));
  const engineWasm = [...loaded].filter((file) => file.endsWith(".wasm"));

  // The last wallet made sends to a fresh address through anvil, one review and confirmation each.
  await page.getByRole("button", { name: `bench ${n}` }).click();
  const ethereum = page.getByRole("region", { name: "Ethereum", exact: true });
  const sender = ((await ethereum.locator("code").textContent()) ?? "").trim();
  await anvil.rpc("anvil_setBalance", [sender, `0x${(10n ** 19n).toString(16)}`]);
  await ethereum.getByLabel("Ethereum RPC URL").fill(anvil.url);
  await ethereum.getByRole("button", { name: "Save node" }).click();
  await showing(page, ethereum.getByText("Balance: 10 ETH", { exact: true }));
  const confirmToSent = await timeSequential(
    runs,
    async () => {
      await page.getByRole("button", { name: "Confirm" }).click();
      await showing(page, page.getByRole("heading", { name: "Sent", exact: true }), 240_000);
    },
    async () => {
      if (await page.getByRole("heading", { name: "Sent", exact: true }).isVisible())
        await page.getByRole("link", { name: "Back to the wallet" }).click();
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await page.getByLabel("Recipient").fill(`0x${randomBytes(20).toString("hex")}`);
      await page.getByLabel("Amount").fill("0.001");
      await page.getByRole("button", { name: "Review" }).click();
      await showing(page, page.getByRole("heading", { name: "Check the transaction", exact: true }), 240_000);
    },
  );

  process.stdout.write(
    `${JSON.stringify(
      {
        first_screen_js_gzip_kb: kb(gzipped(firstScreenJs)),
        first_screen_css_gzip_kb: kb(gzipped(firstScreen.filter((file) => file.endsWith(".css")))),
        engine_js_gzip_kb: kb(gzipped(engineJs)),
        engine_wasm_kb: kb(engineWasm.reduce((total, file) => total + statSync(join(DIST, file)).size, 0)),
        face_js_gzip_kb: kb(gzipped(faceFiles.filter((file) => file.endsWith(".js")))),
        face_models_and_wasm_kb: kb(
          faceFiles
            .filter((file) => !file.endsWith(".js"))
            .reduce((total, file) => total + statSync(join(DIST, file)).size, 0),
        ),
        create_to_first_address: { runs, ...createToAddress },
        confirm_to_sent: { runs, ...confirmToSent },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await web.close();
  await anvil.stop();
}
