/**
 * The page's side of the wallet engine: starts the worker and turns its replies into typed
 * promises, `await engine.call("createWallet", { name }, (text) => show(text))`. Every reply is
 * read strictly (`protocol.ts`) before it settles a call; the engine's errors keep their code.
 * A call that signs (`send`) is given `onConfirm`, which shows the engine's review of the
 * transaction and resolves to the person's answer; the engine signs nothing before it is true.
 */
import {
  type Args,
  type ConfirmAnswer,
  type EngineFailure,
  isProgressReply,
  METHODS,
  type Method,
  type Result,
  readReply,
} from "./protocol.js";
import type { Review } from "./review.js";

/** An error the engine answered with, or its failure to answer at all. */
export class EngineCallError extends Error {
  override readonly name = "EngineCallError";
  /** The SDK's code (`wrong-passphrase`, `provider-down`, …) or the engine's own. */
  readonly code: string;
  /** What the person can do about it, when the SDK says. */
  readonly next: string | null;

  constructor(failure: EngineFailure, options?: ErrorOptions) {
    super(failure.message, options);
    this.code = failure.code;
    this.next = failure.next;
  }
}

interface PendingCall {
  method: Method;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress: ((text: string) => void) | undefined;
  onConfirm: Confirm | undefined;
}

/** Shows the person what a transaction does; resolves to whether they confirmed it. */
export type Confirm = (review: Review) => Promise<boolean>;

export interface Engine {
  call<M extends Method>(
    method: M,
    args: Args<M>,
    onProgress?: (text: string) => void,
    onConfirm?: Confirm,
  ): Promise<Result<M>>;
}

const engineFailure = (message: string, cause?: unknown) =>
  new EngineCallError(
    { code: "engine", message, next: "Reload the page and try again." },
    cause === undefined ? undefined : { cause },
  );

export function startEngine(): Engine {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "keyshard engine" });
  const pending = new Map<number, PendingCall>();
  let lastId = 0;
  /** Set once the worker is gone: every call, pending or new, fails with it at once. */
  let dead: EngineCallError | undefined;

  const failAll = (error: EngineCallError) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  worker.addEventListener("message", (event: MessageEvent<unknown>) => {
    let reply: ReturnType<typeof readReply>;
    try {
      reply = readReply(event.data);
    } catch (e) {
      // A progress text is only shown: an unreadable one is dropped. Any other reply that cannot be
      // read cannot be matched to its call with confidence: none is trusted.
      if (isProgressReply(event.data)) return;
      failAll(engineFailure("the wallet engine answered something unreadable", e));
      // An unreadable question is answered no, so that the call that asked it stops without signing.
      const asking = event.data as { kind?: unknown; id?: unknown } | null;
      if (asking?.kind === "confirm" && typeof asking.id === "number" && Number.isSafeInteger(asking.id))
        worker.postMessage({ id: asking.id, kind: "confirm-answer", confirmed: false } satisfies ConfirmAnswer);
      return;
    }
    const call = pending.get(reply.id);
    if (call === undefined) return;
    if (reply.kind === "progress") {
      call.onProgress?.(reply.text);
      return;
    }
    if (reply.kind === "confirm") {
      const { id } = reply;
      // A call not made to be confirmed is refused whatever it asks; a failing review is a "no".
      const asked = call.onConfirm?.(reply.review) ?? Promise.resolve(false);
      void asked
        .catch(() => false)
        .then((confirmed) => worker.postMessage({ id, kind: "confirm-answer", confirmed } satisfies ConfirmAnswer));
      return;
    }
    pending.delete(reply.id);
    if (reply.kind === "error") {
      call.reject(new EngineCallError(reply.error));
      return;
    }
    try {
      call.resolve(METHODS[call.method].result(reply.value, `the result of ${call.method}`));
    } catch (e) {
      call.reject(engineFailure(`the wallet engine answered ${call.method} wrongly`, e));
    }
  });
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    dead = engineFailure("the wallet engine stopped: this browser may not run it");
    failAll(dead);
  });
  worker.addEventListener("messageerror", () => failAll(engineFailure("a message of the wallet engine was lost")));

  return {
    call(method, args, onProgress, onConfirm) {
      if (dead !== undefined) return Promise.reject(dead);
      const id = ++lastId;
      return new Promise((resolve, reject) => {
        pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, onProgress, onConfirm });
        worker.postMessage({ id, method, args });
      });
    },
  };
}
