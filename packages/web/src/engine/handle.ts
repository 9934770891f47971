/**
 * What the wallet engine does: it holds this browser's one `Wallet` (its keystore in IndexedDB)
 * and runs each call of the allow-list (`protocol.ts`) with its area's handler (`handlers/`).
 * Loaded by the engine's worker (`worker.ts`), never by the page.
 */
import { KeystoreError, WalletError } from "@keyshard/wallet/browser";
import { coreHandlers } from "./handlers/core.js";
import { devicesHandlers } from "./handlers/devices.js";
import { type Confirm, EngineRefusal, type Handlers, message, reportProgressTo } from "./handlers/engine-state.js";
import { faceHandlers } from "./handlers/face.js";
import { policyHandlers } from "./handlers/policies.js";
import { requestsHandlers } from "./handlers/requests.js";
import { securityHandlers } from "./handlers/security.js";
import { sharedWalletHandlers } from "./handlers/shared-wallets.js";

export { fitShort } from "./handlers/engine-state.js";

import { describeNextStep } from "./next-steps.js";
import { type Args, type Call, type EngineFailure, type Method, type Methods, NEXT_STEP_MAX } from "./protocol.js";
import { ProtocolError, showable } from "./readers.js";

const handlers: Handlers<Methods> = {
  ...coreHandlers,
  ...devicesHandlers,
  ...requestsHandlers,
  ...securityHandlers,
  ...policyHandlers,
  ...faceHandlers,
  ...sharedWalletHandlers,
};

/** How much of a reason the provider gave is shown: enough for any it words itself. */
const PROVIDER_REASON_MAX = 300;

/** The SDK's message, with a reason the provider gave marked as the provider's words. */
function walletMessage(e: WalletError): string {
  if (e.code === "denied") {
    const rule = e.details.rule;
    const reason = typeof rule === "string" && rule !== "" ? showable(rule, PROVIDER_REASON_MAX) : "no rule allows it";
    return message(`the wallet's policy denies this: nothing was signed. The provider says: "${reason}"`);
  }
  const PROVIDER_REFUSED = "the provider refused: ";
  if (e.code !== "provider-refused" || !e.message.startsWith(PROVIDER_REFUSED)) return message(e.message);
  const reason = showable(e.message.slice(PROVIDER_REFUSED.length), PROVIDER_REASON_MAX);
  return message(`the provider refused the request. The provider says: "${reason}"`);
}

/** An error as the page is told it: the SDK's code and advice kept, nothing but the message otherwise. */
export function engineFailureOf(e: unknown): EngineFailure {
  if (e instanceof WalletError || e instanceof KeystoreError) {
    const next = describeNextStep(e.next);
    return {
      code: e.code,
      message: e instanceof WalletError ? walletMessage(e) : message(e.message),
      next: next === null ? null : showable(next, NEXT_STEP_MAX),
    };
  }
  if (e instanceof EngineRefusal) return { code: e.code, message: e.message, next: null };
  if (e instanceof ProtocolError) return { code: "protocol", message: message(e.message), next: null };
  return {
    code: "internal",
    message: message(`the wallet engine failed: ${e instanceof Error ? e.message : String(e)}`),
    next: "Reload the page and try again.",
  };
}

/** Runs one call; `progress` gets the SDK's step texts while it runs, `confirm` asks the page. */
export async function handle(
  { method, args }: Call,
  progress: (text: string) => void,
  confirm: Confirm,
): Promise<unknown> {
  reportProgressTo(progress);
  try {
    const handler = handlers[method] as (
      args: Args<Method>,
      progress: (text: string) => void,
      confirm: Confirm,
    ) => Promise<unknown>;
    return await handler(args, progress, confirm);
  } finally {
    reportProgressTo(undefined);
  }
}
