/**
 * A party's share of a two-party ECDSA key: additive x = x₀ + x₁ over secp256k1. Party 0 owns
 * the Paillier key; both hold Enc(x₀) under it (party 1 computes with it, party 0 states proofs
 * about it). Neither share reveals x.
 *
 * A share is locked after a signature fails at party 0. Signing is proven (Πaff), so a failure
 * leaks nothing; the lock marks the incident, and a locked share refuses to sign until refreshed.
 * Callers must persist the share after every signing attempt so the lock survives restarts.
 */
import { bigintToBytes, decodeLocal, type Point, Reader, Writer } from "../codec/codec.js";
import { derive } from "../hd/derive.js";
import { FixedBase } from "../math/bigint.js";
import { mulBase } from "../math/secp256k1.js";
import {
  PAILLIER_MAX_BITS,
  PaillierPublicKey,
  type PaillierSecretKey,
  readPaillierSecretKey,
  writePaillierSecretKey,
} from "../paillier/paillier.js";
import { ProtocolAbort } from "../session/party.js";
import { AffineProverTables, AffineVerifierTables } from "../zk/paillier-affine.js";
import {
  RING_PEDERSEN_MAX_BITS,
  type RingPedersenParams,
  readRingPedersenParams,
  writeRingPedersenParams,
} from "../zk/ring-pedersen.js";

/**
 * 3 adds party 0's second ring-Pedersen base s′ (and, for party 0, λ′ = log_t s′), which lets
 * Πaff commit to both of its values at once; 2 added party 0's λ = log_t s. Shares of versions 1
 * and 2 are still read, and sign with Πaff's separate commitments.
 */
const SHARE_VERSION = 3;

interface CommonFields {
  x: bigint;
  publicKey: Point;
  peerPublic: Point;
  chainCode: Uint8Array;
  locked: boolean;
  /** Party 0's ring-Pedersen parameters over its Paillier modulus, for party 1's proofs to it. */
  ringPedersen: RingPedersenParams;
  /** Party 0's second base s′ = t^λ′ for the same parameters (absent from shares before version 3). */
  ringPedersenS2: bigint | undefined;
}

/** Party 0's logs to base t of its ring-Pedersen bases: λ, and λ′ when the share has s′. */
export interface RingPedersenLogs {
  s: bigint;
  s2?: bigint;
}

export class Ecdsa2pShare {
  readonly index: 0 | 1;
  /** This party's additive share of the private key. */
  readonly x: bigint;
  /** The joint public key Q = x₀·G + x₁·G. */
  readonly publicKey: Point;
  /** The other party's public share. */
  readonly peerPublic: Point;
  readonly chainCode: Uint8Array;
  /** Party 0's ring-Pedersen parameters over its Paillier modulus N (Πprm-proven at keygen). */
  readonly ringPedersen: RingPedersenParams;
  /** Party 0's second ring-Pedersen base s′ ∈ ⟨t⟩ (Πprm-proven at keygen; absent before version 3). */
  readonly ringPedersenS2: bigint | undefined;
  /** Party 0: the Paillier secret key. */
  readonly paillier: PaillierSecretKey | undefined;
  /** Party 0: the logs of its ring-Pedersen bases to base t (absent from version 1 shares). */
  readonly ringPedersenLogs: RingPedersenLogs | undefined;
  /** Enc(x₀) under party 0's Paillier key, as proven at keygen. */
  readonly encryptedX0: bigint;
  private readonly peerPaillierKey: PaillierPublicKey | undefined;
  private lockedFlag: boolean;
  private cKeyTable: FixedBase | undefined;
  private affineTablesCache: AffineProverTables | undefined;
  private verifierTablesCache: AffineVerifierTables | undefined;
  private fingerprintCache: Uint8Array | undefined;

  private constructor(
    index: 0 | 1,
    f: CommonFields,
    paillier: PaillierSecretKey | undefined,
    encryptedX0: bigint,
    peerPaillier: PaillierPublicKey | undefined,
    logs?: RingPedersenLogs,
  ) {
    this.index = index;
    this.x = f.x;
    this.publicKey = f.publicKey;
    this.peerPublic = f.peerPublic;
    this.chainCode = f.chainCode.slice();
    this.ringPedersen = f.ringPedersen;
    this.ringPedersenS2 = f.ringPedersenS2;
    this.lockedFlag = f.locked;
    this.paillier = paillier;
    this.ringPedersenLogs = logs;
    this.encryptedX0 = encryptedX0;
    this.peerPaillierKey = peerPaillier;
    if (f.chainCode.length !== 32) throw new ProtocolAbort(null, "chain code must be 32 bytes");
    if (f.ringPedersen.n !== this.paillierPublic.n) throw new ProtocolAbort(null, "ring-Pedersen modulus is not N");
    if (f.ringPedersenS2 !== undefined && !(f.ringPedersenS2 > 1n && f.ringPedersenS2 < f.ringPedersen.n))
      throw new ProtocolAbort(null, "second ring-Pedersen base out of range");
    if (!this.paillierPublic.isCiphertext(encryptedX0)) throw new ProtocolAbort(null, "invalid encrypted share");
    const own = mulBase(f.x);
    if (!own.add(f.peerPublic).equals(f.publicKey))
      throw new ProtocolAbort(null, "share does not match its public key");
  }

  static forParty0(
    f: CommonFields,
    paillier: PaillierSecretKey,
    encryptedX0: bigint,
    logs: RingPedersenLogs | undefined,
  ): Ecdsa2pShare {
    const share = new Ecdsa2pShare(0, f, paillier, encryptedX0, undefined, logs);
    if (logs === undefined) return share;
    // A wrong λ would fail every honest proof, and each failure locks the share.
    const { s } = f.ringPedersen;
    const s2 = f.ringPedersenS2;
    if ((s2 === undefined) !== (logs.s2 === undefined))
      throw new ProtocolAbort(null, "the share's ring-Pedersen logs do not match its bases");
    const tables = share.affineVerifierTables();
    if (tables.commit([s, 1n], 1n, 0n, 0n) !== s || (s2 !== undefined && tables.commit([1n, s2], 0n, 1n, 0n) !== s2))
      throw new ProtocolAbort(null, "λ does not match the ring-Pedersen parameters");
    return share;
  }

  static forParty1(f: CommonFields, paillierN: bigint, encryptedX0: bigint): Ecdsa2pShare {
    return new Ecdsa2pShare(1, f, undefined, encryptedX0, new PaillierPublicKey(paillierN));
  }

  get locked(): boolean {
    return this.lockedFlag;
  }

  /** Marks the share unusable for signing; only a refresh produces a usable share again. */
  lock(): void {
    this.lockedFlag = true;
  }

  /** The Paillier public key both parties use (party 0's). */
  get paillierPublic(): PaillierPublicKey {
    const pk = this.paillier?.publicKey ?? this.peerPaillierKey;
    if (!pk) throw new ProtocolAbort(null, "share has no Paillier key");
    return pk;
  }

  /** Party 0's public share, as both parties know it. */
  get party0Public(): Point {
    return this.index === 0 ? this.publicKey.subtract(this.peerPublic) : this.peerPublic;
  }

  /** Enc(x₀)^k for many k (party 1, when signing), through a table built once per share. */
  encryptedX0Pow(k: bigint, maxBits: number): bigint {
    if (!this.cKeyTable || this.cKeyTable.maxBits < maxBits) {
      this.cKeyTable = new FixedBase(this.encryptedX0, this.paillierPublic.n2, maxBits);
    }
    return this.cKeyTable.pow(k);
  }

  /** Party 1: fixed-base tables for party 0's ring-Pedersen bases, built once per share. */
  affineTables(yBits: number): AffineProverTables {
    if (!this.affineTablesCache || this.affineTablesCache.yBits < yBits) {
      this.affineTablesCache = new AffineProverTables(this.ringPedersen, this.ringPedersenS2, yBits);
    }
    return this.affineTablesCache;
  }

  /** Party 0: tables for checking party 1's proofs under its own parameters, built once per share. */
  affineVerifierTables(): AffineVerifierTables {
    if (!this.paillier) throw new ProtocolAbort(null, "only party 0 verifies signing proofs");
    if (!this.verifierTablesCache)
      this.verifierTablesCache = new AffineVerifierTables(
        this.ringPedersen,
        this.paillier,
        this.ringPedersenS2,
        this.ringPedersenLogs,
      );
    return this.verifierTablesCache;
  }

  /** Compressed public key (33 bytes), optionally at a non-hardened BIP32 path. */
  publicKeyBytes(path?: string): Uint8Array {
    return derive(this.publicKey, this.chainCode, path).publicKey.toBytes(true);
  }

  toBytes(): Uint8Array {
    const w = new Writer();
    w.u8(SHARE_VERSION);
    w.u8(this.index);
    w.scalar(this.x);
    w.point(this.publicKey);
    w.point(this.peerPublic);
    w.fixed(this.chainCode);
    w.bool(this.lockedFlag);
    writeRingPedersenParams(w, this.ringPedersen);
    w.optional(this.ringPedersenS2, (v) => w.bigint(v));
    if (this.paillier) {
      writePaillierSecretKey(w, this.paillier);
      w.optional(this.ringPedersenLogs, (v) => {
        w.bigint(v.s);
        w.optional(v.s2, (x) => w.bigint(x));
      });
    } else w.bigint(this.paillierPublic.n);
    w.bigint(this.encryptedX0);
    return w.finish();
  }

  static fromBytes(bytes: Uint8Array): Ecdsa2pShare {
    return decodeLocal("share", () => Ecdsa2pShare.decode(new Reader(bytes, null)));
  }

  private static decode(r: Reader): Ecdsa2pShare {
    const version = r.u8();
    if (version < 1 || version > SHARE_VERSION) r.fail("unknown share version");
    const index = r.u8();
    if (index !== 0 && index !== 1) r.fail("share index must be 0 or 1");
    const f: CommonFields = {
      x: r.scalar(),
      publicKey: r.point(),
      peerPublic: r.point(),
      chainCode: r.fixed(32),
      locked: r.bool(),
      ringPedersen: readRingPedersenParams(r),
      ringPedersenS2: undefined,
    };
    if (version >= 3) f.ringPedersenS2 = r.optional(() => r.below(f.ringPedersen.n));
    if (index === 0) {
      const sk = readPaillierSecretKey(r);
      const log = () => r.bigint(RING_PEDERSEN_MAX_BITS);
      const logs =
        version === 1
          ? undefined
          : r.optional((): RingPedersenLogs => {
              const s = log();
              return version >= 3 ? { s, s2: r.optional(log) } : { s };
            });
      const c = r.below(sk.publicKey.n2);
      r.end();
      return Ecdsa2pShare.forParty0(f, sk, c, logs);
    }
    const n = r.bigint(PAILLIER_MAX_BITS);
    const c = r.below(n * n);
    r.end();
    return Ecdsa2pShare.forParty1(f, n, c);
  }

  /** A short public fingerprint of the key state both parties share, to catch mismatched shares. */
  fingerprint(): Uint8Array {
    this.fingerprintCache ??= this.encodeFingerprint();
    return this.fingerprintCache.slice();
  }

  private encodeFingerprint(): Uint8Array {
    const w = new Writer();
    w.point(this.publicKey);
    w.point(this.party0Public);
    w.fixed(this.chainCode);
    w.bytes(bigintToBytes(this.paillierPublic.n));
    w.bigint(this.encryptedX0);
    writeRingPedersenParams(w, this.ringPedersen);
    // Shares without s′ keep the fingerprint they always had.
    if (this.ringPedersenS2 !== undefined) w.bigint(this.ringPedersenS2);
    return w.finish();
  }
}
