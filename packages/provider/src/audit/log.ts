/**
 * The append-only audit log: one hash chain per account. Each entry's hash covers the previous
 * hash and the entry's canonical encoding, so editing, removing or reordering any entry breaks
 * every later link; `verifyAudit` names the first broken one.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { canonicalJson } from "../canonical-json.js";
import type { Queryable } from "../store/queryable.js";

export interface AuditEntry {
  chain: string;
  seq: number;
  atMs: number;
  actor: string;
  action: string;
  details: unknown;
  hash: string;
}

const GENESIS = new Uint8Array(32);

function entryHash(
  prev: Uint8Array,
  chain: string,
  seq: number,
  atMs: number,
  actor: string,
  action: string,
  details: string,
) {
  return sha256(new Uint8Array([...prev, ...utf8ToBytes(canonicalJson({ chain, seq, atMs, actor, action, details }))]));
}

/** Chain of events that belong to no account (start-ups, configuration). */
export const SYSTEM_CHAIN = "system";

/**
 * Appends to `chain` inside the caller's transaction, so the entry and the state change it
 * records commit together. One statement moves the chain's head and writes the entry: the head's
 * row lock orders appends to one chain across replicas, and PostgreSQL computes the link from the
 * head it holds (`sha256`), over the encoding `entryHash` reads back — `seq` is the encoding's
 * last key, so the rest of it is made here and the number appended there.
 */
export async function appendAudit(
  tx: Queryable,
  entry: { chain: string; atMs: number; actor: string; action: string; details: unknown },
): Promise<void> {
  const details = canonicalJson(entry.details);
  const { chain, atMs, actor, action } = entry;
  const beforeSeq = `${canonicalJson({ chain, atMs, actor, action, details }).slice(0, -1)},"seq":`;
  const append = () =>
    tx.query(
      `WITH head AS (
         UPDATE audit_heads SET seq = seq + 1, prev_hash = hash,
           hash = sha256(hash || convert_to($2 || (seq + 1)::text || '}', 'UTF8'))
         WHERE chain = $1 RETURNING seq, prev_hash, hash)
       INSERT INTO audit_log (chain, seq, at_ms, actor, action, details, prev_hash, hash)
         SELECT $1, seq, $3, $4, $5, $6, prev_hash, hash FROM head RETURNING seq`,
      [chain, beforeSeq, atMs, actor, action, details],
    );
  if ((await append()).length > 0) return;
  // A chain's first entry: its head starts at the genesis link.
  await tx.query(
    "INSERT INTO audit_heads (chain, seq, prev_hash, hash) VALUES ($1, 0, $2, $2) ON CONFLICT DO NOTHING",
    [chain, GENESIS],
  );
  if ((await append()).length === 0) throw new Error("audit chain head missing");
}

interface AuditRow {
  chain: string;
  seq: string;
  at_ms: string;
  actor: string;
  action: string;
  details: string;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

const SELECT_CHAIN =
  "SELECT chain, seq, at_ms, actor, action, details, prev_hash, hash FROM audit_log WHERE chain = $1 ORDER BY seq";

export async function readAudit(db: Queryable, chain: string): Promise<AuditEntry[]> {
  const rows = await db.query<AuditRow>(SELECT_CHAIN, [chain]);
  return rows.map((r) => ({
    chain: r.chain,
    seq: Number(r.seq),
    atMs: Number(r.at_ms),
    actor: r.actor,
    action: r.action,
    details: JSON.parse(r.details),
    hash: bytesToHex(new Uint8Array(r.hash)),
  }));
}

export interface AuditVerdict {
  ok: boolean;
  length: number;
  /** The first entry whose link does not hold (missing, edited, or reordered before it), or one past the end when entries were cut from it. */
  firstBroken?: number;
  head?: string;
}

export async function verifyAudit(db: Queryable, chain: string): Promise<AuditVerdict> {
  const rows = await db.query<AuditRow>(SELECT_CHAIN, [chain]);
  const [head] = await db.query<{ seq: string; hash: Uint8Array }>(
    "SELECT seq, hash FROM audit_heads WHERE chain = $1",
    [chain],
  );
  let prev = GENESIS;
  for (const [i, r] of rows.entries()) {
    const seq = Number(r.seq);
    const expected = entryHash(prev, r.chain, seq, Number(r.at_ms), r.actor, r.action, r.details);
    if (
      seq !== i + 1 ||
      bytesToHex(new Uint8Array(r.prev_hash)) !== bytesToHex(prev) ||
      bytesToHex(new Uint8Array(r.hash)) !== bytesToHex(expected)
    )
      return { ok: false, length: rows.length, firstBroken: i + 1 };
    prev = expected;
  }
  // Entries cut from the end leave a chain whose links all hold: the head still names the last one.
  if (Number(head?.seq ?? 0) !== rows.length || bytesToHex(new Uint8Array(head?.hash ?? GENESIS)) !== bytesToHex(prev))
    return { ok: false, length: rows.length, firstBroken: rows.length + 1 };
  return { ok: true, length: rows.length, ...(rows.length > 0 && { head: bytesToHex(prev) }) };
}
