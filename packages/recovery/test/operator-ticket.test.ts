/**
 * Operator tickets: a ticket the provider signed reads back whole, with exactly its purpose's
 * fields; an expired, foreign, altered, non-canonical or malleated one is refused, and so is one
 * with another purpose's fields, a malformed operator set or threshold, or a malformed blinded
 * element.
 */
import { randomUUID } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { bytesToHex, concatBytes, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  type EnrollTicket,
  type OperatorTicket,
  type RecoverTicket,
  readTicket,
  type SignedTicket,
  signTicket,
  TICKET_LIFETIME_MS,
  TicketError,
  ticketKeyPair,
} from "../src/index.js";

const keys = ticketKeyPair(randomBytes(32));
const now = 1_800_000_000_000;
const ticket: RecoverTicket = {
  purpose: "recover",
  enrollment: randomUUID(),
  email: "amy@example.com",
  account: randomUUID(),
  device: "ab".repeat(16),
  expiresMs: now + TICKET_LIFETIME_MS,
  blinded: bytesToHex(randomBytes(32)),
};
const operatorKeys = ["01", "02", "03"].map((b) => b.repeat(32));
const enrollment: EnrollTicket = {
  purpose: "enroll",
  enrollment: ticket.enrollment,
  email: ticket.email,
  account: ticket.account,
  device: ticket.device,
  expiresMs: ticket.expiresMs,
  threshold: 2,
  operators: operatorKeys,
};

/** A ticket over exactly `payload`, signed with the provider's key: only the payload rules can refuse it. */
const signRaw = (payload: string): SignedTicket => ({
  payload: bytesToHex(utf8ToBytes(payload)),
  signature: bytesToHex(
    ed25519.sign(concatBytes(utf8ToBytes("keyshard-operator-ticket-v1\n"), utf8ToBytes(payload)), keys.secretKey),
  ),
});

const canonical = (t: RecoverTicket) =>
  `{"account":"${t.account}","blinded":"${t.blinded}","device":"${t.device}","email":"${t.email}","enrollment":"${t.enrollment}","expiresMs":${t.expiresMs},"purpose":"${t.purpose}","v":1}`;
const canonicalEnroll = (t: EnrollTicket) =>
  `{"account":"${t.account}","device":"${t.device}","email":"${t.email}","enrollment":"${t.enrollment}","expiresMs":${t.expiresMs},"operators":${JSON.stringify(t.operators)},"purpose":"enroll","threshold":${JSON.stringify(t.threshold)},"v":1}`;

const refused = (signed: unknown, at = now, why?: RegExp) => {
  expect(() => readTicket(signed, keys.publicKey, at)).toThrow(TicketError);
  if (why) expect(() => readTicket(signed, keys.publicKey, at)).toThrow(why);
};

describe("operator tickets", () => {
  it("round-trips, in the canonical encoding", () => {
    const signed = signTicket(keys.secretKey, ticket);
    expect(new TextDecoder().decode(hexToBytes(signed.payload))).toBe(canonical(ticket));
    expect(readTicket(signed, keys.publicKey, now)).toEqual(ticket);
    expect(readTicket(signed, keys.publicKey, now + TICKET_LIFETIME_MS - 1)).toEqual(ticket);
    expect(readTicket(signRaw(canonical(ticket)), keys.publicKey, now)).toEqual(ticket);
    expect(ticketKeyPair(keys.secretKey).publicKey).toEqual(ed25519.getPublicKey(keys.secretKey));
    const enroll = signTicket(keys.secretKey, enrollment);
    expect(new TextDecoder().decode(hexToBytes(enroll.payload))).toBe(canonicalEnroll(enrollment));
    expect(readTicket(enroll, keys.publicKey, now)).toEqual(enrollment);
    // Sixteen operators and the longest email still fit a ticket.
    const largest = {
      ...enrollment,
      email: `${"a".repeat(240)}@example.com`,
      threshold: 16,
      operators: Array.from({ length: 16 }, () => bytesToHex(randomBytes(32))),
    };
    expect(readTicket(signTicket(keys.secretKey, largest), keys.publicKey, now)).toEqual(largest);
  });

  it("reads exactly the fields of the ticket's purpose, and signs nothing beside them", () => {
    // Signing copies only the purpose's fields, whatever else the object carries.
    const carrying = { ...ticket, threshold: 2, operators: operatorKeys } as OperatorTicket;
    expect(readTicket(signTicket(keys.secretKey, carrying), keys.publicKey, now)).toEqual(ticket);
    // A recover ticket without its blinded element, or with an enroll ticket's fields; an enroll
    // ticket without its operators or threshold, or with a blinded element.
    const { blinded, ...noBlinded } = ticket;
    const { operators, threshold, ...bare } = enrollment;
    const fieldsOf = (t: object, v = 1) =>
      JSON.stringify(Object.fromEntries(Object.entries({ ...t, v }).sort(([a], [b]) => (a < b ? -1 : 1))));
    for (const payload of [
      fieldsOf(noBlinded),
      fieldsOf({ ...ticket, threshold }),
      fieldsOf({ ...ticket, operators }),
      fieldsOf({ ...noBlinded, operators, threshold }),
      fieldsOf(bare),
      fieldsOf({ ...bare, threshold }),
      fieldsOf({ ...bare, operators }),
      fieldsOf({ ...enrollment, blinded }),
      fieldsOf({ ...bare, blinded }),
    ])
      refused(signRaw(payload), now, /payload has exactly the fields/);
    // The same fields, canonical, read.
    expect(readTicket(signRaw(fieldsOf(enrollment)), keys.publicKey, now)).toEqual(enrollment);
  });

  it("refuses an enroll ticket's malformed operators or threshold, whether signing or reading", () => {
    const c = canonicalEnroll(enrollment);
    const key = (n: number) => n.toString(16).padStart(64, "0");
    for (const [change, why] of [
      [{ operators: [key(1)] }, /operators are 2 to 16 keys/],
      [{ operators: [], threshold: 2 }, /operators are 2 to 16 keys/],
      [{ operators: Array.from({ length: 17 }, (_, i) => key(i + 1)) }, /operators are 2 to 16 keys/],
      [{ operators: [key(1), key(2).slice(2)] }, /operators are 2 to 16 keys/],
      [{ operators: [key(1), key(0xab).toUpperCase()] }, /operators are 2 to 16 keys/],
      [{ operators: [key(1), 2] }, /operators are 2 to 16 keys/],
      [{ operators: key(1) }, /operators are 2 to 16 keys/],
      [{ operators: [key(1), key(2), key(1)] }, /names an operator twice/],
      [{ threshold: 1 }, /threshold is from 2/],
      [{ threshold: 4 }, /threshold is from 2/],
      [{ threshold: 2.5 }, /threshold is from 2/],
      [{ threshold: "2" }, /threshold is from 2/],
    ] as const) {
      const bad = { ...enrollment, ...change } as unknown as EnrollTicket;
      expect(() => signTicket(keys.secretKey, bad)).toThrow(why);
      refused(signRaw(canonicalEnroll(bad)), now, why);
    }
    refused(signRaw(c.replace('"threshold":2', '"threshold":2.0')), now, /canonical/);
    refused(signRaw(c.replace(`"${operatorKeys[1]}",`, `"${operatorKeys[1]}", `)), now, /canonical/);
  });

  it("refuses a recover ticket's malformed blinded element, whether signing or reading", () => {
    for (const blinded of [
      "ab".repeat(31),
      "ab".repeat(33),
      "AB".repeat(32),
      `${"ab".repeat(31)}zz`,
      "",
      32,
      null,
      Array.from({ length: 32 }, () => 1),
    ]) {
      const bad = { ...ticket, blinded } as unknown as RecoverTicket;
      expect(() => signTicket(keys.secretKey, bad)).toThrow(/blinded element is 32 bytes/);
      refused(signRaw(canonical(bad).replace(`"${blinded}"`, JSON.stringify(blinded))), now, /blinded element/);
    }
  });

  it("refuses an expired ticket, and one that claims to live longer than a ticket lives", () => {
    const signed = signTicket(keys.secretKey, ticket);
    refused(signed, now + TICKET_LIFETIME_MS);
    refused(signed, now + TICKET_LIFETIME_MS + 1);
    refused(signTicket(keys.secretKey, { ...ticket, expiresMs: now + 24 * 3_600_000 }));
  });

  it("refuses another key's ticket and an altered payload or signature", () => {
    const signed = signTicket(keys.secretKey, ticket);
    expect(() => readTicket(signed, ticketKeyPair(randomBytes(32)).publicKey, now)).toThrow(TicketError);
    refused(signTicket(ticketKeyPair(randomBytes(32)).secretKey, ticket));
    const other = signTicket(keys.secretKey, { ...ticket, blinded: bytesToHex(randomBytes(32)) });
    refused({ payload: other.payload, signature: signed.signature });
    const flipped = hexToBytes(signed.signature);
    flipped[5] = (flipped[5] as number) ^ 1;
    refused({ ...signed, signature: bytesToHex(flipped) });
    // The same payload signed without the ticket domain is not a ticket.
    refused({
      ...signed,
      signature: bytesToHex(ed25519.sign(hexToBytes(signed.payload), keys.secretKey)),
    });
  });

  it("refuses a validly signed payload that is not in its canonical encoding", () => {
    const c = canonical(ticket);
    refused(signRaw(c.replace('"account":', '"account": ')));
    refused(signRaw(` ${c}`));
    refused(signRaw(`${c}\n`));
    // Unsorted keys.
    const { account, ...rest } = ticket;
    refused(signRaw(JSON.stringify({ ...rest, v: 1, account })));
    refused(signRaw(c.replace('"v":1}', '"v":1,"extra":true}')), now, /exactly the fields/);
    refused(signRaw(c.replace(',"v":1}', "}")));
    refused(signRaw(c.replace('"v":1', '"v":2')), now, /version/);
    // Equal as JSON, other bytes: an escaped character, an exponent.
    refused(signRaw(c.replace('"amy@', '"\\u0061my@')));
    refused(signRaw(c.replace(`${ticket.expiresMs}`, `${ticket.expiresMs / 1000}e3`)));
    refused(signRaw(c.replace(`"purpose":"recover",`, `"purpose":"recover","purpose":"recover",`)));
  });

  it("refuses bad purposes, ids and emails, whether signing or reading", () => {
    const c = canonical(ticket);
    for (const [field, value] of [
      ["purpose", "evaluate"],
      ["enrollment", "not-a-uuid"],
      ["enrollment", ticket.enrollment.toUpperCase()],
      ["account", "42"],
      ["device", "AB".repeat(16)],
      ["device", "ab".repeat(15)],
      ["email", "Amy@example.com"],
      ["email", "amy"],
      ["email", "amy@example.com\nbcc@evil.example"],
      ["email", "a b@example.com"],
      ["email", `${"a".repeat(250)}@example.com`],
    ] as const) {
      const bad = { ...ticket, [field]: value };
      expect(() => signTicket(keys.secretKey, bad)).toThrow(TicketError);
      refused(signRaw(c.replace(JSON.stringify(ticket[field]), JSON.stringify(value))));
    }
    refused(signRaw(c.replace(`${ticket.expiresMs}`, `"${ticket.expiresMs}"`)));
    refused(signRaw(c.replace(`${ticket.expiresMs}`, `${ticket.expiresMs}.5`)));
  });

  it("refuses malformed wire shapes", () => {
    const signed = signTicket(keys.secretKey, ticket);
    for (const bad of [
      null,
      "ticket",
      [signed.payload, signed.signature],
      { payload: signed.payload },
      { ...signed, extra: 1 },
      { ...signed, payload: signed.payload.toUpperCase() },
      { ...signed, signature: signed.signature.toUpperCase() },
      { ...signed, payload: `${signed.payload}0` },
      { ...signed, payload: "" },
      { ...signed, signature: signed.signature.slice(2) },
      signRaw("[1]"),
      signRaw("null"),
    ])
      refused(bad);
    // An oversized payload is refused before its signature is even checked.
    refused({ ...signed, payload: "ab".repeat(2049) }, now, /at most 2048 bytes/);
    // Not UTF-8.
    const notUtf8 = Uint8Array.of(0xff, 0xfe);
    refused({
      payload: bytesToHex(notUtf8),
      signature: bytesToHex(
        ed25519.sign(concatBytes(utf8ToBytes("keyshard-operator-ticket-v1\n"), notUtf8), keys.secretKey),
      ),
    });
  });

  it("refuses a malleated signature (s + ℓ)", () => {
    const signed = signTicket(keys.secretKey, ticket);
    const sig = hexToBytes(signed.signature);
    const s = bytesToNumberLE(sig.subarray(32));
    const malleated = concatBytes(sig.subarray(0, 32), numberToBytesLE(s + ed25519.Point.Fn.ORDER, 32));
    refused({ ...signed, signature: bytesToHex(malleated) });
  });
});
