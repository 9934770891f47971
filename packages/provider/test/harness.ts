/**
 * A provider under test: in this process on PGlite (a temp folder) or on a fresh database of the
 * machine's PostgreSQL, an in-process SMTP server that keeps every mail, and a signed-request
 * client for devices.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEthereumTransaction } from "@keyshard/chains";
import { type Msg, type Party, type SchemeName, type ShareOf, scheme, WALLET_DEVICE } from "@keyshard/mpc";
import {
  type DeviceIdentity,
  deviceId,
  driveSession,
  newDeviceIdentity,
  RELAY_SOCKET_PATH,
  type RelayChannel,
  type RelayPeer,
  runOverRelay,
  signRequest,
  type WireMessage,
  wsRelayChannel,
} from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import {
  type RunningProvider,
  type RunningRecoveryOperator,
  startProvider,
  startRecoveryOperator,
} from "../src/index.js";
import { parseReshareTo } from "../src/recovery-operator/start.js";

export const POSTGRES_ADMIN_URL = process.env.KEYSHARD_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type DatabaseKind = "pglite" | "postgres";

/** A new, empty PostgreSQL database; dropped by the returned function. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `keyshard_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface Mail {
  to: string;
  text: string;
}

/** How a test mailbox answers, for tests of delivery failures; by default it accepts everything. */
export interface MailboxOptions {
  /** An SMTP reply code (4xx temporary, 5xx permanent) refusing mail to `to`, or nothing to accept it. */
  refuse?: (to: string) => number | undefined;
  /** Awaited once a mail's data has arrived, before the server answers it: a pending promise stalls DATA. */
  beforeAnswer?: (mail: Mail) => Promise<void> | void;
}

/** An SMTP server on a free port that keeps every mail it accepts. */
export async function startMailbox(
  options: MailboxOptions = {},
): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(address, _session, callback) {
      const code = options.refuse?.(address.address);
      if (code === undefined) return callback();
      callback(Object.assign(new Error(`mailbox refuses ${address.address}`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      let text = "";
      stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      stream.on("end", async () => {
        const mail = { to: session.envelope.rcptTo.map((r) => r.address).join(","), text };
        await options.beforeAnswer?.(mail);
        mails.push(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((r) => server.close(() => r())) };
}

/** A running test mailbox. */
export type Mailbox = Awaited<ReturnType<typeof startMailbox>>;

/** The bearer token test providers serve /metrics to, unless a test starts one without. */
export const METRICS_TOKEN = "test-metrics-token-0123456789abcdef";

/** The provider's Prometheus metrics, scraped with `METRICS_TOKEN`. */
export async function scrapeMetrics(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`);
  return response.text();
}

export interface TestProvider extends RunningProvider {
  dataDir: string;
  /** Set when the provider runs on PostgreSQL. */
  databaseUrl?: string;
  mails: Mail[];
  /** The provider's clock, and a way to move it. */
  now(): number;
  advance(ms: number): void;
  stop(): Promise<void>;
}

export async function startTestProvider(
  kind: DatabaseKind,
  options: {
    masterKeyHex?: string;
    authRateLimit?: number;
    policyDelayMs?: number;
    accountChangeDelayMs?: number;
    backupDelayMs?: number;
    faceAttemptsPerDay?: number;
    recoveryHoldMs?: number;
    challengeRandom?: (n: number) => Uint8Array;
    mailbox?: MailboxOptions;
    /** Default `METRICS_TOKEN`; null serves no /metrics. */
    metricsToken?: string | null;
    /** The operator console's bearer token; without it, no console. */
    consoleToken?: string;
    recoveryOperators?: { url: string; key: string }[];
    recoveryThreshold?: number;
    policyTemplatesFile?: string;
    webAppConnectSources?: string[];
    relaySockets?: RunningProvider["context"]["relaySockets"];
  } = {},
): Promise<TestProvider> {
  const dataDir = mkdtempSync(join(tmpdir(), "keyshard-provider-"));
  const postgres = kind === "postgres" ? await freshPostgres() : undefined;
  const mailbox = await startMailbox(options.mailbox);
  let offset = 0;
  const provider = await startProvider({
    dataDir,
    ...(postgres && { databaseUrl: postgres.url }),
    ...(options.masterKeyHex && { masterKeyHex: options.masterKeyHex }),
    smtpUrl: mailbox.url,
    authRateLimit: options.authRateLimit ?? 1000,
    // The tests move this provider's clock past delays of any length, and some use short ones.
    trial: true,
    ...(options.policyDelayMs !== undefined && { policyDelayMs: options.policyDelayMs }),
    ...(options.accountChangeDelayMs !== undefined && { accountChangeDelayMs: options.accountChangeDelayMs }),
    ...(options.backupDelayMs !== undefined && { backupDelayMs: options.backupDelayMs }),
    ...(options.faceAttemptsPerDay !== undefined && { faceAttemptsPerDay: options.faceAttemptsPerDay }),
    ...(options.recoveryHoldMs !== undefined && { recoveryHoldMs: options.recoveryHoldMs }),
    ...(options.challengeRandom && { challengeRandom: options.challengeRandom }),
    ...(options.metricsToken !== null && { metricsToken: options.metricsToken ?? METRICS_TOKEN }),
    ...(options.consoleToken !== undefined && { consoleToken: options.consoleToken }),
    ...(options.recoveryOperators && { recoveryOperators: options.recoveryOperators }),
    ...(options.recoveryThreshold !== undefined && { recoveryThreshold: options.recoveryThreshold }),
    ...(options.policyTemplatesFile !== undefined && { policyTemplatesFile: options.policyTemplatesFile }),
    ...(options.webAppConnectSources && { webAppConnectSources: options.webAppConnectSources }),
    // Every test's sockets come from one address.
    relaySockets: { upgradesPerMinute: 10_000, ...options.relaySockets },
    now: () => Date.now() + offset,
  });
  return {
    ...provider,
    dataDir,
    ...(postgres && { databaseUrl: postgres.url }),
    mails: mailbox.mails,
    now: () => Date.now() + offset,
    advance: (ms) => void (offset += ms),
    async stop() {
      await provider.close();
      await mailbox.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A device talking to the provider: every request signed with its identity key, at `clock`'s time. */
export class TestDevice {
  readonly identity: DeviceIdentity = newDeviceIdentity();
  constructor(
    readonly url: string,
    readonly clock: () => number = Date.now,
  ) {}

  get id(): string {
    return deviceId(this.identity.publicKey);
  }

  get identityKey(): string {
    return Buffer.from(this.identity.publicKey).toString("hex");
  }

  /** `options.url` sends to another replica than the one the device was made for. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    options: { now?: number; url?: string } = {},
  ): Promise<Reply> {
    const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
    const headers = signRequest(this.identity, { method, path, body: bytes, now: options.now ?? this.clock() });
    return send(options.url ?? this.url, method, path, bytes, headers);
  }
}

export async function send(
  url: string,
  method: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<Reply> {
  const response = await fetch(url + path, {
    method,
    headers: { ...headers, ...(body.length > 0 && { "content-type": "application/json" }) },
    ...(body.length > 0 && { body: Buffer.from(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** A mail's text with quoted-printable soft line breaks joined. */
export const mailText = (mail: Mail) => mail.text.replace(/=\r?\n/g, "");

/** Mail is sent after its transaction commits: a test waits for it, up to a bound only a lost mail reaches. */
const MAIL_WAIT_MS = 20_000;

/** The code in the `nth` code mail to `email` (counting from 1), waiting for it to arrive. */
export async function mailedCode(mails: Mail[], email: string, nth = 1): Promise<string> {
  for (const deadline = Date.now() + MAIL_WAIT_MS; Date.now() < deadline; ) {
    const codes = mails.filter((m) => m.to === email).flatMap((m) => mailText(m).match(/code is (\d{6})/)?.[1] ?? []);
    const code = codes[nth - 1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code mailed to ${email}`);
}

/** Waits for a mail to `email` whose text contains `text`; false if none comes within `withinMs`. */
export async function mailed(mails: Mail[], email: string, text: string, withinMs = MAIL_WAIT_MS): Promise<boolean> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline; ) {
    if (mails.some((m) => m.to === email && mailText(m).includes(text))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return mails.some((m) => m.to === email && mailText(m).includes(text));
}

/**
 * A provider process started as `npm start` starts it — the bundle `build.mjs` makes, which
 * vitest's global setup and `bench:provider` build first — in its own data folder.
 */
export interface ProviderProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, wait for the exit, remove the data folder. */
  stop(): Promise<void>;
}

/** Node's arguments in `npm start`'s command, which runs the built provider after building it. */
export const START_ARGUMENTS = (() => {
  const start: string = JSON.parse(readFileSync("package.json", "utf8")).scripts.start;
  const run = start.split("&&").at(-1)?.trim().split(/\s+/) ?? [];
  if (run[0] !== "node") throw new Error(`npm start's last command is not node: ${start}`);
  return run.slice(1);
})();

export async function spawnProvider(env: Record<string, string> = {}): Promise<ProviderProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "keyshard-process-"));
  const child = spawn(process.execPath, START_ARGUMENTS, {
    env: {
      ...process.env,
      KEYSHARD_DATA_DIR: dataDir,
      PORT: "0",
      KEYSHARD_LOG: "off",
      DATABASE_URL: "",
      KEYSHARD_METRICS_TOKEN: METRICS_TOKEN,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  // Until it says where it listens or exits: under load a start may take long, and the test's hook
  // timeout bounds the wait.
  await new Promise<void>((ready) => {
    const check = () => {
      if (/listening on (\S+)/.test(output)) ready();
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", () => ready());
  });
  const url = output.match(/listening on (http:\/\/\S+)/)?.[1];
  if (url === undefined) throw new Error(`the provider did not start: ${output}`);
  return {
    url,
    child,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await new Promise((done) => child.once("exit", done));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An unsigned 1-wei Ethereum transfer with `nonce`, the sign request the bench and the process tests make. */
export const ethereumTransfer = (nonce: number): Uint8Array =>
  buildEthereumTransaction({
    chainId: 1,
    nonce,
    to: "0x00000000000000000000000000000000000b0b00",
    value: 1n,
    gas: 21_000n,
    maxFeePerGas: 2n,
    maxPriorityFeePerGas: 1n,
  });

/** The provider's reply to a session step, as the tests read it. */
export interface SessionReply {
  sessionId: string;
  sid: string;
  round: number;
  messages: WireMessage[];
  done: boolean;
  publicKey?: string;
  signature?: string;
}

/**
 * Drives the device's party against the provider until both are done; returns the last reply.
 * `opened`: the party's first round, if it went with the sign request.
 */
export function drive(
  device: TestDevice,
  party: Party<unknown>,
  first: SessionReply,
  opened?: Msg[],
): Promise<SessionReply> {
  return driveSession(
    party,
    first,
    async (round, messages) => {
      const next = await device.request("POST", `/v1/sessions/${first.sessionId}/round`, { round, messages });
      if (next.status !== 200) throw new Error(`round ${round}: ${next.status} ${JSON.stringify(next.body)}`);
      return next.body as unknown as SessionReply;
    },
    opened,
  );
}

/** A registered, verified first device of a new account under `email`. */
export async function activeDevice(provider: TestProvider, email: string): Promise<TestDevice> {
  const device = new TestDevice(provider.url, provider.now);
  await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "phone" });
  await device.request("POST", "/v1/devices/verify", { code: await mailedCode(provider.mails, email) });
  return device;
}

/**
 * Another device of `first`'s account (`email`), verified by the mailed code, approved by `first`
 * (with `totp`, where the account has one) and active once the clock has moved past the approval's delay.
 */
export async function addDevice(
  provider: TestProvider,
  first: TestDevice,
  email: string,
  totp?: string,
): Promise<TestDevice> {
  const device = new TestDevice(provider.url, provider.now);
  const before = provider.mails.filter((m) => m.to === email && /code is/.test(mailText(m))).length;
  await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "laptop" });
  await device.request("POST", "/v1/devices/verify", { code: await mailedCode(provider.mails, email, before + 1) });
  const approved = await first.request("POST", `/v1/devices/${device.id}/approve`, totp && { totp });
  if (approved.status !== 200) throw new Error(`approval failed: ${JSON.stringify(approved.body)}`);
  provider.advance(provider.context.accountChangeDelayMs);
  return device;
}

/** An account under `email` with `count` active devices, the first of which approved the others. */
export async function deviceGroup(provider: TestProvider, email: string, count: number): Promise<TestDevice[]> {
  const first = await activeDevice(provider, email);
  const group = [first];
  while (group.length < count) group.push(await addDevice(provider, first, email));
  return group;
}

export interface TestWallet<N extends SchemeName = SchemeName> {
  walletId: string;
  share: ShareOf<N>;
  publicKey: string;
}

export async function createWallet<N extends SchemeName>(
  device: TestDevice,
  name: string,
  schemeName: N,
  policy?: unknown[],
): Promise<TestWallet<N>> {
  const created = await device.request("POST", "/v1/wallets", { name, scheme: schemeName, ...(policy && { policy }) });
  if (created.status !== 201) throw new Error(`wallet creation: ${JSON.stringify(created.body)}`);
  const session = created.body.session as SessionReply;
  const party = scheme(schemeName).keygen(hexToBytes(session.sid), WALLET_DEVICE);
  const done = await drive(device, party, session);
  return { walletId: created.body.walletId as string, share: party.result(), publicKey: done.publicKey as string };
}

/** A member of a t-of-n wallet as the provider lists it. */
export interface WalletMember {
  index: number;
  deviceId: string;
  identityKey: string;
  provider: boolean;
}

/**
 * Runs the parties of the listed member devices through the relay (the provider runs its own):
 * each device of `devices` whose member index is in `parties`, over its own WebSocket unless
 * `channelOf` gives another channel.
 */
export function runMemberDevices<T>(
  provider: TestProvider,
  devices: readonly TestDevice[],
  relay: { relayId: string; sid: string },
  members: readonly WalletMember[],
  parties: readonly number[],
  party: (index: number, sid: Uint8Array) => Party<T>,
  channelOf?: (device: TestDevice) => RelayChannel,
): Promise<T[]> {
  const sid = hexToBytes(relay.sid);
  return Promise.all(
    members
      .filter((m) => parties.includes(m.index) && !m.provider)
      .map(async (m) => {
        const device = devices.find((d) => d.id === m.deviceId) as TestDevice;
        const channel = channelOf?.(device) ?? (await wsRelayChannel(provider.url, device.identity, relay.relayId));
        const peers: RelayPeer[] = members
          .filter((p) => parties.includes(p.index) && p.index !== m.index)
          .map((p) => ({ index: p.index, deviceId: p.deviceId, identityKey: hexToBytes(p.identityKey) }));
        try {
          return await runOverRelay(party(m.index, sid), {
            identity: device.identity,
            sid,
            index: m.index,
            peers,
            channel,
            timeoutMs: 30_000,
          });
        } finally {
          channel.close();
        }
      }),
  );
}

export interface TestOperator {
  index: number;
  url: string;
  /** The operator's X25519 public key, hex. */
  key: string;
  running: RunningRecoveryOperator;
  close(): Promise<void>;
}

export interface TestOperators {
  operators: TestOperator[];
  /** KEYSHARD_RECOVERY_OPERATORS value */
  setting: string;
  /** Every mail the operators sent (to `options.mailbox` when given). */
  mails: Mail[];
  /** The operators' clock, and a way to move it. */
  now(): number;
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * `count` recovery operators in this process (default 3), indices 1.., each on its own PGlite
 * folder (or fresh PostgreSQL database), trusting `ticketKey`. They mail to `mailbox`, or to a
 * mailbox of their own.
 */
export async function startRecoveryOperators(options: {
  ticketKey: Uint8Array;
  count?: number;
  mailbox?: Mailbox;
  db?: DatabaseKind;
  attemptsPerDay?: number;
  adminToken?: string;
  /** Each operator's master key (hex), in index order: its X25519 key is then known before it starts. */
  masterKeys?: string[];
  /** Every operator's KEYSHARD_OPERATOR_RESHARE_TO setting. */
  reshareTo?: string;
}): Promise<TestOperators> {
  const mailbox = options.mailbox ?? (await startMailbox());
  let offset = 0;
  const now = () => Date.now() + offset;
  const operators: TestOperator[] = [];
  const closeAll = async () => {
    for (const operator of operators) await operator.close();
    if (options.mailbox === undefined) await mailbox.close();
  };
  // Side by side: each opens its own database, the slow part of a start.
  const started = await Promise.allSettled(
    Array.from({ length: options.count ?? 3 }, (_, i) => startTestOperator(i + 1)),
  );
  for (const result of started) if (result.status === "fulfilled") operators.push(result.value);
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await closeAll();
    throw failed.reason;
  }
  async function startTestOperator(index: number): Promise<TestOperator> {
    const dataDir = mkdtempSync(join(tmpdir(), "keyshard-operator-"));
    const postgres = options.db === "postgres" ? await freshPostgres() : undefined;
    const running = await startRecoveryOperator({
      dataDir,
      ...(postgres && { databaseUrl: postgres.url }),
      ticketKey: options.ticketKey,
      name: `operator ${index}`,
      smtpUrl: mailbox.url,
      ...(options.attemptsPerDay !== undefined && { attemptsPerDay: options.attemptsPerDay }),
      ...(options.adminToken !== undefined && { adminToken: options.adminToken }),
      ...(options.masterKeys !== undefined && { masterKeyHex: options.masterKeys[index - 1] }),
      ...(options.reshareTo !== undefined && { reshareTo: parseReshareTo(options.reshareTo) }),
      now,
    });
    return {
      index,
      url: running.url,
      key: Buffer.from(running.key).toString("hex"),
      running,
      async close() {
        await running.close();
        await postgres?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  return {
    operators,
    setting: operators.map((o) => `${o.url}#${o.key}`).join(","),
    mails: mailbox.mails,
    now,
    advance: (ms) => void (offset += ms),
    close: closeAll,
  };
}

/** A frame the relay's socket sent. */
export interface SocketFrame {
  type: string;
  id?: number;
  error?: string;
  message?: string;
  stored?: number;
  relayId?: string;
}

/**
 * A socket to the provider's relay with nothing sent yet (`undefined` if the upgrade is refused):
 * the frames it receives as they come, its close once closed, and a wait for the next frame a
 * test looks for.
 */
export async function relaySocket(provider: { url: string }) {
  const socket = new WebSocket(provider.url.replace(/^http/, "ws") + RELAY_SOCKET_PATH);
  const frames: SocketFrame[] = [];
  const waiting: (() => void)[] = [];
  socket.addEventListener("message", (event) => {
    frames.push(JSON.parse(String(event.data)) as SocketFrame);
    for (const wake of waiting.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => {
      resolve({ code: event.code, reason: event.reason });
      for (const wake of waiting.splice(0)) wake();
    }),
  );
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", () => reject(new Error("the relay socket did not open")));
  });
  let isClosed = false;
  void closed.then(() => {
    isClosed = true;
  });
  return {
    socket,
    frames,
    closed,
    /** The first frame from index `from` on that `match` accepts, or undefined once the socket closed without one. */
    async next(match: (frame: SocketFrame) => boolean, from = 0): Promise<SocketFrame | undefined> {
      for (;;) {
        const found = frames.slice(from).find(match);
        if (found !== undefined || isClosed) return found;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

/**
 * An upgrade to the relay's socket on a bare connection, for what a WebSocket client hides or
 * does for its caller: the upgrade's status, a close frame as sent, a close left unanswered.
 */
export async function bareRelayUpgrade(provider: { url: string }, headers: Record<string, string> = {}) {
  const url = new URL(provider.url);
  const connection = connect(Number(url.port), url.hostname);
  const received: Buffer[] = [];
  connection.on("data", (data: Buffer) => received.push(data));
  const ended = new Promise<void>((resolve) => connection.once("close", () => resolve()));
  const arrived = (enough: (bytes: Buffer) => boolean) =>
    new Promise<Buffer>((resolve, reject) => {
      const check = () => {
        const bytes = Buffer.concat(received);
        if (!enough(bytes)) return;
        connection.off("data", check);
        resolve(bytes);
      };
      connection.on("data", check);
      check();
      void ended.then(() => reject(new Error("the connection ended first")));
    });
  connection.write(
    [
      `GET ${RELAY_SOCKET_PATH} HTTP/1.1`,
      `Host: ${url.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
      "Sec-WebSocket-Version: 13",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      "",
      "",
    ].join("\r\n"),
  );
  const head = await arrived((bytes) => bytes.includes("\r\n\r\n"));
  const headEnd = head.indexOf("\r\n\r\n") + 4;
  return {
    /** The upgrade's HTTP status: 101 if it was accepted. */
    status: Number(head.subarray(9, 12).toString()),
    /** Resolves once the provider has ended the connection. */
    ended,
    /** Sends a short text frame, masked as a client's must be (with a zero mask: its bytes are the text's). */
    sendText(text: string): void {
      const payload = Buffer.from(text);
      if (payload.length > 125) throw new Error("only short frames are written here");
      connection.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
    },
    /** The first frame the provider sent, which must be a close frame: its code and reason. */
    async closeFrame(): Promise<{ code: number; reason: string }> {
      const bytes = await arrived(
        (b) => b.length >= headEnd + 2 && b.length >= headEnd + 2 + ((b[headEnd + 1] ?? 0) & 0x7f),
      );
      const frame = bytes.subarray(headEnd);
      if (frame[0] !== 0x88) throw new Error(`the first frame is not a close frame (${frame[0]})`);
      return { code: frame.readUInt16BE(2), reason: frame.subarray(4, 2 + ((frame[1] ?? 0) & 0x7f)).toString() };
    },
    destroy: () => connection.destroy(),
  };
}
