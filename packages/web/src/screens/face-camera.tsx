/**
 * The camera, for the face screens: its preview, and its frames as RGBA pixels (a canvas's
 * ImageData, at most `FRAME_WIDTH` wide) for the engine, which reads faces but has no camera.
 * The camera is on only while a screen asks for frames, and off when the screen goes.
 */
import { type RefObject, useCallback, useEffect, useRef } from "react";
import { FRAME_SIDE_MAX, FRAME_SIDE_MIN, type Frame } from "../engine/calls/face.js";

/** Frames are scaled down to this width: a face is read as well, for a fraction of the work. */
const FRAME_WIDTH = 640;

/** What the camera could not do, in words for the person. */
export class CameraError extends Error {
  override readonly name = "CameraError";
}

export interface Camera {
  video: RefObject<HTMLVideoElement | null>;
  /** Turns the camera on and shows it in `video`; resolves once it gives pictures. */
  start(): Promise<void>;
  stop(): void;
  /** The picture the camera shows now. */
  frame(): Frame;
}

/** How long a camera may take to give its first picture before it counts as failed. */
const FIRST_PICTURE_MS = 10_000;

/** Stops every track of `stream`: the camera's light goes off. */
const stopTracks = (stream: MediaStream) => {
  for (const track of stream.getTracks()) track.stop();
};

export function useCamera(): Camera {
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  /**
   * Counts the starts and stops: a stream that arrives for a start since superseded (stopped, a
   * later start, the screen gone) is stopped at once instead of being kept.
   */
  const generation = useRef(0);

  const stop = useCallback(() => {
    generation.current++;
    if (stream.current !== null) stopTracks(stream.current);
    stream.current = null;
    if (video.current !== null) video.current.srcObject = null;
  }, []);

  useEffect(() => stop, [stop]);

  const start = useCallback(async () => {
    stop();
    const mine = ++generation.current;
    if (navigator.mediaDevices?.getUserMedia === undefined)
      throw new CameraError("This browser gives no camera to this page (it needs https, or localhost).");
    let opened: MediaStream;
    try {
      opened = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: FRAME_WIDTH }, facingMode: "user" },
        audio: false,
      });
    } catch (e) {
      throw new CameraError(
        e instanceof DOMException && e.name === "NotAllowedError"
          ? "The camera was not allowed: allow this page to use it (the camera icon by the address), then try again."
          : "No camera could be opened: check that one is connected and not used by another app.",
      );
    }
    if (mine !== generation.current) {
      stopTracks(opened);
      throw new CameraError("The camera was turned off before it started.");
    }
    stream.current = opened;
    try {
      const element = video.current;
      if (element === null) throw new CameraError("The camera's preview is not on the screen.");
      element.srcObject = opened;
      await element.play();
      if (element.videoWidth === 0) await firstPicture(element);
      if (mine !== generation.current) throw new CameraError("The camera was turned off before it started.");
    } catch (e) {
      if (mine === generation.current) stop();
      throw e instanceof CameraError ? e : new CameraError("The camera gives no picture: try again.");
    }
  }, [stop]);

  const frame = useCallback((): Frame => {
    const element = video.current;
    if (element === null || element.videoWidth === 0) throw new CameraError("The camera gives no picture yet.");
    const scale = Math.min(1, FRAME_WIDTH / element.videoWidth);
    const width = Math.round(element.videoWidth * scale);
    const height = Math.round(element.videoHeight * scale);
    if (Math.min(width, height) < FRAME_SIDE_MIN || Math.max(width, height) > FRAME_SIDE_MAX)
      throw new CameraError("The camera's pictures are too small to find a face in.");
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (context === null) throw new CameraError("This browser cannot read the camera's pictures.");
    context.drawImage(element, 0, 0, width, height);
    const { data } = context.getImageData(0, 0, width, height);
    return { width, height, data };
  }, []);

  return { video, start, stop, frame };
}

/** The camera's preview, as the camera sees it (not mirrored: "left" is the picture's left). */
export function CameraPreview({ camera, on }: { camera: Camera; on: boolean }) {
  return (
    <video
      ref={camera.video}
      className="camera"
      aria-label="Camera preview"
      muted
      playsInline
      hidden={!on}
      style={{ width: "100%", maxWidth: "32rem" }}
    />
  );
}

/** Resolves at `element`'s first picture; fails when none comes in `FIRST_PICTURE_MS`. */
function firstPicture(element: HTMLVideoElement): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      element.removeEventListener("loadeddata", loaded);
      reject(new CameraError("The camera gives no picture: check that no other app uses it, then try again."));
    }, FIRST_PICTURE_MS);
    function loaded() {
      clearTimeout(timer);
      resolve();
    }
    element.addEventListener("loadeddata", loaded, { once: true });
  });
}

/** Waits `ms` between two frames, so that frames are spread over the seconds a person moves in. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
