/**
 * The web wallet under test as a person meets it: a real provider in this process (PGlite in a
 * temp folder, a mailbox that keeps the mailed codes) serving the app's build at /app/, and
 * Debian's Chromium driven by playwright-core, with a virtual passkey authenticator (with the PRF
 * extension) on the pages that need one.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type CDPSession, chromium, type Locator, type Page } from "playwright-core";
import { startTestProvider, type TestProvider } from "../../provider/test/harness.js";

export const CHROMIUM = "/usr/bin/chromium";

/** What `npm run build` (and the tests' global setup) makes of the app, which the provider serves. */
const BUILT_INDEX = fileURLToPath(new URL("../dist/index.html", import.meta.url));
/** Where screenshots also go when KEYSHARD_SCREENSHOTS=1, for the documentation. */
const DOCS_SCREENSHOTS = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

/** A build under way (another test run's) swaps its output in within this; an absent build never comes. */
const BUILD_WAIT_MS = 60_000;

export interface WebAppUnderTest {
  provider: TestProvider;
  /** The app's address. By name, not 127.0.0.1: passkeys refuse an IP address for a site. */
  appUrl: string;
  browser: Browser;
  /** Where every screenshot of this run is saved. */
  artifacts: string;
  /** A new browser profile (its own IndexedDB and storage) with one page on it. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** A screenshot of the page as `<name>.png` in `artifacts`, and in docs/screenshots/ when KEYSHARD_SCREENSHOTS=1. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

async function builtApp(): Promise<void> {
  for (const deadline = Date.now() + BUILD_WAIT_MS; !existsSync(BUILT_INDEX); ) {
    if (Date.now() > deadline)
      throw new Error(`the web wallet is not built (no ${BUILT_INDEX}): run \`npm run build\` first`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `connectSources`: further origins the app's pages may reach (a local chain node's), besides the
 * provider and https; `consoleToken`: the provider's operator console is opened with it.
 */
export async function startWebApp(
  options: {
    connectSources?: string[];
    consoleToken?: string;
    /** The provider's delays, short for tests that let a device in, have it approve requests, or download a backup. */
    delays?: { accountChangeDelayMs?: number; policyDelayMs?: number; backupDelayMs?: number };
    /** A file of policy templates the provider offers new wallets beside its built-in one. */
    policyTemplatesFile?: string;
  } = {},
): Promise<WebAppUnderTest> {
  await builtApp();
  const artifacts = mkdtempSync(join(tmpdir(), "keyshard-web-screens-"));
  // Kept after the run: what the screens looked like is what a failure here needs first.
  console.info(`web wallet screenshots: ${artifacts}`);
  const provider = await startTestProvider("pglite", {
    ...(options.connectSources !== undefined && { webAppConnectSources: options.connectSources }),
    ...(options.consoleToken !== undefined && { consoleToken: options.consoleToken }),
    ...(options.policyTemplatesFile !== undefined && { policyTemplatesFile: options.policyTemplatesFile }),
    ...options.delays,
  });
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Chromium's sandbox cannot start as root, which CI containers often are.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
  } catch (e) {
    await provider.stop();
    throw e;
  }
  const contexts: BrowserContext[] = [];
  return {
    provider,
    appUrl: `${provider.url.replace("//127.0.0.1:", "//localhost:")}/app/`,
    browser,
    artifacts,
    async newPage(viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      return context.newPage();
    },
    async screenshot(page, name) {
      const path = join(artifacts, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      if (process.env.KEYSHARD_SCREENSHOTS === "1") {
        mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(DOCS_SCREENSHOTS, `${name}.png`), fullPage: true });
      }
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await provider.stop();
    },
  };
}

/** A passkey authenticator built into the device (user verification always passes), with PRF. */
export interface VirtualAuthenticator {
  readonly id: string;
  /** The passkeys it holds. */
  credentials(): ReturnType<typeof passkeysOn>;
  /** Forgets every passkey: what a browser whose authenticator never made this one has. */
  clear(): Promise<void>;
  /**
   * Replaces it by another authenticator given copies of its passkeys' signing keys, which is all
   * an export can carry: not the secret each passkey's PRF outputs come from.
   */
  replaceByCopy(): Promise<VirtualAuthenticator>;
}

async function passkeysOn(cdp: CDPSession, authenticatorId: string) {
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
}

/**
 * Gives `page` an authenticator through the DevTools protocol (WebAuthn domain). It belongs to
 * the page's tab and lasts across its reloads.
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  return virtualAuthenticator(cdp);
}

async function virtualAuthenticator(cdp: CDPSession): Promise<VirtualAuthenticator> {
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: true,
      automaticPresenceSimulation: true,
    },
  });
  const authenticator: VirtualAuthenticator = {
    id: authenticatorId,
    credentials: () => passkeysOn(cdp, authenticatorId),
    async clear() {
      await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    },
    async replaceByCopy() {
      const credentials = await authenticator.credentials();
      // Chromium allows one built-in authenticator per tab.
      await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
      const copy = await virtualAuthenticator(cdp);
      for (const credential of credentials)
        await cdp.send("WebAuthn.addCredential", { authenticatorId: copy.id, credential });
      return copy;
    },
  };
  return authenticator;
}

/**
 * Waits until `wanted` shows, or fails at once with the text of an alert the app shows instead:
 * under load each step may take long, and a refusal must not look like a timeout.
 */
export async function showing(page: Page, wanted: Locator, timeoutMs = 60_000): Promise<void> {
  const alert = page.getByRole("alert").filter({ hasText: /\S/ });
  await wanted.or(alert).first().waitFor({ state: "visible", timeout: timeoutMs });
  if (!(await wanted.first().isVisible()) && (await alert.first().isVisible()))
    throw new Error(`the app says: ${((await alert.first().textContent()) ?? "").trim()}`);
}

/** What went wrong in the page (uncaught errors, requests the Content-Security-Policy refused) since the call. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text()))
      problems.push(`refused: ${message.text()}`);
  });
  return problems;
}
