/**
 * Verified Simplest OT (Doerner–Kondi–Lee–shelat 2018, Protocol 7), batched: a sender and a
 * receiver get `count` random OTs — the sender two 32-byte keys ρ⁰ᵢ, ρ¹ᵢ per OT, the receiver
 * ρ^ωᵢ for its random choice bit ωᵢ — under one sender key B = b·G.
 *
 *   1  S → R  B, Schnorr proof of knowledge of b
 *   2  R → S  Aᵢ = aᵢ·G + ωᵢ·B                          R: ρ^ωᵢ = H(aᵢ·B)
 *   3  S → R  ξᵢ = H²(ρ⁰ᵢ) ⊕ H²(ρ¹ᵢ)                     S: ρ⁰ᵢ = H(b·Aᵢ), ρ¹ᵢ = H(b·(Aᵢ − B))
 *   4  R → S  ρ′ᵢ = H²(ρ^ωᵢ) ⊕ ωᵢ·ξᵢ, digest of the ξᵢ   S checks ρ′ᵢ = H²(ρ⁰ᵢ)
 *   5  S → R  H¹(ρ⁰ᵢ), H¹(ρ¹ᵢ)                           R checks them against ρ^ωᵢ and ξᵢ
 *
 * The verification (3–5) makes a receiver prove it can answer for one key only, and a sender that
 * the keys it will use are the ones the challenge was made from. Every hash is bound to the
 * session (which names sender and receiver) and the OT's index.
 *
 * Blame. A failed response ρ′ᵢ does not by itself show that the receiver cheated: a receiver
 * with ωᵢ = 1 that got a changed ξᵢ answers wrongly too, and only the openings (step 5) let it see
 * that its ξᵢ is not H²(H¹ρ⁰ᵢ) ⊕ H²(H¹ρ¹ᵢ). So the receiver also returns a digest of the
 * challenges it answered. Failed responses to the challenges sent are the receiver's fault;
 * failed responses to other challenges are either a changed challenge (the receiver names the
 * sender on checking the openings) or a receiver lying about what it got, which the sender cannot
 * tell apart: it blames nobody, and still sends the openings.
 *
 * Timing. The choice bits ωᵢ never select a branch or a memory address: Aᵢ is picked from the
 * encodings of both aᵢ·G and aᵢ·G + B, computed every time, and ρ′ᵢ and the receiver's opening
 * by byte masks. The scalar multiplications by aᵢ and b run in libsecp256k1
 * (`math/secp256k1.ts`), in constant time. What is still not, being JavaScript BigInt (no branch
 * of ours, but a cost that follows the values): drawing aᵢ and b (rejection sampling); handing
 * them to libsecp256k1 as bytes and checking the points that come back (aᵢ·G, aᵢ·B, b·B, b·Aᵢ);
 * the addition aᵢ·G + B and the affine encodings of both candidates, whose inputs are Aᵢ and
 * Aᵢ + B, or Aᵢ − B and Aᵢ, as ωᵢ is 0 or 1; the sender's b·Aᵢ − b·B and the encodings of the
 * points hashed into keys; the Schnorr response a + e·b mod n.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { CURVE_ORDER, Point, type Reader, type Writer } from "../codec/codec.js";
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

const challengeDigest = (sid: Uint8Array, challenges: readonly Uint8Array[]) => {
  const digest = sha256.create();
  digest.update(frame("keyshard/vsot/challenges/v1", sid, challenges.length, new Uint8Array(0)));
  for (const c of challenges) digest.update(c);
  return digest.digest();
};

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** 0xff when `bit` is 1, 0 when it is 0: a byte mask, computed without a branch. */
const byteMask = (bit: number) => -(bit & 1) & 0xff;

/** `bit ? b : a`, byte by byte under a mask, for equal-length a and b. */
function select(bit: number, a: Uint8Array, b: Uint8Array): Uint8Array {
  const m = byteMask(bit);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (((a[i] as number) ^ (b[i] as number)) & m);
  return out;
}

/** Choice bits must be 0 or 1 (a mask would silently read 2 as 0); checked without a branch per bit. */
function checkBits(choices: readonly number[]): void {
  let bad = 0;
  for (const c of choices) bad |= (c & ~1) | Number(c !== (c | 0));
  if (bad !== 0) throw new RangeError("choices must be bits (0 or 1)");
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
  checkBits(choices);
  if (!verifyDlog(t, sender.B, sender.proof)) return { ok: false };
  const A: Point[] = [];
  const keys: Uint8Array[] = [];
  choices.forEach((omega, i) => {
    const a = 1n + randomBelow(CURVE_ORDER - 1n);
    const aG = mulBase(a);
    // Both candidates, always; uncompressed, so that decoding the chosen one takes no square root.
    const chosen = select(omega, aG.toBytes(false), aG.add(sender.B).toBytes(false));
    A.push(Point.fromBytes(chosen));
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

/** Step 4 (receiver): the responses ρ′ᵢ, and the digest of the challenges they answer. */
export function receiverRespond(
  sid: Uint8Array,
  keys: readonly Uint8Array[],
  choices: readonly number[],
  challenges: readonly Uint8Array[],
): { responses: Uint8Array[]; digest: Uint8Array } {
  checkBits(choices);
  if (choices.length !== keys.length || challenges.length !== keys.length) {
    throw new RangeError("one choice and one challenge per key");
  }
  const responses = keys.map((rho, i) => {
    const own = h2(sid, i, h1(sid, i, rho));
    const xi = challenges[i] as Uint8Array;
    const m = byteMask(choices[i] as number);
    for (let k = 0; k < own.length; k++) own[k] = (own[k] as number) ^ ((xi[k] as number) & m);
    return own;
  });
  return { responses, digest: challengeDigest(sid, challenges) };
}

/**
 * What the sender makes of the responses:
 *   "ok"          every ρ′ᵢ = H²(H¹ρ⁰ᵢ);
 *   "receiver"    some ρ′ᵢ fails although the receiver's digest is of the challenges sent: it
 *                 answered for the wrong key (or its own message was changed), its fault;
 *   "challenges"  some ρ′ᵢ fails and the digest is of other challenges: a changed challenge (its
 *                 sender is named by the receiver's check of the openings) or a false digest,
 *                 which the sender cannot tell apart, so it names nobody.
 * The digest is read only when a response fails: correct responses already show the receiver
 * answering for one key, and a challenge changed where ωᵢ = 0 is caught by the receiver itself.
 */
export type ResponseVerdict = "ok" | "receiver" | "challenges";

/**
 * Step 5 (sender): the verdict on the responses, and the openings H¹(ρ⁰ᵢ), H¹(ρ¹ᵢ). The openings
 * may go out whatever the verdict (the responses are in, so they help nobody answer); after
 * "challenges" they must, or a sender whose challenges were changed would go unnamed.
 */
export function senderVerify(
  sid: Uint8Array,
  rho0: readonly Uint8Array[],
  rho1: readonly Uint8Array[],
  challenges: readonly Uint8Array[],
  responses: readonly Uint8Array[],
  digest: Uint8Array,
): { verdict: ResponseVerdict; openings: [Uint8Array, Uint8Array][] } {
  if (rho1.length !== rho0.length || challenges.length !== rho0.length) {
    throw new RangeError("one key pair per challenge");
  }
  const openings: [Uint8Array, Uint8Array][] = [];
  let good = responses.length === rho0.length;
  rho0.forEach((r0, i) => {
    const o0 = h1(sid, i, r0);
    good = good && equalBytes(responses[i] as Uint8Array, h2(sid, i, o0));
    openings.push([o0, h1(sid, i, rho1[i] as Uint8Array)]);
  });
  if (good) return { verdict: "ok", openings };
  const answered = equalBytes(digest, challengeDigest(sid, challenges));
  return { verdict: answered ? "receiver" : "challenges", openings };
}

/**
 * The receiver's last check: the openings match its key, and the challenges it got are the ones
 * they make — a failure is the sender's (or a change to the sender's messages).
 */
export function receiverVerify(
  sid: Uint8Array,
  keys: readonly Uint8Array[],
  choices: readonly number[],
  challenges: readonly Uint8Array[],
  openings: readonly [Uint8Array, Uint8Array][],
): boolean {
  checkBits(choices);
  if (choices.length !== keys.length || challenges.length !== keys.length) {
    throw new RangeError("one choice and one challenge per key");
  }
  if (openings.length !== keys.length) return false;
  let good = true;
  keys.forEach((rho, i) => {
    const [o0, o1] = openings[i] as [Uint8Array, Uint8Array];
    const mine = select(choices[i] as number, o0, o1);
    good = equalBytes(h1(sid, i, rho), mine) && good;
    good = equalBytes(xor(h2(sid, i, o0), h2(sid, i, o1)), challenges[i] as Uint8Array) && good;
  });
  return good;
}
