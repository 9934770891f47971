/**
 * The keystore unlocked by a passkey: the key is HKDF-SHA256 of the passkey's PRF output, the
 * credential and the salt are in the header and bound to the ciphertext, a wrong PRF output or the
 * other kind of unlock is told apart from damage, and the header alone says how to unlock. Run on
 * an in-memory storage, which is all the format asks of one.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { describe, expect, it } from "vitest";
import { Keystore, type KeystoreUnlock } from "../src/keystore.js";
import { memoryStorage } from "./memory-storage.js";
import { keystoreFailure } from "./thrown.js";

const SECRET = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
const CREDENTIAL = "Y3JlZGVudGlhbC1pZC1vZi10aGUtcGFzc2tleQ";
const SALT = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const OUTPUT = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const passkey = (
  changes: Partial<{ credentialId: string; salt: Uint8Array; output: Uint8Array }> = {},
): KeystoreUnlock => ({
  passkey: { credentialId: CREDENTIAL, salt: SALT, output: OUTPUT, ...changes },
});

type PasskeyKdf = { name: "webauthn-prf"; credential: string; salt: string };

/** The format, as another implementation would compute it: the key of a passkey header's PRF output and salt… */
const keyOf = (kdf: PasskeyKdf) => hkdf(sha256, OUTPUT, hexToBytes(kdf.salt), utf8ToBytes("keyshard keystore v1"), 32);
/** …and the header's fields the ciphertext is bound to, as associated data. */
const associatedData = (kdf: PasskeyKdf, nonce: string) =>
  utf8ToBytes(JSON.stringify(["keystore", 1, kdf.name, kdf.credential, kdf.salt, "xchacha20-poly1305", nonce]));

async function passkeyStore() {
  const storage = memoryStorage();
  await Keystore.create(storage, passkey(), { secret: SECRET });
  return { storage, stored: JSON.parse(storage.text as string) };
}

describe("a passkey keystore", () => {
  it("is encrypted under HKDF-SHA256 of the PRF output, the header as associated data", async () => {
    const { storage, stored } = await passkeyStore();
    expect(storage.text).not.toContain(SECRET);
    expect(storage.text).not.toContain(bytesToHex(OUTPUT));
    expect(storage.text).not.toContain(base64.encode(OUTPUT).slice(0, 40));
    expect(stored.kdf).toEqual({ name: "webauthn-prf", credential: CREDENTIAL, salt: bytesToHex(SALT) });
    // The format, computed here independently: another implementation can open it from this.
    const plaintext = xchacha20poly1305(
      keyOf(stored.kdf),
      hexToBytes(stored.nonce),
      associatedData(stored.kdf, stored.nonce),
    ).decrypt(base64.decode(stored.ciphertext));
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual({ secret: SECRET });
    expect((await Keystore.open<{ secret: string }>(storage, passkey())).content.secret).toBe(SECRET);
  });

  it("says from its header alone how it unlocks, and nothing when there is none", async () => {
    const { storage } = await passkeyStore();
    expect(await Keystore.unlockMethod(storage)).toEqual({ passkey: { credentialId: CREDENTIAL, salt: SALT } });
    expect(await Keystore.unlockMethod(memoryStorage())).toBeUndefined();
    const phrase = memoryStorage();
    await Keystore.create(phrase, "a long passphrase", {});
    expect(await Keystore.unlockMethod(phrase)).toEqual({ passphrase: true });
  });

  it("does not open with another PRF output, and says the passkey did not unlock it", async () => {
    const { storage } = await passkeyStore();
    const wrong = await keystoreFailure(Keystore.open(storage, passkey({ output: OUTPUT.map((b) => b ^ 1) })));
    expect(wrong.code).toBe("wrong-key");
    expect(wrong.message).toContain("passkey did not unlock");
    const otherCredential = await keystoreFailure(Keystore.open(storage, passkey({ credentialId: `${CREDENTIAL}x` })));
    expect(otherCredential.code).toBe("wrong-key");
    expect(otherCredential.message).not.toContain(bytesToHex(OUTPUT));
  });

  it("names the unlock it needs when given the other kind", async () => {
    const { storage } = await passkeyStore();
    const withPassphrase = await keystoreFailure(Keystore.open(storage, "a long passphrase"));
    expect(withPassphrase.code).toBe("wrong-unlock");
    expect(withPassphrase.message).toBe("this keystore opens with a passkey, not a passphrase");
    const phrase = memoryStorage();
    await Keystore.create(phrase, "a long passphrase", {});
    const withPasskey = await keystoreFailure(Keystore.open(phrase, passkey()));
    expect(withPasskey.code).toBe("wrong-unlock");
    expect(withPasskey.message).toBe("this keystore opens with a passphrase, not a passkey");
  });

  it("binds the credential and the salt to the ciphertext as associated data", async () => {
    const { storage, stored } = await passkeyStore();
    /** `stored` with `kdf` in its header, sealed under that header's own key, bound to `boundTo`'s fields. */
    const sealed = (kdf: PasskeyKdf, boundTo: PasskeyKdf) => {
      const aad = associatedData(boundTo, stored.nonce);
      const ciphertext = xchacha20poly1305(keyOf(kdf), hexToBytes(stored.nonce), aad).encrypt(
        utf8ToBytes(JSON.stringify({ secret: SECRET })),
      );
      return JSON.stringify({ ...stored, kdf, ciphertext: base64.encode(ciphertext) });
    };
    const otherSalt = SALT.map((b) => b ^ 0xff);
    const changes = [
      {
        kdf: { ...stored.kdf, credential: `${CREDENTIAL.slice(0, -1)}A` },
        unlock: { credentialId: `${CREDENTIAL.slice(0, -1)}A` },
      },
      { kdf: { ...stored.kdf, salt: bytesToHex(otherSalt) }, unlock: { salt: otherSalt } },
    ];
    for (const { kdf, unlock } of changes) {
      // Bound to the header it carries, the record opens: nothing but the associated data differs below.
      storage.text = sealed(kdf, kdf);
      expect((await Keystore.open<{ secret: string }>(storage, passkey(unlock))).content.secret).toBe(SECRET);
      // The right key for the header as it reads, the ciphertext bound to the header it was made with.
      storage.text = sealed(kdf, stored.kdf);
      expect((await keystoreFailure(Keystore.open(storage, passkey(unlock)))).code).toBe("wrong-key");
    }
  });

  it("does not open with any passphrase once its header is rewritten to a passphrase's", async () => {
    const { storage, stored } = await passkeyStore();
    const scrypt = { name: "scrypt", N: 2 ** 14, r: 8, p: 1, salt: bytesToHex(SALT.slice(0, 16)) };
    storage.text = JSON.stringify({ ...stored, kdf: scrypt });
    expect(await Keystore.unlockMethod(storage)).toEqual({ passphrase: true });
    for (const passphrase of ["a long passphrase", "", bytesToHex(OUTPUT)])
      expect((await keystoreFailure(Keystore.open(storage, passphrase))).code).toBe("wrong-passphrase");
  });

  it("reads its header strictly: a malformed credential, salt or kdf is damage, before any unlock", async () => {
    const { storage, stored } = await passkeyStore();
    const malformed = [
      { credential: "c2hvcnQ" },
      { credential: "x".repeat(1024) },
      { credential: "x".repeat(17) },
      { credential: `${CREDENTIAL}=` },
      { credential: `${CREDENTIAL}+` },
      { salt: bytesToHex(SALT).slice(2) },
      { salt: bytesToHex(SALT).toUpperCase() },
      { extra: 1 },
      { name: "webauthn" },
    ];
    for (const change of malformed) {
      storage.text = JSON.stringify({ ...stored, kdf: { ...stored.kdf, ...change } });
      expect((await keystoreFailure(Keystore.unlockMethod(storage))).code).toBe("corrupted");
      expect((await keystoreFailure(Keystore.open(storage, passkey()))).code).toBe("corrupted");
    }
    // Not base64, base64 with bits set past its last byte, and fewer bytes than the 16-byte tag.
    for (const ciphertext of [`${stored.ciphertext}!`, "AAAAAAAAAAAAAAAAAAAAAB==", base64.encode(new Uint8Array(15))]) {
      storage.text = JSON.stringify({ ...stored, ciphertext });
      expect((await keystoreFailure(Keystore.unlockMethod(storage))).code).toBe("corrupted");
      expect((await keystoreFailure(Keystore.open(storage, passkey()))).code).toBe("corrupted");
    }
    // The tag alone is a ciphertext (of nothing), and it is not this one.
    storage.text = JSON.stringify({ ...stored, ciphertext: base64.encode(new Uint8Array(16)) });
    expect((await keystoreFailure(Keystore.open(storage, passkey()))).code).toBe("wrong-key");
  });

  it("updates under the storage's lock, keeping its credential and salt", async () => {
    const { storage } = await passkeyStore();
    const { store } = await Keystore.open<{ secret: string; items?: number[] }>(storage, passkey());
    await Promise.all([1, 2, 3].map((i) => store.update((c) => void (c.items ??= []).push(i))));
    expect((await store.read()).items?.sort()).toEqual([1, 2, 3]);
    expect(await Keystore.unlockMethod(storage)).toEqual({ passkey: { credentialId: CREDENTIAL, salt: SALT } });
    expect((await Keystore.open<{ items: number[] }>(storage, passkey())).content.items).toHaveLength(3);
  });

  it("refuses an existing keystore and a passkey answer of the wrong shape", async () => {
    const { storage } = await passkeyStore();
    expect((await keystoreFailure(Keystore.create(storage, passkey(), {}))).code).toBe("exists");
    await expect(Keystore.create(memoryStorage(), passkey({ salt: SALT.slice(1) }), {})).rejects.toThrow(TypeError);
    await expect(Keystore.create(memoryStorage(), passkey({ output: new Uint8Array(64) }), {})).rejects.toThrow(
      TypeError,
    );
    await expect(Keystore.create(memoryStorage(), passkey({ credentialId: "not base64url!" }), {})).rejects.toThrow(
      TypeError,
    );
  });
});
