/**
 * Verified Simplest OT (Doerner–Kondi–Lee–shelat 2018, Protocol 7), batched: a sender and a
 * receiver get `count` random OTs — the sender two 32-byte keys ρ⁰ᵢ, ρ¹ᵢ per OT, the receiver
 * ρ^ωᵢ for its random choice bit ωᵢ — under one sender key B = b·G.
 *
 *   1  S → R  B, Schnorr proof of knowledge of b
 *   2  R → S  Aᵢ = aᵢ·G + ωᵢ·B                          R: ρ^ωᵢ = H(aᵢ·B)
 *   3  S → R  ξᵢ = H²(ρ⁰ᵢ) ⊕ H²(ρ¹ᵢ)                     S: ρ⁰ᵢ = H(b·Aᵢ), ρ¹ᵢ = H(b·(Aᵢ − B))
 *   4  R → S  ρ′ᵢ = H²(ρ^ωᵢ) ⊕ ωᵢ·ξᵢ                     S checks ρ′ᵢ = H²(ρ⁰ᵢ)
 *   5  S → R  H¹(ρ⁰ᵢ), H¹(ρ¹ᵢ)                           R checks them against ρ^ωᵢ and ξᵢ
 *
 * The verification (3–5) makes a receiver prove it can answer for one key only, and a sender that
 * the keys it will use are the ones the challenge was made from. Every hash is bound to the
 * session (which names sender and receiver) and the OT's index.
 *
 * The receiver's and sender's secret scalars are multiplied in constant time (libsecp256k1,
 * `math/secp256k1.ts`); the hashing and the rest are not secret-dependent.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { CURVE_ORDER, type Point, type Reader, type Writer } from "../codec/codec.js";
import { randomBelow } from "../math/bigint.js";
import { mul, mulBase } from "../math/secp256k1.js";
import { equalBytes } from "../session/envelope.js";
import { proveDlog, readSchnorr, type SchnorrProof, verifyDlog, writeSchnorr } from "../zk/schnorr.js";
import type { Transcript } from "../zk/transcript.js";

export const KEY_BYTES = 32;

function frame(tag: string, sid: Uint8Array, index: number, data: Uint8Array): Uint8Array {
  const tagBytes = new TextEncoder().encode(tag);
  const out = new Uint8Array(1 + tagBytes.length + 4 + sid.length + 4 + data.length);
  out[0] = tagBytes.length;
  out.set(tagBytes, 1);
  let o = 1 + tagBytes.length;
  new DataView(out.buffer).setUint32(o, sid.length);
  out.set(sid, o + 4);
  o += 4 + sid.length;
  new DataView(out.buffer).setUint32(o, index);
  out.set(data, o + 4);
  return out;
}

const keyHash = (sid: Uint8Array, i: number, p: Point) =>
  sha256(frame("keyshard/vsot/key/v1", sid, i, p.toBytes(true)));
const h1 = (sid: Uint8Array, i: number, rho: Uint8Array) => sha256(frame("keyshard/vsot/h1/v1", sid, i, rho));
const h2 = (sid: Uint8Array, i: number, x: Uint8Array) => sha256(frame("keyshard/vsot/h2/v1", sid, i, x));

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Step 1 (sender): the key b and the public B with its proof. */
export interface SenderKey {
  b: bigint;
  B: Point;
  proof: SchnorrProof;
}

export function senderKey(t: Transcript): SenderKey {
  const b = 1n + randomBelow(CURVE_ORDER - 1n);
  const B = mulBase(b);
  return { b, B, proof: proveDlog(t, b, B) };
}

export function writeSenderKey(w: Writer, k: Pick<SenderKey, "B" | "proof">): void {
  w.point(k.B);
  writeSchnorr(w, k.proof);
}

export function readSenderKey(r: Reader): Pick<SenderKey, "B" | "proof"> {
  return { B: r.point(), proof: readSchnorr(r) };
}

/** Step 2 (receiver): checks the sender's proof; its choices, messages Aᵢ, and keys ρ^ωᵢ. */
export function receiverChoose(
  t: Transcript,
  sid: Uint8Array,
  sender: Pick<SenderKey, "B" | "proof">,
  choices: readonly number[],
): { ok: false } | { ok: true; A: Point[]; keys: Uint8Array[] } {
  if (!verifyDlog(t, sender.B, sender.proof)) return { ok: false };
  const A: Point[] = [];
  const keys: Uint8Array[] = [];
  choices.forEach((omega, i) => {
    const a = 1n + randomBelow(CURVE_ORDER - 1n);
    const aG = mulBase(a);
    A.push(omega ? aG.add(sender.B) : aG);
    keys.push(keyHash(sid, i, mul(sender.B, a)));
  });
  return { ok: true, A, keys };
}

/** Step 3 (sender): both keys of every OT, and the challenges ξᵢ. Refuses Aᵢ ∈ {O, B}. */
export function senderKeys(
  sid: Uint8Array,
  key: SenderKey,
  A: readonly Point[],
): { ok: false } | { ok: true; rho0: Uint8Array[]; rho1: Uint8Array[]; challenges: Uint8Array[] } {
  const bB = mul(key.B, key.b);
  const rho0: Uint8Array[] = [];
  const rho1: Uint8Array[] = [];
  const challenges: Uint8Array[] = [];
  for (const [i, Ai] of A.entries()) {
    if (Ai.is0() || Ai.equals(key.B)) return { ok: false };
    const bA = mul(Ai, key.b);
    const r0 = keyHash(sid, i, bA);
    const r1 = keyHash(sid, i, bA.subtract(bB));
    rho0.push(r0);
    rho1.push(r1);
    challenges.push(xor(h2(sid, i, h1(sid, i, r0)), h2(sid, i, h1(sid, i, r1))));
  }
  return { ok: true, rho0, rho1, challenges };
}

/** Step 4 (receiver): the responses ρ′ᵢ. */
export function receiverRespond(
  sid: Uint8Array,
  keys: readonly Uint8Array[],
  choices: readonly number[],
  challenges: readonly Uint8Array[],
): Uint8Array[] {
  return keys.map((rho, i) => {
    const own = h2(sid, i, h1(sid, i, rho));
    return choices[i] ? xor(own, challenges[i] as Uint8Array) : own;
  });
}

/**
 * Step 5 (sender): whether the responses check, and the openings H¹(ρ⁰ᵢ), H¹(ρ¹ᵢ). The openings
 * may go out even when the check fails (the responses are in, so they help nobody answer), which
 * lets the receiver tell whether the challenges were honest before anyone is blamed.
 */
export function senderVerify(
  sid: Uint8Array,
  rho0: readonly Uint8Array[],
  rho1: readonly Uint8Array[],
  responses: readonly Uint8Array[],
): { ok: boolean; openings: [Uint8Array, Uint8Array][] } {
  const openings: [Uint8Array, Uint8Array][] = [];
  let good = responses.length === rho0.length;
  rho0.forEach((r0, i) => {
    const o0 = h1(sid, i, r0);
    good = good && equalBytes(responses[i] as Uint8Array, h2(sid, i, o0));
    openings.push([o0, h1(sid, i, rho1[i] as Uint8Array)]);
  });
  return { ok: good, openings };
}

/** The receiver's last check: the openings match its key and the challenge. */
export function receiverVerify(
  sid: Uint8Array,
  keys: readonly Uint8Array[],
  choices: readonly number[],
  challenges: readonly Uint8Array[],
  openings: readonly [Uint8Array, Uint8Array][],
): boolean {
  if (openings.length !== keys.length) return false;
  let good = true;
  keys.forEach((rho, i) => {
    const [o0, o1] = openings[i] as [Uint8Array, Uint8Array];
    const mine = choices[i] ? o1 : o0;
    good = equalBytes(h1(sid, i, rho), mine) && good;
    good = equalBytes(xor(h2(sid, i, o0), h2(sid, i, o1)), challenges[i] as Uint8Array) && good;
  });
  return good;
}
