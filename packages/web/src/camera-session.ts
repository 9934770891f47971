/**
 * The camera's on and off, apart from the page's elements: which stream is the live one, and that
 * a stream is live only for the latest start. `getUserMedia` may answer after the camera was
 * turned off (the screen gone, a later start): such a stream is stopped at once, never shown,
 * and no frame is read from it. A camera that gives no first picture in time counts as failed.
 */

/** What the camera could not do, in words for the person. */
export class CameraError extends Error {
  override readonly name = "CameraError";
}

/** A camera's stream, as far as turning it off goes: a `MediaStream`. */
export interface CameraStream {
  getTracks(): readonly { stop(): void }[];
}

/** The camera and its preview, as the session drives them. */
export interface CameraParts<S extends CameraStream, F> {
  /** The camera's stream; throws CameraError when it gives none. */
  open(): Promise<S>;
  /** Shows `stream`; resolves once it gives pictures. */
  show(stream: S): Promise<void>;
  /** Shows nothing. */
  clear(): void;
  /** The picture shown now. */
  read(): F;
}

/** How long a camera may take to give its first picture before it counts as failed. */
export const FIRST_PICTURE_MS = 10_000;

const TURNED_OFF = "The camera was turned off before it started.";

/** Stops every track of `stream`: the camera's light goes off. */
const stopTracks = (stream: CameraStream) => {
  for (const track of stream.getTracks()) track.stop();
};

/** The camera of one screen: started, stopped, and read only while its latest start is live. */
export class CameraSession<S extends CameraStream, F> {
  readonly #parts: CameraParts<S, F>;
  /**
   * Counts the starts and stops: a stream that arrives for a start since superseded (stopped, a
   * later start, the screen gone) is stopped at once instead of being kept.
   */
  #generation = 0;
  #stream: S | null = null;
  /** Whether the stream shown gives pictures for the latest start: frames are read only then. */
  #live = false;

  constructor(parts: CameraParts<S, F>) {
    this.#parts = parts;
  }

  /** Turns the camera off: its stream stops, and a start under way gets no stream. */
  stop(): void {
    this.#generation++;
    this.#live = false;
    if (this.#stream !== null) stopTracks(this.#stream);
    this.#stream = null;
    this.#parts.clear();
  }

  /** Turns the camera on; resolves once the preview shows its pictures. */
  async start(): Promise<void> {
    this.stop();
    const mine = ++this.#generation;
    const opened = await this.#parts.open();
    if (mine !== this.#generation) {
      stopTracks(opened);
      throw new CameraError(TURNED_OFF);
    }
    this.#stream = opened;
    try {
      await this.#parts.show(opened);
      if (mine !== this.#generation) throw new CameraError(TURNED_OFF);
      this.#live = true;
    } catch (e) {
      if (mine === this.#generation) this.stop();
      throw e instanceof CameraError ? e : new CameraError("The camera gives no picture: try again.", { cause: e });
    }
  }

  /** The picture the camera shows now; throws unless it gives pictures for its latest start. */
  frame(): F {
    if (!this.#live) throw new CameraError("The camera gives no picture yet.");
    return this.#parts.read();
  }
}

/** An element that plays the camera, as `firstPicture` waits on it: an `HTMLVideoElement`. */
type Playing = Pick<EventTarget, "addEventListener" | "removeEventListener">;

/** Resolves at `element`'s first picture; fails when none comes in `FIRST_PICTURE_MS`. */
export function firstPicture(element: Playing): Promise<void> {
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
