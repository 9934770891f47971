/**
 * The wallet engine's worker (a dedicated module worker): it receives the page's calls, runs them
 * one at a time in the order they came (so the SDK's progress texts belong to the running call,
 * and two calls never race on the keystore) and answers each with progress, then one result or
 * error. Only the engine loads the SDK, so the page's first screen stays small and key generation
 * never blocks it. A call may ask the page to confirm what it is about to sign; the page's answer
 * comes outside the queue, since the call that asked holds it.
 */
import { type Call, type EngineFailure, isConfirmAnswer, type Reply, readCall, readConfirmAnswer } from "./protocol.js";
import { MESSAGE_MAX, showable } from "./readers.js";
import type { Review } from "./review.js";

/**
 * The part of a worker's global scope the engine uses: the typecheck runs with the DOM library,
 * which types `self` as a window.
 */
interface EngineScope {
  postMessage(reply: Reply): void;
  addEventListener(type: "message", listener: (event: MessageEvent<unknown>) => void): void;
}
const scope = self as unknown as EngineScope;

/**
 * The SDK, loaded once the listener below is in place: it instantiates WebAssembly with a
 * top-level await, and a module worker loses the messages posted to it before it listens.
 */
const engine = import("./handle.js");

function notLoaded(e: unknown): EngineFailure {
  return {
    code: "engine",
    message: showable(
      `the wallet engine could not load in this browser: ${e instanceof Error ? e.message : String(e)}`,
      MESSAGE_MAX,
    ),
    next: "Reload the page, or open the wallet in an up-to-date browser.",
  };
}

/** What the page is told of `e`: by the loaded engine, or that the engine did not load. */
const replyFailureOf = (e: unknown): Promise<EngineFailure> =>
  engine.then(
    (loaded) => loaded.engineFailureOf(e),
    (loadError: unknown) => notLoaded(loadError),
  );

/** The confirmations the page has been asked for, by their call's id: each settles once, with its answer. */
const confirmations = new Map<number, (confirmed: boolean) => void>();

function confirmation(id: number, review: Review): Promise<boolean> {
  if (confirmations.has(id)) throw new Error("this call waits for a confirmation already");
  return new Promise((resolve) => {
    confirmations.set(id, resolve);
    scope.postMessage({ id, kind: "confirm", review });
  });
}

async function run(call: Call): Promise<void> {
  const { id } = call;
  try {
    const { fitShort, handle } = await engine;
    const progress = (text: string) => scope.postMessage({ id, kind: "progress", text: fitShort(text) });
    scope.postMessage({ id, kind: "ok", value: await handle(call, progress, (review) => confirmation(id, review)) });
  } catch (e) {
    scope.postMessage({ id, kind: "error", error: await replyFailureOf(e) });
  } finally {
    confirmations.delete(id);
  }
}

/**
 * Settles the confirmation the answer is for. An answer that cannot be read, or that no
 * confirmation waits for (an unknown id, a second answer), is dropped: only the page's one
 * answer to a question asked can let a call sign.
 */
function answer(message: unknown): void {
  let read: ReturnType<typeof readConfirmAnswer>;
  try {
    read = readConfirmAnswer(message);
  } catch {
    return;
  }
  const settle = confirmations.get(read.id);
  confirmations.delete(read.id);
  settle?.(read.confirmed);
}

let queue = Promise.resolve();

scope.addEventListener("message", (event) => {
  if (isConfirmAnswer(event.data)) {
    answer(event.data);
    return;
  }
  let call: Call;
  try {
    call = readCall(event.data);
  } catch (e) {
    // A call that cannot be read is answered when its id can be, so that its caller is not left waiting.
    const id = (event.data as { id?: unknown } | null)?.id;
    if (typeof id === "number" && Number.isSafeInteger(id) && id > 0)
      void replyFailureOf(e).then((error) => scope.postMessage({ id, kind: "error", error }));
    return;
  }
  // `run` answers every failure itself; the catch only keeps one unforeseen one from stopping the queue.
  queue = queue.then(() => run(call)).catch(() => {});
});
