/**
 * The device's record of the session ids its shares have taken part in. Whoever proposes a run —
 * the provider as relay, another member, this device itself — its sid is checked against the
 * record of the share the run would use and added to it, and the keystore is written, before the
 * party is made: a sid this share has used is refused (`sid-reused`) and nothing leaves the
 * device. The engines add fresh randomness of their own to every run, but a relay that could
 * make a share answer twice under one sid would be one engine bug away from the share; the
 * device does not lean on that.
 *
 * What is recorded, and why the record may be dropped where it is:
 *
 * - **Per share, not per wallet.** A refresh or reshare replaces the share; the old one is
 *   deleted from the keystore when the new one is swapped in, and a run is claimed only against
 *   the share the keystore holds at that moment, so nothing can take part with the old share
 *   again and its record goes with it. The new share's record starts with the sid of the run
 *   that made it (keygen, refresh or reshare), so it never signs under that sid either.
 * - **Not by time.** Expiry would be the relay session's (an hour), and the relay is who is
 *   guarded against: it chooses the sid and the expiry, and can list a sid from any time in a
 *   new session. Nothing about a sid tells the device when it was first used, so no entry can be
 *   forgotten on a clock.
 * - **Bounded by count.** The record grows by one entry (64 hex digits) per run, and the whole
 *   keystore is rewritten at each run, so a share takes part in at most `MAX_RUNS_PER_SHARE` runs
 *   (≈ 0.7 MB of record); past that the device refuses to sign with it (`refresh-needed`) and a
 *   refresh, which keeps the key and every address, starts the next share's record from one
 *   entry. Key changes keep `KEY_CHANGE_RESERVE` entries beyond the bound so that the refresh
 *   itself can run. Refusing is sound where forgetting the oldest entries would not be.
 *
 * Key generation uses no share, so it claims nothing: a repeated keygen run makes a new secret
 * and nothing stored is at stake. A share brought back by face recovery comes with no record (the
 * lost device's runs are unknown); recovery refreshes it at once.
 */
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { WalletError } from "./errors.js";
import type { StoredWallet } from "./state.js";

export const MAX_RUNS_PER_SHARE = 10_000;
export const KEY_CHANGE_RESERVE = 100;

export type RunKind = "sign" | "key-change";

/**
 * A sid as the record holds it: 32 bytes, lower-case hex. The relay cannot get past the record
 * by writing a used sid another way (upper case, say).
 */
export function sidHex(sid: string | Uint8Array): string {
  let bytes: Uint8Array;
  try {
    bytes = typeof sid === "string" ? hexToBytes(sid) : sid;
  } catch {
    bytes = new Uint8Array();
  }
  if (bytes.length !== 32)
    throw new WalletError("signing-failed", "the provider gave a session id that is not 32 bytes: nothing was run");
  return bytesToHex(bytes);
}

/** Whether `wallet`'s current share has taken part in a run under `sid`. */
export function usedBy(wallet: StoredWallet, sid: string | Uint8Array): boolean {
  return (wallet.sids ?? []).includes(sidHex(sid));
}

export const reusedSid = (wallet: { name: string }, sid: string) =>
  new WalletError(
    "sid-reused",
    `a run of wallet ${wallet.name} under session id ${sid.slice(0, 16)}… was proposed, and this device's share has taken part in a run under that id before: refused before anything was sent (the provider or relay replayed a session)`,
    { sid },
  );

/**
 * Adds `sids` to the record of `wallet`'s share, in place, or throws without changing it: a sid
 * already there or given twice is `sid-reused`, a record at its bound is `refresh-needed`.
 */
export function claimIn(wallet: StoredWallet, sids: readonly (string | Uint8Array)[], kind: RunKind): void {
  const record = wallet.sids ?? [];
  const taken = new Set(record);
  const fresh: string[] = [];
  for (const sid of sids.map(sidHex)) {
    if (taken.has(sid)) throw reusedSid(wallet, sid);
    taken.add(sid);
    fresh.push(sid);
  }
  const bound = MAX_RUNS_PER_SHARE + (kind === "key-change" ? KEY_CHANGE_RESERVE : 0);
  if (record.length + fresh.length > bound)
    throw new WalletError(
      "refresh-needed",
      `this device's share of wallet ${wallet.name} has taken part in ${record.length} runs, as many as one share records: refresh the wallet`,
      {},
      { next: { step: "refresh-wallet", wallet: wallet.name } },
    );
  wallet.sids = [...record, ...fresh];
}
