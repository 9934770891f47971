/**
 * Envelopes: what one device seals only the named recipient opens, in the named session, once;
 * any change to any field, a forged sender or a replay is refused.
 */
import { describe, expect, it } from "vitest";
import { type Envelope, EnvelopeError, openEnvelope, parseEnvelope, sealEnvelope } from "../src/envelope.js";
import { newDeviceIdentity } from "../src/identity.js";

const alice = newDeviceIdentity();
const bob = newDeviceIdentity();
const carol = newDeviceIdentity();
const sid = crypto.getRandomValues(new Uint8Array(32));
const secret = new TextEncoder().encode("round 1 messages for bob");

const seal = () => sealEnvelope(alice, bob.publicKey, { sid, round: 1 }, secret);
const open = (e: unknown, seen = new Set<string>()) => openEnvelope(bob, alice.publicKey, sid, e, seen);

describe("envelopes", () => {
  it("the recipient opens it once; the ciphertext does not contain the plaintext", () => {
    const envelope = seal();
    expect(Buffer.from(envelope.ct, "base64").includes(Buffer.from(secret))).toBe(false);
    const seen = new Set<string>();
    expect(open(envelope, seen)).toEqual({ round: 1, plaintext: secret });
    expect(() => open(envelope, seen)).toThrow(/replayed/);
    // A JSON round trip (the relay stores JSON) changes nothing.
    expect(open(JSON.parse(JSON.stringify(envelope))).plaintext).toEqual(secret);
  });

  it("another device, another session or another sender's key is refused", () => {
    const envelope = seal();
    expect(() => openEnvelope(carol, alice.publicKey, sid, envelope, new Set())).toThrow(/another device/);
    expect(() => openEnvelope(bob, alice.publicKey, new Uint8Array(32), envelope, new Set())).toThrow(
      /another session/,
    );
    expect(() => openEnvelope(bob, carol.publicKey, sid, envelope, new Set())).toThrow(/expected device/);
  });

  it("every field is authenticated", () => {
    const envelope = seal();
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const ct = Buffer.from(envelope.ct, "base64");
    ct[0] = (ct[0] as number) ^ 1;
    const tampered: Partial<Envelope>[] = [
      { round: 2 },
      { epk: flip(envelope.epk) },
      { ct: ct.toString("base64") },
      { sig: flip(envelope.sig) },
    ];
    for (const change of tampered) {
      expect(() => open({ ...envelope, ...change })).toThrow(EnvelopeError);
    }
  });

  it("a forger who re-signs with its own key is caught by the sender check", () => {
    const forged = sealEnvelope(carol, bob.publicKey, { sid, round: 1 }, new TextEncoder().encode("evil"));
    expect(() => open({ ...forged, from: seal().from })).toThrow(/signature/);
  });

  it("refuses malformed envelopes", () => {
    const envelope = seal();
    for (const bad of [
      null,
      [],
      { ...envelope, extra: 1 },
      { ...envelope, v: 2 },
      { ...envelope, round: -1 },
      { ...envelope, sid: "zz" },
      { ...envelope, ct: "!!" },
    ])
      expect(() => parseEnvelope(bad)).toThrow(EnvelopeError);
  });
});
