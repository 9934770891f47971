/**
 * The face calls' frames as the engine reads them from the page: RGBA pixels of exactly the size
 * they claim, sides within bounds, a bounded number per call, and nothing else; heirs as the
 * page reads them from the engine. The engine's handlers, with the SDK stood in for: enrollment
 * frames handed on as a camera's; a recovery across calls, one at a time (a new one cancels the last and waits until it stopped, so a
 * recovery left behind spends no guess), cancelled by the page, over once it failed or recovered,
 * and its outcome passed on within the protocol's bounds. The recovery screen's watch of the
 * camera against those handlers: a screen left while it watches (its camera turned off) sends no
 * more frames and cancels the recovery, which spends no guess.
 */
// The engine's face handlers import the models' files by URL, as Vite types them.
/// <reference path="../src/vite-env.d.ts" />
import {
  type Challenge,
  type RecoveredWallets,
  type RgbImage,
  type Wallet,
  WalletError,
} from "@keyshard/wallet/browser";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { CameraError, CameraSession } from "../src/camera-session.js";
import {
  ENROLL_FRAMES_MAX,
  FACE_METHODS,
  type FaceMethods,
  FRAME_SIDE_MAX,
  FRAME_SIDE_MIN,
  INACTIVITY_DAYS_MAX,
  INACTIVITY_DAYS_MIN,
  RECOVER_BATCH_MAX,
} from "../src/engine/calls/face.js";
import type { Engine } from "../src/engine/client.js";
import { type Confirm, keepWallet } from "../src/engine/handlers/engine-state.js";
import { faceHandlers } from "../src/engine/handlers/face.js";
import { NAME_MAX, ProtocolError } from "../src/engine/readers.js";
import { watchForRecovery } from "../src/face-watch.js";

const frame = (width = 64, height = 64) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) });
const enroll = (frames: unknown[], extra: Record<string, unknown> = {}) =>
  FACE_METHODS.faceEnroll.args({ frames, totp: null, ...extra }, "the arguments");

describe("face calls", () => {
  it("takes frames of RGBA pixels within bounds", () => {
    expect(enroll([frame(), frame(FRAME_SIDE_MAX, FRAME_SIDE_MIN)]).frames).toHaveLength(2);
    expect(enroll([frame()], { totp: "123456" }).totp).toBe("123456");
    const batch = Array.from({ length: RECOVER_BATCH_MAX }, () => frame());
    expect(FACE_METHODS.faceRecoverFrames.args({ frames: batch, last: true }, "the arguments").last).toBe(true);
  });

  it("refuses frames of another size than their pixels, out of bounds, or too many", () => {
    const refused = [
      [{ ...frame(), data: new Uint8ClampedArray(64 * 64 * 4 - 4) }],
      [{ ...frame(), data: new Uint8Array(64 * 64 * 4) }],
      [{ ...frame(), extra: 1 }],
      [frame(FRAME_SIDE_MIN - 1, 64)],
      [frame(FRAME_SIDE_MAX + 1, 64)],
      [{ ...frame(), width: 64.5 }],
      [],
      Array.from({ length: ENROLL_FRAMES_MAX + 1 }, () => frame()),
    ];
    for (const frames of refused) expect(() => enroll(frames)).toThrow(ProtocolError);
    expect(() => enroll([frame()], { totp: "12345" })).toThrow(ProtocolError);
    const batch = Array.from({ length: RECOVER_BATCH_MAX + 1 }, () => frame());
    expect(() => FACE_METHODS.faceRecoverFrames.args({ frames: batch, last: false }, "the arguments")).toThrow(
      ProtocolError,
    );
    expect(() => FACE_METHODS.faceRecoverFrames.args({ frames: [frame()], last: "yes" }, "the arguments")).toThrow(
      ProtocolError,
    );
  });

  it("takes an heir's inactivity within the provider's bounds", () => {
    const heir = (inactivityDays: unknown) =>
      FACE_METHODS.faceAddHeir.args(
        { email: "heir@example.com", inactivityDays, frames: [frame()], totp: null },
        "the arguments",
      );
    expect(heir(INACTIVITY_DAYS_MIN).inactivityDays).toBe(INACTIVITY_DAYS_MIN);
    expect(heir(null).inactivityDays).toBeNull();
    for (const days of [INACTIVITY_DAYS_MIN - 1, INACTIVITY_DAYS_MAX + 1, 45.5, "365"])
      expect(() => heir(days)).toThrow(ProtocolError);
  });

  it("reads heirs and a recovery's outcome strictly", () => {
    const heir = {
      id: "7b0f4a52-2b1e-4c1f-9a55-3f2d0c8a9e11",
      email: "heir@example.com",
      inactivityDays: 365,
      status: "active",
    };
    expect(FACE_METHODS.faceHeirs.result([heir], "the heirs")).toEqual([heir]);
    expect(() => FACE_METHODS.faceHeirs.result([{ ...heir, email: "heir example.com" }], "the heirs")).toThrow(
      ProtocolError,
    );
    expect(() => FACE_METHODS.faceHeirs.result([{ ...heir, id: "1" }], "the heirs")).toThrow(ProtocolError);
    const recovered = { kind: "recovered", heir: false, wallets: ["main"], holdUntilMs: null };
    expect(FACE_METHODS.faceRecoverFrames.result(recovered, "the outcome")).toEqual(recovered);
    expect(FACE_METHODS.faceRecoverFrames.result({ kind: "more" }, "the outcome")).toEqual({ kind: "more" });
    expect(() => FACE_METHODS.faceRecoverFrames.result({ ...recovered, wallets: [""] }, "the outcome")).toThrow(
      ProtocolError,
    );
  });
});

// The SDK runs here on Node's face models, which take folders: the engine's URLs of the browser's are not for it.
vi.mock("@keyshard/wallet/browser", async (original) => ({
  ...(await original<typeof import("@keyshard/wallet/browser")>()),
  setFaceModelLocation: () => {},
}));

/** A pause for the engine's promises to move on. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the engine's face handlers", () => {
  const CHALLENGE: Challenge = { kind: "expression", expression: "happy" };
  /** Frames the stand-in SDK reads, unless its feed ends first, before it takes its one counted guess. */
  const ENOUGH = 3;
  const progress = () => {};
  const confirm: Confirm = async () => true;
  const start = () => faceHandlers.faceRecoverStart({}, progress, confirm);
  const send = (count: number, last = false) =>
    faceHandlers.faceRecoverFrames({ frames: Array.from({ length: count }, () => frame()), last }, progress, confirm);
  const cancel = () => faceHandlers.faceRecoverCancel({}, progress, confirm);

  let recoveries = 0;
  let guesses = 0;
  /** What the stand-in SDK does once its frames are enough: its guess, or a failure. */
  let afterFrames: () => Promise<RecoveredWallets>;
  /** What it does before the challenge: nothing, or a failure. */
  let beforeChallenge: () => Promise<void>;
  const recovered = (wallets = ["main"], holdUntil: string | null = null): RecoveredWallets => ({
    kind: "owner",
    wallets: wallets.map((name) => ({ name }) as RecoveredWallets["wallets"][number]),
    recoveryId: null,
    holdUntil,
  });

  /** The SDK's `Wallet`, as far as recovery goes. */
  const wallet = {
    // As the SDK's: the challenge, the camera's frames read until they are enough, one guess.
    async recover(frames: AsyncIterable<RgbImage>, ready: (challenge: Challenge) => Promise<void>) {
      recoveries++;
      await beforeChallenge();
      await ready(CHALLENGE);
      let read = 0;
      for await (const _ of frames) if (++read >= ENOUGH) break;
      // A feed that ends early leaves the frames read so far, which may pass the challenge.
      if (read === 0) throw new WalletError("liveness", "liveness: no frames");
      guesses++;
      return afterFrames();
    },
  } as unknown as Wallet;

  beforeAll(() => {
    vi.stubGlobal("self", { location: { href: "http://localhost:8080/app/" } });
    keepWallet(wallet);
  });

  it("enrolls from frames read as a camera's, so that one without a face fails nothing", async () => {
    let given: unknown;
    keepWallet({
      async enrollFace(frames: unknown) {
        given = frames;
        return { wallets: 1, effectiveAt: "2026-01-01T00:00:00.000Z" };
      },
    } as unknown as Wallet);
    try {
      await faceHandlers.faceEnroll({ frames: [frame(), frame()], totp: null }, progress, confirm);
    } finally {
      keepWallet(wallet);
    }
    expect(Array.isArray(given)).toBe(false);
    const read: RgbImage[] = [];
    for await (const f of given as AsyncIterable<RgbImage>) read.push(f);
    expect(read).toHaveLength(2);
  });

  beforeEach(() => {
    recoveries = 0;
    guesses = 0;
    afterFrames = async () => recovered();
    beforeChallenge = async () => {};
  });
  afterEach(cancel);

  it("asks for more frames until they are enough, then is over", async () => {
    expect(await start()).toEqual({ challenge: "look happy" });
    expect(await send(1)).toEqual({ kind: "more" });
    expect(await send(2)).toMatchObject({ kind: "recovered", wallets: ["main"] });
    expect(guesses).toBe(1);
    await expect(send(1)).rejects.toThrow(/no face recovery is under way/);
  });

  it("refuses frames with no recovery started", async () => {
    await expect(send(1)).rejects.toThrow(/no face recovery is under way/);
    expect(recoveries).toBe(0);
  });

  it("is over once it failed", async () => {
    afterFrames = async () => {
      throw new WalletError("no-match", "this face does not match");
    };
    await start();
    await expect(send(ENOUGH)).rejects.toThrow(/does not match/);
    await expect(send(1)).rejects.toThrow(/no face recovery is under way/);
  });

  it("is over when it fails before the challenge", async () => {
    beforeChallenge = async () => {
      throw new WalletError("provider-refused", "no face enrollment is open to this device");
    };
    await expect(start()).rejects.toThrow(/no face enrollment/);
    await expect(send(1)).rejects.toThrow(/no face recovery is under way/);
  });

  it("a second start cancels the first, which spends no guess", async () => {
    await start();
    expect(await send(1)).toEqual({ kind: "more" });
    await start();
    expect(recoveries).toBe(2);
    expect(guesses).toBe(0);
    expect(await send(ENOUGH)).toMatchObject({ kind: "recovered" });
    expect(guesses).toBe(1);
  });

  it("a second start waits until the first, past its frames, has stopped", async () => {
    let release: (value: RecoveredWallets) => void = () => {};
    afterFrames = () =>
      new Promise((resolve) => {
        release = resolve;
      });
    await start();
    const first = send(ENOUGH);
    await settle();
    expect(guesses).toBe(1);
    const second = start();
    await settle();
    expect(recoveries).toBe(1);
    release(recovered());
    expect(await first).toMatchObject({ kind: "recovered" });
    afterFrames = async () => recovered();
    expect(await second).toEqual({ challenge: "look happy" });
    expect(recoveries).toBe(2);
  });

  it("a cancel by the page stops it before its guess", async () => {
    await start();
    expect(await send(1)).toEqual({ kind: "more" });
    await cancel();
    expect(guesses).toBe(0);
    await expect(send(ENOUGH)).rejects.toThrow(/no face recovery is under way/);
  });

  describe("the recovery screen's watch", () => {
    /** The engine, its face calls answered by the handlers here; `after` runs once a call answered. */
    const engineOf = (after: (method: string) => void = () => {}): Engine => ({
      async call(method, args) {
        const handler = faceHandlers[method as keyof FaceMethods] as (
          args: unknown,
          progress: () => void,
          confirm: Confirm,
        ) => Promise<unknown>;
        try {
          return (await handler(args, progress, confirm)) as never;
        } finally {
          after(method);
        }
      },
    });
    /** A camera, on and off as the page's, that gives frames while it is on. */
    const cameraOf = () =>
      new CameraSession({
        open: async () => ({ getTracks: () => [{ stop() {} }] }),
        show: async () => {},
        clear() {},
        read: () => frame(),
      });
    const shown = { status() {}, challenge() {} };
    const noPause = async () => {};

    it("recovers with the camera's frames, and turns the camera off", async () => {
      const camera = cameraOf();
      const recovered = await watchForRecovery(engineOf(), camera, { ...shown, pause: noPause });
      expect(recovered).toMatchObject({ kind: "recovered", wallets: ["main"] });
      expect(guesses).toBe(1);
      expect(() => camera.frame()).toThrow(CameraError);
    });

    it("left while the challenge is asked for, cancels the recovery before its guess", async () => {
      const camera = cameraOf();
      const calls: string[] = [];
      // The screen goes (its camera turned off) while the engine gets the challenge.
      const engine = engineOf((method) => {
        calls.push(method);
        if (method === "faceRecoverStart") camera.stop();
      });
      await expect(watchForRecovery(engine, camera, { ...shown, pause: noPause })).rejects.toThrow(CameraError);
      expect(calls).toEqual(["faceRecoverStart", "faceRecoverCancel"]);
      expect(recoveries).toBe(1);
      expect(guesses).toBe(0);
      await expect(send(ENOUGH)).rejects.toThrow(/no face recovery is under way/);
    });

    it("left between two frames of a batch, sends none of it and cancels the recovery", async () => {
      const camera = cameraOf();
      const calls: string[] = [];
      // The screen goes while the page waits for the batch's next frame.
      const pause = async () => camera.stop();
      const engine = engineOf((method) => void calls.push(method));
      await expect(watchForRecovery(engine, camera, { ...shown, pause })).rejects.toThrow(CameraError);
      expect(calls).toEqual(["faceRecoverStart", "faceRecoverCancel"]);
      expect(guesses).toBe(0);
      await expect(send(ENOUGH)).rejects.toThrow(/no face recovery is under way/);
    });
  });

  it("passes on a recovery's outcome within the protocol's bounds", async () => {
    const long = "w".repeat(NAME_MAX);
    afterFrames = async () => recovered([`${long}-0123abcd`], "not a date");
    await start();
    const outcome = await send(ENOUGH);
    expect(FACE_METHODS.faceRecoverFrames.result(outcome, "the outcome")).toEqual({
      kind: "recovered",
      heir: false,
      wallets: [expect.stringMatching(/^w+/)],
      holdUntilMs: null,
    });
  });
});
