/**
 * face-api on TensorFlow.js's WASM backend in Node (the package's `#face-api` without the
 * "browser" condition): face-api's Node WASM build, its models read from the npm package's
 * `model/` folder and the WebAssembly from `@tensorflow/tfjs-backend-wasm`'s `dist/`, unless
 * `setFaceModelLocation` names other folders.
 */
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { BiometricError } from "./errors.js";
import { FACE_NETS, type ModelLocation } from "./model-location.js";

export type FaceApi = typeof import("@vladmandic/face-api");

const require = createRequire(import.meta.url);

let modelLocation: { models: string; wasm: string } | undefined;

const packageFolder = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The folders of the installed npm packages that ship the models and the WebAssembly. */
export function npmModelLocation(): { models: string; wasm: string } {
  return {
    models: join(packageFolder("@vladmandic/face-api"), "model"),
    wasm: join(packageFolder("@tensorflow/tfjs-backend-wasm"), "dist"),
  };
}

/** Reads the models and the WebAssembly from these folders; takes effect before the models first load. */
export function setFaceModelLocation(folders: ModelLocation): void {
  const { models, wasm } = folders;
  if (typeof models !== "string" || typeof wasm !== "string")
    throw new BiometricError("models", "in Node, the face models and the WebAssembly are read from folders");
  modelLocation = { models, wasm };
}

/** face-api with the WASM backend ready and the four nets this package uses loaded. */
export async function loadFaceApi(): Promise<FaceApi> {
  const api = require("@vladmandic/face-api/dist/face-api.node-wasm.js") as FaceApi;
  const wasm = require("@tensorflow/tfjs-backend-wasm") as { setWasmPaths(path: string): void };
  const { models, wasm: wasmFolder } = modelLocation ?? npmModelLocation();
  wasm.setWasmPaths(wasmFolder.endsWith(sep) ? wasmFolder : wasmFolder + sep);
  // face-api's typings leave out the backend calls of the tfjs it bundles.
  const tf = api.tf as unknown as { setBackend(name: string): Promise<boolean>; ready(): Promise<void> };
  if (!(await tf.setBackend("wasm")))
    throw new BiometricError("models", `TensorFlow.js's WebAssembly did not start (from ${wasmFolder})`);
  await tf.ready();
  for (const [net] of FACE_NETS) await api.nets[net].loadFromDisk(models);
  return api;
}
