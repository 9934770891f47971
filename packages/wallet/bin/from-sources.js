// The keyshard command line in the repository, as `keyshard.js` starts it there: runs the bundle
// that `build.mjs` makes from the sources in `src/` and the workspace packages' sources. When that
// bundle is missing or older than the sources it was made from (a fresh clone, or after an edit),
// it is made first, which takes a few seconds once. Not published: an installed package runs its
// compiled modules.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const wallet = fileURLToPath(new URL("..", import.meta.url));
const bundle = `${wallet}dist/keyshard.mjs`;

/** The newest change to the files the build is made from: this package's and its workspace dependencies' sources. */
function sourcesChangedAt() {
  const { dependencies } = JSON.parse(readFileSync(`${wallet}package.json`, "utf8"));
  const folders = [
    `${wallet}src`,
    ...Object.keys(dependencies)
      .filter((name) => name.startsWith("@keyshard/"))
      .map((name) => `${wallet}../${name.slice("@keyshard/".length)}/src`),
  ];
  let newest = Math.max(statSync(`${wallet}package.json`).mtimeMs, statSync(`${wallet}build.mjs`).mtimeMs);
  for (const folder of folders)
    for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  return newest;
}

const builtAt = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (builtAt < sourcesChangedAt()) {
  if (process.stderr.isTTY) process.stderr.write("keyshard: building the command line from its sources…\n");
  try {
    execFileSync(process.execPath, [`${wallet}build.mjs`], { stdio: ["ignore", "ignore", "inherit"] });
  } catch {
    process.stderr.write(
      `keyshard: the command line could not be built from its sources (why is above); it builds with \`npm install && npm run build\` in ${fileURLToPath(new URL("../../..", import.meta.url))}\n`,
    );
    process.exit(1);
  }
}
await import(bundle);
