/**
 * The device's keystore: one file, `keystore.json` in the device's home, holding everything
 * secret the device has (its identity key and its key shares) encrypted under the passphrase:
 * scrypt (N = 2¹⁷, r = 8, p = 1; @noble/hashes) → XChaCha20-Poly1305, the header as associated
 * data. Nothing secret is ever written in the clear, and a write never leaves a half-written
 * file: the new content goes to a temporary file that is fsynced and then renamed over the old
 * one. Read-modify-write cycles hold a lock file, so a cosigner and a command on the same home
 * do not lose each other's changes.
 *
 * An open keystore keeps the key it derived and writes again under the same salt with a fresh
 * random nonce: every protocol run records its session id here before its first message leaves,
 * and two scrypt derivations per write (over a second each on a small device) would be paid by
 * every signature. A 192-bit random nonce per write keeps the encryptions apart; the salt only
 * has to keep one keystore's key apart from every other's, which it still does.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { NextStep } from "./errors.js";

export type KeystoreErrorCode = "missing" | "exists" | "wrong-passphrase" | "corrupted" | "locked";

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

const FILE = "keystore.json";
const LOCK = "keystore.lock";
const KDF = { name: "scrypt", N: 2 ** 17, r: 8, p: 1 } as const;
/** Costs accepted when opening: a tampered header must not make us spend minutes or gigabytes. */
const MAX_N = 2 ** 20;
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 120_000;

interface Header {
  keyshard: "keystore";
  version: 1;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "xchacha20-poly1305";
  nonce: string;
}

interface KeystoreFile extends Header {
  ciphertext: string;
}

const headerBytes = (h: Header) =>
  utf8ToBytes(
    JSON.stringify([h.keyshard, h.version, h.kdf.name, h.kdf.N, h.kdf.r, h.kdf.p, h.kdf.salt, h.cipher, h.nonce]),
  );

const deriveKey = (passphrase: string, kdf: Header["kdf"]) =>
  scryptAsync(utf8ToBytes(passphrase.normalize("NFKC")), hexToBytes(kdf.salt), {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 32,
  });

function parseFile(text: string): KeystoreFile {
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch (e) {
    throw new KeystoreError("corrupted", "the keystore is not valid JSON: it is damaged; restore it from a backup", {
      cause: e,
    });
  }
  const kdf = file?.kdf;
  const ok =
    file?.keyshard === "keystore" &&
    file.version === 1 &&
    file.cipher === "xchacha20-poly1305" &&
    kdf?.name === "scrypt" &&
    Number.isSafeInteger(kdf.N) &&
    kdf.N >= 2 ** 14 &&
    kdf.N <= MAX_N &&
    (kdf.N & (kdf.N - 1)) === 0 &&
    kdf.r === 8 &&
    kdf.p === 1 &&
    typeof kdf.salt === "string" &&
    /^[0-9a-f]{32}$/.test(kdf.salt) &&
    typeof file.nonce === "string" &&
    /^[0-9a-f]{48}$/.test(file.nonce) &&
    typeof file.ciphertext === "string";
  if (!ok) throw new KeystoreError("corrupted", "the keystore's header is damaged; restore it from a backup");
  return file;
}

/** Writes `data` to `path` so that a crash leaves either the old file or the new one. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const temp = `${path}.${process.pid}.${bytesToHex(crypto.getRandomValues(new Uint8Array(4)))}.tmp`;
  const fd = openSync(temp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? utf8ToBytes(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  const dir = openSync(join(path, ".."), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** An encrypted JSON document in `home`, opened with a passphrase. */
export class Keystore<T> {
  /** The key of the file this object last opened or wrote, with the parameters it came from. */
  private key: { kdf: Header["kdf"]; bytes: Uint8Array } | undefined;

  private constructor(
    readonly home: string,
    private readonly passphrase: string,
  ) {}

  private keyFor(kdf: Header["kdf"]): Promise<Uint8Array> | Uint8Array {
    const known = this.key;
    if (known !== undefined && known.kdf.salt === kdf.salt && known.kdf.N === kdf.N) return known.bytes;
    return deriveKey(this.passphrase, kdf);
  }

  static exists(home: string): boolean {
    try {
      return statSync(join(home, FILE)).isFile();
    } catch {
      return false;
    }
  }

  /** A new keystore holding `content`; refuses to overwrite one. */
  static async create<T>(home: string, passphrase: string, content: T): Promise<Keystore<T>> {
    if (passphrase.length < 8) throw new RangeError("the passphrase must have at least 8 characters");
    mkdirSync(home, { recursive: true, mode: 0o700 });
    if (Keystore.exists(home))
      throw new KeystoreError("exists", `a keystore exists in ${home} already: nothing was changed`);
    const store = new Keystore<T>(home, passphrase);
    await store.write(content);
    return store;
  }

  /** Opens the keystore in `home` and checks the passphrase by decrypting it. */
  static async open<T>(home: string, passphrase: string): Promise<{ store: Keystore<T>; content: T }> {
    const store = new Keystore<T>(home, passphrase);
    return { store, content: await store.read() };
  }

  async read(): Promise<T> {
    let text: string;
    try {
      text = readFileSync(join(this.home, FILE), "utf8");
    } catch (e) {
      throw new KeystoreError("missing", `no keystore in ${this.home}`, { cause: e, next: { step: "init" } });
    }
    const file = parseFile(text);
    const key = await this.keyFor(file.kdf);
    let plaintext: Uint8Array;
    try {
      plaintext = xchacha20poly1305(key, hexToBytes(file.nonce), headerBytes(file)).decrypt(
        new Uint8Array(Buffer.from(file.ciphertext, "base64")),
      );
      // Kept only once the passphrase proved right on this file.
      this.key = { kdf: { ...KDF, N: file.kdf.N, salt: file.kdf.salt }, bytes: key };
    } catch (e) {
      throw new KeystoreError(
        "wrong-passphrase",
        "the keystore does not open with this passphrase (wrong passphrase, or the file was altered)",
        { cause: e },
      );
    }
    try {
      return JSON.parse(new TextDecoder().decode(plaintext)) as T;
    } catch {
      // Without its cause: the parser's message quotes the decrypted content, which holds the keys.
      throw new KeystoreError("corrupted", "the keystore's content is damaged; restore it from a backup");
    }
  }

  /**
   * Encrypts `content` with a fresh nonce and replaces the file atomically. The salt is the one
   * of the key already derived, unless that key is weaker than this version makes: then a fresh
   * salt at full cost.
   */
  async write(content: T): Promise<void> {
    const known = this.key?.kdf.N === KDF.N ? this.key : undefined;
    const header: Header = {
      keyshard: "keystore",
      version: 1,
      kdf: known?.kdf ?? { ...KDF, salt: bytesToHex(crypto.getRandomValues(new Uint8Array(16))) },
      cipher: "xchacha20-poly1305",
      nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(24))),
    };
    const key = known?.bytes ?? (await deriveKey(this.passphrase, header.kdf));
    this.key = { kdf: header.kdf, bytes: key };
    const ciphertext = xchacha20poly1305(key, hexToBytes(header.nonce), headerBytes(header)).encrypt(
      utf8ToBytes(JSON.stringify(content)),
    );
    const file: KeystoreFile = { ...header, ciphertext: Buffer.from(ciphertext).toString("base64") };
    writeFileAtomic(join(this.home, FILE), `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Reads, changes and writes the content under the home's lock; returns what `change` returned. */
  async update<R>(change: (content: T) => R | Promise<R>): Promise<R> {
    const release = await this.lock();
    try {
      const content = await this.read();
      const result = await change(content);
      await this.write(content);
      return result;
    } finally {
      release();
    }
  }

  private async lock(): Promise<() => void> {
    const path = join(this.home, LOCK);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(path, "wx", 0o600));
        return () => rmSync(path, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        try {
          if (Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS) rmSync(path, { force: true });
        } catch {
          // Gone meanwhile: try again.
        }
        if (Date.now() > deadline)
          throw new KeystoreError("locked", `another keyshard process holds ${path}; try again when it is done`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
