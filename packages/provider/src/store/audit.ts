/**
 * The statements on the audit log: appending to a chain through its head (`audit_heads`), and
 * reading a chain, its head and the list of chains back for verification.
 */
import type { Queryable } from "./queryable.js";

export interface AuditRow {
  chain: string;
  seq: string;
  at_ms: string;
  actor: string;
  action: string;
  /** Canonical JSON, hashed exactly as stored. */
  details: string;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/**
 * Moves the chain's head one link on and writes the entry in one statement: the head's row lock
 * orders appends to one chain across replicas, and PostgreSQL computes the link from the head it
 * holds, hashing `beforeSeq` (the entry's canonical encoding up to its last key, `seq`) followed by
 * the new seq. False when the chain has no head yet, and nothing was written.
 */
export async function appendThroughHead(
  q: Queryable,
  entry: { chain: string; beforeSeq: string; atMs: number; actor: string; action: string; details: string },
): Promise<boolean> {
  const appended = await q.query(
    `WITH head AS (
         UPDATE audit_heads SET seq = seq + 1, prev_hash = hash,
           hash = sha256(hash || convert_to($2 || (seq + 1)::text || '}', 'UTF8'))
         WHERE chain = $1 RETURNING seq, prev_hash, hash)
       INSERT INTO audit_log (chain, seq, at_ms, actor, action, details, prev_hash, hash)
         SELECT $1, seq, $3, $4, $5, $6, prev_hash, hash FROM head RETURNING seq`,
    [entry.chain, entry.beforeSeq, entry.atMs, entry.actor, entry.action, entry.details],
  );
  return appended.length > 0;
}

/** Starts the chain's head at `genesis` unless another transaction started it first. */
export async function insertAuditHead(q: Queryable, chain: string, genesis: Uint8Array): Promise<void> {
  await q.query("INSERT INTO audit_heads (chain, seq, prev_hash, hash) VALUES ($1, 0, $2, $2) ON CONFLICT DO NOTHING", [
    chain,
    genesis,
  ]);
}

/** The chain's entries in order. */
export async function auditChain(q: Queryable, chain: string): Promise<AuditRow[]> {
  return q.query<AuditRow>(
    "SELECT chain, seq, at_ms, actor, action, details, prev_hash, hash FROM audit_log WHERE chain = $1 ORDER BY seq",
    [chain],
  );
}

/** The chain's last link as its head records it, if the chain was ever started. */
export async function auditHead(q: Queryable, chain: string): Promise<{ seq: string; hash: Uint8Array } | undefined> {
  const [head] = await q.query<{ seq: string; hash: Uint8Array }>(
    "SELECT seq, hash FROM audit_heads WHERE chain = $1",
    [chain],
  );
  return head;
}

/** Every chain with at least one entry, by name. */
export async function auditChainNames(q: Queryable): Promise<string[]> {
  const chains = await q.query<{ chain: string }>("SELECT DISTINCT chain FROM audit_log ORDER BY chain");
  return chains.map((c) => c.chain);
}
