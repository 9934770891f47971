/**
 * Two-party ECDSA signing (Lindell 2017, Protocol 3.3, additive-share variant), fully proven.
 *
 *   round 1  P0 → P1  hash of the inputs; commit(R₀ = k₀·G, PoK(k₀))
 *   round 2  P1 → P0  R₁ = k₁·G, PoK(k₁)
 *   round 3  P0 → P1  open(R₀, PoK(k₀))
 *   round 4  P1 → P0  c₃ = Enc(x₀ + shift)^a · Enc(y), a = k₁⁻¹·r, y = k₁⁻¹·(m + r·(x₁+δ)) + ρ·q; Πaff(a, y)
 *   round 5  P0 → P1  the signature, which P0 has verified; P1 verifies it too
 *
 * R = k₀·k₁·G, r = R.x mod n, s = k₀⁻¹·Dec(c₃) mod n. δ is the BIP32 tweak of `path`, added by
 * P1 alone. `shift` (a multiple of n, above every |x₀| that Πlog* admits) keeps Enc(x₀ + shift)
 * positive, and ρ·q masks a·(x₀ + shift) + y, except its value mod n, to statistical distance 2^-128.
 *
 * CVE-2023-33242: if P1 could make c₃'s plaintext wrap mod N, whether the signature verifies would
 * depend on x₀ and leak it bit by bit — and with additive shares a refresh does not reset that, since
 * P1 knows the refresh offset. Πaff bounds a and y, so the plaintext is below N/2, P0's signed
 * decryption is exact, and every outcome is predictable to P1: nothing leaks. A failure still locks
 * P0's share (a tripwire; refresh unlocks it).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bitLength, CURVE_ORDER, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import {
  bool,
  bytesUpTo,
  type Codec,
  decodeAll,
  fixed,
  inMemoryOnly,
  literal,
  optional,
  point,
  record,
  scalar,
  string,
  u8,
  union,
  version,
} from "../codec/schema.js";
import {
  finishSignature,
  hashToScalar,
  readSignature,
  type Signature,
  verifySignature,
  writeSignature,
} from "../ecdsa/signature.js";
import { derive, MAX_PATH_LENGTH } from "../hd/derive.js";
import { FixedBase, mod, modInv, modPow, randomBelow, randomUnit } from "../math/bigint.js";
import { mul, mulBase } from "../math/secp256k1.js";
import { PaillierPublicKey, readCiphertext } from "../paillier/paillier.js";
import { checkSid, equalBytes, SID_BYTES } from "../session/envelope.js";
import { check, type Msg, ProtocolAbort } from "../session/party.js";
import { openSaved, stateAt } from "../session/round-party.js";
import { TwoPartyRoundParty } from "../session/two-party.js";
import { commit, verifyOpening } from "../zk/commitment.js";
import {
  AffinePrecomputation,
  type AffinePrecomputationParts,
  AffineProverTables,
  type AffineStatement,
  proveAffine,
  readAffineProof,
  verifyAffine,
  writeAffineProof,
} from "../zk/paillier-affine.js";
import { ELL, EPSILON } from "../zk/params.js";
import type { RingPedersenParams } from "../zk/ring-pedersen.js";
import { proveDlog, readSchnorr, type SchnorrProof, verifyDlog, writeSchnorr } from "../zk/schnorr.js";
import { Transcript } from "../zk/transcript.js";
import type { Ecdsa2pShare } from "./share.js";

const PROTOCOL = "ecdsa2p/sign";
/** The saved state's format, typed by step: a state saved in another format is refused on restore. */
const STATE_VERSION = 2;
const STAT = 128n;
/** Added to x₀ inside the ciphertext: ≥ every |x₀| that Πlog* admits, and ≡ 0 mod n. */
const SHIFT = CURVE_ORDER << BigInt(ELL + EPSILON);
/** ρ is drawn below this so that ρ·q hides a·(x₀ + shift) + b, which is below q·RHO_BOUND·2^-128. */
const RHO_BOUND = CURVE_ORDER << (BigInt(ELL + EPSILON + 1) + STAT);

export interface SignOptions {
  sid: Uint8Array;
  /** The 32-byte hash to sign. */
  messageHash: Uint8Array;
  /** A non-hardened BIP32 path such as "m/0/7". */
  path?: string;
  /** Party 1 only: an unused precomputation from `precompute`, consumed by this run. */
  precomputed?: SignPrecomputation;
}

/** Bit bounds of what P1 proves about c₃ = C^a · Enc(y): a < q and y = b + ρ·q. */
const A_BITS = 256;
const Y_BITS = bitLength(RHO_BOUND * CURVE_ORDER + CURVE_ORDER);

/**
 * Party 0's public key material as party 1 signs with it, with its cached tables. A share is one;
 * `PrecomputationTables` is one built from the bare public values, so that precomputation can run
 * on another thread without the share.
 */
type Party0Key = Pick<
  Ecdsa2pShare,
  "paillierPublic" | "ringPedersen" | "ringPedersenS2" | "encryptedX0" | "encryptedX0Pow" | "affineTables"
>;

/** The public values party 1's precomputation reads: plain data, so it can be posted to a worker. */
export interface PrecomputationKey {
  paillierN: bigint;
  encryptedX0: bigint;
  ringPedersen: RingPedersenParams;
  ringPedersenS2: bigint | undefined;
}

export function precomputationKey(share: Ecdsa2pShare): PrecomputationKey {
  if (share.index !== 1) throw new RangeError("only party 1 precomputes");
  return {
    paillierN: share.paillierPublic.n,
    encryptedX0: share.encryptedX0,
    ringPedersen: share.ringPedersen,
    ringPedersenS2: share.ringPedersenS2,
  };
}

/**
 * Party 0's public values with party 1's tables for them, built once per key and reused by every
 * precomputation under it: a thread that precomputes keeps one per key it serves (rebuilding the
 * tables' inverses for negative exponents costs a tenth of a precomputation).
 */
export class PrecomputationTables implements Party0Key {
  readonly paillierPublic: PaillierPublicKey;
  readonly ringPedersen: RingPedersenParams;
  readonly ringPedersenS2: bigint | undefined;
  readonly encryptedX0: bigint;
  private readonly cKeyTable: FixedBase;
  private readonly tables: AffineProverTables;

  constructor(key: PrecomputationKey) {
    this.paillierPublic = new PaillierPublicKey(key.paillierN);
    this.ringPedersen = key.ringPedersen;
    this.ringPedersenS2 = key.ringPedersenS2;
    this.encryptedX0 = key.encryptedX0;
    if (key.ringPedersen.n !== key.paillierN) throw new RangeError("ring-Pedersen modulus is not N");
    if (!this.paillierPublic.isCiphertext(key.encryptedX0)) throw new RangeError("invalid encrypted share");
    this.cKeyTable = new FixedBase(key.encryptedX0, this.paillierPublic.n2, A_BITS + EPSILON + 2);
    this.tables = new AffineProverTables(key.ringPedersen, key.ringPedersenS2, Y_BITS);
  }

  /** Whether these tables are for `key`'s values. */
  isFor(key: PrecomputationKey): boolean {
    const rp = this.ringPedersen;
    return (
      key.paillierN === this.paillierPublic.n &&
      key.encryptedX0 === this.encryptedX0 &&
      key.ringPedersen.n === rp.n &&
      key.ringPedersen.s === rp.s &&
      key.ringPedersen.t === rp.t &&
      key.ringPedersenS2 === this.ringPedersenS2
    );
  }

  encryptedX0Pow(k: bigint): bigint {
    return this.cKeyTable.pow(k);
  }

  affineTables(): AffineProverTables {
    return this.tables;
  }
}

/** Enc(x₀ + SHIFT)^k mod N², through the share's cached table for Enc(x₀). */
function shiftedKeyPow(share: Party0Key, k: bigint): bigint {
  const pk = share.paillierPublic;
  const table = share.encryptedX0Pow(k, A_BITS + EPSILON + 2);
  return (table * (1n + mod(k * SHIFT, pk.n) * pk.n)) % pk.n2;
}

function shiftedKey(share: Party0Key): bigint {
  const pk = share.paillierPublic;
  return (share.encryptedX0 * (1n + mod(SHIFT, pk.n) * pk.n)) % pk.n2;
}

function affineStatement(share: Party0Key): Omit<AffineStatement, "D"> {
  return {
    pk: share.paillierPublic,
    rp: share.ringPedersen,
    s2: share.ringPedersenS2,
    C: shiftedKey(share),
    aBits: A_BITS,
    yBits: Y_BITS,
  };
}

/** A precomputation as plain data, to move it from the thread that made it to the one that signs. */
export interface SignPrecomputationParts {
  n: bigint;
  randomizer: bigint;
  affine: AffinePrecomputationParts;
}

/**
 * k⁻¹ mod q for a secret nonce k. Extended Euclid's running time follows its input, and timings
 * of nonce inverses over many signatures are what lattice attacks feed on, so it inverts k·u for a
 * fresh random u and multiplies by u again.
 */
function nonceInverse(k: bigint): bigint {
  const u = 1n + randomBelow(CURVE_ORDER - 1n);
  return mod(modInv(mod(k * u, CURVE_ORDER), CURVE_ORDER) * u, CURVE_ORDER);
}

/**
 * Party 1's message-independent work for one signature: the randomiser r^N mod N² of c₃ and the
 * first half of the proof that c₃ is well formed. Single use, and never part of saved state: a
 * restored run draws fresh ones (reusing either would hand party 0 a discrete-log relation).
 */
export class SignPrecomputation {
  private used = false;
  private constructor(
    readonly n: bigint,
    private readonly randomizer: bigint,
    private readonly affine: AffinePrecomputation,
  ) {}

  static forShare(share: Ecdsa2pShare): SignPrecomputation {
    if (share.index !== 1) throw new RangeError("only party 1 precomputes");
    return SignPrecomputation.make(share);
  }

  /** The same work from party 0's public values alone (see `precomputationKey`). */
  static forKey(tables: PrecomputationTables): SignPrecomputation {
    return SignPrecomputation.make(tables);
  }

  private static make(key: Party0Key): SignPrecomputation {
    const pk = key.paillierPublic;
    const affine = AffinePrecomputation.create(
      affineStatement(key),
      (k) => shiftedKeyPow(key, k),
      key.affineTables(Y_BITS),
    );
    return new SignPrecomputation(pk.n, modPow(randomUnit(pk.n), pk.n, pk.n2), affine);
  }

  /**
   * Gives up this object's values as plain data, once (this object is used up by it): the one
   * precomputation moves to another thread rather than being copied there.
   */
  toParts(): SignPrecomputationParts {
    const { randomizer, affine } = this.take(this.n);
    return { n: this.n, randomizer, affine: affine.toParts() };
  }

  /** Takes over plain data made by `toParts`; the caller must hand each parts object here only once. */
  static fromParts(parts: SignPrecomputationParts): SignPrecomputation {
    return new SignPrecomputation(parts.n, parts.randomizer, AffinePrecomputation.fromParts(parts.affine));
  }

  /** Hands out the precomputed values once. */
  take(n: bigint): { randomizer: bigint; affine: AffinePrecomputation } {
    if (this.used) throw new RangeError("precomputation already used");
    if (n !== this.n) throw new RangeError("precomputation belongs to another key");
    this.used = true;
    return { randomizer: this.randomizer, affine: this.affine };
  }
}

/** P1's precomputed values for this run, held in memory only. */
type Precomputed = { randomizer: bigint; affine: AffinePrecomputation };

/** Either party before round 1 (P1 with the precomputation it was given, if any). */
interface Unstarted {
  step: 0;
  pre?: Precomputed;
}

/** P0 after round 1: committed to R₀ = k₀·G and its PoK. */
interface P0Committed {
  step: 1;
  k: bigint;
  /** The commitment's opening and the committed (R₀, PoK) bytes. */
  nonce: Uint8Array;
  committed: Uint8Array;
}

/** P1 after round 2: has sent R₁; holds P0's commitment. */
interface P1Committed {
  step: 2;
  k: bigint;
  commitment: Uint8Array;
  pre?: Precomputed;
}

/** P0 after round 3: has opened R₀; knows R. */
interface P0Opened {
  step: 3;
  k: bigint;
  R: Point;
}

/** P1 after round 4: has sent c₃; waits for the signature on R. */
interface P1Answered {
  step: 4;
  R: Point;
}

/** Either party once it holds the verified signature. */
interface Signed {
  step: 5;
  signature: Signature;
}

type SignState = Unstarted | P0Committed | P1Committed | P0Opened | P1Answered | Signed;

export class SignParty extends TwoPartyRoundParty<Signature> {
  private readonly transcript: Transcript;
  private readonly childKey: Point;
  private readonly tweak: bigint;
  private readonly m: bigint;
  /** Binds the run to what is being signed, where, and with which key state. */
  private readonly inputsDigest: Uint8Array;

  constructor(
    readonly share: Ecdsa2pShare,
    sid: Uint8Array,
    readonly messageHash: Uint8Array,
    readonly path: string | undefined,
    private st: SignState = { step: 0 },
  ) {
    super(share.index, PROTOCOL, sid);
    checkSid(sid);
    this.m = hashToScalar(messageHash);
    const child = derive(share.publicKey, share.chainCode, path);
    this.childKey = child.publicKey;
    this.tweak = child.tweak;
    const w = new Writer();
    w.fixed(messageHash);
    w.string(path ?? "m");
    w.bytes(share.fingerprint());
    this.inputsDigest = sha256(w.finish());
    this.transcript = new Transcript(PROTOCOL, sid, [0, 1]).append("inputs", this.inputsDigest);
  }

  protected get step(): number {
    return this.st.step;
  }

  protected onStart(): Msg[] {
    if (this.share.locked) {
      throw new ProtocolAbort(null, "share is locked after a failed signature; refresh it before signing again");
    }
    if (this.index === 1) return [];
    // Round 1 (P0)
    const k = 1n + randomBelow(CURVE_ORDER - 1n);
    const R0 = mulBase(k);
    const proof = proveDlog(this.transcript.fork("p0/nonce"), k, R0);
    const { commitment, opening } = commit(this.sid, 0, nonceMessage(R0, proof));
    this.st = { step: 1, k, nonce: opening.nonce, committed: opening.message };
    return this.send(1, (w) => {
      w.fixed(this.inputsDigest);
      w.fixed(commitment);
    });
  }

  protected get handlers(): Record<number, (r: Reader) => Msg[]> {
    return {
      1: (r) => this.p1Round2(stateAt(this.st, 0), r),
      2: (r) => this.p0Round3(stateAt(this.st, 1), r),
      3: (r) => this.p1Round4(stateAt(this.st, 2), r),
      4: (r) => this.p0Round5(stateAt(this.st, 3), r),
      5: (r) => this.p1Finish(stateAt(this.st, 4), r),
    };
  }

  private p1Round2(st: Unstarted, r: Reader): Msg[] {
    const theirInputs = r.fixed(32);
    const commitment = r.fixed(32);
    r.end();
    check(equalBytes(theirInputs, this.inputsDigest), 0, "parties disagree on the message, path or key");
    const k = 1n + randomBelow(CURVE_ORDER - 1n);
    const R1 = mulBase(k);
    const proof = proveDlog(this.transcript.fork("p1/nonce"), k, R1);
    this.st = { step: 2, k, commitment, pre: st.pre };
    return this.send(2, (w) => {
      w.point(R1);
      writeSchnorr(w, proof);
    });
  }

  private p0Round3(st: P0Committed, r: Reader): Msg[] {
    const R1 = r.point();
    const proof = readSchnorr(r);
    r.end();
    check(verifyDlog(this.transcript.fork("p1/nonce"), R1, proof), 1, "proof of knowledge of the nonce failed");
    this.st = { step: 3, k: st.k, R: mul(R1, st.k) };
    return this.send(3, (w) => {
      w.fixed(st.nonce);
      w.bytes(st.committed);
    });
  }

  private p1Round4(st: P1Committed, r: Reader): Msg[] {
    const nonce = r.fixed(32);
    const opened = r.bytes(256);
    r.end();
    check(
      verifyOpening(this.sid, 0, st.commitment, { nonce, message: opened }),
      0,
      "nonce commitment opening does not match",
    );
    const c = new Reader(opened, 0);
    const R0 = c.point();
    const nonceProof = readSchnorr(c);
    c.end();
    check(verifyDlog(this.transcript.fork("p0/nonce"), R0, nonceProof), 0, "proof of knowledge of the nonce failed");
    const k = st.k;
    const R = mul(R0, k);
    const rx = R.toAffine().x % CURVE_ORDER;
    check(rx !== 0n, null, "nonce point has r = 0; sign again");

    const share = this.share;
    const pk = share.paillierPublic;
    const kInv = nonceInverse(k);
    const a = this.affineCoefficient(mod(kInv * rx, CURVE_ORDER));
    const b = mod(kInv * (this.m + rx * mod(share.x + this.tweak, CURVE_ORDER)), CURVE_ORDER);
    const y = b + randomBelow(RHO_BOUND) * CURVE_ORDER;
    const { randomizer, affine } = st.pre ?? SignPrecomputation.forShare(share).take(pk.n);
    // c₃ = Enc(x₀ + shift)^a · (1+N)^y · r^N = Enc(a·(x₀ + shift) + y)
    const c3 = (((shiftedKeyPow(share, a) * (1n + mod(y, pk.n) * pk.n)) % pk.n2) * randomizer) % pk.n2;
    const statement = { ...affineStatement(share), D: c3 };
    const proof = proveAffine(this.transcript.fork("p1/aff"), statement, { a, y }, affine, share.affineTables(Y_BITS));
    this.st = { step: 4, R };
    return this.send(4, (w) => {
      w.bigint(c3);
      writeAffineProof(w, proof);
    });
  }

  /** The multiplier P1 applies to Enc(x₀ + shift). Honest: k₁⁻¹·r; the malicious-party tests override it. */
  protected affineCoefficient(a: bigint): bigint {
    return a;
  }

  private p0Round5(st: P0Opened, r: Reader): Msg[] {
    const sk = this.share.paillier;
    if (!sk) throw new ProtocolAbort(null, "party 0 share without Paillier key");
    const c3 = readCiphertext(r, sk);
    const base = affineStatement(this.share);
    const proof = readAffineProof(r, base);
    r.end();
    // Checked again here, not only at start: restoring a state saved before this round must not
    // buy another decryption once the share is locked.
    check(!this.share.locked, null, "share is locked after a failed signature; refresh it before signing again");
    // From here on outcomes depend on decryptions of P1's ciphertexts. Πaff makes them predictable to
    // P1 (so they leak nothing); the lock on any failure is a tripwire on top.
    try {
      // Signed decryption: Πaff bounds |a·(x₀ + shift) + y| far below N/2, so this is the exact integer.
      const plain = sk.decryptSigned(c3);
      const statement = { ...base, D: c3 };
      check(
        verifyAffine(
          this.transcript.fork("p1/aff"),
          statement,
          proof,
          sk,
          { C: this.share.x + SHIFT, D: plain },
          this.share.affineVerifierTables(),
        ),
        1,
        "proof that c3 is well formed (Πaff) failed; share locked until refresh",
      );
      const sPrime = mod(plain, CURVE_ORDER);
      const s = mod(nonceInverse(st.k) * sPrime, CURVE_ORDER);
      check(s !== 0n, 1, "signature has s = 0; share locked until refresh");
      const signature = finishSignature(st.R, s);
      check(
        verifySignature(signature, this.messageHash, this.childKey),
        1,
        "signature does not verify; share locked until refresh",
      );
      this.st = { step: 5, signature };
      this.finish(signature);
      return this.send(5, (w) => writeSignature(w, signature));
    } catch (e) {
      this.share.lock();
      throw e;
    }
  }

  private p1Finish(st: P1Answered, r: Reader): Msg[] {
    const signature = readSignature(r);
    r.end();
    check(signature.r === st.R.toAffine().x % CURVE_ORDER, 0, "signature is for another nonce");
    check(verifySignature(signature, this.messageHash, this.childKey), 0, "signature does not verify");
    this.st = { step: 5, signature };
    this.finish(signature);
    return [];
  }

  protected saveState(w: Writer): void {
    savedSign.write(w, {
      version: STATE_VERSION,
      protocol: PROTOCOL,
      index: this.index,
      sid: this.sid,
      messageHash: this.messageHash,
      path: this.path,
      shareFingerprint: sha256(this.share.fingerprint()),
      started: this.started,
      state: this.st,
    });
  }

  /** Rebuilds a saved run. The share is passed in, not saved, so a lock lands on the caller's share. */
  static restore(share: Ecdsa2pShare, bytes: Uint8Array): SignParty {
    return decodeLocal("signing state", () => {
      const { run, body } = openSaved(bytes);
      const r: Reader = new Reader(body, null);
      const saved = decodeAll(savedSign, r);
      if (saved.protocol !== PROTOCOL) r.fail("not an ecdsa2p signing state");
      if (saved.index !== share.index) r.fail("state belongs to the other party");
      if (!equalBytes(saved.shareFingerprint, sha256(share.fingerprint()))) r.fail("state belongs to another share");
      const st = saved.state;
      const party = new SignParty(share, saved.sid, saved.messageHash, saved.path, st);
      party.restoreRun(run, saved.started, st.step === 5 ? { value: st.signature } : undefined);
      return party;
    });
  }
}

function nonceMessage(R: Point, proof: SchnorrProof): Uint8Array {
  const w = new Writer();
  w.point(R);
  writeSchnorr(w, proof);
  return w.finish();
}

export function createSignParty(share: Ecdsa2pShare, options: SignOptions): SignParty {
  if (options.precomputed && share.index !== 1) throw new RangeError("only party 1 takes a precomputation");
  const pre = options.precomputed?.take(share.paillierPublic.n);
  return new SignParty(share, options.sid, options.messageHash, options.path, { step: 0, pre });
}

// Saved-state layout: each state's fields, declared once for save and restore.

const bytes32 = fixed(32);
const signature: Codec<Signature> = { write: writeSignature, read: (r) => readSignature(r) };

const signState = union<SignState, "step">("step", {
  // P1's precomputation is never saved: a restored run draws a fresh one.
  0: record<Unstarted>({ step: literal(0), pre: inMemoryOnly() }),
  1: record<P0Committed>({ step: literal(1), k: scalar, nonce: bytes32, committed: bytesUpTo(256) }),
  2: record<P1Committed>({ step: literal(2), k: scalar, commitment: bytes32, pre: inMemoryOnly() }),
  3: record<P0Opened>({ step: literal(3), k: scalar, R: point }),
  4: record<P1Answered>({ step: literal(4), R: point }),
  5: record<Signed>({ step: literal(5), signature }),
});

const savedSign = record<{
  version: number;
  protocol: string;
  index: number;
  sid: Uint8Array;
  messageHash: Uint8Array;
  path: string | undefined;
  shareFingerprint: Uint8Array;
  started: boolean;
  state: SignState;
}>({
  version: version(STATE_VERSION),
  protocol: string(1024),
  index: u8,
  sid: fixed(SID_BYTES),
  messageHash: bytes32,
  path: optional(string(MAX_PATH_LENGTH)),
  shareFingerprint: bytes32,
  started: bool,
  state: signState,
});
