/**
 * The master key that seals the provider's secrets at rest (its key shares, session states,
 * one-time codes). It comes from KEYSHARD_MASTER_KEY or a key file; on a first start with
 * neither, a key file is created with mode 0600. The key never reaches a log or an error.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { Database } from "./queryable.js";

const KEY_BYTES = 32;
const NONCE_BYTES = 24;

export class MasterKeyError extends Error {
  override readonly name = "MasterKeyError";
}

export class MasterKey {
  readonly #seal: Uint8Array;
  readonly #mac: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new MasterKeyError("the master key must be 32 bytes");
    this.#seal = hkdf(sha256, key, undefined, utf8ToBytes("keyshard-provider seal v1"), KEY_BYTES);
    this.#mac = hkdf(sha256, key, undefined, utf8ToBytes("keyshard-provider mac v1"), KEY_BYTES);
  }

  /**
   * Encrypts and authenticates `plaintext` for one place: `context` (e.g. "share:<wallet>") is
   * bound in as associated data, so a sealed value moved to another row does not open.
   */
  seal(plaintext: Uint8Array, context: string): Uint8Array {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const sealed = xchacha20poly1305(this.#seal, nonce, utf8ToBytes(context)).encrypt(plaintext);
    const out = new Uint8Array(NONCE_BYTES + sealed.length);
    out.set(nonce);
    out.set(sealed, NONCE_BYTES);
    return out;
  }

  open(sealed: Uint8Array, context: string): Uint8Array {
    if (sealed.length < NONCE_BYTES + 16) throw new MasterKeyError("sealed value is truncated");
    try {
      return xchacha20poly1305(this.#seal, sealed.subarray(0, NONCE_BYTES), utf8ToBytes(context)).decrypt(
        sealed.subarray(NONCE_BYTES),
      );
    } catch {
      throw new MasterKeyError(`sealed value for ${context} does not open under this master key`);
    }
  }

  /** A keyed hash, for values that must be compared but not stored (one-time codes). */
  mac(label: string, data: Uint8Array): Uint8Array {
    return hmac(sha256, this.#mac, new Uint8Array([...utf8ToBytes(label), 0, ...data]));
  }
}

export interface LoadedMasterKey {
  key: MasterKey;
  /** Set when this start created the key file. */
  createdFile?: string;
}

/** Reads the master key from `KEYSHARD_MASTER_KEY` (64 hex digits) or `keyFile`, creating the file if neither exists. */
export function loadMasterKey(env: string | undefined, keyFile: string): LoadedMasterKey {
  if (env !== undefined && env !== "") {
    if (!/^[0-9a-fA-F]{64}$/.test(env)) throw new MasterKeyError("KEYSHARD_MASTER_KEY must be 64 hex digits");
    return { key: new MasterKey(Uint8Array.from(Buffer.from(env, "hex"))) };
  }
  if (existsSync(keyFile)) {
    if ((statSync(keyFile).mode & 0o077) !== 0)
      throw new MasterKeyError(`${keyFile} is readable by others; chmod 600 it`);
    const text = readFileSync(keyFile, "utf8").trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new MasterKeyError(`${keyFile} does not hold 64 hex digits`);
    return { key: new MasterKey(Uint8Array.from(Buffer.from(text, "hex"))) };
  }
  const key = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  writeFileSync(keyFile, `${Buffer.from(key).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return { key: new MasterKey(key), createdFile: keyFile };
}

const CHECK_CONTEXT = "meta:master-key-check";

/** Refuses to run on a database whose secrets were sealed under another master key. */
export async function checkMasterKey(db: Database, key: MasterKey): Promise<void> {
  const [row] = await db.query<{ value: Uint8Array }>("SELECT value FROM meta WHERE key = 'master-key-check'");
  if (row === undefined) {
    await db.query("INSERT INTO meta (key, value) VALUES ('master-key-check', $1) ON CONFLICT DO NOTHING", [
      key.seal(utf8ToBytes("keyshard"), CHECK_CONTEXT),
    ]);
    return;
  }
  try {
    key.open(new Uint8Array(row.value), CHECK_CONTEXT);
  } catch {
    throw new MasterKeyError("the master key does not match this database (its secrets were sealed under another key)");
  }
}
