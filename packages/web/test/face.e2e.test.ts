/**
 * Face recovery in the web wallet, end to end, in Chromium with a fake camera that plays a video
 * made here from `shared/faces` pictures (Amy's face chips on a grey wall): on one browser profile
 * Amy sets up a device, makes a wallet and enrolls her face from the camera (the face models' code
 * and files load only then, under content-hashed names browsers keep), enrolls an heir and vetoes
 * them; on a new profile, a still picture of her smiling does not answer "look happy" (the
 * challenge asks for a change of expression) and spends no guess, and her camera's frames, from a
 * neutral face to a smile, answer it and bring her wallet back. The provider lists three recovery
 * operators, separate servers of their own origin, which the app's engine reaches with CORS.
 *
 * The challenge is the provider's to draw; here it is drawn from a fixed byte, as the command
 * line's tests do, since the pictures of one person here show some expressions and no head turn.
 * The still picture's page runs on a clock moved past the app's watch once the challenge shows,
 * so that its attempt ends after a batch or two of frames rather than after a minute of watching.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readImage } from "@keyshard/biometric";
import { MasterKey, providerTicketKey } from "@keyshard/provider";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE } from "../../biometric/test/faces.js";
import { operatorKeys } from "../../provider/src/recovery-operator/context.js";
import { type RunningRecoveryOperator, startRecoveryOperator } from "../../provider/src/recovery-operator/start.js";
import { mailedCode, mailText, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { CHROMIUM, pageProblems, showing } from "./browser.js";
import { writeY4m } from "./y4m.js";

const EMAIL = "amy@example.com";
const HEIR = "bernadette@example.com";
const PASSPHRASE = "correct horse battery staple";
const PROVIDER_MASTER_KEY = "5a".repeat(32);
/** An index into the liveness challenges (`CHALLENGES` of @keyshard/recovery): "look happy". */
const HAPPY = 0;
/** Longer than the recovery screen watches the camera for. */
const PAST_THE_WATCH = "02:00";
/** Each step of this file waits for the app at most this long: the face models load and run on WebAssembly. */
const STEP_MS = 240_000;

/** The subject of the provider's mail on each face guess it lets a device take to the operators. */
const GUESS_MAIL = "keyshard: a face recovery attempt";

const amy = (n: number) => readImage(join(PEOPLE, "amy", `amy${n}.png`));

/** A port nothing listens on now, for a server whose address must be known before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("face recovery in the web wallet", () => {
  let folder: string;
  let provider: TestProvider;
  const operators: RunningRecoveryOperator[] = [];
  const browsers: Browser[] = [];
  let codes = 0;
  let appUrl: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "keyshard-face-e2e-"));
    const video = { width: 320, height: 240, framesPerSecond: 5, holdFrames: 5 };
    writeY4m(join(folder, "enroll.y4m"), [amy(1), amy(2), amy(3)], video);
    writeY4m(join(folder, "recover.y4m"), [amy(4), amy(5)], video);
    // amy4 looks neutral, amy5 happy (face-api's expression net): a change, and a still of the smile.
    writeY4m(join(folder, "still.y4m"), [amy(5)], video);

    // The operators' addresses and keys go into the provider's setting, and the provider's origin
    // (the app's) into theirs: their ports and keys are fixed before either starts.
    const masterKeys = [1, 2, 3].map((i) => `${i}${i}`.repeat(32));
    const ports = [await freePort(), await freePort(), await freePort()];
    const listed = masterKeys.map((hex, i) => ({
      url: `http://127.0.0.1:${ports[i]}`,
      key: bytesToHex(operatorKeys(new MasterKey(hexToBytes(hex))).publicKey),
    }));
    provider = await startTestProvider("pglite", {
      masterKeyHex: PROVIDER_MASTER_KEY,
      challengeRandom: () => Uint8Array.of(HAPPY),
      accountChangeDelayMs: 0,
      recoveryOperators: listed,
      webAppConnectSources: listed.map((o) => o.url),
    });
    appUrl = `${provider.url.replace("//127.0.0.1:", "//localhost:")}/app/`;
    for (const [i, hex] of masterKeys.entries())
      operators.push(
        await startRecoveryOperator({
          dataDir: mkdtempSync(join(folder, `operator-${i + 1}-`)),
          masterKeyHex: hex,
          ticketKey: providerTicketKey(new MasterKey(hexToBytes(PROVIDER_MASTER_KEY))),
          name: `operator ${i + 1}`,
          port: ports[i],
          walletOrigins: [new URL(appUrl).origin],
        }),
      );
  }, STEP_MS);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    for (const operator of operators) await operator.close();
    await provider?.stop();
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  /**
   * A new browser whose camera plays `video`, with a new profile and the app open on it; `clock`:
   * the page's clock is one the test can move.
   */
  async function openWithCamera(video: string, clock = false): Promise<{ page: Page; problems: string[] }> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-video-capture=${join(folder, video)}`,
        // Chromium's sandbox cannot start as root, which CI containers often are.
        ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      ],
    });
    browsers.push(browser);
    const page = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
    const problems = pageProblems(page);
    if (clock) await page.clock.install();
    await page.goto(appUrl);
    return { page, problems };
  }

  /** Fills the set-up form (a passphrase, not a passkey) and enters the mailed code. */
  async function setUp(page: Page, name: string): Promise<void> {
    await showing(page, page.getByLabel("Email"));
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Device name").fill(name);
    await page.getByLabel("Use a passphrase instead of a passkey").check();
    await page.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
    await page.getByLabel("Repeat passphrase").fill(PASSPHRASE);
    await page.getByRole("button", { name: "Continue" }).click();
    await showing(page, page.getByLabel("Code"), STEP_MS);
    await page.getByLabel("Code").fill(await mailedCode(provider.mails, EMAIL, ++codes));
    await page.getByRole("button", { name: "Verify" }).click();
  }

  it(
    "enrolls Amy's face from the camera on her first device",
    async () => {
      const { page, problems } = await openWithCamera("enroll.y4m");
      const requested: string[] = [];
      const caching = new Map<string, string>();
      page.on("response", (response) => {
        const path = new URL(response.url()).pathname;
        requested.push(path);
        caching.set(path, response.headers()["cache-control"] ?? "");
      });
      const faceCode = () => requested.filter((path) => /face-api|_model|tfjs-backend/.test(path));
      await setUp(page, "amy-laptop");
      await showing(page, page.getByLabel("Wallet name"), STEP_MS);
      await page.getByLabel("Wallet name").fill("main");
      await page.getByRole("button", { name: "Create wallet" }).click();
      await showing(page, page.getByRole("heading", { name: "main" }), STEP_MS);
      await page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name: "Face" }).click();
      await showing(page, page.getByText("No heirs."));
      // Neither the first screens nor the engine's work so far loaded any of the face models' code or files.
      expect(faceCode()).toEqual([]);
      await page.getByRole("button", { name: "Enroll my face" }).click();
      await showing(page, page.getByText("Your face is enrolled for 1 wallet"), STEP_MS);
      expect(faceCode()).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\/app\/assets\/face-api\.esm-nobundle-.*\.js$/),
          expect.stringMatching(/^\/app\/assets\/face_recognition_model-[\w-]{8,}\.bin$/),
          expect.stringMatching(/^\/app\/assets\/face_expression_model-weights_manifest-[\w-]{8,}\.json$/),
          expect.stringMatching(/^\/app\/assets\/tfjs-backend-wasm(-simd)?-[\w-]{8,}\.wasm$/),
        ]),
      );
      // Each file's name changes with its content, so browsers keep them: a session downloads them once.
      for (const path of faceCode()) expect(caching.get(path), path).toMatch(/immutable/);

      // An heir, enrolled from the camera too, listed with their inactivity, then vetoed.
      await page.getByLabel("Heir's email").fill(HEIR);
      await page.getByLabel("Days of your inactivity before they may recover").fill("30");
      await page.getByRole("button", { name: "Enroll the heir's face" }).click();
      await showing(page, page.getByText(`${HEIR} is enrolled as your heir`), STEP_MS);
      await showing(page, page.getByText("after 30 days of inactivity"));
      page.once("dialog", (dialog) => void dialog.accept());
      await page.getByRole("button", { name: `Veto ${HEIR}` }).click();
      await showing(page, page.getByText(`${HEIR} is vetoed.`));
      await showing(page, page.getByText("No heirs."));
      expect(problems).toEqual([]);
    },
    STEP_MS * 2,
  );

  it(
    "refuses a still picture of the expression asked, spending no guess",
    async () => {
      const { page, problems } = await openWithCamera("still.y4m", true);
      await page.getByRole("button", { name: "Recover with my face" }).click();
      await setUp(page, "amy-still");
      await showing(page, page.getByRole("button", { name: "Start the camera" }), STEP_MS);
      await page.getByRole("button", { name: "Start the camera" }).click();
      await showing(page, page.getByText("Please look happy."), STEP_MS);
      // The watch is over: the frames posted next are the camera's last.
      await page.clock.fastForward(PAST_THE_WATCH);
      const alert = page.getByRole("alert").filter({ hasText: /\S/ });
      // A still picture that passed would recover: that ends the wait too, and fails here.
      const recovered = page.getByText(/^Recovered \d+ wallet/);
      await alert.or(recovered).first().waitFor({ timeout: STEP_MS });
      expect(await recovered.count()).toBe(0);
      expect(await alert.textContent()).toMatch(/liveness: the frames do not look happy/);
      // No guess was taken: the provider counts and mails each one before the operators see it.
      expect(provider.mails.filter((m) => mailText(m).includes(GUESS_MAIL))).toEqual([]);
      expect(problems).toEqual([]);
    },
    STEP_MS * 2,
  );

  it(
    "recovers her wallet on a new browser from the camera's frames that answer the challenge",
    async () => {
      const { page, problems } = await openWithCamera("recover.y4m");
      await page.getByRole("button", { name: "Recover with my face" }).click();
      await setUp(page, "amy-new");
      await showing(page, page.getByRole("button", { name: "Start the camera" }), STEP_MS);
      await page.getByRole("button", { name: "Start the camera" }).click();
      await showing(page, page.getByText("Please look happy."), STEP_MS);
      await showing(page, page.getByText("Recovered 1 wallet: main."), STEP_MS);
      await page.getByRole("button", { name: "Open my wallets" }).click();
      await showing(page, page.getByRole("button", { name: "main" }), STEP_MS);
      expect(provider.mails.filter((m) => mailText(m).includes(GUESS_MAIL))).toHaveLength(1);
      expect(problems).toEqual([]);
    },
    STEP_MS * 2,
  );
});
