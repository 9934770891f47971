/**
 * The append-only audit log: one hash chain per account. Each entry's hash covers the previous
 * hash and the entry's canonical encoding (the rule is `@keyshard/api`'s, which a device
 * recomputes too), so editing, removing or reordering any entry breaks every later link;
 * `verifyAudit` names the first broken one.
 */

import { AUDIT_GENESIS, type AuditLog, canonicalJson, recomputeAuditChain } from "@keyshard/api";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { appendThroughHead, auditChain, auditHead, insertAuditHead } from "../store/audit.js";
import type { Queryable } from "../store/queryable.js";

/** One entry of an account's audit chain, as the API hands it out. */
export type AuditEntry = AuditLog["entries"][number];

/** Chain of events that belong to no account (start-ups, configuration). */
export const SYSTEM_CHAIN = "system";

/**
 * Appends to `chain` inside the caller's transaction, so the entry and the state change it
 * records commit together. The database moves the chain's head and writes the entry in one
 * statement (`appendThroughHead`), computing the link over the encoding `auditEntryHash` reads back —
 * `seq` is the encoding's last key, so the rest of it is made here and the number appended there.
 */
export async function appendAudit(
  tx: Queryable,
  entry: { chain: string; atMs: number; actor: string; action: string; details: unknown },
): Promise<void> {
  const details = canonicalJson(entry.details);
  const { chain, atMs, actor, action } = entry;
  const beforeSeq = `${canonicalJson({ chain, atMs, actor, action, details }).slice(0, -1)},"seq":`;
  const append = () => appendThroughHead(tx, { chain, beforeSeq, atMs, actor, action, details });
  if (await append()) return;
  // A chain's first entry: its head starts at the genesis link.
  await insertAuditHead(tx, chain, hexToBytes(AUDIT_GENESIS));
  if (!(await append())) throw new Error("audit chain head missing");
}

export async function readAudit(db: Queryable, chain: string): Promise<AuditEntry[]> {
  const rows = await auditChain(db, chain);
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
  const rows = await auditChain(db, chain);
  const head = await auditHead(db, chain);
  const links = rows.map((r) => ({
    chain: r.chain,
    seq: Number(r.seq),
    atMs: Number(r.at_ms),
    actor: r.actor,
    action: r.action,
    details: r.details,
    hash: bytesToHex(new Uint8Array(r.hash)),
  }));
  const recomputed = await recomputeAuditChain(chain, links);
  const holding = recomputed.holds ? rows.length : recomputed.firstBroken - 1;
  // Each row also records the link it follows: for the rows that hold, the row before's.
  const misplaced = rows
    .slice(0, holding)
    .findIndex((r, i) => bytesToHex(new Uint8Array(r.prev_hash)) !== (i === 0 ? AUDIT_GENESIS : links[i - 1]?.hash));
  if (misplaced !== -1) return { ok: false, length: rows.length, firstBroken: misplaced + 1 };
  if (!recomputed.holds) return { ok: false, length: rows.length, firstBroken: recomputed.firstBroken };
  // Entries cut from the end leave a chain whose links all hold: the head still names the last one.
  const recorded = head === undefined ? AUDIT_GENESIS : bytesToHex(new Uint8Array(head.hash));
  if (Number(head?.seq ?? 0) !== rows.length || recorded !== recomputed.head)
    return { ok: false, length: rows.length, firstBroken: rows.length + 1 };
  return { ok: true, length: rows.length, ...(rows.length > 0 && { head: recomputed.head }) };
}
