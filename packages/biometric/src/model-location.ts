/**
 * Where the face models (face-api's `model/` folder) and TensorFlow.js's WebAssembly files are
 * read from, and which files those are. Node reads them from the installed npm packages unless
 * told otherwise; a browser fetches them from the URLs its app serves them at, and has no default,
 * since only the app's build knows where it put them.
 */

/**
 * Where the files are: each a folder (Node) or a URL ending in "/" (a browser) that holds them
 * under their own names. A browser may instead be given each file's own URL, by its name: an app
 * whose build gives every file a content-hashed name lets browsers keep them, since a new file
 * comes with a new name.
 */
export interface ModelLocation {
  /** Holds the nets' weight manifests and weights (`MODEL_FILES`). */
  models: string | Readonly<Record<string, string>>;
  /** Holds `WASM_FILES`. */
  wasm: string | Readonly<Record<string, string>>;
}

/** The face-api nets this package uses: face-api's name of each, and the name its files start with. */
export const FACE_NETS = [
  ["ssdMobilenetv1", "ssd_mobilenetv1_model"],
  ["faceLandmark68Net", "face_landmark_68_model"],
  ["faceRecognitionNet", "face_recognition_model"],
  ["faceExpressionNet", "face_expression_model"],
] as const;

/** The nets' files in face-api's `model/` folder: a weight manifest each, and the weights it names. */
export const MODEL_FILES: readonly string[] = FACE_NETS.flatMap(([, file]) => [
  `${file}-weights_manifest.json`,
  `${file}.bin`,
]);

/** TensorFlow.js's WebAssembly builds, in `@tensorflow/tfjs-backend-wasm`'s `dist/`: the backend picks one. */
export const WASM_FILES: readonly string[] = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
];
