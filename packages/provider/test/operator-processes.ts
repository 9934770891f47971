/**
 * Face recovery across recovery operators that run as processes: a provider and its operators
 * started as `npm start` starts them (`KEYSHARD_ROLE=recovery-operator` for an operator), each with
 * its own data folder (PGlite), master key and mailbox, stopped and started again on the same
 * port and folder; an HTTP proxy that can corrupt one operator's answers; and the device's side of
 * enrollment and recovery, played by hand with `@keyshard/recovery`'s functions.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { enroll as enrollEmbedding, POPULATION_MEAN } from "@keyshard/biometric";
import { scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  combinePartials,
  dealOprfKey,
  evaluatePartial,
  evaluateWithKey,
  faceBoxContext,
  faceWrapKey,
  newRecoveryKey,
  openRecoveryBox,
  operatorShareContext,
  type PartialEvaluation,
  publicShare,
  type RecoveryKeyPair,
  recoveryAuthKey,
  type SignedTicket,
  sealToRecoveryKey,
  signRecoveryClaim,
  unwrapRecoveryKey,
  verifyPartial,
  wrapRecoveryKey,
} from "@keyshard/recovery";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, equalBytes, numberToBytesLE } from "@noble/curves/utils.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { MasterKey, providerTicketKey } from "../src/index.js";
import { operatorKeys } from "../src/recovery-operator/context.js";
import {
  createWallet,
  type Mail,
  mailedCode,
  type ProviderProcess,
  spawnProvider,
  startMailbox,
  TestDevice,
  type TestWallet,
} from "./harness.js";

// ── processes ──────────────────────────────────────────────────────────────────────────────────

/** Ports handed out here: the system may offer a port again once its first taker has closed it. */
const givenPorts = new Set<number>();

/** A port nobody listens on now and no other process here was given, to start a process on again and again. */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const { port } = server.address() as AddressInfo;
    await new Promise((closed) => server.close(closed));
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

const PGLITE_CREATE = fileURLToPath(new URL("../src/store/pglite-create.mjs", import.meta.url));

/**
 * A server process (provider or operator) with a data folder and a port of its own that outlive
 * it: `start` after `stop` brings it back where it was, with what it kept.
 */
export class ServerProcess {
  readonly url: string;
  #running: ProviderProcess | undefined;

  constructor(
    readonly dataDir: string,
    readonly port: number,
    /** Its environment on every start; `start` may change some of it for good. */
    readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(changes: Record<string, string> = {}): Promise<void> {
    if (this.#running) throw new Error(`${this.url} runs already`);
    Object.assign(this.env, changes);
    const started = await spawnProvider({ ...this.env, KEYSHARD_DATA_DIR: this.dataDir, PORT: String(this.port) });
    if (started.url !== this.url) {
      await started.stop();
      throw new Error(`started on ${started.url}, not ${this.url}`);
    }
    this.#running = started;
  }

  /** SIGTERM and wait for the exit; the data folder stays. */
  async stop(): Promise<void> {
    await this.#running?.stop();
    this.#running = undefined;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A recovery operator process and what the test knows of it: its master key, its mailbox. */
export interface OperatorProcess {
  /** Its place in the provider's list, from 1. */
  index: number;
  name: string;
  process: ServerProcess;
  /** Where devices reach it: its own address, or a proxy's in front of it. */
  url: string;
  /** Its X25519 public key, hex: what the provider lists with its url. */
  key: string;
  masterKeyHex: string;
  mails: Mail[];
}

export interface OperatorOptions {
  /** KEYSHARD_FACE_ATTEMPTS_PER_DAY (the operator's default otherwise). */
  attemptsPerDay?: number;
  /** Put a `CorruptingProxy` in front of it, and list the proxy's address. */
  proxied?: boolean;
}

/**
 * The provider, its operators, and everything the test needs to stop them. The provider is a
 * process too unless `start` is told otherwise: then the caller starts one in its own process with
 * `providerMasterKeyHex` (the key the operators' ticket key comes from) and `operators`.
 */
export class RecoveryCluster {
  readonly operators: OperatorProcess[] = [];
  readonly proxies = new Map<number, CorruptingProxy>();
  readonly providerMasterKeyHex = bytesToHex(randomBytes(32));
  /** The bearer token every operator's reshare routes answer to. */
  readonly adminToken = bytesToHex(randomBytes(24));
  readonly #processes: ServerProcess[] = [];
  /** Mailboxes and proxies, closed once the processes are gone. */
  readonly #closers: (() => Promise<void>)[] = [];
  #provider: ServerProcess | undefined;
  #providerMails: Mail[] = [];

  private constructor(readonly template: string) {}

  get provider(): ServerProcess {
    if (this.#provider === undefined) throw new Error("this cluster's provider is not a process");
    return this.#provider;
  }

  /** What the provider process mailed. */
  get providerMails(): Mail[] {
    return this.#providerMails;
  }

  /**
   * `operators.length` operators and, unless `providerProcess` is false, a provider whose
   * recovery threshold is `threshold`, all started at once: the operators' keys come from their
   * master keys, so the provider's list is known before any of them listens (each device still
   * checks every key against the operator's own answer).
   */
  static async start(
    operators: readonly OperatorOptions[],
    threshold: number,
    { providerProcess = true } = {},
  ): Promise<RecoveryCluster> {
    const cluster = new RecoveryCluster(await pgliteTemplate());
    try {
      for (const [i, options] of operators.entries())
        cluster.operators.push(await cluster.#prepareOperator(i + 1, `operator ${i + 1}`, options));
      if (providerProcess) await cluster.#prepareProvider(threshold);
      await Promise.all([cluster.#provider?.start(), ...cluster.operators.map((o) => o.process.start())]);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  async #prepareProvider(threshold: number): Promise<void> {
    const mailbox = await startMailbox();
    const provider = new ServerProcess(newDataDir(this.template), await freePort(), {
      KEYSHARD_MASTER_KEY: this.providerMasterKeyHex,
      KEYSHARD_SMTP_URL: mailbox.url,
      // Enrollments take effect at once: their wait is tested in the provider's own tests.
      KEYSHARD_TRIAL: "1",
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_RECOVERY_OPERATORS: this.operatorSetting(),
      KEYSHARD_RECOVERY_THRESHOLD: String(threshold),
    });
    this.#processes.push(provider);
    this.#closers.push(mailbox.close);
    this.#provider = provider;
    this.#providerMails = mailbox.mails;
  }

  /** The provider's setting listing the operators in order of their index. */
  operatorSetting(operators: readonly OperatorProcess[] = this.operators): string {
    return [...operators]
      .sort((a, b) => a.index - b.index)
      .map((o) => `${o.url}#${o.key}`)
      .join(",");
  }

  operator(index: number): OperatorProcess {
    const found = this.operators.find((o) => o.index === index);
    if (found === undefined) throw new Error(`no operator ${index}`);
    return found;
  }

  /** Another operator, not started yet, that the provider does not list (yet), to take place `index`. */
  newOperator(index: number, name: string, options: OperatorOptions = {}): Promise<OperatorProcess> {
    return this.#prepareOperator(index, name, options);
  }

  async #prepareOperator(index: number, name: string, options: OperatorOptions): Promise<OperatorProcess> {
    const masterKeyHex = bytesToHex(randomBytes(32));
    const mailbox = await startMailbox();
    const server = new ServerProcess(newDataDir(this.template), await freePort(), {
      KEYSHARD_ROLE: "recovery-operator",
      KEYSHARD_OPERATOR_NAME: name,
      KEYSHARD_OPERATOR_TICKET_KEY: bytesToHex(providerTicketKey(new MasterKey(hexToBytes(this.providerMasterKeyHex)))),
      KEYSHARD_OPERATOR_ADMIN_TOKEN: this.adminToken,
      KEYSHARD_MASTER_KEY: masterKeyHex,
      KEYSHARD_SMTP_URL: mailbox.url,
      ...(options.attemptsPerDay !== undefined && { KEYSHARD_FACE_ATTEMPTS_PER_DAY: String(options.attemptsPerDay) }),
    });
    this.#processes.push(server);
    this.#closers.push(mailbox.close);
    let url = server.url;
    if (options.proxied) {
      const proxy = await startCorruptingProxy(server.url);
      this.proxies.set(index, proxy);
      this.#closers.push(proxy.close);
      url = proxy.url;
    }
    const key = bytesToHex(operatorKeys(new MasterKey(hexToBytes(masterKeyHex))).publicKey);
    return { index, name, process: server, url, key, masterKeyHex, mails: mailbox.mails };
  }

  /** Everything stopped and removed, the processes first. */
  async stop(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p.remove()));
    await Promise.all(this.#closers.map((close) => close()));
    rmSync(this.template, { recursive: true, force: true });
  }
}

/**
 * A fresh PGlite database, made once per cluster and copied into each process's data folder:
 * initdb costs several seconds of a core, and a cluster starts four or five processes at once.
 */
function pgliteTemplate(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "keyshard-pglite-template-"));
  return promisify(execFile)(process.execPath, [PGLITE_CREATE, join(dir, "pglite")]).then(() => dir);
}

function newDataDir(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), "keyshard-process-"));
  cpSync(join(template, "pglite"), join(dir, "pglite"), { recursive: true });
  return dir;
}

// ── a proxy that lies for its operator ─────────────────────────────────────────────────────────

/**
 * How a proxy lies for its operator: `evaluation`, another point than the operator's (its proof
 * then fails); `key`, an answer under a share of the proxy's own, with a proof and commitments
 * that hold for that share (their C_0 is not the enrollment's K); `polynomial`, the same with
 * commitments that keep C_0 = K (only the higher coefficients are the proxy's).
 */
export type Lie = "evaluation" | "key" | "polynomial";

export interface CorruptingProxy {
  url: string;
  /** While set, every evaluation passing through is changed so. */
  lie: Lie | null;
  close(): Promise<void>;
}

const Point = ristretto255.Point;
const randomScalar = () => Point.Fn.create(bytesToNumberLE(randomBytes(32)));

function lieAbout(answer: Record<string, unknown>, blinded: string, lie: Lie): Record<string, unknown> {
  if (lie === "evaluation")
    return {
      ...answer,
      evaluated: Point.fromHex(answer.evaluated as string)
        .add(Point.BASE)
        .toHex(),
    };
  const index = BigInt(answer.index as number);
  const share = randomScalar();
  const real = answer.commitments as string[];
  // One coefficient is solved for so that Σ index^j·C_j = share·G: the commitments give this
  // index the proxy's share. The others are random, but for C_0 = K when it is kept.
  const solved = lie === "key" ? 0 : real.length - 1;
  const coefficients = real.map((c, j) =>
    j === solved ? null : j === 0 ? Point.fromHex(c) : Point.BASE.multiply(randomScalar()),
  );
  const power = (j: number) => Point.Fn.pow(index, BigInt(j));
  const rest = coefficients.reduce<typeof Point.ZERO>(
    (acc, c, j) => (c === null ? acc : acc.add(c.multiply(power(j)))),
    Point.ZERO,
  );
  coefficients[solved] = Point.BASE.multiply(share)
    .subtract(rest)
    .multiply(Point.Fn.inv(power(solved)));
  const partial = evaluatePartial(numberToBytesLE(share, 32), Number(index), hexToBytes(blinded));
  return {
    ...answer,
    evaluated: bytesToHex(partial.evaluated),
    proof: bytesToHex(partial.proof),
    commitments: coefficients.map((c) => (c as typeof Point.ZERO).toHex()),
  };
}

/** Forwards every request to `target`; while `lie` is set, evaluations are changed as it says. */
export async function startCorruptingProxy(target: string): Promise<CorruptingProxy> {
  const proxy: CorruptingProxy = { url: "", lie: null, close: async () => {} };
  const server: Server = createServer((request, response) => void forward(request, response));
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    try {
      const answer = await fetch(target + (request.url ?? "/"), {
        method: request.method ?? "GET",
        headers: { "content-type": request.headers["content-type"] ?? "application/json" },
        ...(body.length > 0 && { body }),
      });
      let text = await answer.text();
      if (proxy.lie !== null && answer.status === 200 && /\/evaluations$/.test(request.url ?? ""))
        text = JSON.stringify(lieAbout(JSON.parse(text), JSON.parse(body.toString()).blinded, proxy.lie));
      response.writeHead(answer.status, { "content-type": "application/json" }).end(text);
    } catch {
      // The operator behind it is down: so is the proxy, as a device sees it.
      request.socket.destroy();
    }
  }
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((closed) => server.close(() => closed()));
  return proxy;
}

// ── the device ─────────────────────────────────────────────────────────────────────────────────

/** An operator as the provider lists it. */
export interface ListedOperator {
  index: number;
  url: string;
  key: string;
}

/** A registered device whose email is verified by the mailed code (the `nth` code to `email`). */
export async function verifiedDevice(url: string, mails: Mail[], email: string, nth: number): Promise<TestDevice> {
  const device = new TestDevice(url);
  const registered = await device.request("POST", "/v1/devices", {
    identityKey: device.identityKey,
    email,
    name: `device ${nth}`,
  });
  if (registered.status !== 201) throw new Error(`registration: ${JSON.stringify(registered.body)}`);
  const verified = await device.request("POST", "/v1/devices/verify", { code: await mailedCode(mails, email, nth) });
  if (verified.status !== 200) throw new Error(`verification: ${JSON.stringify(verified.body)}`);
  return device;
}

/** What a device asked the provider for, failing loudly on anything but `status`. */
async function expectReply(
  device: TestDevice,
  method: string,
  path: string,
  body: unknown,
  status: number,
): Promise<Record<string, unknown>> {
  const reply = await device.request(method, path, body);
  if (reply.status !== status) throw new Error(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function operatorCall(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(url + path, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The provider's operators, each checked as a device checks them: its own key is the listed one. */
export async function listedOperators(device: TestDevice): Promise<{ threshold: number; operators: ListedOperator[] }> {
  const list = await expectReply(device, "GET", "/v1/recovery/operators", undefined, 200);
  const operators = list.operators as ListedOperator[];
  const threshold = list.threshold as number;
  if (!(operators.length >= threshold && threshold >= 2)) throw new Error(`a ${threshold}-of-${operators.length} list`);
  if (new Set(operators.map((o) => o.key)).size !== operators.length) throw new Error("two operators share a key");
  for (const operator of operators) {
    const info = await operatorCall(operator.url, "GET", "/v1/operator");
    if (info.body.key !== operator.key) throw new Error(`operator ${operator.index} answers another key`);
  }
  return { threshold, operators };
}

export interface EnrolledFace {
  id: string;
  email: string;
  /** The fuzzy extractor's output: the 18-bit face secret. */
  secret: Uint8Array;
  recovery: RecoveryKeyPair;
  /** K, the OPRF public key the device dealt. */
  oprfKey: Uint8Array;
  wallets: TestWallet<"frost-ed25519">[];
}

/**
 * An owner enrollment by the active `device`, as the wallet makes it: helper data and the face
 * secret from an embedding (the fuzzy extractor needs no face model), a key dealt t-of-n and sealed
 * to each listed operator, the recovery key wrapped under the OPRF output computed once with that
 * key, the wallet's share sealed to the recovery key. It takes effect at once here.
 */
export async function enrollFace(device: TestDevice, wallet: TestWallet<"frost-ed25519">): Promise<EnrolledFace> {
  const id = crypto.randomUUID();
  const embedding = Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
  const { helper, secret } = enrollEmbedding(embedding, POPULATION_MEAN);
  const started = await expectReply(device, "POST", "/v1/recovery/enrollments", { id, kind: "owner", helper }, 201);
  const email = started.email as string;
  const { threshold, operators } = await listedOperators(device);
  const dealt = dealOprfKey(
    threshold,
    operators.map((o) => o.index),
  );
  const commitments = dealt.commitments.map(bytesToHex);
  for (const operator of operators) {
    const share = dealt.shares.find((s) => s.index === operator.index)?.share as Uint8Array;
    const registered = await operatorCall(operator.url, "POST", "/v1/operator/enrollments", {
      ticket: started.ticket,
      index: operator.index,
      threshold,
      commitments,
      sealedShare: bytesToHex(
        sealToRecoveryKey(hexToBytes(operator.key), operatorShareContext(id, operator.index), share),
      ),
    });
    if (registered.status !== 201) throw new Error(`operator ${operator.index}: ${JSON.stringify(registered.body)}`);
    if (registered.body.publicShare !== bytesToHex(publicShare(dealt.commitments, operator.index)))
      throw new Error(`operator ${operator.index} holds another share`);
  }
  const blind = blindFaceSecret(id, email, secret);
  const recovery = newRecoveryKey();
  const wrapped = wrapRecoveryKey(
    faceWrapKey(blind, evaluateWithKey(dealt.key, blind.blinded)),
    id,
    recovery,
    dealt.publicKey,
  );
  const box = sealToRecoveryKey(
    recovery.publicKey,
    faceBoxContext(wallet.walletId),
    scheme("frost-ed25519").encodeShare(wallet.share),
  );
  await expectReply(
    device,
    "PUT",
    `/v1/recovery/enrollments/${id}`,
    {
      wrappedKey: bytesToHex(wrapped),
      recoveryKey: bytesToHex(recovery.publicKey),
      authKey: bytesToHex(recoveryAuthKey(recovery).publicKey),
      oprfKey: bytesToHex(dealt.publicKey),
      threshold,
      boxes: [{ walletId: wallet.walletId, epoch: 0, box: bytesToHex(box) }],
    },
    200,
  );
  // The change is due at once: the device's next request applies it.
  const keys = await expectReply(device, "GET", "/v1/recovery/keys", undefined, 200);
  if (!(keys.enrollments as { id: string; status: string }[]).some((e) => e.id === id && e.status === "active"))
    throw new Error(`enrollment ${id} is not active`);
  return { id, email, secret, recovery, oprfKey: dealt.publicKey, wallets: [wallet] };
}

/** An active device of a new account under `email` with one hybrid wallet, whose face is enrolled. */
export async function enrolledAccount(
  cluster: RecoveryCluster,
  email: string,
): Promise<{ device: TestDevice; enrolled: EnrolledFace }> {
  const device = await verifiedDevice(cluster.provider.url, cluster.providerMails, email, 1);
  const wallet = await createWallet(device, "savings", "frost-ed25519");
  return { device, enrolled: await enrollFace(device, wallet) };
}

/** One guess's ticket from the provider, with what the device needs to try the operators' answers. */
export interface FaceTicket {
  ticket: SignedTicket;
  wrappedKey: Uint8Array;
  recoveryKey: Uint8Array;
  oprfKey: Uint8Array;
  threshold: number;
  operators: ListedOperator[];
}

/** A ticket for one guess: the blinded face secret the device will send each operator once. */
export async function faceTicket(device: TestDevice, id: string, blinded: Uint8Array): Promise<FaceTicket> {
  const reply = await expectReply(
    device,
    "POST",
    `/v1/recovery/enrollments/${id}/tickets`,
    { blinded: bytesToHex(blinded) },
    200,
  );
  return {
    ticket: reply.ticket as SignedTicket,
    wrappedKey: hexToBytes(reply.wrappedKey as string),
    recoveryKey: hexToBytes(reply.recoveryKey as string),
    oprfKey: hexToBytes(reply.oprfKey as string),
    threshold: reply.threshold as number,
    operators: reply.operators as ListedOperator[],
  };
}

/** An operator's answer to one evaluation: its status (0: unreachable) and body. */
export interface OperatorAnswer {
  operator: ListedOperator;
  status: number;
  body: Record<string, unknown>;
}

/** Asks every operator at once; one that is down answers status 0. */
export function askOperators(
  operators: readonly ListedOperator[],
  id: string,
  ticket: SignedTicket,
  blinded: Uint8Array,
): Promise<OperatorAnswer[]> {
  return Promise.all(
    operators.map(async (operator) => {
      try {
        return {
          operator,
          ...(await operatorCall(operator.url, "POST", `/v1/operator/enrollments/${id}/evaluations`, {
            ticket,
            blinded: bytesToHex(blinded),
          })),
        };
      } catch {
        return { operator, status: 0, body: {} };
      }
    }),
  );
}

/**
 * The combined evaluation k·B from the first `threshold` answers whose proof verifies against the
 * commitments the operators agree on: those of most answers, which must start with the
 * enrollment's K (every operator holds the same commitments; an answer under others could prove
 * itself against them and still poison the combination). `bad` names every other answer's operator.
 */
export function combineAnswers(
  threshold: number,
  oprfKey: Uint8Array,
  blinded: Uint8Array,
  answers: readonly OperatorAnswer[],
): { evaluated: Uint8Array | null; used: number[]; bad: number[] } {
  const answered = answers.filter((a) => a.status === 200);
  const agreed = agreedCommitments(answered.map((a) => a.body.commitments as string[]));
  const valid: PartialEvaluation[] = [];
  const bad: number[] = [];
  for (const { operator, body } of answered) {
    const commitments = (body.commitments as string[]).map(hexToBytes);
    const partial = {
      index: operator.index,
      evaluated: hexToBytes(body.evaluated as string),
      proof: hexToBytes(body.proof as string),
    };
    const ours =
      body.index === operator.index &&
      (body.commitments as string[]).join() === agreed &&
      equalBytes(commitments[0] ?? new Uint8Array(), oprfKey);
    if (ours && verifyPartial(commitments, blinded, partial)) valid.push(partial);
    else bad.push(operator.index);
  }
  const used = valid.slice(0, threshold);
  return {
    evaluated: used.length === threshold ? combinePartials(threshold, used) : null,
    used: used.map((p) => p.index),
    bad,
  };
}

/** The commitments more answers carry than any other (joined), or null on a tie. */
function agreedCommitments(given: readonly string[][]): string | null {
  const counts = new Map<string, number>();
  for (const commitments of given) counts.set(commitments.join(), (counts.get(commitments.join()) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  return first !== undefined && first[1] !== second?.[1] ? first[0] : null;
}

export interface FaceRecovery {
  /** The recovery key, or null when the answers did not combine or the face was another. */
  recovery: RecoveryKeyPair | null;
  ticket: FaceTicket;
  blinded: Uint8Array;
  answers: OperatorAnswer[];
  used: number[];
  bad: number[];
}

/**
 * One guess with `secret`: the secret blinded, a ticket for it, the blinded secret to every listed
 * operator (or to those of `only`), their answers combined, the recovery key unwrapped.
 */
export async function recoverFace(
  device: TestDevice,
  enrolled: { id: string; email: string },
  secret: Uint8Array,
  only?: readonly number[],
): Promise<FaceRecovery> {
  const blind = blindFaceSecret(enrolled.id, enrolled.email, secret);
  const ticket = await faceTicket(device, enrolled.id, blind.blinded);
  const asked = ticket.operators.filter((o) => only === undefined || only.includes(o.index));
  const answers = await askOperators(asked, enrolled.id, ticket.ticket, blind.blinded);
  const { evaluated, used, bad } = combineAnswers(ticket.threshold, ticket.oprfKey, blind.blinded, answers);
  let recovery: RecoveryKeyPair | null = null;
  if (evaluated !== null)
    try {
      recovery = unwrapRecoveryKey(
        faceWrapKey(blind, evaluated),
        enrolled.id,
        ticket.recoveryKey,
        ticket.wrappedKey,
        ticket.oprfKey,
      );
    } catch {
      recovery = null;
    }
  return { recovery, ticket, blinded: blind.blinded, answers, used, bad };
}

/** The claim with the recovered key: the wallets' shares, opened from the boxes the provider hands back. */
export async function claimShares(device: TestDevice, id: string, recovery: RecoveryKeyPair): Promise<Uint8Array[]> {
  const claimed = await expectReply(
    device,
    "POST",
    `/v1/recovery/enrollments/${id}/claim`,
    { signature: bytesToHex(signRecoveryClaim(recovery, id, device.id)) },
    200,
  );
  return (claimed.boxes as { walletId: string; box: string }[]).map((b) =>
    openRecoveryBox(recovery, faceBoxContext(b.walletId), hexToBytes(b.box)),
  );
}
