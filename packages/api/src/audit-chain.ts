/**
 * The rule of an account's audit chain, which the provider writes and a device recomputes: each
 * entry's link (`hash`) is SHA-256 over the link before it (the first entry's: `AUDIT_GENESIS`)
 * followed by the entry's canonical JSON, `details` in it as the canonical JSON text it was stored
 * as. Entries are numbered from 1, one apart. The hash is WebCrypto's, which Node and a browser
 * page or worker both have, so this contract needs no hashing library of its own.
 */
import { canonicalJson } from "./canonical-json.js";

const GENESIS = new Uint8Array(32);

/** The fields an entry's link covers, `details` as its canonical JSON text. */
export interface AuditLink {
  chain: string;
  seq: number;
  atMs: number;
  actor: string;
  action: string;
  details: string;
}

/** Links as the API writes them: lower-case hex. */
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The link before a chain's first entry: 32 zero bytes, hex. */
export const AUDIT_GENESIS = hex(GENESIS);

/** The entry's link after `prev`: SHA-256(prev ‖ canonicalJson(entry)). */
export async function auditEntryHash(prev: Uint8Array, entry: AuditLink): Promise<Uint8Array> {
  const { chain, seq, atMs, actor, action, details } = entry;
  const encoding = new TextEncoder().encode(canonicalJson({ chain, seq, atMs, actor, action, details }));
  const input = new Uint8Array(prev.length + encoding.length);
  input.set(prev);
  input.set(encoding, prev.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

/** A chain recomputed from the genesis: its last link, or the first entry whose link does not hold. */
export type RecomputedAuditChain = { holds: true; head: string } | { holds: false; firstBroken: number };

/**
 * Recomputes `entries` (oldest first, each with the link it claims) as the chain named `chain`: the
 * first entry — by its place, counted from 1 — that is not of that chain, is not numbered by its
 * place, or claims another link than its own, is where the chain breaks; any edit, removal or
 * reordering breaks it there. Otherwise its head: the last link (`AUDIT_GENESIS` when empty).
 */
export async function recomputeAuditChain(
  chain: string,
  entries: readonly (AuditLink & { hash: string })[],
): Promise<RecomputedAuditChain> {
  let prev: Uint8Array = GENESIS;
  for (const [i, entry] of entries.entries()) {
    const link = await auditEntryHash(prev, entry);
    if (entry.chain !== chain || entry.seq !== i + 1 || entry.hash !== hex(link))
      return { holds: false, firstBroken: i + 1 };
    prev = link;
  }
  return { holds: true, head: hex(prev) };
}
