/**
 * Face embeddings: face-api's 128-d recognition net (a ResNet-34 trained for face identity) on
 * the TensorFlow.js WASM backend, with the weights that ship inside the npm package: Node reads
 * them from it, a browser fetches the copies its app serves (`#face-api`). The models are loaded
 * once per process or worker.
 *
 * An aligned face chip (as `../shared/faces/people` holds) goes to the recognition net as it is;
 * a camera frame or photo is first searched for faces (SSD MobileNet), the largest is aligned by
 * its 68 landmarks and cut out, and then treated like a chip. Each chip's embedding is the mean
 * of the chip's and its mirror image's: the recognition net is not quite symmetric, and the
 * mean varies less between two pictures of one face.
 */
import { EMBEDDING_SIZE } from "@keyshard/recovery";
import { type FaceApi, loadFaceApi } from "#face-api";
import { BiometricError } from "./errors.js";
import { mirror, type RgbImage } from "./image.js";

let loading: Promise<FaceApi> | undefined;

/** face-api on the WASM backend with its models loaded; the same promise for every caller. */
export function faceApi(): Promise<FaceApi> {
  loading ??= loadFaceApi().catch((e: unknown) => {
    loading = undefined;
    if (e instanceof BiometricError) throw e;
    throw new BiometricError("models", `the face models did not load: ${e instanceof Error ? e.message : String(e)}`);
  });
  return loading;
}

const tensorOf = (api: FaceApi, image: RgbImage) =>
  api.tf.tensor3d(image.data, [image.height, image.width, 3], "int32") as unknown as Parameters<
    FaceApi["computeFaceDescriptor"]
  >[0];

async function descriptorOf(api: FaceApi, image: RgbImage): Promise<Float32Array> {
  const input = tensorOf(api, image);
  try {
    return (await api.computeFaceDescriptor(input)) as Float32Array;
  } finally {
    (input as unknown as { dispose(): void }).dispose();
  }
}

/** The embedding of an aligned face chip: the mean of its and its mirror image's descriptors. */
export async function embedChip(image: RgbImage): Promise<Float32Array> {
  const api = await faceApi();
  const [a, b] = [await descriptorOf(api, image), await descriptorOf(api, mirror(image))];
  return Float32Array.from(a, (v, i) => (v + (b[i] as number)) / 2);
}

/** The mean of several embeddings of one face (frames of a video, or chips at enrollment). */
export function meanEmbedding(embeddings: readonly Float32Array[]): Float32Array {
  if (embeddings.length === 0) throw new BiometricError("no-face", "no face to average");
  const out = new Float32Array(EMBEDDING_SIZE);
  for (const e of embeddings)
    for (let i = 0; i < EMBEDDING_SIZE; i++) out[i] = (out[i] as number) + (e[i] as number) / embeddings.length;
  return out;
}

export const distance = (a: Float32Array, b: Float32Array) =>
  Math.sqrt(a.reduce((sum, v, i) => sum + (v - (b[i] as number)) ** 2, 0));
