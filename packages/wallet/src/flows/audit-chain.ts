/**
 * The account's audit chain checked on this device rather than taken on the provider's word: every
 * link recomputed from the genesis by the rule the provider writes them with (`@keyshard/api`), and
 * the chain held against the last head this device found holding, pinned in its keystore. Links
 * alone catch an entry edited or removed; only the pin catches a provider that rewrites history and
 * recomputes every later link, or cuts the chain short: the pinned entry is then missing or has
 * another link than the one this device saw.
 */
import { type AuditLink, canonicalJson, endpoints, recomputeAuditChain } from "@keyshard/api";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { fieldsOf } from "../replies.js";
import type { AuditHead } from "../state.js";

/** The device's own verdict on the account's audit chain, `entries` long as the provider gave it. */
export type AuditChainCheck =
  /**
   * Every link holds, and the chain still has the entry this device pinned before (`extendsSeen`,
   * its number; null when this device had pinned none). `head` is its last entry, now pinned.
   */
  | { status: "intact"; entries: number; head: AuditHead | null; extendsSeen: number | null }
  /** Entry `at` does not hold: not the account's, not numbered by its place, or not linked to the one before. */
  | { status: "broken"; entries: number; at: number }
  /**
   * Every link holds, but entry `at`, which this device found holding before, is missing or has
   * another link: the chain was rewritten or cut, its links recomputed to hide it.
   */
  | { status: "diverged"; entries: number; at: number };

/** The longest chain name, actor or action taken: the provider's are ids and short names. */
export const AUDIT_TEXT_MAX = 256;
/**
 * The longest entry details taken, as canonical JSON: an entry records one request, and the
 * provider takes request bodies of up to 1 MiB; twice that leaves room for what it adds.
 */
export const AUDIT_DETAILS_MAX = 2 << 20;

const ENTRY_FIELDS = ["action", "actor", "atMs", "chain", "details", "hash", "seq"].join();
const LINK = /^[0-9a-f]{64}$/;

const malformed = (what: string, cause?: unknown) =>
  new WalletError("provider-refused", `the provider's audit chain ${what}`, {}, { cause });

const isText = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= AUDIT_TEXT_MAX;
const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** The entry's details as the canonical JSON the provider hashed, bounded. */
function canonicalDetails(details: unknown, place: number): string {
  let encoded: string;
  try {
    encoded = canonicalJson(details);
  } catch (e) {
    // Not JSON, or nested deeper than the stack: nothing the provider stores.
    throw malformed(`has details in entry ${place} that are no JSON value`, e);
  }
  if (encoded.length > AUDIT_DETAILS_MAX)
    throw malformed(`has details in entry ${place} longer than this device takes`);
  return encoded;
}

/**
 * The provider's reply to `GET /v1/audit`, read strictly: exactly its entries (and the notice a
 * provider in trial mode adds to a reply that names a delay's end), each entry exactly its fields in
 * their types and bounds. What they say (numbers, chain, links) is the check's to judge.
 */
export function readAuditChain(reply: unknown): (AuditLink & { hash: string })[] {
  const { entries, trial, ...rest } = fieldsOf(reply);
  if (!Array.isArray(entries) || (trial !== undefined && !isText(trial)) || Object.keys(rest).length > 0)
    throw malformed("is not a list of entries");
  return entries.map((entry: unknown, i) => {
    const fields = fieldsOf(entry);
    const { chain, seq, atMs, actor, action, details, hash } = fields;
    if (
      Object.keys(fields).sort().join() !== ENTRY_FIELDS ||
      !isText(chain) ||
      !isCount(seq) ||
      !isCount(atMs) ||
      !isText(actor) ||
      !isText(action) ||
      typeof hash !== "string" ||
      !LINK.test(hash)
    )
      throw malformed(`has an entry ${i + 1} that is no audit entry`);
    return { chain, seq, atMs, actor, action, details: canonicalDetails(details, i + 1), hash };
  });
}

/** The verdict on a chain whose links hold, by whether it still has the entry this device pinned (`seen`). */
function againstSeen(
  entries: readonly { hash: string }[],
  head: AuditHead | null,
  seen: AuditHead | undefined,
): AuditChainCheck {
  if (seen === undefined) return { status: "intact", entries: entries.length, head, extendsSeen: null };
  // The links held, so entry n is at place n.
  if (entries[seen.seq - 1]?.hash !== seen.hash) return { status: "diverged", entries: entries.length, at: seen.seq };
  return { status: "intact", entries: entries.length, head, extendsSeen: seen.seq };
}

/** One reading of the chain, judged against the pin; `ahead` when the pin is past its end. */
async function checkOnce(device: Device): Promise<{ verdict: AuditChainCheck; ahead: boolean }> {
  const [reply, account] = await Promise.all([
    device.client.request(endpoints.audit),
    device.client.request(endpoints.account),
  ]);
  const entries = readAuditChain(reply);
  const recomputed = await recomputeAuditChain(account.id, entries);
  if (!recomputed.holds)
    return { verdict: { status: "broken", entries: entries.length, at: recomputed.firstBroken }, ahead: false };
  const head = entries.length === 0 ? null : { seq: entries.length, hash: recomputed.head };
  let judged!: { verdict: AuditChainCheck; ahead: boolean };
  // Judged under the keystore's lock against the pin stored there now, not the one this object
  // read: another process of this device may have moved it on since.
  await device.save((state) => {
    const seen = state.provider?.auditHead;
    judged = { verdict: againstSeen(entries, head, seen), ahead: seen !== undefined && seen.seq > entries.length };
    // Intact, the chain reaches the pin: its head is the pin or past it.
    if (state.provider !== null && judged.verdict.status === "intact" && head !== null) state.provider.auditHead = head;
  });
  return judged;
}

/**
 * Checks the account's audit chain on this device, and pins its head when it holds. Throws only
 * when the provider cannot be asked or answers with no audit chain at all.
 */
export async function auditCheck(device: Device): Promise<AuditChainCheck> {
  const first = await checkOnce(device);
  // A pin past the chain's end may be another process's of this device, made from entries
  // appended after this chain was read: read it once more. Still short of the pin, it was cut.
  return first.ahead ? (await checkOnce(device)).verdict : first.verdict;
}
