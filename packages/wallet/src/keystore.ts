/**
 * The device's keystore: one encrypted JSON document holding everything secret the device has
 * (its identity key and its key shares), kept by a `KeystoreStorage`: a file in the device's home
 * in Node (`keystore-file.ts`), a record in IndexedDB in a browser (`keystore-indexeddb.ts`).
 * Nothing secret is ever stored in the clear; the header travels as associated data, so altering
 * it fails the decryption like altering the ciphertext does.
 *
 * Two ways to unlock it, named in the header's `kdf`:
 * - a passphrase: scrypt (N = 2¹⁷, r = 8, p = 1; Node's own in Node, @noble/hashes' in browsers)
 *   → XChaCha20-Poly1305;
 * - a passkey: the 32-byte output of its WebAuthn PRF extension for the header's salt, through
 *   HKDF-SHA256 (salt = that salt, info = "keyshard keystore v1") → XChaCha20-Poly1305. The
 *   credential's id and the salt are in the header, so a page knows which passkey to ask and
 *   with what, before anything is decrypted (`Keystore.unlockMethod`).
 *
 * An open keystore keeps the key it derived and writes again under the same salt with a fresh
 * random nonce: every protocol run records its session id here before its first message leaves,
 * and two scrypt derivations per write (over a second each on a small device) would be paid by
 * every signature. A 192-bit random nonce per write keeps the encryptions apart; the salt only
 * has to keep one keystore's key apart from every other's, which it still does.
 */

import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { equalBytes } from "@noble/ciphers/utils.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { fileKeystore } from "#keystore-home";
import { scrypt } from "#scrypt";
import type { NextStep } from "./errors.js";

export type KeystoreErrorCode =
  | "missing"
  | "exists"
  | "wrong-passphrase"
  /** The passkey's PRF output does not decrypt it (another passkey, or the keystore was altered). */
  | "wrong-key"
  /** Unlocked the other way than it was made: a passphrase for a passkey keystore, or the reverse. */
  | "wrong-unlock"
  | "corrupted"
  | "locked"
  /** The storage itself failed (a browser refusing IndexedDB, a full disk). */
  | "unavailable";

export class KeystoreError extends Error {
  override readonly name = "KeystoreError";
  /** What the person can do about it, when there is something to do. */
  readonly next: NextStep | undefined;

  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
    options: ErrorOptions & { next?: NextStep } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.next = options.next;
  }
}

/** Where a keystore's text is kept, and how its read-modify-write cycles exclude each other. */
export interface KeystoreStorage {
  /** Where it is, for messages: a folder, or "this browser". */
  readonly where: string;
  /** The stored text; undefined when there is none. */
  read(): Promise<string | undefined>;
  /** Stores the first text; throws KeystoreError "exists" when there is one already. */
  create(text: string): Promise<void>;
  /** Replaces the text atomically: a crash leaves the old text or the new one. */
  write(text: string): Promise<void>;
  /** Waits for exclusive use; the function returned gives it up. */
  lock(): Promise<() => void>;
}

/** A passkey's answer to the keystore's PRF salt, as WebAuthn gave it. */
export interface PasskeyUnlock {
  /** The credential's id, base64url without padding. */
  credentialId: string;
  /** The PRF input: 32 bytes, the keystore's salt. */
  salt: Uint8Array;
  /** The PRF output for that salt: 32 bytes. Never stored. */
  output: Uint8Array;
}

/** A passphrase, or a passkey's PRF output. */
export type KeystoreUnlock = string | { passkey: PasskeyUnlock };

/** How a stored keystore is unlocked, read from its header alone. */
export type UnlockMethod = { passphrase: true } | { passkey: { credentialId: string; salt: Uint8Array } };

/** A home folder (Node) or any storage. */
export type KeystoreLocation = string | KeystoreStorage;

const SCRYPT = { name: "scrypt", N: 2 ** 17, r: 8, p: 1 } as const;
/** Costs accepted when opening: a tampered header must not make us spend minutes or gigabytes. */
const MAX_N = 2 ** 20;
const PASSKEY_INFO = utf8ToBytes("keyshard keystore v1");
/** A credential id as WebAuthn gives it, base64url without padding (no length leaves one character over). */
const isCredentialId = (id: unknown): id is string =>
  typeof id === "string" && /^[A-Za-z0-9_-]{16,1023}$/.test(id) && id.length % 4 !== 1;
/**
 * Padded base64 with its unused bits zero: what `base64.decode` takes. Transport's CANONICAL_BASE64
 * says the same, but importing it would put the transport's engines into every browser bundle
 * that opens a keystore.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;
/** Base64 of the 16-byte Poly1305 tag, the least any ciphertext is (of an empty plaintext). */
const MIN_CIPHERTEXT_CHARS = 24;

type ScryptKdf = { name: "scrypt"; N: number; r: number; p: number; salt: string };
type PasskeyKdf = { name: "webauthn-prf"; credential: string; salt: string };
type Kdf = ScryptKdf | PasskeyKdf;

interface Header {
  keyshard: "keystore";
  version: 1;
  kdf: Kdf;
  cipher: "xchacha20-poly1305";
  nonce: string;
}

interface KeystoreFile extends Header {
  ciphertext: string;
}

/** The header as associated data. A passphrase keystore's bytes are those of every version before passkeys. */
const headerBytes = (h: Header) =>
  utf8ToBytes(
    JSON.stringify(
      h.kdf.name === "scrypt"
        ? [h.keyshard, h.version, h.kdf.name, h.kdf.N, h.kdf.r, h.kdf.p, h.kdf.salt, h.cipher, h.nonce]
        : [h.keyshard, h.version, h.kdf.name, h.kdf.credential, h.kdf.salt, h.cipher, h.nonce],
    ),
  );

const isScrypt = (kdf: Record<string, unknown>): boolean =>
  kdf.name === "scrypt" &&
  Number.isSafeInteger(kdf.N) &&
  (kdf.N as number) >= 2 ** 14 &&
  (kdf.N as number) <= MAX_N &&
  ((kdf.N as number) & ((kdf.N as number) - 1)) === 0 &&
  kdf.r === 8 &&
  kdf.p === 1 &&
  typeof kdf.salt === "string" &&
  /^[0-9a-f]{32}$/.test(kdf.salt);

const isPasskey = (kdf: Record<string, unknown>): boolean =>
  kdf.name === "webauthn-prf" &&
  Object.keys(kdf).length === 3 &&
  isCredentialId(kdf.credential) &&
  typeof kdf.salt === "string" &&
  /^[0-9a-f]{64}$/.test(kdf.salt);

function parseFile(text: string): KeystoreFile {
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch (e) {
    throw new KeystoreError("corrupted", "the keystore is not valid JSON: it is damaged; restore it from a backup", {
      cause: e,
    });
  }
  const kdf = file?.kdf as unknown as Record<string, unknown> | null | undefined;
  const ok =
    file?.keyshard === "keystore" &&
    file.version === 1 &&
    file.cipher === "xchacha20-poly1305" &&
    typeof kdf === "object" &&
    kdf !== null &&
    (isScrypt(kdf) || isPasskey(kdf)) &&
    typeof file.nonce === "string" &&
    /^[0-9a-f]{48}$/.test(file.nonce) &&
    typeof file.ciphertext === "string" &&
    file.ciphertext.length >= MIN_CIPHERTEXT_CHARS &&
    BASE64.test(file.ciphertext);
  if (!ok) throw new KeystoreError("corrupted", "the keystore's header is damaged; restore it from a backup");
  return file;
}

/** The storage a location names: a home folder is Node's file keystore. */
const storageAt = (location: KeystoreLocation): KeystoreStorage =>
  typeof location === "string" ? fileKeystore(location) : location;

/** Refuses an unlock that could never work, before anything is derived or stored. */
function checkUnlock(unlock: KeystoreUnlock, making: boolean): void {
  if (typeof unlock === "string") {
    if (making && unlock.length < 8) throw new RangeError("the passphrase must have at least 8 characters");
    return;
  }
  const passkey = unlock?.passkey;
  if (
    !isCredentialId(passkey?.credentialId) ||
    !(passkey.salt instanceof Uint8Array) ||
    passkey.salt.length !== 32 ||
    !(passkey.output instanceof Uint8Array) ||
    passkey.output.length !== 32
  )
    throw new TypeError(
      "a passkey unlock needs its credential id (base64url, 16 to 1023 characters), the 32-byte salt and the PRF's 32-byte output",
    );
}

const kindOf = (unlock: KeystoreUnlock) => (typeof unlock === "string" ? "a passphrase" : "a passkey");

/** The parameters as this version writes them, whatever else a header held beside them. */
const ownKdf = (kdf: Kdf): Kdf =>
  kdf.name === "scrypt"
    ? { ...SCRYPT, N: kdf.N, salt: kdf.salt }
    : { name: kdf.name, credential: kdf.credential, salt: kdf.salt };

const sameKdf = (a: Kdf, b: Kdf) => JSON.stringify(ownKdf(a)) === JSON.stringify(ownKdf(b));

/** The error of a create that found a keystore there already. */
export const keystoreExists = (where: string) =>
  new KeystoreError("exists", `a keystore exists in ${where} already: nothing was changed`);

/** An encrypted JSON document in a storage, opened with a passphrase or a passkey. */
export class Keystore<T> {
  /** The key of the text this object last opened or wrote, with the parameters it came from. */
  private key: { kdf: Kdf; bytes: Uint8Array } | undefined;

  private constructor(
    readonly storage: KeystoreStorage,
    private readonly unlock: KeystoreUnlock,
  ) {}

  /** The key `kdf` names, from this object's unlock; refuses an unlock of the other kind. */
  private async keyFor(kdf: Kdf): Promise<Uint8Array> {
    const known = this.key;
    if (known !== undefined && sameKdf(known.kdf, kdf)) return known.bytes;
    const unlock = this.unlock;
    if (kdf.name === "scrypt") {
      if (typeof unlock !== "string")
        throw new KeystoreError("wrong-unlock", `this keystore opens with a passphrase, not ${kindOf(unlock)}`);
      return scrypt(utf8ToBytes(unlock.normalize("NFKC")), hexToBytes(kdf.salt), {
        N: kdf.N,
        r: kdf.r,
        p: kdf.p,
        dkLen: 32,
      });
    }
    if (typeof unlock === "string")
      throw new KeystoreError("wrong-unlock", `this keystore opens with a passkey, not ${kindOf(unlock)}`);
    const salt = hexToBytes(kdf.salt);
    if (unlock.passkey.credentialId !== kdf.credential || !equalBytes(unlock.passkey.salt, salt))
      throw new KeystoreError(
        "wrong-key",
        "the passkey did not unlock the keystore: it was made with another passkey or another salt",
      );
    return hkdf(sha256, unlock.passkey.output, salt, PASSKEY_INFO, 32);
  }

  /** The header parameters of a new keystore for `unlock`. */
  private freshKdf(): Kdf {
    const unlock = this.unlock;
    if (typeof unlock === "string") return { ...SCRYPT, salt: bytesToHex(crypto.getRandomValues(new Uint8Array(16))) };
    return { name: "webauthn-prf", credential: unlock.passkey.credentialId, salt: bytesToHex(unlock.passkey.salt) };
  }

  /** How the keystore at `location` unlocks, from its header alone; undefined when there is none. */
  static async unlockMethod(location: KeystoreLocation): Promise<UnlockMethod | undefined> {
    const text = await storageAt(location).read();
    if (text === undefined) return undefined;
    const { kdf } = parseFile(text);
    return kdf.name === "scrypt"
      ? { passphrase: true }
      : { passkey: { credentialId: kdf.credential, salt: hexToBytes(kdf.salt) } };
  }

  /** A new keystore holding `content`; refuses to overwrite one. */
  static async create<T>(location: KeystoreLocation, unlock: KeystoreUnlock, content: T): Promise<Keystore<T>> {
    checkUnlock(unlock, true);
    const storage = storageAt(location);
    // Checked before the key's derivation too, which may take a second for nothing.
    if ((await storage.read()) !== undefined) throw keystoreExists(storage.where);
    const store = new Keystore<T>(storage, unlock);
    await storage.create(await store.encrypt(content));
    return store;
  }

  /** Opens the keystore at `location` and checks the unlock by decrypting it. */
  static async open<T>(
    location: KeystoreLocation,
    unlock: KeystoreUnlock,
  ): Promise<{ store: Keystore<T>; content: T }> {
    checkUnlock(unlock, false);
    const store = new Keystore<T>(storageAt(location), unlock);
    return { store, content: await store.read() };
  }

  async read(): Promise<T> {
    const text = await this.storage.read();
    if (text === undefined)
      throw new KeystoreError("missing", `no keystore in ${this.storage.where}`, { next: { step: "init" } });
    const file = parseFile(text);
    const key = await this.keyFor(file.kdf);
    let plaintext: Uint8Array;
    try {
      plaintext = xchacha20poly1305(key, hexToBytes(file.nonce), headerBytes(file)).decrypt(
        base64.decode(file.ciphertext),
      );
      // Kept only once the unlock proved right on this text.
      this.key = { kdf: ownKdf(file.kdf), bytes: key };
    } catch (e) {
      throw file.kdf.name === "scrypt"
        ? new KeystoreError(
            "wrong-passphrase",
            "the keystore does not open with this passphrase (wrong passphrase, or the file was altered)",
            { cause: e },
          )
        : new KeystoreError(
            "wrong-key",
            "the passkey did not unlock the keystore (another passkey, or it was altered)",
            {
              cause: e,
            },
          );
    }
    try {
      return JSON.parse(new TextDecoder().decode(plaintext)) as T;
    } catch {
      // Without its cause: the parser's message quotes the decrypted content, which holds the keys.
      throw new KeystoreError("corrupted", "the keystore's content is damaged; restore it from a backup");
    }
  }

  /** Encrypts `content` and replaces the stored text atomically. */
  async write(content: T): Promise<void> {
    await this.storage.write(await this.encrypt(content));
  }

  /**
   * `content` as the stored text, under a fresh nonce. The salt is the one of the key already
   * derived, unless that key is a passphrase's weaker than this version makes: then a fresh salt
   * at full cost.
   */
  private async encrypt(content: T): Promise<string> {
    const known = this.key;
    const reusable = known !== undefined && (known.kdf.name !== "scrypt" || known.kdf.N === SCRYPT.N);
    const kdf = reusable ? known.kdf : this.freshKdf();
    const header: Header = {
      keyshard: "keystore",
      version: 1,
      kdf,
      cipher: "xchacha20-poly1305",
      nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(24))),
    };
    const key = reusable ? known.bytes : await this.keyFor(kdf);
    this.key = { kdf, bytes: key };
    const ciphertext = xchacha20poly1305(key, hexToBytes(header.nonce), headerBytes(header)).encrypt(
      utf8ToBytes(JSON.stringify(content)),
    );
    const file: KeystoreFile = { ...header, ciphertext: base64.encode(ciphertext) };
    return `${JSON.stringify(file, null, 2)}\n`;
  }

  /** Reads, changes and writes the content under the storage's lock; returns what `change` returned. */
  async update<R>(change: (content: T) => R | Promise<R>): Promise<R> {
    const release = await this.storage.lock();
    try {
      const content = await this.read();
      const result = await change(content);
      await this.write(content);
      return result;
    } finally {
      release();
    }
  }
}
