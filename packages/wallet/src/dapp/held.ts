/**
 * Signing for a caller that needs the signature itself, not a command to run later: a dApp's
 * account or provider. A request the wallet's policy holds is waited for here — until it waits for
 * nothing (approvals given, its time lock over, the TOTP code given) and is then finished with
 * `resumeSigning`, as `keyshard resume` would — or until the caller stops waiting, which leaves it
 * held for a later `resume`. A denied request, or a held one cancelled meanwhile, throws `denied`.
 */
import type { SigningRequest } from "@keyshard/chains";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { requestDetail } from "../flows/approvals.js";
import { resumeSigning, sign } from "../flows/sign.js";
import { ruleLabel } from "../policy-units.js";
import type { WaitingFor } from "../types.js";

/** A request the wallet's policy holds, as the caller is told of it. */
export interface HeldRequest {
  requestId: string;
  rule: string | null;
  ruleNumber: number | null;
  waitingFor: WaitingFor;
  /** What it waits for, in words (the held error's message). */
  message: string;
}

export interface HeldOptions {
  /** Told once when the policy holds a request, before it is waited for (to show the person why). */
  onHeld?: (held: HeldRequest) => void | Promise<void>;
  /** Asked for the account's TOTP code when a held request waits for one; without it such a request throws `held`. */
  totp?: () => string | Promise<string>;
  /** How long to wait for a held request before throwing `held`, in whole milliseconds (default 10 minutes, at most a day). */
  heldWaitMs?: number;
  /** Stops waiting for a held request (it stays held): throws `held`. Aborted already, no request is made: `usage`. */
  signal?: AbortSignal;
}

const HELD_WAIT_MS = 10 * 60_000;
/** The longest `heldWaitMs`: a day. A lock longer than that is better finished by a later `resume`. */
export const MAX_HELD_WAIT_MS = 24 * 60 * 60_000;
/** How often the provider is asked whether a held request still waits. */
const POLL_MS = 1_000;

/** Statuses in which nobody can sign the request any more. */
const REFUSED = new Set(["cancelled", "denied"]);

/** A pause of `ms`, over early when `signal` aborts (with timers a browser has too, not Node's). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `sign`, waiting out a hold as `options` say; returns the signatures. */
export async function signWaiting(
  device: Device,
  name: string,
  body: SigningRequest,
  options: HeldOptions,
): Promise<Uint8Array[]> {
  // A caller that stopped waiting before the request was made wants none made: it would stay held.
  if (options.signal?.aborted)
    throw new WalletError("usage", "stopped before signing: `signal` is aborted, nothing was signed", {
      declined: true,
    });
  try {
    return (await sign(device, name, body, {})).signatures;
  } catch (e) {
    if (!(e instanceof WalletError) || e.code !== "held") throw e;
    return waitForHeld(device, e, options);
  }
}

async function waitForHeld(device: Device, held: WalletError, options: HeldOptions): Promise<Uint8Array[]> {
  const requestId = held.details.requestId as string;
  const rule = (held.details.rule as string | null) ?? null;
  const ruleNumber = (held.details.ruleNumber as number | null) ?? null;
  const label = ruleLabel(ruleNumber, held.details.rule);
  await options.onHeld?.({
    requestId,
    rule,
    ruleNumber,
    waitingFor: (held.details.waitingFor as WaitingFor | undefined) ?? {},
    message: held.message,
  });
  const waitMs = options.heldWaitMs ?? HELD_WAIT_MS;
  const deadline = Date.now() + waitMs;
  const stillHeld = (why: string) =>
    new WalletError(
      "held",
      `request ${requestId} is still held by the provider's policy (${label}): ${why}. Approve it from another device or give the code, then resume it`,
      { ...held.details },
      { next: { step: "resume", requestId }, cause: held },
    );
  for (;;) {
    if (options.signal?.aborted) throw stillHeld("stopped waiting for it");
    const detail = await requestDetail(device, requestId);
    if (REFUSED.has(detail.status))
      throw new WalletError("denied", `request ${requestId} was ${detail.status} while held by ${label}`, {
        requestId,
        status: detail.status,
        rule: held.details.rule,
        ruleNumber: held.details.ruleNumber,
      });
    const waiting = detail.waitingFor ?? {};
    if (waiting.totp && options.totp === undefined) throw stillHeld("it waits for the account's TOTP code");
    if (waiting.approvals === undefined && waiting.releaseMs === undefined) {
      const totp = waiting.totp ? await (options.totp as () => string | Promise<string>)() : undefined;
      return (await resumeSigning(device, requestId, totp === undefined ? {} : { totp })).signatures;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw stillHeld(`not released within ${Math.round(waitMs / 1000)} s`);
    // The release time is the provider's clock: on a device whose clock is ahead it seems past
    // while the provider still holds the request, and is then asked at the usual pace.
    const untilRelease = waiting.approvals === undefined ? (waiting.releaseMs ?? 0) - Date.now() : POLL_MS;
    const pause = Math.min(POLL_MS, left, untilRelease > 0 ? untilRelease : POLL_MS);
    // Only the caller's signal cuts the pause short: the loop's first check says so.
    await sleep(Math.max(50, pause), options.signal);
  }
}
