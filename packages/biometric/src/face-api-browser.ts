/**
 * face-api on TensorFlow.js's WASM backend in a browser (the package's `#face-api` under the
 * "browser" condition): face-api's ES module build without its own copy of TensorFlow.js, the
 * nets' weights fetched from where `setFaceModelLocation` says (a folder URL, or each file's own
 * URL) and the WebAssembly likewise — the files the app's build copied from the same npm
 * packages, served by the app itself.
 *
 * The code of TensorFlow.js and face-api is imported only here, and only when the models first
 * load: a page or worker that bundles this package downloads them when a face is first read.
 * Weights are fetched here rather than with face-api's `loadFromUri`, which needs a DOM (a
 * window and its canvases) that a worker does not have; in a worker, face-api is given the
 * worker's own canvas (OffscreenCanvas) for the checks it makes of its inputs.
 */
import { BiometricError } from "./errors.js";
import { FACE_NETS, MODEL_FILES, type ModelLocation, WASM_FILES } from "./model-location.js";

export type FaceApi = typeof import("@vladmandic/face-api");

/** Where each file is fetched from, by its name. */
let modelLocation: { models: (file: string) => string; wasm: string | Readonly<Record<string, string>> } | undefined;

/** An absolute http(s) URL, ending in "/" for a `folder`, or a typed error naming `what`. */
function httpUrl(url: string, what: string, folder: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BiometricError("models", `the ${what} location is not an absolute URL`);
  }
  if ((parsed.protocol !== "https:" && parsed.protocol !== "http:") || (folder && !parsed.pathname.endsWith("/")))
    throw new BiometricError("models", `the ${what} location must be an http(s) URL${folder ? ' ending in "/"' : ""}`);
  return parsed.href;
}

/** A folder's URL, or a URL for each of `files` and no other, checked. */
function urlsOf(
  where: string | Readonly<Record<string, string>>,
  files: readonly string[],
  what: string,
): string | Readonly<Record<string, string>> {
  if (typeof where === "string") return httpUrl(where, what, true);
  if (Object.keys(where).length !== files.length || !files.every((file) => Object.hasOwn(where, file)))
    throw new BiometricError("models", `the ${what} locations must name exactly ${files.join(", ")}`);
  return Object.fromEntries(files.map((file) => [file, httpUrl(where[file] as string, `${what} ${file}`, false)]));
}

/** Fetches the models and the WebAssembly from these URLs; takes effect before the models first load. */
export function setFaceModelLocation(urls: ModelLocation): void {
  const models = urlsOf(urls.models, MODEL_FILES, "face models'");
  modelLocation = {
    models: (file) => (typeof models === "string" ? `${models}${file}` : (models[file] as string)),
    wasm: urlsOf(urls.wasm, WASM_FILES, "WebAssembly's"),
  };
}

/** A weight manifest's entries, as far as they are used: each names weights files of the nets used. */
function manifestOf(value: unknown, file: string): { paths: string[] }[] {
  const isEntry = (e: unknown): e is { paths: string[] } =>
    typeof e === "object" &&
    e !== null &&
    Array.isArray((e as { paths?: unknown }).paths) &&
    (e as { paths: unknown[] }).paths.every((p) => typeof p === "string" && MODEL_FILES.includes(p));
  if (!Array.isArray(value) || value.length === 0 || !value.every(isEntry))
    throw new BiometricError("models", `${file}'s manifest names no weights of the nets used`);
  return value;
}

/** What face-api asks of its environment, from a worker's scope: it reads tensors only, never elements. */
function workerEnvironment() {
  const noElement = (): never => {
    throw new BiometricError("bad-image", "a worker has no image or video elements: frames are given as pixels");
  };
  return {
    Canvas: OffscreenCanvas,
    CanvasRenderingContext2D: OffscreenCanvasRenderingContext2D,
    // Nothing a worker holds is an image or video element: classes no input is an instance of.
    Image: class NoImage {},
    Video: class NoVideo {},
    ImageData,
    createCanvasElement: () => new OffscreenCanvas(1, 1),
    createImageElement: noElement,
    createVideoElement: noElement,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
    readFile: noElement,
  };
}

/** face-api with the WASM backend ready and the four nets this package uses loaded. */
export async function loadFaceApi(): Promise<FaceApi> {
  if (modelLocation === undefined)
    throw new BiometricError("models", "the app did not say where it serves the face models (setFaceModelLocation)");
  const { models, wasm } = modelLocation;
  const api = (await import("@vladmandic/face-api/dist/face-api.esm-nobundle.js")) as unknown as FaceApi;
  // The same module face-api registers its WASM backend from, so the paths set are the ones it uses.
  const backend = (await import("@tensorflow/tfjs-backend-wasm/dist/index.js")) as {
    setWasmPaths(prefixOrFiles: string | Readonly<Record<string, string>>): void;
  };
  if (!api.env.isBrowser()) api.env.setEnv(workerEnvironment() as unknown as Parameters<FaceApi["env"]["setEnv"]>[0]);
  backend.setWasmPaths(wasm);
  const tf = api.tf as unknown as {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    io: {
      loadWeights(
        manifest: unknown,
        prefix: string,
      ): Promise<Parameters<FaceApi["nets"]["ssdMobilenetv1"]["loadFromWeightMap"]>[0]>;
    };
  };
  if (!(await tf.setBackend("wasm"))) throw new BiometricError("models", "TensorFlow.js's WebAssembly did not start");
  await tf.ready();
  for (const [net, file] of FACE_NETS) {
    const response = await fetch(models(`${file}-weights_manifest.json`));
    if (!response.ok) throw new BiometricError("models", `${file}'s manifest did not load: HTTP ${response.status}`);
    // Each weights file is fetched from where it is, which need not be the manifest's folder.
    // TensorFlow.js fetches prefix + "/" + path: the prefix is the files' origin, the paths theirs on it.
    const weights = (path: string) => new URL(models(path));
    const entries = manifestOf(await response.json(), file);
    const origins = new Set(entries.flatMap((entry) => entry.paths.map((path) => weights(path).origin)));
    if (origins.size !== 1) throw new BiometricError("models", `${file}'s weights are not all served from one origin`);
    const manifest = entries.map((entry) => ({
      ...entry,
      paths: entry.paths.map((path) => {
        const url = weights(path);
        return `${url.pathname.slice(1)}${url.search}`;
      }),
    }));
    api.nets[net].loadFromWeightMap(await tf.io.loadWeights(manifest, [...origins][0] as string));
  }
  return api;
}
