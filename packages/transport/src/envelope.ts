/**
 * End-to-end envelopes between the parties of a session, so that the relay that carries them
 * (the provider) learns who talks to whom and how much, never what.
 *
 * Sealing: a fresh X25519 key per envelope, ECDH with the recipient's X25519 key (the Montgomery
 * form of its Ed25519 identity key, so one registered key names and reaches a device), HKDF-SHA256
 * over the shared secret bound to the header, ChaCha20-Poly1305 with the header as associated
 * data, and the sender's Ed25519 signature over header and ciphertext. Opening checks, in order:
 * the shape, the session, sender and recipient, the signature, the round against replays, and
 * only then decrypts.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { CANONICAL_BASE64 } from "./base64.js";
import { signEd25519, verifyEd25519 } from "./ed25519.js";
import { type DeviceIdentity, deviceId } from "./identity.js";

export interface Envelope {
  v: 1;
  /** The session (hex, 32 bytes): an envelope from another session is refused. */
  sid: string;
  /** Device ids (hex, 16 bytes) of sender and recipient. */
  from: string;
  to: string;
  /** The sender's round: each (sid, from, to, round) is accepted once. */
  round: number;
  /** Ephemeral X25519 public key, hex. */
  epk: string;
  /** Ciphertext and tag, base64. */
  ct: string;
  /** Ed25519 signature of the sender over header and ciphertext, hex. */
  sig: string;
}

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
}

/** Largest plaintext carried (a round's protocol messages for one peer). */
export const MAX_ENVELOPE_PLAINTEXT = 1024 * 1024;
const MAX_ROUND = 1000;
const HEX32 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{32}$/;

function header(e: Pick<Envelope, "sid" | "from" | "to" | "round" | "epk">): Uint8Array {
  return utf8ToBytes(["keyshard-envelope-v1", e.sid, e.from, e.to, String(e.round), e.epk].join("\n"));
}

function key(shared: Uint8Array, head: Uint8Array): Uint8Array {
  if (shared.every((b) => b === 0)) throw new EnvelopeError("the ephemeral key is of small order");
  return hkdf(sha256, shared, sha256(head), utf8ToBytes("keyshard-envelope-v1 key"), 32);
}

/** Seals `plaintext` from `sender` to the device whose identity key is `recipientKey`. */
export function sealEnvelope(
  sender: DeviceIdentity,
  recipientKey: Uint8Array,
  fields: { sid: Uint8Array; round: number },
  plaintext: Uint8Array,
): Envelope {
  if (plaintext.length > MAX_ENVELOPE_PLAINTEXT) throw new RangeError("envelope plaintext too large");
  if (!Number.isSafeInteger(fields.round) || fields.round < 0 || fields.round > MAX_ROUND)
    throw new RangeError("round out of range");
  const ephemeral = x25519.utils.randomSecretKey();
  const partial = {
    v: 1 as const,
    sid: bytesToHex(fields.sid),
    from: deviceId(sender.publicKey),
    to: deviceId(recipientKey),
    round: fields.round,
    epk: bytesToHex(x25519.getPublicKey(ephemeral)),
  };
  const head = header(partial);
  const k = key(x25519.getSharedSecret(ephemeral, ed25519.utils.toMontgomery(recipientKey)), head);
  // Each key seals one message, so a fixed nonce is safe.
  const ct = chacha20poly1305(k, new Uint8Array(12), head).encrypt(plaintext);
  const sig = signEd25519(concatBytes(head, ct), sender.secretKey);
  return { ...partial, ct: base64.encode(ct), sig: bytesToHex(sig) };
}

/** Reads an envelope that came from the network, refusing anything not exactly of its shape. */
export function parseEnvelope(value: unknown): Envelope {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new EnvelopeError("not an envelope");
  const e = value as Record<string, unknown>;
  const keys = Object.keys(e).sort().join(",");
  if (keys !== "ct,epk,from,round,sid,sig,to,v") throw new EnvelopeError("envelope fields are wrong");
  if (e.v !== 1) throw new EnvelopeError("unknown envelope version");
  const ok =
    typeof e.sid === "string" &&
    HEX32.test(e.sid) &&
    typeof e.from === "string" &&
    HEX16.test(e.from) &&
    typeof e.to === "string" &&
    HEX16.test(e.to) &&
    Number.isSafeInteger(e.round) &&
    (e.round as number) >= 0 &&
    (e.round as number) <= MAX_ROUND &&
    typeof e.epk === "string" &&
    HEX32.test(e.epk) &&
    typeof e.ct === "string" &&
    e.ct.length <= ((MAX_ENVELOPE_PLAINTEXT + 16) * 4) / 3 + 4 &&
    CANONICAL_BASE64.test(e.ct) &&
    typeof e.sig === "string" &&
    /^[0-9a-f]{128}$/.test(e.sig);
  if (!ok) throw new EnvelopeError("envelope fields are malformed");
  return e as unknown as Envelope;
}

/**
 * Opens an envelope for `recipient`, from the device whose identity key is `senderKey`, in
 * session `sid`. `seen` holds the `from:round` pairs already accepted; the envelope's is added.
 */
export function openEnvelope(
  recipient: DeviceIdentity,
  senderKey: Uint8Array,
  sid: Uint8Array,
  value: unknown,
  seen: Set<string>,
): { round: number; plaintext: Uint8Array } {
  const e = parseEnvelope(value);
  if (e.sid !== bytesToHex(sid)) throw new EnvelopeError("the envelope belongs to another session");
  if (e.to !== deviceId(recipient.publicKey)) throw new EnvelopeError("the envelope is for another device");
  if (e.from !== deviceId(senderKey)) throw new EnvelopeError("the envelope is not from the expected device");
  const head = header(e);
  const ct = base64.decode(e.ct);
  if (!verifyEd25519(hexToBytes(e.sig), concatBytes(head, ct), senderKey))
    throw new EnvelopeError("the envelope's signature does not verify");
  const slot = `${e.from}:${e.round}`;
  if (seen.has(slot)) throw new EnvelopeError("the envelope was replayed");
  let plaintext: Uint8Array;
  try {
    const k = key(
      x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(recipient.secretKey), hexToBytes(e.epk)),
      head,
    );
    plaintext = chacha20poly1305(k, new Uint8Array(12), head).decrypt(ct);
  } catch (err) {
    if (err instanceof EnvelopeError) throw err;
    throw new EnvelopeError("the envelope does not decrypt", { cause: err });
  }
  seen.add(slot);
  return { round: e.round, plaintext };
}
