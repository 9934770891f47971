/**
 * The device's side of face recovery, by hand, for the provider's tests, against a provider and
 * real recovery operators in this process: enrolling deals the OPRF key to the operators the
 * provider lists under its enroll ticket and wraps the recovery key with the key's own
 * evaluation; a guess takes the provider's recover ticket to `threshold` operators, checks their
 * proofs against the enrollment's commitments and combines their answers. The face secret is the
 * extractor's output as the device would have it (pictures are tested in the wallet's CLI test).
 */
import { enroll, POPULATION_MEAN } from "@keyshard/biometric";
import {
  blindFaceSecret,
  combinePartials,
  dealOprfKey,
  evaluateWithKey,
  faceWrapKey,
  newRecoveryKey,
  operatorShareContext,
  type PartialEvaluation,
  type RecoveryKeyPair,
  recoveryAuthKey,
  sealToRecoveryKey,
  unwrapRecoveryKey,
  verifyPartial,
  wrapRecoveryKey,
} from "@keyshard/recovery";
import { equalBytes } from "@noble/curves/utils.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { MasterKey, providerTicketKey } from "../src/index.js";
import {
  type DatabaseKind,
  type Reply,
  send,
  startRecoveryOperators,
  startTestProvider,
  type TestDevice,
  type TestOperators,
  type TestProvider,
} from "./harness.js";

/** Helper data from some embedding, and the face secret it yields. */
export function helperAndSecret() {
  const embedding = Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
  return enroll(embedding, POPULATION_MEAN);
}

export interface ProviderWithOperators extends TestProvider {
  operators: TestOperators;
}

/**
 * A test provider listing `count` recovery operators (`recoveryThreshold` of them answer), the
 * operators trusting its ticket key; `advance` moves the provider's clock and theirs together.
 */
export async function startProviderWithOperators(
  kind: DatabaseKind,
  options: Parameters<typeof startTestProvider>[1] & { count?: number; attemptsPerDay?: number } = {},
): Promise<ProviderWithOperators> {
  const { count = 3, attemptsPerDay, ...providerOptions } = options;
  const masterKeyHex = options.masterKeyHex ?? bytesToHex(randomBytes(32));
  const operators = await startRecoveryOperators({
    ticketKey: providerTicketKey(new MasterKey(hexToBytes(masterKeyHex))),
    count,
    ...(attemptsPerDay !== undefined && { attemptsPerDay }),
  });
  const provider = await startTestProvider(kind, {
    ...providerOptions,
    masterKeyHex,
    recoveryOperators: operators.operators.map((o) => ({ url: o.url, key: o.key })),
  });
  return {
    ...provider,
    operators,
    advance(ms) {
      provider.advance(ms);
      operators.advance(ms);
    },
    async stop() {
      await provider.stop();
      await operators.close();
    },
  };
}

/**
 * Operators a provider lists without any running: enough for tests of routes that only sign
 * tickets for them (starting an enrollment), where no device goes on to the operators.
 */
export const LISTED_OPERATORS = [1, 2, 3].map((n) => ({
  url: `http://127.0.0.1:9/operator-${n}`,
  key: n.toString(16).padStart(64, "0"),
}));

const post = (url: string, path: string, body: unknown): Promise<Reply> =>
  send(url, "POST", path, new TextEncoder().encode(JSON.stringify(body)), {});

export interface EnrollmentStart {
  id: string;
  kind: "owner" | "heir";
  heirEmail?: string;
  inactivityDays?: number;
  helper: unknown;
}

/** A dealt enrollment: what the device sends to finish it, and what recovering needs. */
export interface DealtFace {
  id: string;
  secret: Uint8Array;
  recovery: RecoveryKeyPair;
  /** The OPRF public key K. */
  oprfKey: Uint8Array;
  threshold: number;
  /** The body of `PUT /v1/recovery/enrollments/:id`, boxes aside. */
  completion: { wrappedKey: string; recoveryKey: string; authKey: string; oprfKey: string; threshold: number };
}

/**
 * Starts enrollment `start` at the provider; when that succeeds, deals a fresh OPRF key to the
 * operators the provider lists with the ticket it gave, and wraps a new recovery key under the
 * face `secret` bound to the email the provider named. `started` is the provider's reply.
 */
export async function dealFace(
  device: TestDevice,
  start: EnrollmentStart,
  secret: Uint8Array,
): Promise<{ started: Reply; face?: DealtFace }> {
  const started = await device.request("POST", "/v1/recovery/enrollments", start);
  if (started.status !== 201) return { started };
  const listed = await device.request("GET", "/v1/recovery/operators");
  const threshold = listed.body.threshold as number;
  const operators = listed.body.operators as { index: number; url: string; key: string }[];
  const sharing = dealOprfKey(
    threshold,
    operators.map((o) => o.index),
  );
  for (const operator of operators) {
    const share = sharing.shares.find((s) => s.index === operator.index)?.share as Uint8Array;
    const registered = await post(operator.url, "/v1/operator/enrollments", {
      ticket: started.body.ticket,
      index: operator.index,
      threshold,
      commitments: sharing.commitments.map(bytesToHex),
      sealedShare: bytesToHex(
        sealToRecoveryKey(hexToBytes(operator.key), operatorShareContext(start.id, operator.index), share),
      ),
    });
    if (registered.status !== 201)
      throw new Error(`operator ${operator.index} refused the share: ${JSON.stringify(registered.body)}`);
  }
  const blind = blindFaceSecret(start.id, started.body.email as string, secret);
  const recovery = newRecoveryKey();
  const wrapKey = faceWrapKey(blind, evaluateWithKey(sharing.key, blind.blinded));
  return {
    started,
    face: {
      id: start.id,
      secret,
      recovery,
      oprfKey: sharing.publicKey,
      threshold,
      completion: {
        wrappedKey: bytesToHex(wrapRecoveryKey(wrapKey, start.id, recovery, sharing.publicKey)),
        recoveryKey: bytesToHex(recovery.publicKey),
        authKey: bytesToHex(recoveryAuthKey(recovery).publicKey),
        oprfKey: bytesToHex(sharing.publicKey),
        threshold,
      },
    },
  };
}

export interface Guess {
  /** The provider's answer to the ticket request. */
  status: number;
  ticket: Reply;
  /** Hex of the blinded element the ticket was asked for, and the operators were sent. */
  blinded: string;
  /** The recovery key, or null when the face was another. */
  recovery: RecoveryKeyPair | null;
}

/**
 * One guess with face `secret` at enrollment `id`: a ticket from the provider for its blinded
 * element, answers from the first `threshold` operators it lists (each proof checked against commitments whose C_0 is the
 * enrollment's K), combined and unwrapped.
 */
export async function guessFace(device: TestDevice, email: string, id: string, secret: Uint8Array): Promise<Guess> {
  const blind = blindFaceSecret(id, email, secret);
  const blinded = bytesToHex(blind.blinded);
  const ticket = await device.request("POST", `/v1/recovery/enrollments/${id}/tickets`, { blinded });
  if (ticket.status !== 200) return { status: ticket.status, ticket, blinded, recovery: null };
  const oprfKey = hexToBytes(ticket.body.oprfKey as string);
  const threshold = ticket.body.threshold as number;
  const partials: PartialEvaluation[] = [];
  for (const operator of (ticket.body.operators as { index: number; url: string }[]).slice(0, threshold)) {
    const answer = await post(operator.url, `/v1/operator/enrollments/${id}/evaluations`, {
      ticket: ticket.body.ticket,
      blinded,
    });
    if (answer.status !== 200)
      throw new Error(`operator ${operator.index} refused the evaluation: ${JSON.stringify(answer.body)}`);
    const commitments = (answer.body.commitments as string[]).map(hexToBytes);
    if (!equalBytes(commitments[0] as Uint8Array, oprfKey))
      throw new Error(`operator ${operator.index} holds another key for this enrollment`);
    const partial = {
      index: answer.body.index as number,
      evaluated: hexToBytes(answer.body.evaluated as string),
      proof: hexToBytes(answer.body.proof as string),
    };
    if (!verifyPartial(commitments, blind.blinded, partial))
      throw new Error(`operator ${operator.index}'s proof does not verify`);
    partials.push(partial);
  }
  try {
    const recovery = unwrapRecoveryKey(
      faceWrapKey(blind, combinePartials(threshold, partials)),
      id,
      hexToBytes(ticket.body.recoveryKey as string),
      hexToBytes(ticket.body.wrappedKey as string),
      oprfKey,
    );
    return { status: 200, ticket, blinded, recovery };
  } catch {
    return { status: 200, ticket, blinded, recovery: null };
  }
}
