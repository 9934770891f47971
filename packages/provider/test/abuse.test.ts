/**
 * What an outside attacker tried, against PGlite and PostgreSQL: a revoked device keeping its
 * relay socket, registrations under someone else's address, quotas per account, and input that
 * once reached the database or the socket handler unchecked. Every answer is a typed 4xx.
 */
import { randomUUID } from "node:crypto";
import { enroll, POPULATION_MEAN } from "@keyshard/biometric";
import { buildPsbt, p2wpkhOutput } from "@keyshard/chains";
import { authenticationFrame, REVOKED_CLOSE_CODE, sealEnvelope } from "@keyshard/transport";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeDevice } from "../src/devices/revoke.js";
import { MAX_BITCOIN_INPUTS, MAX_RUNNING_RUNS, MAX_SUBSCRIPTIONS } from "../src/quotas.js";
import { LISTED_OPERATORS } from "./face-device.js";
import {
  activeDevice,
  bareRelayUpgrade,
  createWallet,
  type DatabaseKind,
  deviceGroup,
  relaySocket,
  type SocketFrame,
  startTestProvider,
  TestDevice,
  type TestProvider,
} from "./harness.js";

/** A device's relay WebSocket, authenticated: its frames from then on, and its close code once closed. */
async function openSocket(provider: TestProvider, device: TestDevice) {
  const { socket, frames, closed, next } = await relaySocket(provider);
  socket.send(authenticationFrame(device.identity, provider.now()));
  const answer = await next(() => true);
  if (answer?.type !== "authenticated")
    throw new Error(`the relay socket closed with ${(await closed).code} before it authenticated`);
  return {
    socket,
    closed: closed.then(({ code }) => code),
    /** The first frame from now on that `match` accepts. */
    async next(match: (frame: SocketFrame) => boolean): Promise<SocketFrame> {
      const found = await next(match, frames.length);
      if (found === undefined) throw new Error("the relay socket closed");
      return found;
    },
    /** Sends `frame` with `id` and waits for the answer carrying the id back. */
    ask(id: number, frame: Record<string, unknown>): Promise<SocketFrame> {
      const answer = this.next((f) => f.id === id);
      socket.send(JSON.stringify({ ...frame, id }));
      return answer;
    },
  };
}

describe.each<DatabaseKind>(["pglite", "postgres"])("abuse on %s", (kind) => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider(kind, { recoveryOperators: LISTED_OPERATORS });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("a revoked device's open relay sockets close, and the relay refuses envelopes from and to it", async () => {
    const [a, b, c] = (await deviceGroup(provider, "revoked@example.com", 3)) as [TestDevice, TestDevice, TestDevice];
    const opened = await a.request("POST", "/v1/relay", { participants: [a.id, b.id, c.id], purpose: "revocation" });
    const relayId = opened.body.relayId as string;
    const sid = hexToBytes(opened.body.sid as string);
    const [socketA, socketB, socketC] = await Promise.all([
      openSocket(provider, a),
      openSocket(provider, b),
      openSocket(provider, c),
    ]);
    for (const s of [socketA, socketB, socketC]) s.socket.send(JSON.stringify({ type: "subscribe", relayId }));
    const toB = () => sealEnvelope(a.identity, b.identity.publicKey, { sid, round: 0 }, new Uint8Array([1]));
    const fromB = sealEnvelope(b.identity, a.identity.publicKey, { sid, round: 0 }, new Uint8Array([2]));
    expect((await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [toB()] })).status).toBe(200);

    // Revoked by another device of the account: this process closes the socket at once.
    expect((await a.request("POST", `/v1/devices/${b.id}/revoke`)).status).toBe(200);
    expect(await socketB.closed).toBe(REVOKED_CLOSE_CODE);
    // Revoked where this process did not see it (another replica): its poll of the devices finds it.
    await provider.context.db.transaction((tx) => revokeDevice(tx, c.id));
    expect(await socketC.closed).toBe(REVOKED_CLOSE_CODE);

    const refusedTo = await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [toB()] });
    expect(refusedTo).toMatchObject({ status: 403, body: { error: "device-revoked" } });
    const refusedFrom = await b.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [fromB] });
    expect(refusedFrom.status).toBe(403);
    socketA.socket.send(JSON.stringify({ type: "send", id: 7, relayId, envelopes: [toB()] }));
    expect(await socketA.next((f) => f.id === 7)).toMatchObject({ type: "error", error: "device-revoked" });
    socketA.socket.close();
  });

  it("registrations under someone else's address mail it one code and never enter its account", async () => {
    const email = "victim@example.com";
    const owner = await activeDevice(provider, email);
    const mailsBefore = await provider.context.db.query("SELECT id FROM outbox WHERE recipient = $1", [email]);
    const attackers = Array.from({ length: 40 }, () => new TestDevice(provider.url, provider.now));
    const replies = await Promise.all(
      attackers.map((d) =>
        d.request("POST", "/v1/devices", { identityKey: d.identityKey, email, name: `attacker ${d.id}` }),
      ),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = replies.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(39);
    for (const r of refused) expect(r).toMatchObject({ status: 429, body: { error: "code-recently-sent" } });
    // The outbox holds every mail before the request answers: one more for the address, no more.
    const mails = await provider.context.db.query("SELECT id FROM outbox WHERE recipient = $1", [email]);
    expect(mails.length - mailsBefore.length).toBe(1);

    const account = await owner.request("GET", "/v1/account");
    expect((account.body.devices as { id: string }[]).map((d) => d.id)).toEqual([owner.id]);
    const audit = JSON.stringify((await owner.request("GET", "/v1/audit")).body);
    for (const d of attackers) expect(audit).not.toContain(d.id);
  });
  it("an account's runs still going are capped", async () => {
    const device = await activeDevice(provider, "runs@example.com");
    // One keygen left running by its device, and as many more as the quota allows, made directly.
    const first = await device.request("POST", "/v1/wallets", { name: "first", scheme: "frost-ed25519" });
    expect(first.status).toBe(201);
    const account = (await device.request("GET", "/v1/account")).body.id as string;
    await provider.context.db.query(
      `INSERT INTO sessions (id, account_id, wallet_id, kind, sid, round, status, updated_ms)
       SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'keygen', decode(md5(random()::text) || md5(random()::text), 'hex'), 0, 'running', $3::bigint
       FROM generate_series(2, $4::int)`,
      [account, first.body.walletId, provider.now(), MAX_RUNNING_RUNS],
    );
    const refused = await device.request("POST", "/v1/wallets", { name: "second", scheme: "frost-ed25519" });
    expect(refused).toMatchObject({ status: 429, body: { error: "quota-exceeded" } });
  });

  it("a Bitcoin request with more inputs than the quota is refused before it is read further", async () => {
    const device = await activeDevice(provider, "inputs@example.com");
    const wallet = await createWallet(device, "btc", "frost-taproot");
    const other = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), "regtest");
    const psbt = buildPsbt({
      network: "regtest",
      inputs: Array.from({ length: MAX_BITCOIN_INPUTS + 1 }, (_, i) => ({
        txid: i.toString(16).padStart(64, "0"),
        vout: 0,
        amount: 10_000n,
        script: other.script,
      })),
      outputs: [{ address: other.address, amount: 1_000n }],
    });
    const refused = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "bitcoin",
      network: "regtest",
      payload: Buffer.from(psbt).toString("hex"),
    });
    expect(refused).toMatchObject({ status: 429, body: { error: "quota-exceeded" } });
  });

  it("relay subscriptions are one per socket and session, and capped per account", async () => {
    const [a, b] = (await deviceGroup(provider, "subscriptions@example.com", 2)) as [TestDevice, TestDevice];
    const relays: string[] = [];
    for (let i = 0; i < 16; i++)
      relays.push(
        (await a.request("POST", "/v1/relay", { participants: [a.id, b.id], purpose: `s${i}` })).body.relayId as string,
      );
    let id = 0;
    type Socket = Awaited<ReturnType<typeof openSocket>>;
    const subscribe = (s: Socket, relayId: string) => s.ask(++id, { type: "subscribe", relayId });
    const sockets = [await openSocket(provider, a)];
    const first = sockets[0] as Socket;
    // Asked twice on one socket: the one subscription, not a second poller counted against the quota.
    expect((await subscribe(first, relays[0] as string)).type).toBe("subscribed");
    let held = 0;
    let refused: { socket: Socket; relayId: string; answer: SocketFrame } | undefined;
    while (refused === undefined) {
      const socket = sockets.at(-1) as Socket;
      for (const relayId of relays) {
        const answer = await subscribe(socket, relayId);
        if (answer.type !== "subscribed") {
          refused = { socket, relayId, answer };
          break;
        }
        held++;
      }
      if (refused === undefined) sockets.push(await openSocket(provider, b));
    }
    expect(held).toBe(MAX_SUBSCRIPTIONS);
    expect(refused.answer).toMatchObject({ type: "error", error: "quota-exceeded" });
    // The socket stays usable, and a closed socket gives its subscriptions back.
    first.socket.close();
    await first.closed;
    // The provider learns of the close a moment after the device does.
    const { socket: last, relayId: refusedRelay } = refused;
    await expect.poll(async () => (await subscribe(last, refusedRelay)).type, { timeout: 10_000 }).toBe("subscribed");
    for (const socket of sockets) socket.socket.close();
  });

  it("NUL in any string of a body is refused with 400, not stored", async () => {
    const device = new TestDevice(provider.url, provider.now);
    const registered = await device.request("POST", "/v1/devices", {
      identityKey: device.identityKey,
      email: "nul@example.com",
      name: "pho\u0000ne",
    });
    expect(registered).toMatchObject({ status: 400, body: { error: "invalid-request" } });
    const owner = await activeDevice(provider, "nul2@example.com");
    const wallet = await owner.request("POST", "/v1/wallets", { name: "w\u0000", scheme: "frost-ed25519" });
    expect(wallet).toMatchObject({ status: 400, body: { error: "invalid-request" } });
  });

  it("concurrent creations of one wallet name, one registration and one enrollment id: one succeeds, the rest conflict", async () => {
    const owner = await activeDevice(provider, "race@example.com");
    const creations = await Promise.all(
      Array.from({ length: 5 }, () => owner.request("POST", "/v1/wallets", { name: "same", scheme: "frost-ed25519" })),
    );
    expect(creations.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of creations.filter((r) => r.status === 409)) expect(r.body.error).toBe("conflict");
    const device = new TestDevice(provider.url, provider.now);
    const registrations = await Promise.all(
      Array.from({ length: 3 }, () =>
        device.request("POST", "/v1/devices", {
          identityKey: device.identityKey,
          email: "race2@example.com",
          name: "x",
        }),
      ),
    );
    expect(registrations.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const { helper } = enroll(
      Float32Array.from({ length: 128 }, () => Math.random() - 0.5),
      POPULATION_MEAN,
    );
    const id = randomUUID();
    const enrollments = await Promise.all(
      Array.from({ length: 3 }, () => owner.request("POST", "/v1/recovery/enrollments", { id, kind: "owner", helper })),
    );
    expect(enrollments.map((r) => r.status).sort()).toEqual([201, 409, 409]);
  });

  it("a relay frame that is not a JSON object gets a typed error, and the socket stays usable", async () => {
    const [a, b] = (await deviceGroup(provider, "frames@example.com", 2)) as [TestDevice, TestDevice];
    const relayId = (await a.request("POST", "/v1/relay", { participants: [a.id, b.id], purpose: "frames" })).body
      .relayId as string;
    const socket = await openSocket(provider, a);
    for (const frame of ["null", "42", "[1]", '"text"', "not json", "{"]) {
      const answer = socket.next((f) => f.type === "error");
      socket.socket.send(frame);
      expect(await answer).toMatchObject({ type: "error", error: "invalid-request" });
    }
    // Ids the database would refuse as a uuid: refused as the client's mistake, before the database.
    for (const bad of ["-".repeat(36), relayId.toUpperCase(), `urn:uuid:${relayId}`])
      expect(await socket.ask(2, { type: "subscribe", relayId: bad })).toMatchObject({
        type: "error",
        error: "invalid-request",
      });
    expect(await socket.ask(1, { type: "subscribe", relayId })).toMatchObject({ type: "subscribed", relayId });
    socket.socket.close();
  });
});

describe("relay sockets from outside", () => {
  const MAX_UNAUTHENTICATED = 2;
  const UPGRADES_PER_MINUTE = 8;
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider("pglite", {
      relaySockets: { maxUnauthenticated: MAX_UNAUTHENTICATED, upgradesPerMinute: UPGRADES_PER_MINUTE },
    });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("caps sockets waiting for their authentication, cuts a refused one, and limits upgrades per address", async () => {
    const [device] = await deviceGroup(provider, "outside@example.com", 1);
    const opened: Awaited<ReturnType<typeof bareRelayUpgrade>>[] = [];
    let upgrades = 0;
    const upgrade = async () => {
      upgrades += 1;
      const made = await bareRelayUpgrade(provider);
      opened.push(made);
      return made;
    };
    const waiting = [await upgrade(), await upgrade()];
    expect(waiting.map((u) => u.status)).toEqual([101, 101]);
    expect((await upgrade()).status).toBe(503);
    // A refused socket that never answers the close is cut, not left to the close's long wait.
    const refused = waiting.pop() as Awaited<ReturnType<typeof upgrade>>;
    refused.sendText("{");
    expect(await refused.closeFrame()).toEqual({ code: 1008, reason: "the first frame must be JSON" });
    await refused.ended;
    // Its place is free again, and an authenticated socket no longer takes one.
    const authenticated = await openSocket(provider, device as TestDevice);
    upgrades += 1;
    const another = await upgrade();
    expect(another.status).toBe(101);
    expect((await upgrade()).status).toBe(503);
    while (upgrades < UPGRADES_PER_MINUTE) expect((await upgrade()).status).toBe(503);
    expect((await upgrade()).status).toBe(429);
    for (const made of opened) made.destroy();
    authenticated.socket.close();
  }, 20_000);
});
