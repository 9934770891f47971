/**
 * The web wallet at /app/: the static files of its build (`packages/web/dist`, made by `npm run
 * build`), with a strict Content-Security-Policy on every answer. Paths the app routes itself
 * (no file extension) answer its index.html. The operator console is a second page of the same
 * build (`console.html`, its files under /app/ too), served at /console/ with the same headers
 * but a narrower Content-Security-Policy, only when the provider has a console token. The provider does not depend on the web package:
 * when the build is absent, /app/ and /console/ answer 404 saying how to build it.
 */
import { existsSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply } from "fastify";
import type { App } from "../app.js";

export const WEB_APP_PREFIX = "/app/";
export const CONSOLE_PAGE = "/console/";
/** The console's page in the build: served at /console/ alone, which exists only on a provider with a console token. */
const CONSOLE_FILE = "console.html";

/** A page's Content-Security-Policy: everything from the provider but what `script` and `connect` add. */
function pageCsp(script: readonly string[], connect: readonly string[]): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...script].join(" "),
    "worker-src 'self'",
    ["connect-src 'self'", ...connect].join(" "),
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/**
 * The wallet's Content-Security-Policy. `'wasm-unsafe-eval'`: the wallet engine compiles
 * WebAssembly (secp256k1) but never evaluates strings; scripts, styles and workers come from the
 * provider only, so no injected markup can run. The engine talks to the provider and to the chain
 * nodes the person sets (balances, broadcasting): any https origin, and the further origins
 * `connectSources` names (a node on the person's own machine, say `http://127.0.0.1:8545`).
 */
export const webAppCsp = (connectSources: readonly string[] = []): string =>
  pageCsp(["'wasm-unsafe-eval'"], ["https:", ...connectSources]);

/**
 * The operator console's: it compiles no WebAssembly and talks to its own /console/api alone, so
 * a script injected into it could send what it shows (every account) nowhere else.
 */
export const consoleCsp = (): string => pageCsp([], []);

/**
 * Refuses what is not an origin (`http(s)://host[:port]`, nothing after): anything else would
 * widen the policy beyond one server, or break it (a `;` or a quoted keyword).
 */
export function checkConnectSources(sources: readonly string[]): void {
  for (const source of sources) {
    let origin: string | undefined;
    try {
      const url = new URL(source);
      if (url.protocol === "http:" || url.protocol === "https:") origin = url.origin;
    } catch {}
    if (origin === undefined || origin !== source)
      throw new RangeError(
        `the web wallet's extra connect source ${JSON.stringify(source)} is not an origin like http://127.0.0.1:8545 (a scheme, a host and a port, nothing after)`,
      );
  }
}

/** The types a Vite build emits; anything else is served as bytes, which nosniff keeps from running. */
const HTML = "text/html; charset=utf-8";
const CONTENT_TYPES: Record<string, string> = {
  ".html": HTML,
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".wasm": "application/wasm",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite's content-hashed output (`assets/<name>-<hash>.<ext>`): a new build gives a new name, so a copy never goes stale. */
const HASHED_ASSET = /^assets\/(?:[^/]+\/)*[^/]+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/;

/**
 * The provider's package folder, found from this module whether it runs from `src/http/plugins/`,
 * from tsc's `dist/http/plugins/` or bundled into `dist/bundle/`: the first one above holding a
 * package.json.
 */
export function providerPackageFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, "package.json"))) {
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return folder;
}

/** `packages/web/dist` beside the provider's package. */
export const defaultWebAppFolder = (): string => resolve(providerPackageFolder(), "../web/dist");

/** A request path below /app/ as the file path it names, or undefined when it could name one outside. */
function relativeFile(rawPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (path.includes("\0") || path.includes("\\")) return undefined;
  if (path.split("/").some((segment) => segment === "." || segment === "..")) return undefined;
  return path.replace(/^\/+/, "");
}

function refuse(reply: FastifyReply, status: 400 | 404, message: string): FastifyReply {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .send({ error: status === 400 ? "invalid-request" : "not-found", message });
}

/** What a path nobody could have served a file from fails with: anything else is the server's fault. */
const NO_SUCH_FILE = new Set(["ENOENT", "ENOTDIR", "ENAMETOOLONG", "ELOOP"]);

/** The file's bytes when it is a regular file inside `root` (symbolic links followed), else undefined. */
async function fileInside(root: string, file: string): Promise<Buffer | undefined> {
  try {
    const real = await realpath(file);
    if (!real.startsWith(root + sep) || !(await stat(real)).isFile()) return undefined;
    return await readFile(real);
  } catch (e) {
    if (NO_SUCH_FILE.has((e as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw e;
  }
}

/** The build's folder (symbolic links resolved) and the page `page` of it, or undefined when there is no build. */
async function builtPage(folder: string, page: string): Promise<{ root: string; html: Buffer } | undefined> {
  // Looked up on every request: a build made while the provider runs is served at once.
  const root = await realpath(folder).catch(() => undefined);
  const html = root === undefined ? undefined : await fileInside(root, join(root, page));
  return root === undefined || html === undefined ? undefined : { root, html };
}

const notBuilt = (page: string, path: string) =>
  `the web wallet is not built on this provider (packages/web/dist has no ${page}): run \`npm run build\` and open ${path} again`;

export interface WebAppOptions {
  /** Serve the operator console's page at /console/ (the provider has a console token). */
  consolePage?: boolean;
}

/** Serves the web wallet's build in `folder` at /app/, its page allowed to reach `connectSources` too. */
export function webAppPlugin(
  app: App,
  folder: string = defaultWebAppFolder(),
  connectSources: readonly string[] = [],
  options: WebAppOptions = {},
): void {
  checkConnectSources(connectSources);
  const pageHeaders = {
    "content-security-policy": webAppCsp(connectSources),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  // A person who opens the provider's address lands in the wallet; API clients never ask for `/`.
  for (const path of ["/", "/app"])
    app.get(path, { schema: { hide: true } }, (_request, reply) =>
      reply.headers(pageHeaders).redirect(WEB_APP_PREFIX, path === "/" ? 302 : 301),
    );
  app.get("/app/*", { schema: { hide: true } }, async (request, reply) => {
    reply.headers(pageHeaders);
    const relative = relativeFile(request.url.slice(WEB_APP_PREFIX.length).split("?")[0] ?? "");
    if (relative === undefined) return refuse(reply, 400, "the path names no file of the web wallet");
    const built = await builtPage(folder, "index.html");
    if (built === undefined) return refuse(reply, 404, notBuilt("index.html", WEB_APP_PREFIX));
    const own = relative !== "" && relative !== CONSOLE_FILE;
    const file = own ? await fileInside(built.root, join(built.root, relative)) : undefined;
    if (file !== undefined) {
      const type = CONTENT_TYPES[extname(relative).toLowerCase()] ?? "application/octet-stream";
      const cache = HASHED_ASSET.test(relative) ? "public, max-age=31536000, immutable" : "no-cache";
      return reply.type(type).header("cache-control", cache).send(file);
    }
    // A name with an extension is a file the page asked for, not one of the app's own routes.
    if (extname(relative) !== "") return refuse(reply, 404, `the web wallet has no file ${relative}`);
    return reply.type(HTML).header("cache-control", "no-cache").send(built.html);
  });
  if (!options.consolePage) return;
  const consoleHeaders = { ...pageHeaders, "content-security-policy": consoleCsp() };
  app.get("/console", { schema: { hide: true } }, (_request, reply) =>
    reply.headers(consoleHeaders).redirect(CONSOLE_PAGE, 302),
  );
  app.get(CONSOLE_PAGE, { schema: { hide: true } }, async (_request, reply) => {
    reply.headers(consoleHeaders);
    const built = await builtPage(folder, CONSOLE_FILE);
    if (built === undefined) return refuse(reply, 404, notBuilt(CONSOLE_FILE, CONSOLE_PAGE));
    return reply.type(HTML).header("cache-control", "no-cache").send(built.html);
  });
}
