/**
 * The wallet engine's worker (a dedicated module worker): it receives the page's calls, runs them
 * one at a time in the order they came (so the SDK's progress texts belong to the running call,
 * and two calls never race on the keystore) and answers each with progress, then one result or
 * error. Only the engine loads the SDK, so the page's first screen stays small and key generation
 * never blocks it.
 */
import { type Call, type EngineFailure, MESSAGE_MAX, type Reply, readCall, showable } from "./protocol.js";

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
const engine = import("./handlers.js");

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

async function run(call: Call): Promise<void> {
  const { id } = call;
  try {
    const { shortText, handle } = await engine;
    const progress = (text: string) => scope.postMessage({ id, kind: "progress", text: shortText(text) });
    scope.postMessage({ id, kind: "ok", value: await handle(call, progress) });
  } catch (e) {
    scope.postMessage({ id, kind: "error", error: await replyFailureOf(e) });
  }
}

let queue = Promise.resolve();

scope.addEventListener("message", (event) => {
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
