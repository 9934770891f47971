/**
 * The recovery operator role through its real HTTP API, three operators in this process on PGlite
 * (one test on PostgreSQL) trusting a ticket key the test holds: registering a share with the
 * provider's ticket and every way a registration is refused, strict bodies, evaluations with
 * proofs that verify and combine, the per-enrollment limit with its mail and records, and that
 * each operator's limit is its own.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  combinePartials,
  dealOprfKey,
  evaluateWithKey,
  type OperatorTicket,
  operatorShareContext,
  publicShare,
  sealToRecoveryKey,
  signTicket,
  TICKET_LIFETIME_MS,
  ticketKeyPair,
  verifyPartial,
} from "@keyshard/recovery";
import { ristretto255, x25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../src/audit/log.js";
import { OperatorConfigError } from "../src/index.js";
import { parseReshareTo, startRecoveryOperator } from "../src/recovery-operator/start.js";
import {
  type Mail,
  mailed,
  mailText,
  type Reply,
  send,
  startRecoveryOperators,
  type TestOperators,
} from "./harness.js";

const DAY = 24 * 3600_000;
const ATTEMPTS = 3;
const provider = ticketKeyPair(randomBytes(32));
const stranger = ticketKeyPair(randomBytes(32));

/** A POST of `body` as JSON (or as the raw text given). */
function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return send(url, "POST", path, new TextEncoder().encode(text), headers);
}

interface Account {
  enrollment: string;
  email: string;
  account: string;
  device: string;
}

const newAccount = (): Account => ({
  enrollment: randomUUID(),
  email: `${randomUUID().slice(0, 8)}@example.com`,
  account: randomUUID(),
  device: bytesToHex(randomBytes(16)),
});

/** What a ticket is for: an enrollment's operator set and threshold, or one blinded input. */
type Purpose = { purpose: "enroll"; threshold: number; operators: string[] } | { purpose: "recover"; blinded: string };

const enrolling = (ops: TestOperators, threshold = 2): Purpose => ({
  purpose: "enroll",
  threshold,
  operators: ops.operators.map((o) => o.key),
});
const recovering = (blinded: Uint8Array): Purpose => ({ purpose: "recover", blinded: bytesToHex(blinded) });

/** Tickets issued in one millisecond would be one ticket: each one here expires strictly later than the last. */
let issued = 0;

function ticket(of: Account, purpose: Purpose, options: { expiresMs?: number; key?: Uint8Array } = {}) {
  return signTicket(options.key ?? provider.secretKey, {
    ...purpose,
    enrollment: of.enrollment,
    email: of.email,
    account: of.account,
    device: of.device,
    expiresMs: options.expiresMs ?? Date.now() + TICKET_LIFETIME_MS / 2 + issued++,
  } as OperatorTicket);
}

/** A device's enrollment: the key dealt 2-of-3, and the body registering each operator's share. */
function deal(of: Account, ops: TestOperators) {
  const sharing = dealOprfKey(2, [1, 2, 3]);
  const body = (index: number, overrides: Record<string, unknown> = {}) => {
    const operator = ops.operators[index - 1];
    const share = sharing.shares[index - 1];
    if (!operator || !share) throw new Error(`no operator ${index}`);
    return {
      ticket: ticket(of, enrolling(ops)),
      index,
      threshold: 2,
      commitments: sharing.commitments.map(bytesToHex),
      sealedShare: bytesToHex(
        sealToRecoveryKey(hexToBytes(operator.key), operatorShareContext(of.enrollment, index), share.share),
      ),
      ...overrides,
    };
  };
  return { sharing, body };
}

/** Registers `of` at every operator; its key sharing. */
async function enroll(of: Account, ops: TestOperators) {
  const dealt = deal(of, ops);
  for (const operator of ops.operators) {
    const reply = await post(operator.url, "/v1/operator/enrollments", dealt.body(operator.index));
    if (reply.status !== 201) throw new Error(`registration at ${operator.index}: ${JSON.stringify(reply.body)}`);
  }
  return dealt.sharing;
}

const randomBlinded = () => ristretto255.Point.BASE.multiply(BigInt(`0x${bytesToHex(randomBytes(31))}`) + 1n).toBytes();

function evaluate(
  ops: TestOperators,
  index: number,
  of: Account,
  blinded: Uint8Array,
  signed = ticket(of, recovering(blinded)),
) {
  const operator = ops.operators[index - 1];
  if (!operator) throw new Error(`no operator ${index}`);
  return post(operator.url, `/v1/operator/enrollments/${of.enrollment}/evaluations`, {
    ticket: signed,
    blinded: bytesToHex(blinded),
  });
}

const partialOf = (reply: Reply) => ({
  index: reply.body.index as number,
  evaluated: hexToBytes(reply.body.evaluated as string),
  proof: hexToBytes(reply.body.proof as string),
});

const mailsTo = (mails: Mail[], email: string) => mails.filter((m) => m.to === email).map(mailText);

describe("recovery operators", () => {
  let ops: TestOperators;
  beforeAll(async () => {
    ops = await startRecoveryOperators({ ticketKey: provider.publicKey, attemptsPerDay: ATTEMPTS });
    // Three databases open at once: slow on a busy machine.
  }, 300_000);
  afterAll(async () => {
    await ops?.close();
  });

  it("describe themselves: name, their own key, the ticket key they trust, their limit", async () => {
    const keys = new Set<string>();
    for (const operator of ops.operators) {
      const reply = await send(operator.url, "GET", "/v1/operator", new Uint8Array(), {});
      expect(reply).toEqual({
        status: 200,
        body: {
          name: `operator ${operator.index}`,
          key: operator.key,
          ticketKey: bytesToHex(provider.publicKey),
          attemptsPerDay: ATTEMPTS,
        },
      });
      keys.add(operator.key);
    }
    expect(keys.size).toBe(3);
    const docs = await send(ops.operators[0]?.url as string, "GET", "/docs/json", new Uint8Array(), {});
    expect(Object.keys(docs.body.paths as object).sort()).toEqual([
      "/v1/operator",
      "/v1/operator/enrollments",
      "/v1/operator/enrollments/{id}/evaluations",
    ]);
    // The provider's routes are not served by an operator.
    expect((await post(ops.operators[0]?.url as string, "/v1/devices", {})).status).toBe(404);
  });

  it("register a share with the provider's enroll ticket, and answer its public share", async () => {
    const of = newAccount();
    const { sharing, body } = deal(of, ops);
    const reply = await post(ops.operators[1]?.url as string, "/v1/operator/enrollments", body(2));
    expect(reply).toEqual({
      status: 201,
      body: { enrollment: of.enrollment, index: 2, publicShare: bytesToHex(publicShare(sharing.commitments, 2)) },
    });
    // Once only.
    const again = await post(ops.operators[1]?.url as string, "/v1/operator/enrollments", body(2));
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("conflict");
  });

  it("refuse a registration whose ticket is expired, for recovery, or not the provider's", async () => {
    const of = newAccount();
    const { body } = deal(of, ops);
    const url = ops.operators[0]?.url as string;
    for (const signed of [
      ticket(of, enrolling(ops), { expiresMs: Date.now() - 1 }),
      ticket(of, recovering(randomBlinded())),
      ticket(of, enrolling(ops), { key: stranger.secretKey }),
    ]) {
      const reply = await post(url, "/v1/operator/enrollments", body(1, { ticket: signed }));
      expect(reply.status).toBe(403);
      expect(reply.body.error).toBe("invalid-ticket");
    }
    // None of them registered anything: the good ticket still does.
    expect((await post(url, "/v1/operator/enrollments", body(1))).status).toBe(201);
  });

  it("refuse a share sealed to another operator or index, a share off its commitments, and a commitment count off the threshold", async () => {
    const of = newAccount();
    const { sharing, body } = deal(of, ops);
    const url = ops.operators[0]?.url as string;
    const share1 = sharing.shares[0]?.share as Uint8Array;
    const sealed = (key: string, index: number, share: Uint8Array) =>
      bytesToHex(sealToRecoveryKey(hexToBytes(key), operatorShareContext(of.enrollment, index), share));
    const other = dealOprfKey(2, [1, 2, 3]);
    const refusals = [
      // Operator 2's box sent to operator 1.
      body(2, { index: 1 }),
      // Operator 1's key, but sealed as the share of index 2.
      body(1, { sealedShare: sealed(ops.operators[0]?.key as string, 2, share1) }),
      // Sealed right, but the share of another sharing.
      body(1, { sealedShare: sealed(ops.operators[0]?.key as string, 1, other.shares[0]?.share as Uint8Array) }),
      // Sealed right, but the commitments of another sharing.
      body(1, { commitments: other.commitments.map(bytesToHex) }),
    ];
    for (const refused of refusals) {
      const reply = await post(url, "/v1/operator/enrollments", refused);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe("invalid-share");
    }
    expect((await post(url, "/v1/operator/enrollments", body(1))).status).toBe(201);
  });

  it("refuse a registration under an index, threshold or commitment count the provider's ticket does not give", async () => {
    const of = newAccount();
    const url = ops.operators[0]?.url as string;
    const keys = ops.operators.map((o) => o.key);
    // A 3-of-3 sharing, well formed and sealed right: only the ticket says the provider set 2-of-3.
    const stricter = dealOprfKey(3, [1, 2, 3]);
    const stricterBody = (signed: ReturnType<typeof ticket>) => ({
      ticket: signed,
      index: 1,
      threshold: 3,
      commitments: stricter.commitments.map(bytesToHex),
      sealedShare: bytesToHex(
        sealToRecoveryKey(
          hexToBytes(keys[0] as string),
          operatorShareContext(of.enrollment, 1),
          stricter.shares[0]?.share as Uint8Array,
        ),
      ),
    });
    const { body } = deal(of, ops);
    const refusals = [
      stricterBody(ticket(of, enrolling(ops))),
      // The ticket's threshold matches the body's, but not the commitments.
      body(1, { ticket: ticket(of, enrolling(ops, 3)), threshold: 3 }),
      // Operator 1's key listed as operator 2: the share is for place 1, which is another operator's.
      body(1, {
        ticket: ticket(of, { purpose: "enroll", threshold: 2, operators: [keys[1], keys[0], keys[2]] as string[] }),
      }),
      body(1, { ticket: ticket(of, { purpose: "enroll", threshold: 2, operators: [keys[1], keys[2]] as string[] }) }),
    ];
    for (const refused of refusals) {
      const reply = await post(url, "/v1/operator/enrollments", refused);
      expect(reply.status).toBe(403);
      expect(reply.body.error).toBe("invalid-ticket");
    }
    expect((await post(url, "/v1/operator/enrollments", body(1))).status).toBe(201);
  });

  it("refuse malformed bodies with a typed 400, never a 500", async () => {
    const of = newAccount();
    const { body } = deal(of, ops);
    const good = body(1);
    const url = ops.operators[0]?.url as string;
    const malformed: unknown[] = [
      "not json",
      "[]",
      "null",
      {},
      { ...good, extra: 1 },
      { ...good, index: 0 },
      { ...good, index: 256 },
      { ...good, index: 1.5 },
      { ...good, index: "1" },
      { ...good, threshold: 1 },
      { ...good, commitments: [] },
      { ...good, commitments: good.commitments.map((c) => c.toUpperCase()) },
      { ...good, commitments: [good.commitments[0], "00"] },
      { ...good, sealedShare: good.sealedShare.slice(2) },
      { ...good, ticket: { ...good.ticket, extra: "" } },
      { ...good, ticket: { payload: good.ticket.payload } },
      { ...good, ticket: { ...good.ticket, signature: good.ticket.signature.slice(2) } },
      { ...good, ticket: { ...good.ticket, payload: "zz" } },
      { ...good, ticket: "ticket" },
    ];
    for (const bad of malformed) {
      const reply = await post(url, "/v1/operator/enrollments", bad);
      expect({ bad, status: reply.status, error: reply.body.error }).toEqual({
        bad,
        status: 400,
        error: "invalid-request",
      });
    }
    // Random bytes in every field of the right form: refused as a 4xx, whatever they decode to.
    for (let i = 0; i < 20; i++) {
      const fuzzed = {
        ...good,
        commitments: [bytesToHex(randomBytes(32)), bytesToHex(randomBytes(32))],
        sealedShare: bytesToHex(randomBytes(81)),
        ...(i % 2 === 0 && {
          ticket: { payload: bytesToHex(randomBytes(40)), signature: bytesToHex(randomBytes(64)) },
        }),
      };
      const reply = await post(url, "/v1/operator/enrollments", fuzzed);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
    }
    const evaluation = await post(url, `/v1/operator/enrollments/${of.enrollment}/evaluations`, {
      ticket: ticket(of, recovering(randomBlinded())),
      blinded: "00",
    });
    expect(evaluation.status).toBe(400);
    expect(evaluation.body.error).toBe("invalid-request");
    const blinded = randomBlinded();
    const notUuid = await post(url, "/v1/operator/enrollments/x/evaluations", {
      ticket: ticket(of, recovering(blinded)),
      blinded: bytesToHex(blinded),
    });
    expect(notUuid.status).toBe(400);
  });

  it("evaluate with a proof that verifies, combine any two to the key's evaluation, and mail every attempt", async () => {
    const of = newAccount();
    const sharing = await enroll(of, ops);
    const blinded = randomBlinded();
    const replies = await Promise.all([1, 2, 3].map((i) => evaluate(ops, i, of, blinded)));
    for (const [i, reply] of replies.entries()) {
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ index: i + 1, attemptsLeft: ATTEMPTS - 1 });
      expect(reply.body.commitments).toEqual(sharing.commitments.map(bytesToHex));
      expect(verifyPartial(sharing.commitments, blinded, partialOf(reply))).toBe(true);
      // Not a proof for another blinded element.
      expect(verifyPartial(sharing.commitments, randomBlinded(), partialOf(reply))).toBe(false);
    }
    const whole = bytesToHex(evaluateWithKey(sharing.key, blinded));
    for (const pair of [
      [0, 1],
      [0, 2],
      [1, 2],
    ])
      expect(
        bytesToHex(
          combinePartials(
            2,
            pair.map((i) => partialOf(replies[i] as Reply)),
          ),
        ),
      ).toBe(whole);
    for (const operator of ops.operators)
      expect(await mailed(ops.mails, of.email, `at recovery operator operator ${operator.index} (attempt 1 of 3`)).toBe(
        true,
      );
  });

  it("refuse an evaluation whose ticket is for another enrollment, for enrolling, or not the provider's; and unknown enrollments", async () => {
    const of = newAccount();
    const other = newAccount();
    await enroll(of, ops);
    await enroll(other, ops);
    const blinded = randomBlinded();
    for (const signed of [
      ticket(other, recovering(blinded)),
      ticket(of, enrolling(ops)),
      ticket(of, recovering(blinded), { key: stranger.secretKey }),
      ticket(of, recovering(blinded), { expiresMs: Date.now() - 1 }),
    ]) {
      const reply = await evaluate(ops, 1, of, blinded, signed);
      expect(reply.status).toBe(403);
      expect(reply.body.error).toBe("invalid-ticket");
    }
    const unknown = newAccount();
    expect((await evaluate(ops, 1, unknown, blinded)).status).toBe(404);
    // An input that is no point is no guess: refused before it is counted.
    const identity = await evaluate(ops, 1, of, ristretto255.Point.ZERO.toBytes());
    expect(identity.status).toBe(400);
    const notPoint = await evaluate(ops, 1, of, new Uint8Array(32).fill(0xff));
    expect(notPoint.status).toBe(400);
    const first = await evaluate(ops, 1, of, blinded);
    expect(first.body.attemptsLeft).toBe(ATTEMPTS - 1);
  });

  it("evaluate under a ticket once per operator, and only the blinded input it names", async () => {
    const of = newAccount();
    await enroll(of, ops);
    const blinded = randomBlinded();
    const signed = ticket(of, recovering(blinded));
    const otherInput = await evaluate(ops, 1, of, randomBlinded(), signed);
    expect(otherInput.status).toBe(403);
    expect(otherInput.body.error).toBe("invalid-ticket");
    // Replayed at once: one evaluation, the others refused and not counted.
    const replays = await Promise.all([1, 2, 3].map(() => evaluate(ops, 1, of, blinded, signed)));
    expect(replays.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    for (const refused of replays.filter((r) => r.status === 409)) expect(refused.body.error).toBe("ticket-used");
    // Each operator counts the guess once: the same ticket is its evaluation at another operator.
    expect((await evaluate(ops, 2, of, blinded, signed)).status).toBe(200);
    expect((await evaluate(ops, 1, of, blinded)).body.attemptsLeft).toBe(ATTEMPTS - 2);
  });

  it("open a stored share only as the enrollment and index it was sealed for", async () => {
    const of = newAccount();
    const other = newAccount();
    await enroll(of, ops);
    await enroll(other, ops);
    const db = ops.operators[0]?.running.context.db;
    if (!db) throw new Error("no operator 1");
    // Someone with write access to the database moves another enrollment's share into this row.
    await db.query(
      "UPDATE operator_enrollments SET sealed_share = (SELECT sealed_share FROM operator_enrollments WHERE id = $2) WHERE id = $1",
      [of.enrollment, other.enrollment],
    );
    expect((await evaluate(ops, 1, of, randomBlinded())).status).toBe(500);
    // Or relabels a share with another index.
    await db.query("UPDATE operator_enrollments SET idx = 2 WHERE id = $1", [other.enrollment]);
    expect((await evaluate(ops, 1, other, randomBlinded())).status).toBe(500);
  });

  it("refuse evaluations over the limit with 429, recorded and mailed; each operator's limit is its own", async () => {
    const of = newAccount();
    await enroll(of, ops);
    const blinded = randomBlinded();
    for (let n = 1; n <= ATTEMPTS; n++) {
      const reply = await evaluate(ops, 1, of, blinded);
      expect(reply.status).toBe(200);
      expect(reply.body.attemptsLeft).toBe(ATTEMPTS - n);
    }
    const refused = await evaluate(ops, 1, of, blinded);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("too-many-attempts");
    expect(await mailed(ops.mails, of.email, "it was refused: the 3 attempts allowed in 24 hours are used")).toBe(true);
    const db = ops.operators[0]?.running.context.db;
    if (!db) throw new Error("no operator 1");
    const rows = await db.query<{ outcome: string; device: string }>(
      "SELECT outcome, device FROM operator_attempts WHERE enrollment_id = $1 ORDER BY at_ms, outcome",
      [of.enrollment],
    );
    expect(rows.map((r) => r.outcome).sort()).toEqual(["evaluated", "evaluated", "evaluated", "refused"]);
    expect(new Set(rows.map((r) => r.device))).toEqual(new Set([of.device]));
    const audit = await readAudit(db, of.account);
    expect(audit.map((e) => e.action)).toEqual([
      "operator.enrolled",
      "operator.evaluated",
      "operator.evaluated",
      "operator.evaluated",
      "operator.evaluation-refused",
    ]);
    // Operator 2 has counted none of operator 1's.
    const elsewhere = await evaluate(ops, 2, of, blinded);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.attemptsLeft).toBe(ATTEMPTS - 1);
    // A day later operator 1 evaluates again.
    ops.advance(DAY);
    const nextDay = await evaluate(
      ops,
      1,
      of,
      blinded,
      ticket(of, recovering(blinded), { expiresMs: ops.now() + 60_000 }),
    );
    expect(nextDay.status).toBe(200);
    // Tickets too old to be accepted again are forgotten: operator 1 remembers only today's.
    expect(await db.query("SELECT used_ms FROM operator_used_tickets")).toHaveLength(1);
    // Every attempt was mailed, the refused one too: three evaluations and a refusal at operator 1,
    // one at operator 2, one the next day.
    const deadline = Date.now() + 20_000;
    while (mailsTo(ops.mails, of.email).length < 6 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(mailsTo(ops.mails, of.email)).toHaveLength(6);
  });
});

describe("the reshare an operator's administrator allows (KEYSHARD_OPERATOR_RESHARE_TO)", () => {
  const key = () => bytesToHex(x25519.getPublicKey(x25519.utils.randomSecretKey()));

  it("reads index:url#key entries", () => {
    const [a, b] = [key(), key()];
    expect(parseReshareTo(`1:https://one.example#${a}, 3:http://127.0.0.1:8093#${b}`)).toEqual([
      { index: 1, url: "https://one.example/", key: hexToBytes(a) },
      { index: 3, url: "http://127.0.0.1:8093/", key: hexToBytes(b) },
    ]);
  });

  it("refuses a setting it could not deal to", () => {
    const [a, b] = [key(), key()];
    for (const setting of [
      `1:https://one.example#${a}`,
      `1:https://one.example#${a},1:https://two.example#${b}`,
      `1:https://one.example#${a},2:https://two.example#${a}`,
      `0:https://one.example#${a},2:https://two.example#${b}`,
      `1:https://one.example#${a},2:https://two.example#${"00".repeat(32)}`,
      `1:https://one.example#${a},2:https://two.example#01${"00".repeat(31)}`,
      `1:https://one.example#${a},2:https://two.example#${b.toUpperCase()}`,
      `1:ftp://one.example#${a},2:https://two.example#${b}`,
      `1:one.example#${a},2:https://two.example#${b}`,
    ])
      expect(() => parseReshareTo(setting), setting).toThrow(OperatorConfigError);
  });

  it("refuses an admin token too short to hold 128 random bits before anything is created, without it in the message", async () => {
    const dataDir = join(tmpdir(), `keyshard-operator-${randomUUID()}`);
    const adminToken = "short-admin-token";
    const started = startRecoveryOperator({ dataDir, ticketKey: provider.publicKey, adminToken });
    await expect(started).rejects.toThrow(OperatorConfigError);
    await expect(started).rejects.toThrow(/^KEYSHARD_OPERATOR_ADMIN_TOKEN must be at least 32 characters/);
    await expect(started).rejects.not.toThrow(adminToken);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("answers the reshare routes without the admin token with a bearer challenge", async () => {
    const adminToken = "operator-admin-token-0123456789abcdef";
    const ops = await startRecoveryOperators({
      ticketKey: provider.publicKey,
      adminToken,
      reshareTo: `1:https://one.example#${key()},2:https://two.example#${key()}`,
      count: 1,
    });
    try {
      const deal = `${ops.operators[0]?.url}/v1/operator/reshare/deal`;
      for (const authorization of [undefined, `Bearer ${adminToken.slice(0, -1)}x`]) {
        const refused = await fetch(deal, {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization && { authorization }) },
          body: "{}",
        });
        expect(refused.status).toBe(401);
        expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="operator-admin"');
        expect(await refused.json()).toMatchObject({ error: "unauthorized" });
      }
    } finally {
      await ops.close();
    }
  });
});

describe("a recovery operator on PostgreSQL", () => {
  let ops: TestOperators;
  beforeAll(async () => {
    ops = await startRecoveryOperators({ ticketKey: provider.publicKey, count: 3, db: "postgres" });
  }, 300_000);
  afterAll(async () => {
    await ops?.close();
  });

  it("registers, evaluates and counts", async () => {
    const of = newAccount();
    const sharing = await enroll(of, ops);
    const blinded = randomBlinded();
    const replies = [await evaluate(ops, 1, of, blinded), await evaluate(ops, 3, of, blinded)];
    expect(replies.map((r) => r.body.attemptsLeft)).toEqual([4, 4]);
    expect(bytesToHex(combinePartials(2, replies.map(partialOf)))).toBe(
      bytesToHex(evaluateWithKey(sharing.key, blinded)),
    );
    expect(ops.operators[0]?.running.context.db.kind).toBe("postgres");
  });

  it("never evaluates more than the limit, however many evaluations arrive at once", async () => {
    const of = newAccount();
    await enroll(of, ops);
    const blinded = randomBlinded();
    const replies = await Promise.all(Array.from({ length: 12 }, () => evaluate(ops, 2, of, blinded)));
    const evaluated = replies.filter((r) => r.status === 200);
    expect(evaluated.map((r) => r.body.attemptsLeft).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(7);
  });
});
