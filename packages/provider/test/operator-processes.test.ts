/**
 * Face recovery with the OPRF key shared 2-of-3 among recovery operators, everything a process: a
 * provider and three operators started as `npm start` starts them, each with its own data folder,
 * master key and mailbox; the device played by hand (`operator-processes.ts`). Checked: every
 * pair of operators recovers while the third is down; one operator's whole data folder and master
 * key, with the provider's rows and the true face secret, open nothing (two operators' do); each
 * operator holds its own guess limit and mails on its own; a wrong partial evaluation is caught
 * and named; a reshare replaces an operator and the old enrollments recover without it.
 */
import { join } from "node:path";
import { scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  checkShare,
  evaluateWithKey,
  faceBoxContext,
  faceWrapKey,
  openRecoveryBox,
  type RecoveryKeyPair,
  unwrapRecoveryKey,
  verifyPartial,
} from "@keyshard/recovery";
import { ristretto255, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, MasterKey, openDatabase, providerTicketKeys, reshareRecoveryOperators } from "../src/index.js";
import { operatorKeys } from "../src/recovery-operator/context.js";
import { sealedShareContext } from "../src/recovery-operator/service.js";
import { findEnrollment } from "../src/store/face-enrollments.js";
import { operatorEnrollment } from "../src/store/operator-enrollments.js";
import { enrollmentBoxes } from "../src/store/recovery-boxes.js";
import { mailed, mailText } from "./harness.js";
import {
  askOperators,
  claimShares,
  type EnrolledFace,
  enrolledAccount,
  faceTicket,
  type ListedOperator,
  type OperatorProcess,
  RecoveryCluster,
  recoverFace,
  type ServerProcess,
  verifiedDevice,
} from "./operator-processes.js";

const Fn = ristretto255.Point.Fn;
const scalarBytes = (n: bigint) => numberToBytesLE(n, 32);
/** Any 32 bytes as a scalar, the way an attacker would try a derived secret as an OPRF key. */
const asScalar = (bytes: Uint8Array) => Fn.create(bytesToNumberLE(bytes));

/** λ_i at 0 for the index set `set`: what operator i's share is weighted by in a combination. */
function lagrange(i: number, set: readonly number[]): bigint {
  return set
    .filter((j) => j !== i)
    .reduce((acc, j) => Fn.mul(acc, Fn.div(BigInt(j), Fn.sub(BigInt(j), BigInt(i)))), 1n);
}

/** What `read` finds in the database of `server`, stopped for it and started again after. */
async function readStopped<T>(server: ServerProcess, read: (db: Database) => Promise<T>): Promise<T> {
  await server.stop();
  try {
    const db = await openDatabase({ pgliteDir: join(server.dataDir, "pglite") });
    try {
      return await read(db);
    } finally {
      await db.close();
    }
  } finally {
    await server.start();
  }
}

/** The share an operator keeps for `enrollment`, read from its data folder as the operator reads it. */
function stolenShare(operator: OperatorProcess, enrollment: string) {
  return readStopped(operator.process, async (db) => {
    const row = await operatorEnrollment(db, enrollment);
    if (row === undefined) throw new Error(`${operator.name} holds no share of ${enrollment}`);
    const share = new MasterKey(hexToBytes(operator.masterKeyHex)).open(
      row.sealedShare,
      sealedShareContext(enrollment, row.index),
    );
    return { index: row.index, commitments: row.commitments, share };
  });
}

/** What the provider keeps of `enrollment`, read from its data folder. */
function providerRows(cluster: RecoveryCluster, enrollment: string) {
  return readStopped(cluster.provider, async (db) => {
    const row = await findEnrollment(db, enrollment);
    if (row === undefined) throw new Error(`the provider holds no enrollment ${enrollment}`);
    const bytes = (column: Uint8Array | null) => new Uint8Array(column as Uint8Array);
    return {
      helper: JSON.parse(row.helper) as unknown,
      wrappedKey: bytes(row.wrapped_key),
      recoveryKey: bytes(row.recovery_key),
      oprfKey: bytes(row.oprf_key),
      boxes: (await enrollmentBoxes(db, enrollment)).map((b) => ({ walletId: b.wallet_id, box: bytes(b.box) })),
    };
  });
}

/** Whether OPRF key `key` (a scalar) opens the enrollment's wrapped recovery key for the true face. */
function opens(
  key: bigint,
  enrolled: EnrolledFace,
  stored: { wrappedKey: Uint8Array; recoveryKey: Uint8Array; oprfKey: Uint8Array },
): RecoveryKeyPair | null {
  const blind = blindFaceSecret(enrolled.id, enrolled.email, enrolled.secret);
  try {
    return unwrapRecoveryKey(
      faceWrapKey(blind, evaluateWithKey(scalarBytes(key), blind.blinded)),
      enrolled.id,
      stored.recoveryKey,
      stored.wrappedKey,
      stored.oprfKey,
    );
  } catch {
    return null;
  }
}

/** Operator `index` as the provider lists it. */
function listed(operators: readonly ListedOperator[], index: number): ListedOperator {
  const operator = operators.find((o) => o.index === index);
  if (operator === undefined) throw new Error(`the provider lists no operator ${index}`);
  return operator;
}

const shareBytes = (enrolled: EnrolledFace) =>
  enrolled.wallets.map((w) => scheme("frost-ed25519").encodeShare(w.share));

describe("face recovery across recovery operator processes (2 of 3)", () => {
  let cluster: RecoveryCluster;
  beforeAll(async () => {
    // Operator 2 is reached through a proxy that can lie for it; operator 3 allows 3 guesses a day.
    cluster = await RecoveryCluster.start([{}, { proxied: true }, { attemptsPerDay: 3 }], 2);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("recovers with every pair of operators while the third is stopped", async () => {
    const email = "pairs@example.com";
    const { enrolled } = await enrolledAccount(cluster, email);
    // The phone is lost: a new device proves the email, then guesses with the face.
    const phone = await verifiedDevice(cluster.provider.url, cluster.providerMails, email, 2);
    for (const down of [1, 2, 3]) {
      const operator = cluster.operator(down);
      await operator.process.stop();
      try {
        const got = await recoverFace(phone, enrolled, enrolled.secret);
        expect(got.answers.find((a) => a.operator.index === down)?.status).toBe(0);
        expect(got.bad).toEqual([]);
        expect(got.used.sort()).toEqual([1, 2, 3].filter((i) => i !== down));
        expect(got.recovery?.secretKey).toEqual(enrolled.recovery.secretKey);
        expect(await claimShares(phone, enrolled.id, got.recovery as RecoveryKeyPair)).toEqual(shareBytes(enrolled));
      } finally {
        await operator.process.start();
      }
    }
  });

  it("gives one operator's data folder and master key, with the provider's rows and the true face, no guess to test", async () => {
    const { enrolled } = await enrolledAccount(cluster, "offline@example.com");
    const [one, two] = [cluster.operator(1), cluster.operator(2)];
    const [stored, first, second] = await Promise.all([
      providerRows(cluster, enrolled.id),
      stolenShare(one, enrolled.id),
      stolenShare(two, enrolled.id),
    ]);
    expect(stored.helper).toMatchObject({ version: 1 });
    // The share read is the operator's real one: it lies on the enrollment's commitments, whose C_0 is K.
    expect(first.index).toBe(1);
    checkShare(first.commitments, 1, first.share);
    expect(first.commitments[0]).toEqual(stored.oprfKey);

    const providerMasterKey = new MasterKey(hexToBytes(cluster.providerMasterKeyHex));
    const operatorMasterKey = new MasterKey(hexToBytes(one.masterKeyHex));
    const k1 = bytesToNumberLE(first.share);
    const candidates: Record<string, bigint> = {
      "the share as the key": k1,
      // Weighted as in a combination with each possible partner (alone, the partner's term is missing).
      "the share weighted for {1,2}": Fn.mul(lagrange(1, [1, 2]), k1),
      "the share weighted for {1,3}": Fn.mul(lagrange(1, [1, 3]), k1),
      // The provider's own secrets: the OPRF key it derived before operators, and its ticket key.
      "the provider's former per-enrollment OPRF key": bytesToNumberLE(
        ristretto255_oprf.oprf.deriveKeyPair(
          providerMasterKey.mac("face-oprf-seed", utf8ToBytes("v1")),
          utf8ToBytes(`keyshard face enrollment ${enrolled.id}`),
        ).secretKey,
      ),
      "the provider's ticket key": asScalar(providerTicketKeys(providerMasterKey).secretKey),
      // The operator's own: its X25519 key, and the same derivation under its master key.
      "the operator's X25519 key": asScalar(operatorKeys(operatorMasterKey).secretKey),
      "the operator's master-key OPRF derivation": asScalar(operatorMasterKey.mac("face-oprf-seed", utf8ToBytes("v1"))),
    };
    for (const [what, key] of Object.entries(candidates)) expect(opens(key, enrolled, stored), what).toBeNull();

    // Two operators' shares together do open it (so this test can tell): and then the boxes open too.
    const k = Fn.add(Fn.mul(lagrange(1, [1, 2]), k1), Fn.mul(lagrange(2, [1, 2]), bytesToNumberLE(second.share)));
    const recovery = opens(k, enrolled, stored);
    expect(recovery?.secretKey).toEqual(enrolled.recovery.secretKey);
    const opened = stored.boxes.map((b) =>
      openRecoveryBox(recovery as RecoveryKeyPair, faceBoxContext(b.walletId), b.box),
    );
    expect(opened).toEqual(shareBytes(enrolled));
  });

  it("holds each operator's guess limit on its own, and each operator mails the account itself", async () => {
    const email = "limits@example.com";
    const { device, enrolled } = await enrolledAccount(cluster, email);
    // One ticket is one guess, one evaluation at each operator.
    const guess = async () => {
      const blinded = blindFaceSecret(enrolled.id, email, Uint8Array.of(1, 2, 3)).blinded;
      return { blinded, ...(await faceTicket(device, enrolled.id, blinded)) };
    };
    // Operator 3 allows three guesses in 24 hours, whoever else still answers.
    for (const left of [2, 1, 0]) {
      const { blinded, ticket, operators } = await guess();
      const [answer] = await askOperators([listed(operators, 3)], enrolled.id, ticket, blinded);
      expect(answer?.status).toBe(200);
      expect(answer?.body.attemptsLeft).toBe(left);
    }
    const { blinded, ticket, operators } = await guess();
    const [refused] = await askOperators([listed(operators, 3)], enrolled.id, ticket, blinded);
    expect(refused?.status).toBe(429);
    expect(refused?.body.error).toBe("too-many-attempts");
    const others = await askOperators([listed(operators, 1), listed(operators, 2)], enrolled.id, ticket, blinded);
    expect(others.map((a) => a.status)).toEqual([200, 200]);
    // With operator 3 refusing, operators 1 and 2 still recover the right face.
    const got = await recoverFace(device, enrolled, enrolled.secret);
    expect(got.answers.find((a) => a.operator.index === 3)?.status).toBe(429);
    expect(got.recovery?.secretKey).toEqual(enrolled.recovery.secretKey);

    for (const index of [1, 2, 3])
      expect(
        await mailed(cluster.operator(index).mails, email, `at recovery operator operator ${index} (attempt 1 of`),
      ).toBe(true);
    expect(
      await mailed(cluster.operator(3).mails, email, "asked recovery operator operator 3 for a face recovery attempt"),
    ).toBe(true);
    // Nothing of it reached another operator's mailbox.
    expect(cluster.operator(1).mails.some((m) => mailText(m).includes("operator 3"))).toBe(false);
  });

  it("catches a wrong partial evaluation, names its operator, and recovers with the other two", async () => {
    const { device, enrolled } = await enrolledAccount(cluster, "liar@example.com");
    const proxy = cluster.proxies.get(2);
    if (proxy === undefined) throw new Error("operator 2 has no proxy");
    for (const lie of ["evaluation", "key", "polynomial"] as const) {
      proxy.lie = lie;
      const got = await recoverFace(device, enrolled, enrolled.secret).finally(() => {
        proxy.lie = null;
      });
      const answer = got.answers.find((a) => a.operator.index === 2);
      if (answer === undefined) throw new Error("operator 2 was not asked");
      expect(answer.status).toBe(200);
      const commitments = (answer.body.commitments as string[]).map(hexToBytes);
      const partial = {
        index: 2,
        evaluated: hexToBytes(answer.body.evaluated as string),
        proof: hexToBytes(answer.body.proof as string),
      };
      // A lie under commitments of its own proves itself against them, and they are not the others'.
      expect(verifyPartial(commitments, got.blinded, partial)).toBe(lie !== "evaluation");
      if (lie === "key") expect(commitments[0]).not.toEqual(enrolled.oprfKey);
      if (lie === "polynomial") expect(commitments[0]).toEqual(enrolled.oprfKey);
      expect(got.bad, lie).toEqual([2]);
      expect(got.used, lie).toEqual([1, 3]);
      expect(got.recovery?.secretKey, lie).toEqual(enrolled.recovery.secretKey);
    }
  });

  it("replaces an operator by a reshare; the old enrollments recover with the newcomer and without the operator it replaced", async () => {
    const { device, enrolled } = await enrolledAccount(cluster, "reshare@example.com");
    const [one, two, three] = [cluster.operator(1), cluster.operator(2), cluster.operator(3)];
    // A new operator takes place 3. Every operator's administrator names the new set, 1, 2 and
    // the newcomer, and restarts it; operators 1 and 2 deal their shares to that set.
    const newcomer = await cluster.newOperator(3, "operator 4");
    const newSet = [one, two, newcomer].map((o) => `${o.index}:${o.process.url}#${o.key}`).join(",");
    await Promise.all([
      ...[one, two, three].map(async (o) => {
        await o.process.stop();
        await o.process.start({ KEYSHARD_OPERATOR_RESHARE_TO: newSet });
      }),
      newcomer.process.start({ KEYSHARD_OPERATOR_RESHARE_TO: newSet }),
    ]);
    const admin = (o: OperatorProcess) => ({ url: o.process.url, adminToken: cluster.adminToken });
    const outcome = await reshareRecoveryOperators({
      helpers: [one, two].map((o) => ({ ...admin(o), index: o.index })),
      recipients: [one, two, newcomer].map((o) => ({ ...admin(o), index: o.index, key: o.key })),
      threshold: 2,
      retire: [admin(three)],
    });
    const held = outcome.accepted[newcomer.process.url];
    expect(held).toBeGreaterThanOrEqual(1);
    expect(outcome.accepted[one.process.url]).toBe(held);
    // The replaced operator deleted its shares; it goes for good, and the provider lists the newcomer in its place.
    expect(outcome.retired[three.process.url]).toBe(held);
    expect(outcome.notRetired).toEqual([]);
    await three.process.stop();
    await cluster.provider.stop();
    await cluster.provider.start({ KEYSHARD_RECOVERY_OPERATORS: cluster.operatorSetting([one, two, newcomer]) });

    for (const pair of [
      [1, 3],
      [2, 3],
    ]) {
      const got = await recoverFace(device, enrolled, enrolled.secret, pair);
      expect(got.ticket.operators.find((o) => o.index === 3)?.key).toBe(newcomer.key);
      expect(got.bad).toEqual([]);
      expect(got.used).toEqual(pair);
      expect(got.recovery?.secretKey, `operators ${pair}`).toEqual(enrolled.recovery.secretKey);
    }
  });
});
