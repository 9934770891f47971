/**
 * Replacing a recovery operator by a reshare, through the operators' real admin routes: three
 * operators hold 2-of-3 shares of a few enrollments; operators 1 and 2 deal their shares afresh to
 * {1, 2, new operator}, every enrollment's key stays the same, and the replaced operator deletes
 * its shares. Every operator is configured (KEYSHARD_OPERATOR_RESHARE_TO) with that new set and
 * deals, accepts or retires only as it says, whoever holds its admin token.
 *
 * The new operator takes index 3, the retired operator's place: the provider's
 * KEYSHARD_RECOVERY_OPERATORS numbers operators by their position in the list, so replacing the
 * third entry's url and key is the whole change at the provider, and devices keep the
 * enrollments' commitments (C_0 = K never changes; the other commitments do, and the operators
 * hand out the new ones with every evaluation).
 */
import { randomUUID } from "node:crypto";
import {
  combinePartials,
  dealOprfKey,
  evaluateWithKey,
  type OprfKeySharing,
  operatorShareContext,
  type PartialEvaluation,
  reshareContext,
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
import { ReshareError, reshareRecoveryOperators } from "../src/index.js";
import { operatorKeys } from "../src/recovery-operator/context.js";
import { MasterKey } from "../src/store/master-key.js";
import { type Reply, send, startRecoveryOperators, type TestOperator, type TestOperators } from "./harness.js";

const ADMIN = "operator-admin-token-0123456789abcdef";
const provider = ticketKeyPair(randomBytes(32));

function post(url: string, path: string, body: unknown, token?: string): Promise<Reply> {
  return send(url, "POST", path, new TextEncoder().encode(JSON.stringify(body)), {
    ...(token !== undefined && { authorization: `Bearer ${token}` }),
  });
}

interface Enrolled {
  enrollment: string;
  email: string;
  account: string;
  sharing: OprfKeySharing & { key: Uint8Array };
}

/** Four operators' master keys, so that their X25519 keys are known before any starts. */
const masterKeys = Array.from({ length: 4 }, () => bytesToHex(randomBytes(32)));
const keyOf = (masterKey: string) => bytesToHex(operatorKeys(new MasterKey(hexToBytes(masterKey))).publicKey);
const [key1, key2, key3, key4] = masterKeys.map(keyOf) as [string, string, string, string];
/** The new set every operator's administrator configured: 1 and 2 stay, the fourth takes place 3. */
const RESHARE_TO = `1:https://operator-1.example/#${key1},2:https://operator-2.example/#${key2},3:https://operator-4.example/#${key4}`;
type Recipient = { index: number; key: string };
const newSet: Recipient[] = [
  { index: 1, key: key1 },
  { index: 2, key: key2 },
  { index: 3, key: key4 },
];

function ticket(
  of: Omit<Enrolled, "sharing">,
  purpose: { purpose: "enroll"; threshold: number; operators: string[] } | { purpose: "recover"; blinded: string },
) {
  return signTicket(provider.secretKey, {
    ...purpose,
    enrollment: of.enrollment,
    email: of.email,
    account: of.account,
    device: bytesToHex(randomBytes(16)),
    expiresMs: Date.now() + TICKET_LIFETIME_MS,
  });
}

async function enroll(operators: readonly TestOperator[]): Promise<Enrolled> {
  const of = { enrollment: randomUUID(), email: `${randomUUID().slice(0, 8)}@example.com`, account: randomUUID() };
  const sharing = dealOprfKey(
    2,
    operators.map((o) => o.index),
  );
  for (const [i, operator] of operators.entries()) {
    const share = sharing.shares[i]?.share as Uint8Array;
    const reply = await post(operator.url, "/v1/operator/enrollments", {
      ticket: ticket(of, { purpose: "enroll", threshold: 2, operators: operators.map((o) => o.key) }),
      index: operator.index,
      threshold: 2,
      commitments: sharing.commitments.map(bytesToHex),
      sealedShare: bytesToHex(
        sealToRecoveryKey(hexToBytes(operator.key), operatorShareContext(of.enrollment, operator.index), share),
      ),
    });
    if (reply.status !== 201) throw new Error(JSON.stringify(reply.body));
  }
  return { ...of, sharing };
}

const randomBlinded = () => ristretto255.Point.BASE.multiply(BigInt(`0x${bytesToHex(randomBytes(31))}`) + 1n).toBytes();

/** The operator's verified partial evaluation of `blinded` under the commitments it answers with. */
async function partial(operator: TestOperator, of: Enrolled, blinded: Uint8Array): Promise<PartialEvaluation> {
  const reply = await post(operator.url, `/v1/operator/enrollments/${of.enrollment}/evaluations`, {
    ticket: ticket(of, { purpose: "recover", blinded: bytesToHex(blinded) }),
    blinded: bytesToHex(blinded),
  });
  if (reply.status !== 200) throw new Error(JSON.stringify(reply.body));
  const answer = {
    index: reply.body.index as number,
    evaluated: hexToBytes(reply.body.evaluated as string),
    proof: hexToBytes(reply.body.proof as string),
  };
  const commitments = (reply.body.commitments as string[]).map(hexToBytes);
  // The key's public half never changes; a device checks it against the one it enrolled.
  expect(bytesToHex(commitments[0] as Uint8Array)).toBe(bytesToHex(of.sharing.publicKey));
  expect(verifyPartial(commitments, blinded, answer)).toBe(true);
  return answer;
}

const combined = (parts: PartialEvaluation[]) => bytesToHex(combinePartials(2, parts));

describe("replacing a recovery operator by a reshare", () => {
  let ops: TestOperators;
  /** The replacement, on a database of its own. */
  let fresh: TestOperators;
  let enrolled: Enrolled[];
  const operator = (index: number) => ops.operators[index - 1] as TestOperator;
  const admin = (o: { url: string }) => ({ url: o.url, adminToken: ADMIN });

  beforeAll(async () => {
    const settings = { ticketKey: provider.publicKey, adminToken: ADMIN, reshareTo: RESHARE_TO };
    [ops, fresh] = await Promise.all([
      startRecoveryOperators({ ...settings, masterKeys: masterKeys.slice(0, 3) }),
      startRecoveryOperators({ ...settings, masterKeys: masterKeys.slice(3), count: 1 }),
    ]);
    expect([...ops.operators, ...fresh.operators].map((o) => o.key)).toEqual([key1, key2, key3, key4]);
    enrolled = [];
    for (let i = 0; i < 3; i++) enrolled.push(await enroll(ops.operators));
    // Four databases open at once: slow on a busy machine.
  }, 300_000);
  afterAll(async () => {
    await ops?.close();
    await fresh?.close();
  });

  it("serves the reshare routes only with the admin token, and not at all without a token and a reshare configured", async () => {
    const body = { helpers: [1, 2], threshold: 2, recipients: [] };
    for (const token of [undefined, "", "wrong-token-0123456789abcdef0123456789", ADMIN.toUpperCase()]) {
      const reply = await post(operator(1).url, "/v1/operator/reshare/deal", body, token);
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe("unauthorized");
    }
    // With the token, the body is read (and this one refused).
    expect((await post(operator(1).url, "/v1/operator/reshare/deal", body, ADMIN)).status).toBe(400);
    const [noToken, noReshare] = await Promise.all([
      startRecoveryOperators({ ticketKey: provider.publicKey, reshareTo: RESHARE_TO, count: 1 }),
      startRecoveryOperators({ ticketKey: provider.publicKey, adminToken: ADMIN, count: 1 }),
    ]);
    try {
      for (const without of [noToken, noReshare])
        for (const path of [
          "/v1/operator/reshare/deal",
          "/v1/operator/reshare/accept",
          "/v1/operator/reshare/retire",
        ]) {
          const reply = await post(without.operators[0]?.url as string, path, body, ADMIN);
          expect(reply.status).toBe(404);
        }
    } finally {
      await Promise.all([noToken.close(), noReshare.close()]);
    }
  });

  it("deals only to the set its administrator configured, and refuses keys no box can be sealed to", async () => {
    const deal = (recipients: { index: number; key: string }[]) =>
      post(operator(1).url, "/v1/operator/reshare/deal", { helpers: [1, 2], threshold: 2, recipients }, ADMIN);
    const attacker = bytesToHex(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    for (const recipients of [
      // The admin token's holder swaps in a key of its own, or the retired operator's.
      newSet.map((r) => (r.index === 3 ? { ...r, key: attacker } : r)),
      newSet.map((r) => (r.index === 3 ? { ...r, key: key3 } : r)),
      // The configured keys under other indices, or only some of them.
      newSet.map((r) => ({ ...r, index: 4 - r.index })),
      newSet.slice(0, 2),
      [...newSet, { index: 4, key: attacker }],
    ]) {
      const reply = await deal(recipients);
      expect({ recipients, status: reply.status, error: reply.body.error }).toEqual({
        recipients,
        status: 403,
        error: "forbidden",
      });
    }
    const lowOrder = "0100000000000000000000000000000000000000000000000000000000000000";
    for (const bad of ["00".repeat(32), lowOrder, "ab".repeat(31)]) {
      const reply = await deal(newSet.map((r) => (r.index === 3 ? { ...r, key: bad } : r)));
      expect({ bad, status: reply.status, error: reply.body.error }).toEqual({
        bad,
        status: 400,
        error: "invalid-request",
      });
    }
    // None of these dealt: the audit logs no dealing.
    const audit = await readAudit(operator(1).running.context.db, (enrolled[0] as Enrolled).account);
    expect(audit.map((e) => e.action)).not.toContain("operator.reshare-dealt");
  });

  it("names a helper that deals garbage and installs nothing", async () => {
    const recipients = [operator(1), operator(2), fresh.operators[0] as TestOperator].map((o, i) => ({
      index: i + 1,
      key: o.key,
    }));
    const deal = async (o: TestOperator) => {
      const reply = await post(
        o.url,
        "/v1/operator/reshare/deal",
        { helpers: [1, 2], threshold: 2, recipients },
        ADMIN,
      );
      expect(reply.status).toBe(200);
      expect(reply.body.index).toBe(o.index);
      return { from: o.index, enrollments: reply.body.dealings as Record<string, unknown>[] };
    };
    const honest = await deal(operator(1));
    const dealt = await deal(operator(2));
    // Operator 2's subshares for the new operator replaced by well-formed boxes of random scalars.
    const garbage = {
      ...dealt,
      enrollments: dealt.enrollments.map((e) => ({
        ...e,
        boxes: (e.boxes as { index: number; box: string }[]).map((b) => ({
          index: b.index,
          box: bytesToHex(
            sealToRecoveryKey(
              hexToBytes(recipients[b.index - 1]?.key as string),
              reshareContext(e.enrollment as string, 2, b.index),
              hexToBytes(bytesToHex(randomBytes(31)).padEnd(64, "0")),
            ),
          ),
        })),
      })),
    };
    const target = fresh.operators[0] as TestOperator;
    const refused = await post(
      target.url,
      "/v1/operator/reshare/accept",
      { index: 3, helpers: [1, 2], threshold: 2, dealings: [honest, garbage] },
      ADMIN,
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("bad-dealing");
    expect(refused.body.message).toMatch(/^the dealing of operator 2 is refused/);
    // Old commitments that are not the enrollment's: the helpers disagree, and nothing is installed.
    const forged = {
      ...honest,
      enrollments: honest.enrollments.map((e) => ({
        ...e,
        oldCommitments: dealOprfKey(2, [1, 2, 3]).commitments.map(bytesToHex),
      })),
    };
    const disagreeing = await post(
      target.url,
      "/v1/operator/reshare/accept",
      { index: 3, helpers: [1, 2], threshold: 2, dealings: [forged, dealt] },
      ADMIN,
    );
    expect(disagreeing.status).toBe(400);
    expect(disagreeing.body).toMatchObject({
      error: "bad-dealing",
      message: expect.stringMatching(/^the helpers disagree/),
    });
    // A dealing said to come from operator 3, not a helper, next to the helpers' own or instead of one.
    const extra = await post(
      target.url,
      "/v1/operator/reshare/accept",
      { index: 3, helpers: [1, 2], threshold: 2, dealings: [honest, dealt, { ...dealt, from: 3 }] },
      ADMIN,
    );
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({
      error: "invalid-request",
      message: expect.stringMatching(/none from anyone else/),
    });
    const instead = await post(
      target.url,
      "/v1/operator/reshare/accept",
      { index: 3, helpers: [1, 2], threshold: 2, dealings: [honest, { ...dealt, from: 3 }] },
      ADMIN,
    );
    expect(instead.status).toBe(400);
    expect(instead.body).toMatchObject({
      error: "invalid-request",
      message: expect.stringMatching(/none from anyone else/),
    });
    const rows = await target.running.context.db.query("SELECT id FROM operator_enrollments");
    expect(rows).toEqual([]);
    // The orchestration stops at the first refusal and says who refused.
    await expect(
      reshareRecoveryOperators({
        helpers: [{ ...admin(operator(1)), index: 1 }],
        recipients: [operator(1), operator(2), target].map((o, i) => ({ ...admin(o), ...(newSet[i] as Recipient) })),
        threshold: 2,
        retire: [admin(operator(3))],
      }),
    ).rejects.toThrow(ReshareError);
    // Nothing was retired: operator 3 still holds its shares.
    expect(await operator(3).running.context.db.query("SELECT id FROM operator_enrollments")).toHaveLength(
      enrolled.length,
    );
    // Nothing moved at the old operators either: the old sharing still combines.
    const blinded = randomBlinded();
    const of = enrolled[0] as Enrolled;
    expect(combined([await partial(operator(1), of, blinded), await partial(operator(3), of, blinded)])).toBe(
      bytesToHex(evaluateWithKey(of.sharing.key, blinded)),
    );
  });

  it("moves every enrollment to {1, 2, new 3}: the same keys, logged, and the replaced operator holds no share after", async () => {
    const blinded = randomBlinded();
    const replacement = fresh.operators[0] as TestOperator;
    const unreachable = "http://127.0.0.1:9";
    const outcome = await reshareRecoveryOperators({
      helpers: [1, 2].map((index) => ({ ...admin(operator(index)), index })),
      recipients: [operator(1), operator(2), replacement].map((o, i) => ({ ...admin(o), ...(newSet[i] as Recipient) })),
      threshold: 2,
      retire: [admin(operator(3)), admin({ url: unreachable })],
    });
    expect(outcome.accepted).toEqual({ [operator(1).url]: 3, [operator(2).url]: 3, [replacement.url]: 3 });
    expect(outcome.retired).toEqual({ [operator(3).url]: 3 });
    expect(outcome.notRetired.map((n) => n.url)).toEqual([unreachable]);
    for (const of of enrolled) {
      const whole = bytesToHex(evaluateWithKey(of.sharing.key, blinded));
      const [one, two, three] = await Promise.all(
        [operator(1), operator(2), replacement].map((o) => partial(o, of, blinded)),
      );
      expect(combined([one, three] as PartialEvaluation[])).toBe(whole);
      expect(combined([two, three] as PartialEvaluation[])).toBe(whole);
      expect(combined([one, two] as PartialEvaluation[])).toBe(whole);
      // The replaced operator has no share left to answer with.
      const retired = await post(operator(3).url, `/v1/operator/enrollments/${of.enrollment}/evaluations`, {
        ticket: ticket(of, { purpose: "recover", blinded: bytesToHex(blinded) }),
        blinded: bytesToHex(blinded),
      });
      expect(retired.status).toBe(404);
      expect((await readAudit(operator(1).running.context.db, of.account)).map((e) => e.action)).toEqual(
        expect.arrayContaining(["operator.reshare-dealt", "operator.reshared"]),
      );
      expect((await readAudit(operator(3).running.context.db, of.account)).map((e) => e.action)).toContain(
        "operator.retired",
      );
    }
  });

  it("refuses to move some of an operator's enrollments, to accept outside its configured place, or to retire while in the new set", async () => {
    const replacement = fresh.operators[0] as TestOperator;
    const dealings = await Promise.all(
      [operator(1), operator(2)].map(async (o) => {
        const reply = await post(
          o.url,
          "/v1/operator/reshare/deal",
          { helpers: [1, 2], threshold: 2, recipients: newSet },
          ADMIN,
        );
        expect(reply.status).toBe(200);
        return { from: o.index, enrollments: reply.body.dealings as { enrollment: string }[] };
      }),
    );
    const accept = (o: TestOperator, index: number, d: typeof dealings) =>
      post(o.url, "/v1/operator/reshare/accept", { index, helpers: [1, 2], threshold: 2, dealings: d }, ADMIN);
    const some = await accept(
      operator(1),
      1,
      dealings.map((d) => ({ ...d, enrollments: d.enrollments.slice(1) })),
    );
    expect(some.status).toBe(409);
    expect(some.body.message).toMatch(/is held here but not in the dealings/);
    // The replaced operator is not in the new set, and operator 1 is not operator 2 there.
    for (const [o, index] of [
      [operator(3), 3],
      [operator(1), 2],
    ] as const) {
      const refused = await accept(o, index, dealings);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe("forbidden");
    }
    expect(await operator(3).running.context.db.query("SELECT id FROM operator_enrollments")).toEqual([]);
    // An operator of the new set keeps its shares.
    for (const o of [operator(1), replacement]) {
      const retire = await post(o.url, "/v1/operator/reshare/retire", {}, ADMIN);
      expect(retire.status).toBe(409);
    }
    // Nothing was installed or deleted: operator 1's share still combines with the replacement's.
    const blinded = randomBlinded();
    const of = enrolled[1] as Enrolled;
    expect(combined([await partial(operator(1), of, blinded), await partial(replacement, of, blinded)])).toBe(
      bytesToHex(evaluateWithKey(of.sharing.key, blinded)),
    );
  });
});
