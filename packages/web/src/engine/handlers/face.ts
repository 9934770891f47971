/**
 * The engine's handlers of face recovery. The face models are the SDK's: their code and weights
 * load the first time a face is read (a dynamic import inside the SDK), from the copies the app's
 * build serves, so a wallet that never reads a face never downloads them.
 *
 * A recovery runs across calls: `faceRecoverStart` starts the SDK's recovery with a feed of
 * frames and answers with its liveness challenge; each `faceRecoverFrames` adds frames to the feed
 * and answers once the SDK has read them all and waits for more, or once the recovery ended;
 * `faceRecoverCancel` stops it. One recovery runs at a time: a new one waits for the last to stop.
 */

import {
  type Challenge,
  describeChallenge,
  type Enrollment,
  type RecoveredWallets,
  type RgbImage,
  rgbFromRgba,
  setFaceModelLocation,
  WalletError,
} from "@keyshard/wallet/browser";
import tfjsWasm from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import tfjsWasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import tfjsWasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import expressionWeights from "@vladmandic/face-api/model/face_expression_model.bin?url";
import expressionManifest from "@vladmandic/face-api/model/face_expression_model-weights_manifest.json?url&no-inline";
import landmarkWeights from "@vladmandic/face-api/model/face_landmark_68_model.bin?url";
import landmarkManifest from "@vladmandic/face-api/model/face_landmark_68_model-weights_manifest.json?url&no-inline";
import recognitionWeights from "@vladmandic/face-api/model/face_recognition_model.bin?url";
import recognitionManifest from "@vladmandic/face-api/model/face_recognition_model-weights_manifest.json?url&no-inline";
import ssdWeights from "@vladmandic/face-api/model/ssd_mobilenetv1_model.bin?url";
import ssdManifest from "@vladmandic/face-api/model/ssd_mobilenetv1_model-weights_manifest.json?url&no-inline";
import type { FaceMethods, Frame, HeirEntry, RecoverProgress } from "../calls/face.js";
import { NAME_MAX, showable } from "../readers.js";
import { fitShort, type Handlers, unlocked } from "./engine-state.js";

/**
 * Where the app's build put face-api's models and TensorFlow.js's WebAssembly: each file under a
 * content-hashed name (Vite's `?url`), which the provider lets browsers keep, so a session
 * downloads them once, not each time. Only their URLs are here: nothing is fetched before a face
 * is read.
 */
const MODEL_URLS = {
  models: {
    "ssd_mobilenetv1_model-weights_manifest.json": ssdManifest,
    "ssd_mobilenetv1_model.bin": ssdWeights,
    "face_landmark_68_model-weights_manifest.json": landmarkManifest,
    "face_landmark_68_model.bin": landmarkWeights,
    "face_recognition_model-weights_manifest.json": recognitionManifest,
    "face_recognition_model.bin": recognitionWeights,
    "face_expression_model-weights_manifest.json": expressionManifest,
    "face_expression_model.bin": expressionWeights,
  },
  wasm: {
    "tfjs-backend-wasm.wasm": tfjsWasm,
    "tfjs-backend-wasm-simd.wasm": tfjsWasmSimd,
    "tfjs-backend-wasm-threaded-simd.wasm": tfjsWasmThreadedSimd,
  },
};

function modelsOfThisApp(): void {
  const absolute = (files: Record<string, string>) =>
    Object.fromEntries(Object.entries(files).map(([file, url]) => [file, new URL(url, self.location.href).href]));
  setFaceModelLocation({ models: absolute(MODEL_URLS.models), wasm: absolute(MODEL_URLS.wasm) });
}

const rgbOf = (frames: readonly Frame[]): RgbImage[] => frames.map((f) => rgbFromRgba(f.width, f.height, f.data));

const heirOf = (e: Enrollment): HeirEntry => ({
  id: e.id,
  email: fitShort(e.heirEmail ?? "unknown"),
  inactivityDays: e.inactivityDays ?? null,
  status: fitShort(e.status),
});

/** Why a recovery's feed stopped before its frames answered: another recovery, or the page, took over. */
const CANCELLED = "the face recovery was cancelled: another one started, or the page left it";

/**
 * The camera's frames as the SDK reads them: an async iterable fed by the page's calls. `hungry`
 * settles when the SDK waits for a frame and none is left. `cancel` makes the SDK's next read
 * throw, so a recovery left behind stops before it spends a guess.
 */
export class FrameFeed implements AsyncIterable<RgbImage> {
  readonly #queue: RgbImage[] = [];
  #ended = false;
  #cancelled = false;
  #wake: (() => void) | undefined;
  #onHungry: (() => void) | undefined;

  push(frames: readonly RgbImage[], last: boolean): Promise<void> {
    const hungry = new Promise<void>((resolve) => {
      this.#onHungry = resolve;
    });
    this.#queue.push(...frames);
    if (last) this.#ended = true;
    this.#wake?.();
    return hungry;
  }

  /** Cancels the feed: the SDK's next read throws, whatever frames were left. */
  cancel(): void {
    this.#cancelled = true;
    this.#queue.length = 0;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RgbImage> {
    for (;;) {
      if (this.#cancelled) throw new WalletError("usage", CANCELLED);
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) return;
      this.#onHungry?.();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

/** `frames` as a camera's: the SDK skips those without a face and needs a few with one. */
async function* live(frames: readonly RgbImage[]): AsyncGenerator<RgbImage> {
  yield* frames;
}

/** The recovery under way on this device: its feed, and its outcome once it ends. */
let recovering: { feed: FrameFeed; outcome: Promise<RecoveredWallets> } | undefined;

/** Cancels the recovery under way, if any, and waits until it has stopped: none runs beside another. */
async function cancelRecovery(): Promise<void> {
  const current = recovering;
  if (current === undefined) return;
  current.feed.cancel();
  await current.outcome.catch(() => {});
  if (recovering === current) recovering = undefined;
}

/** A date of the provider's, in ms since the epoch; null when it is not one. */
const msOf = (date: string | null): number | null => {
  const ms = date === null ? Number.NaN : Date.parse(date);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : null;
};

const progressOf = (recovered: RecoveredWallets): RecoverProgress => ({
  kind: "recovered",
  heir: recovered.kind === "heir",
  wallets: recovered.wallets.map((w) => showable(w.name, NAME_MAX) || "unnamed"),
  holdUntilMs: msOf(recovered.holdUntil),
});

export const faceHandlers: Handlers<FaceMethods> = {
  faceEnroll: async ({ frames, totp }) => {
    const opened = unlocked();
    modelsOfThisApp();
    const enrolled = await opened.enrollFace(live(rgbOf(frames)), totp ?? undefined);
    return { wallets: enrolled.wallets, effectiveMs: Date.parse(enrolled.effectiveAt) };
  },

  faceHeirs: async () => (await unlocked().heirs()).map(heirOf),

  faceAddHeir: async ({ email, inactivityDays, frames, totp }) => {
    const opened = unlocked();
    modelsOfThisApp();
    const enrolled = await opened.addHeir(email, live(rgbOf(frames)), inactivityDays ?? undefined, totp ?? undefined);
    return { effectiveMs: Date.parse(enrolled.effectiveAt) };
  },

  faceVetoHeir: async ({ id }) => heirOf(await unlocked().vetoHeir(id)),

  faceRecoverStart: async () => {
    const opened = unlocked();
    modelsOfThisApp();
    // A recovery left behind (the page reloaded its screen) stops, and is over, before this one starts.
    await cancelRecovery();
    const feed = new FrameFeed();
    let challenged: (challenge: Challenge) => void = () => {};
    const challenge = new Promise<Challenge>((resolve) => {
      challenged = resolve;
    });
    const outcome = opened.recover(feed, async (c) => challenged(c));
    // Settled by the calls that follow; kept from being an unhandled rejection meanwhile.
    outcome.catch(() => {});
    const current = { feed, outcome };
    recovering = current;
    try {
      // The SDK asks for the frames only once it has the challenge: an outcome before that is a failure.
      const asked = await Promise.race([
        challenge,
        outcome.then((): never => {
          throw new WalletError("usage", "the recovery ended before it read the camera");
        }),
      ]);
      return { challenge: fitShort(describeChallenge(asked)) };
    } catch (e) {
      if (recovering === current) recovering = undefined;
      throw e;
    }
  },

  faceRecoverFrames: async ({ frames, last }) => {
    const current = recovering;
    if (current === undefined)
      throw new WalletError("usage", "no face recovery is under way on this device: start one first");
    const hungry = current.feed.push(rgbOf(frames), last);
    const finish = () => {
      if (recovering === current) recovering = undefined;
    };
    try {
      const ended = await Promise.race([hungry.then(() => undefined), current.outcome]);
      if (ended === undefined) return { kind: "more" };
      finish();
      return progressOf(ended);
    } catch (e) {
      current.feed.cancel();
      finish();
      throw e;
    }
  },

  faceRecoverCancel: async () => {
    await cancelRecovery();
    return {};
  },
};
