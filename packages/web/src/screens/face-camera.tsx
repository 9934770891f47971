/**
 * The camera, for the face screens: its preview, and its frames as RGBA pixels (a canvas's
 * ImageData, at most `FRAME_WIDTH` wide) for the engine, which reads faces but has no camera.
 * The camera is on only while a screen asks for frames, and off when the screen goes.
 */
import { type RefObject, useCallback, useEffect, useRef, useState } from "react";
import { CameraError, CameraSession, firstPicture } from "../camera-session.js";
import { FRAME_SIDE_MAX, FRAME_SIDE_MIN, type Frame } from "../engine/calls/face.js";

/** Frames are scaled down to this width: a face is read as well, for a fraction of the work. */
const FRAME_WIDTH = 640;

export interface Camera {
  video: RefObject<HTMLVideoElement | null>;
  /** Turns the camera on and shows it in `video`; resolves once it gives pictures. */
  start(): Promise<void>;
  stop(): void;
  /** The picture the camera shows now. */
  frame(): Frame;
}

/** The camera's stream, or CameraError saying why there is none. */
async function openCamera(): Promise<MediaStream> {
  if (navigator.mediaDevices?.getUserMedia === undefined)
    throw new CameraError("This browser gives no camera to this page (it needs https, or localhost).");
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: FRAME_WIDTH }, facingMode: "user" },
      audio: false,
    });
  } catch (e) {
    throw new CameraError(
      e instanceof DOMException && e.name === "NotAllowedError"
        ? "The camera was not allowed: allow this page to use it (the camera icon by the address), then try again."
        : "No camera could be opened: check that one is connected and not used by another app.",
      { cause: e },
    );
  }
}

/** The picture `element` shows now, scaled down to `FRAME_WIDTH`. */
function frameOf(element: HTMLVideoElement | null): Frame {
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
}

export function useCamera(): Camera {
  const video = useRef<HTMLVideoElement>(null);
  const [session] = useState(
    () =>
      new CameraSession<MediaStream, Frame>({
        open: openCamera,
        async show(stream) {
          const element = video.current;
          if (element === null) throw new CameraError("The camera's preview is not on the screen.");
          element.srcObject = stream;
          await element.play();
          if (element.videoWidth === 0) await firstPicture(element);
        },
        clear() {
          if (video.current !== null) video.current.srcObject = null;
        },
        read: () => frameOf(video.current),
      }),
  );

  // The screen gone, the camera is off, and a start under way gets no stream.
  useEffect(() => () => session.stop(), [session]);

  const start = useCallback(() => session.start(), [session]);
  const stop = useCallback(() => session.stop(), [session]);
  const frame = useCallback(() => session.frame(), [session]);
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

/** Waits `ms` between two frames, so that frames are spread over the seconds a person moves in. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
