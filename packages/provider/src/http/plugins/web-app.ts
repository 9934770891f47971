/**
 * The web wallet at /app/: the static files of its build (`packages/web/dist`, made by `npm run
 * build`), with a strict Content-Security-Policy on every answer. Paths the app routes itself
 * (no file extension) answer its index.html. The provider does not depend on the web package: when
 * the build is absent, /app/ answers 404 saying how to build it.
 */
import { existsSync } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply } from "fastify";
import type { App } from "../app.js";

export const WEB_APP_PREFIX = "/app/";

/**
 * The page's Content-Security-Policy. `'wasm-unsafe-eval'`: the wallet engine compiles WebAssembly
 * (secp256k1) but never evaluates strings; scripts, styles and workers come from the provider only,
 * so no injected markup can run. The engine talks to the provider and to the chain nodes the person
 * sets (balances, broadcasting): any https origin, and the further origins `connectSources` names
 * (a node on the person's own machine, say `http://127.0.0.1:8545`).
 */
export function webAppCsp(connectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    ["connect-src 'self' https:", ...connectSources].join(" "),
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

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
 * `packages/web/dist` beside the provider's package, found from this module whether it runs from
 * `src/http/plugins/`, from tsc's `dist/http/plugins/` or bundled into `dist/bundle/`: the package
 * folder is the first one above holding a package.json.
 */
export function defaultWebAppFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, "package.json"))) {
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return resolve(folder, "../web/dist");
}

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

/** Serves the web wallet's build in `folder` at /app/, its page allowed to reach `connectSources` too. */
export function webAppPlugin(
  app: App,
  folder: string = defaultWebAppFolder(),
  connectSources: readonly string[] = [],
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
    // Looked up on every request: a build made while the provider runs is served at once.
    const root = await realpath(folder).catch(() => undefined);
    const index = root === undefined ? undefined : await fileInside(root, join(root, "index.html"));
    if (root === undefined || index === undefined)
      return refuse(
        reply,
        404,
        "the web wallet is not built on this provider (packages/web/dist has no index.html): run `npm run build` and open /app/ again",
      );
    const file = relative === "" ? undefined : await fileInside(root, join(root, relative));
    if (file !== undefined) {
      const type = CONTENT_TYPES[extname(relative).toLowerCase()] ?? "application/octet-stream";
      const cache = HASHED_ASSET.test(relative) ? "public, max-age=31536000, immutable" : "no-cache";
      return reply.type(type).header("cache-control", cache).send(file);
    }
    // A name with an extension is a file the page asked for, not one of the app's own routes.
    if (extname(relative) !== "") return refuse(reply, 404, `the web wallet has no file ${relative}`);
    return reply.type(HTML).header("cache-control", "no-cache").send(index);
  });
}
