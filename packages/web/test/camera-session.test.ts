/**
 * The camera's session, with streams and a preview stood in for: a stream that arrives after the
 * camera was turned off, or for a start a later one superseded, is stopped at once, never shown,
 * and gives no frame; one turned off while its first picture is awaited too; a preview that gives
 * no picture fails the start and stops the stream. A camera gives its first picture within
 * `FIRST_PICTURE_MS`, or counts as failed.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CameraError, CameraSession, FIRST_PICTURE_MS, firstPicture } from "../src/camera-session.js";

/** A stream of one track, which says whether it was stopped. */
function fakeStream(name: string) {
  const track = { stopped: false, stop: () => void (track.stopped = true) };
  return { name, track, getTracks: () => [track] };
}
type FakeStream = ReturnType<typeof fakeStream>;

/** A promise, and its resolve and reject, for the test to settle when it chooses. */
function later<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (reason: unknown) => void = () => {};
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * A session whose camera gives the streams of `opens`, one per start, and whose preview shows
 * them as `show` says (at once, unless given).
 */
function session(opens: Promise<FakeStream>[], show: (stream: FakeStream) => Promise<void> = async () => {}) {
  const shown: string[] = [];
  let cleared = 0;
  const camera = new CameraSession<FakeStream, string>({
    open: async () => {
      const next = opens.shift();
      if (next === undefined) throw new Error("no more streams");
      return next;
    },
    show: async (stream) => {
      shown.push(stream.name);
      await show(stream);
    },
    clear: () => void cleared++,
    read: () => "a picture",
  });
  return { camera, shown, cleared: () => cleared };
}

describe("the camera's session", () => {
  it("gives frames once shown, and none once turned off, its stream stopped", async () => {
    const stream = fakeStream("a");
    const { camera, shown, cleared } = session([Promise.resolve(stream)]);
    expect(() => camera.frame()).toThrow(CameraError);
    await camera.start();
    expect(shown).toEqual(["a"]);
    expect(camera.frame()).toBe("a picture");
    const before = cleared();
    camera.stop();
    expect(stream.track.stopped).toBe(true);
    expect(cleared()).toBe(before + 1);
    expect(() => camera.frame()).toThrow(/no picture yet/);
  });

  it("stops a stream that arrives after the camera was turned off, never shows it, and gives no frame", async () => {
    const opened = later<FakeStream>();
    const { camera, shown } = session([opened.promise]);
    const starting = camera.start();
    // The screen went while the browser was still asking for the camera.
    camera.stop();
    const stream = fakeStream("late");
    opened.resolve(stream);
    await expect(starting).rejects.toThrow(/turned off before it started/);
    expect(stream.track.stopped).toBe(true);
    expect(shown).toEqual([]);
    expect(() => camera.frame()).toThrow(CameraError);
  });

  it("stops the stream of a start a later one superseded, and keeps the later one's", async () => {
    const first = later<FakeStream>();
    const second = later<FakeStream>();
    const { camera, shown } = session([first.promise, second.promise]);
    const starting = camera.start();
    const restarting = camera.start();
    const newer = fakeStream("second");
    second.resolve(newer);
    await restarting;
    const older = fakeStream("first");
    first.resolve(older);
    await expect(starting).rejects.toThrow(/turned off before it started/);
    expect(older.track.stopped).toBe(true);
    expect(newer.track.stopped).toBe(false);
    expect(shown).toEqual(["second"]);
    expect(camera.frame()).toBe("a picture");
  });

  it("stops a stream turned off while its first picture is awaited, and gives no frame", async () => {
    const showing = later<void>();
    const picture = later<void>();
    const stream = fakeStream("a");
    const { camera } = session([Promise.resolve(stream)], () => {
      showing.resolve();
      return picture.promise;
    });
    const starting = camera.start();
    await showing.promise;
    camera.stop();
    picture.resolve();
    await expect(starting).rejects.toThrow(/turned off before it started/);
    expect(stream.track.stopped).toBe(true);
    expect(() => camera.frame()).toThrow(CameraError);
  });

  it("fails a start whose preview gives no picture, the cause kept, and stops its stream", async () => {
    const stream = fakeStream("a");
    const broken = new Error("play() failed");
    const { camera } = session([Promise.resolve(stream)], async () => {
      throw broken;
    });
    const failed = await camera.start().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CameraError);
    expect((failed as CameraError).cause).toBe(broken);
    expect(stream.track.stopped).toBe(true);
    expect(() => camera.frame()).toThrow(CameraError);
  });
});

describe("a camera's first picture", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** What `waiting` came to so far: undefined while it waits. */
  function outcome(waiting: Promise<void>) {
    const seen: { value?: unknown } = {};
    waiting.then(
      () => void (seen.value = "resolved"),
      (e: unknown) => void (seen.value = e),
    );
    return seen;
  }

  it("fails when none comes within the limit, and stops listening", async () => {
    vi.useFakeTimers();
    const video = new EventTarget();
    const removed = vi.spyOn(video, "removeEventListener");
    const seen = outcome(firstPicture(video));
    await vi.advanceTimersByTimeAsync(FIRST_PICTURE_MS - 1);
    expect(seen.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.value).toBeInstanceOf(CameraError);
    expect(removed).toHaveBeenCalledWith("loadeddata", expect.any(Function));
  });

  it("comes at the video's first data, and the limit is then cleared", async () => {
    vi.useFakeTimers();
    const video = new EventTarget();
    const seen = outcome(firstPicture(video));
    video.dispatchEvent(new Event("loadeddata"));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.value).toBe("resolved");
    expect(vi.getTimerCount()).toBe(0);
  });
});
