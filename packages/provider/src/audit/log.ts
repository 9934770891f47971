/**
 * The append-only audit log: one hash chain per account. Each entry's hash covers the previous
 * hash and the entry's canonical encoding, so editing, removing or reordering any entry breaks
 * every later link; `verifyAudit` names the first broken one.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { canonicalJson } from "../canonical-json.js";
import type { Queryable } from "../store/database.js";

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
 * records commit together. The advisory lock orders appends to one chain across replicas.
 */
export async function appendAudit(
  tx: Queryable,
  entry: { chain: string; atMs: number; actor: string; action: string; details: unknown },
): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`audit:${entry.chain}`]);
  const [last] = await tx.query<{ seq: string; hash: Uint8Array }>(
    "SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
    [entry.chain],
  );
  const seq = last === undefined ? 1 : Number(last.seq) + 1;
  const prev = last === undefined ? GENESIS : new Uint8Array(last.hash);
  const details = canonicalJson(entry.details);
  const hash = entryHash(prev, entry.chain, seq, entry.atMs, entry.actor, entry.action, details);
  await tx.query(
    "INSERT INTO audit_log (chain, seq, at_ms, actor, action, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    [entry.chain, seq, entry.atMs, entry.actor, entry.action, details, prev, hash],
  );
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
  /** The first entry whose link does not hold (missing, edited, or reordered before it). */
  firstBroken?: number;
  head?: string;
}

export async function verifyAudit(db: Queryable, chain: string): Promise<AuditVerdict> {
  const rows = await db.query<AuditRow>(SELECT_CHAIN, [chain]);
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
  return { ok: true, length: rows.length, ...(rows.length > 0 && { head: bytesToHex(prev) }) };
}
