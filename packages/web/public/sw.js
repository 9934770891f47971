/**
 * The wallet's service worker: keeps the app shell (the page, its scripts, styles, icons and the
 * engine's WebAssembly) so that the app opens without a network. Only GET requests for files under
 * the app's own path are kept; the provider's API lives elsewhere and is never cached, nor is any
 * answer but a plain 200 from this origin.
 *
 * The page is fetched from the network first (a new release shows at once) and from the cache
 * when offline. It is kept under one key, the scope's URL, whatever address it was opened at: an
 * address's query string may carry a one-time token, which must not be stored. The hashed assets
 * never change under one name, so the cache answers them first; each new page drops the assets it
 * no longer reaches. Answers go to the page at once; the cache is written beside them.
 */
const CACHE = "keyshard-app-shell-v1";
const SCOPE_URL = self.registration.scope;
const SCOPE = new URL(SCOPE_URL).pathname;
const ASSETS = `${SCOPE}assets/`;
/** Asset kinds whose text names other assets (the worker, chunks, the WebAssembly). */
const LINKING = /\.(js|css)$/;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) =>
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  ),
);

const cacheable = (response) => response.status === 200 && response.type === "basic";
const fileName = (url) => url.slice(url.lastIndexOf("/") + 1);

/**
 * Drops the kept assets that `page` (the new index.html's text) no longer reaches: an asset is
 * reached when a reached text names its file (the page names the entry script and styles, which
 * name the worker and chunks, which name the WebAssembly).
 */
async function dropUnreachedAssets(cache, page) {
  const kept = (await cache.keys()).filter((request) => new URL(request.url).pathname.startsWith(ASSETS));
  const texts = [page];
  let left = kept;
  for (let found = true; found; ) {
    found = false;
    const still = [];
    for (const request of left) {
      const name = fileName(new URL(request.url).pathname);
      if (!texts.some((text) => text.includes(name))) {
        still.push(request);
        continue;
      }
      found = true;
      if (LINKING.test(name)) {
        const response = await cache.match(request);
        if (response !== undefined) texts.push(await response.text());
      }
    }
    left = still;
  }
  await Promise.all(left.map((request) => cache.delete(request)));
}

async function keepPage(response) {
  const cache = await caches.open(CACHE);
  const page = await response.clone().text();
  await cache.put(SCOPE_URL, response);
  await dropUnreachedAssets(cache, page);
}

async function page(event) {
  try {
    const response = await fetch(event.request);
    if (cacheable(response)) event.waitUntil(keepPage(response.clone()).catch(() => {}));
    return response;
  } catch (error) {
    const kept = await caches.match(SCOPE_URL, { cacheName: CACHE });
    if (kept !== undefined) return kept;
    throw error;
  }
}

/** Keeps a copy of `response` under `key`, beside its way to the page. */
function keep(event, key, response) {
  if (!cacheable(response)) return;
  const copy = response.clone();
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.put(key, copy))
      .catch(() => {}),
  );
}

/** A file of the shell other than the page (the manifest, the icon): network first, kept without its query. */
async function shellFile(event, key) {
  try {
    const response = await fetch(event.request);
    keep(event, key, response);
    return response;
  } catch (error) {
    const kept = await caches.match(key, { cacheName: CACHE });
    if (kept !== undefined) return kept;
    throw error;
  }
}

async function asset(event, key) {
  const kept = await caches.match(key, { cacheName: CACHE });
  if (kept !== undefined) return kept;
  const response = await fetch(event.request);
  keep(event, key, response);
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  const key = url.origin + url.pathname;
  if (request.mode === "navigate") event.respondWith(page(event));
  else if (url.pathname.startsWith(ASSETS)) event.respondWith(asset(event, key));
  else event.respondWith(shellFile(event, key));
});
