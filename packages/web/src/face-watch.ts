/**
 * The recovery screen's watch of the camera, apart from its elements: the camera on, the
 * provider's challenge asked for, then frames posted a batch at a time until the engine says they
 * recovered or the watch is over. However it ends short of that (the camera failed, the screen
 * went and turned the camera off, the engine failed), the recovery is cancelled in the engine
 * before anything else happens, so that one the page left spends no guess.
 */
import type { CameraSession, CameraStream } from "./camera-session.js";
import { type Frame, RECOVER_BATCH_MAX, type RecoverProgress } from "./engine/calls/face.js";
import type { Engine } from "./engine/client.js";

/** How long the camera is watched for the challenge before the recovery gives up. */
const WATCH_MS = 60_000;
/** The time between two frames of a batch: a turn or an expression lasts longer. */
const FRAME_SPACING_MS = 150;
const BATCH = Math.min(4, RECOVER_BATCH_MAX);

/** The camera as the watch uses it: its `frame` throws once the camera is off. */
export type WatchedCamera = Pick<CameraSession<CameraStream, Frame>, "start" | "stop" | "frame">;

export interface WatchOptions {
  /** Says what the watch does now. */
  status(text: string): void;
  /** Shows the challenge the person is to answer. */
  challenge(text: string): void;
  /** Waits `ms` between two frames of a batch. */
  pause(ms: number): Promise<unknown>;
}

export type Recovered = Extract<RecoverProgress, { kind: "recovered" }>;

/** Watches `camera` until its frames recover the wallets; throws when they did not. */
export async function watchForRecovery(
  engine: Engine,
  camera: WatchedCamera,
  { status, challenge, pause }: WatchOptions,
): Promise<Recovered> {
  let over = false;
  try {
    await camera.start();
    status("Asking the provider for a challenge…");
    const { challenge: asked } = await engine.call("faceRecoverStart", {}, status);
    challenge(asked);
    const until = Date.now() + WATCH_MS;
    for (;;) {
      status(`Now ${asked}. Watching… (the first time, the face models load: this takes a while)`);
      const frames = [];
      for (let i = 0; i < BATCH; i++) {
        if (i > 0) await pause(FRAME_SPACING_MS);
        frames.push(camera.frame());
      }
      const answer = await engine.call("faceRecoverFrames", { frames, last: Date.now() >= until }, status);
      if (answer.kind === "recovered") {
        over = true;
        return answer;
      }
    }
  } finally {
    camera.stop();
    // A recovery the page leaves (the camera failed, the screen went) stops in the engine too,
    // before a new one may start; one the engine ended already is no longer there to stop.
    if (!over) await engine.call("faceRecoverCancel", {}).catch(() => {});
  }
}
