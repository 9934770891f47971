/**
 * The provider installs without the face models: no package an install of it brings in
 * production — its dependencies, theirs, and so on, workspace packages and libraries alike — is
 * TensorFlow.js, face-api or another machine-learning runtime (about 165 MB that a server, which
 * never sees a face, would install and could load). The closure is walked through
 * package-lock.json's `packages`, resolving each dependency as npm does (the nearest
 * node_modules up from the package that requires it, a workspace link to its packages/ folder),
 * with each workspace package's requirements read from its own package.json, so that one added
 * there is caught before an install records it. And no source file of a workspace package in the
 * closure imports a workspace package outside it, which node_modules would resolve here but a
 * deployment would not have.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const PROVIDER = "packages/provider";

/** TensorFlow.js and its models, face-api (the original and @vladmandic's fork), MediaPipe, ONNX Runtime. */
const FORBIDDEN = /^(@tensorflow\/|@tensorflow-models\/|@vladmandic\/|@mediapipe\/|face-api\.js$|onnxruntime-)/;

/** An entry of package-lock.json's `packages`, keyed by its folder ("node_modules/a", "packages/x"). */
interface LockEntry {
  name?: string;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
type Lock = Record<string, LockEntry>;

interface Requirement {
  name: string;
  /** An optional dependency or peer: npm installs the package without it when it cannot have it. */
  optional: boolean;
}

const isWorkspace = (location: string) => location.startsWith("packages/");

const manifestOf = (location: string): LockEntry =>
  JSON.parse(readFileSync(join(ROOT, location, "package.json"), "utf8"));

/** What the package at `location` needs installed beside it in production. */
function requirements(location: string, entry: LockEntry, manifest: (location: string) => LockEntry): Requirement[] {
  // A workspace package's own manifest is the truth the lock is made from, and may be ahead of it.
  const source = isWorkspace(location) ? manifest(location) : entry;
  const names = (field: Record<string, string> | undefined) => Object.keys(field ?? {});
  return [
    ...names(source.dependencies).map((name) => ({ name, optional: false })),
    ...names(source.optionalDependencies).map((name) => ({ name, optional: true })),
    ...names(source.peerDependencies).map((name) => ({
      name,
      optional: source.peerDependenciesMeta?.[name]?.optional === true,
    })),
  ];
}

/** Where npm finds `name` required from `location`: the nearest node_modules up the folders that has it. */
function resolveIn(lock: Lock, location: string, name: string): string | undefined {
  for (let dir = location; ; dir = posix.dirname(dir)) {
    const top = dir === "." || dir === "";
    const candidate = top ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    const entry = lock[candidate];
    if (entry !== undefined) return entry.link ? entry.resolved : candidate;
    if (top) return undefined;
  }
}

const nameAt = (lock: Lock, location: string) =>
  lock[location]?.name ?? location.slice(location.lastIndexOf("node_modules/") + "node_modules/".length);

interface Closure {
  /** Each folder reached, with the package names it was reached by. */
  reached: Map<string, string[]>;
  /** Required packages the lock has no folder for: the lock is behind a manifest. */
  unresolved: string[];
}

/** Every folder an install of the package at `root` brings in production; `added` are requirements of the root's beyond its manifest. */
function closure(
  lock: Lock,
  root: string,
  options: { added?: string[]; manifest?: (location: string) => LockEntry } = {},
): Closure {
  const manifest = options.manifest ?? manifestOf;
  const reached = new Map<string, string[]>([[root, [nameAt(lock, root)]]]);
  const unresolved: string[] = [];
  const queue = [root];
  for (let location = queue.shift(); location !== undefined; location = queue.shift()) {
    const via = reached.get(location) as string[];
    const needs = requirements(location, lock[location] ?? {}, manifest);
    if (location === root) needs.push(...(options.added ?? []).map((name) => ({ name, optional: false })));
    for (const { name, optional } of needs) {
      const found = resolveIn(lock, location, name);
      if (found === undefined) {
        if (!optional) unresolved.push([...via, name].join(" → "));
        continue;
      }
      if (reached.has(found)) continue;
      reached.set(found, [...via, nameAt(lock, found)]);
      queue.push(found);
    }
  }
  return { reached, unresolved };
}

const forbiddenIn = ({ reached }: Closure, lock: Lock) =>
  [...reached].filter(([location]) => FORBIDDEN.test(nameAt(lock, location))).map(([, via]) => via.join(" → "));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry) ? [path] : [];
  });

/** The package names a source file imports, statically, dynamically or by require. */
function importedPackages(source: string): string[] {
  const specifiers = [...source.matchAll(/\b(?:from|import|require)\s*\(?\s*["']([^"'./][^"']*)["']/g)].map(
    (m) => m[1] as string,
  );
  return specifiers.map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] as string)));
}

describe("the provider's production dependencies", () => {
  const lock: Lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages;
  const provider = closure(lock, PROVIDER);

  it("include no TensorFlow.js, face-api or other model runtime, through any package", () => {
    expect(provider.unresolved).toEqual([]);
    expect(provider.reached.has("packages/recovery")).toBe(true);
    expect(provider.reached.has("node_modules/fastify")).toBe(true);
    expect(forbiddenIn(provider, lock)).toEqual([]);
    expect(provider.reached.has("packages/biometric")).toBe(false);
  });

  it("would include the face models if @keyshard/biometric were one of them", () => {
    const withBiometric = closure(lock, PROVIDER, { added: ["@keyshard/biometric"] });
    expect(forbiddenIn(withBiometric, lock)).toContain("@keyshard/provider → @keyshard/biometric → @tensorflow/tfjs");
  });

  it("are resolved as npm resolves them: the nearest node_modules first, a workspace link to its folder, whose manifest may be ahead of the lock", () => {
    const synthetic: Lock = {
      "packages/app": { name: "app", dependencies: { a: "1", ws: "1", gone: "1" }, optionalDependencies: { opt: "1" } },
      "node_modules/ws": { link: true, resolved: "packages/ws" },
      "packages/ws": { name: "ws", dependencies: { b: "1" } },
      "node_modules/a": { dependencies: { b: "1", c: "1" } },
      "node_modules/a/node_modules/b": { dependencies: { "face-api.js": "1" } },
      "node_modules/b": {},
      "node_modules/c": { peerDependencies: { p: "1", q: "1" }, peerDependenciesMeta: { q: { optional: true } } },
      "node_modules/face-api.js": {},
      "node_modules/p": {},
      "node_modules/@tensorflow/tfjs": {},
    };
    // packages/ws/package.json requires TensorFlow.js, which the lock has not recorded for it yet.
    const manifests: Lock = {
      "packages/app": synthetic["packages/app"] as LockEntry,
      "packages/ws": { dependencies: { b: "1", "@tensorflow/tfjs": "1" } },
    };
    const walked = closure(synthetic, "packages/app", { manifest: (location) => manifests[location] ?? {} });
    expect([...walked.reached.keys()].sort()).toEqual(
      [
        "node_modules/@tensorflow/tfjs",
        "node_modules/a",
        "node_modules/a/node_modules/b",
        "node_modules/b",
        "node_modules/c",
        "node_modules/face-api.js",
        "node_modules/p",
        "packages/app",
        "packages/ws",
      ].sort(),
    );
    expect(walked.reached.get("node_modules/face-api.js")).toEqual(["app", "a", "b", "face-api.js"]);
    expect(walked.unresolved).toEqual(["app → gone"]);
    expect(forbiddenIn(walked, synthetic).sort()).toEqual(["app → a → b → face-api.js", "app → ws → @tensorflow/tfjs"]);
  });

  it("are what the sources of the workspace packages among them import from the workspace", () => {
    const workspace = new Map(
      Object.entries(lock)
        .filter(([location, entry]) => isWorkspace(location) && entry.name !== undefined)
        .map(([location, entry]) => [entry.name as string, location]),
    );
    const stray: string[] = [];
    for (const location of provider.reached.keys()) {
      if (!isWorkspace(location)) continue;
      for (const file of sourceFiles(join(ROOT, location, "src")))
        for (const imported of importedPackages(readFileSync(file, "utf8"))) {
          const at = workspace.get(imported);
          if (FORBIDDEN.test(imported) || (at !== undefined && !provider.reached.has(at)))
            stray.push(`${file.slice(ROOT.length + 1)} imports ${imported}`);
        }
    }
    expect(stray).toEqual([]);
  });
});
