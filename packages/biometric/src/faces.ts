/**
 * Faces in camera frames and photos: SSD MobileNet finds them, the 68-point landmark net places
 * the jaw, eyes and nose, the expression net reads the expression. The largest face of a frame
 * is the one that counts. A small image (a face chip) is placed on a larger grey canvas first,
 * because the detector misses faces that fill the whole frame.
 */
import { EXPRESSIONS, type Expression } from "@keyshard/recovery";
import { faceApi } from "./embedding.js";
import { BiometricError } from "./errors.js";
import type { RgbImage } from "./image.js";

export interface DetectedFace {
  /** The face's box in the frame's pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** The 68 landmarks (iBUG 300-W order) in the frame's pixels. */
  landmarks: { x: number; y: number }[];
  /** Each expression's probability. */
  expressions: Record<Expression, number>;
  /** The face cut out along the box its landmarks align to: what the embedding is made from. */
  chip: RgbImage;
}

const CANVAS_MIN = 200;

function padded(image: RgbImage): { image: RgbImage; dx: number; dy: number } {
  if (image.width >= CANVAS_MIN || image.height >= CANVAS_MIN) return { image, dx: 0, dy: 0 };
  const side = Math.max(image.width, image.height) * 3;
  const data = new Uint8Array(side * side * 3).fill(128);
  const dx = Math.floor((side - image.width) / 2);
  const dy = Math.floor((side - image.height) / 2);
  for (let y = 0; y < image.height; y++)
    data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + dy) * side + dx) * 3);
  return { image: { width: side, height: side, data }, dx, dy };
}

/** The square around `box`, clamped to the image. */
function crop(image: RgbImage, box: { x: number; y: number; width: number; height: number }): RgbImage {
  const side = Math.round(Math.max(box.width, box.height));
  const x0 = Math.round(box.x + box.width / 2 - side / 2);
  const y0 = Math.round(box.y + box.height / 2 - side / 2);
  const data = new Uint8Array(side * side * 3).fill(128);
  for (let y = 0; y < side; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= image.height) continue;
    for (let x = 0; x < side; x++) {
      const sx = x0 + x;
      if (sx < 0 || sx >= image.width) continue;
      data.set(image.data.subarray((sy * image.width + sx) * 3, (sy * image.width + sx) * 3 + 3), (y * side + x) * 3);
    }
  }
  return { width: side, height: side, data };
}

/** The largest face in the frame; `no-face` when there is none. */
export async function detectFace(frame: RgbImage): Promise<DetectedFace> {
  const api = await faceApi();
  const { image, dx, dy } = padded(frame);
  const input = api.tf.tensor3d(image.data, [image.height, image.width, 3], "int32");
  try {
    const found = await api
      .detectAllFaces(input as never, new api.SsdMobilenetv1Options({ minConfidence: 0.5 }))
      .withFaceLandmarks()
      .withFaceExpressions();
    const largest = found.sort((a, b) => b.detection.box.area - a.detection.box.area)[0];
    if (largest === undefined) throw new BiometricError("no-face", "no face was found in the picture");
    const box = largest.detection.box;
    return {
      box: { x: box.x - dx, y: box.y - dy, width: box.width, height: box.height },
      chip: crop(image, largest.alignedRect.box),
      landmarks: largest.landmarks.positions.map((p) => ({ x: p.x - dx, y: p.y - dy })),
      expressions: Object.fromEntries(EXPRESSIONS.map((e) => [e, largest.expressions[e] ?? 0])) as Record<
        Expression,
        number
      >,
    };
  } finally {
    input.dispose();
  }
}

/**
 * How far the head is turned: where the nose tip lies between the two ends of the jaw line,
 * from −1 (at the jaw end on the image's left) through 0 (facing the camera) to +1.
 */
export function yaw(face: DetectedFace): number {
  const [left, right, nose] = [face.landmarks[0], face.landmarks[16], face.landmarks[30]];
  if (left === undefined || right === undefined || nose === undefined || right.x === left.x) return 0;
  return ((nose.x - left.x) / (right.x - left.x)) * 2 - 1;
}

export const topExpression = (face: DetectedFace): Expression =>
  EXPRESSIONS.reduce((best, e) => (face.expressions[e] > face.expressions[best] ? e : best), EXPRESSIONS[0]);
