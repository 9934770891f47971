/**
 * M-of-N among an account's devices with the provider only as the relay, on PGlite and
 * PostgreSQL: three devices make a 2-of-3 key (FROST Ed25519, DKLs23 ECDSA) and two of them sign,
 * two over WebSocket and one over the HTTP fallback. The provider stores only sealed envelopes;
 * it refuses posts in another device's name, to outsiders, and reads by other accounts, and a
 * WebSocket upgrade that is unsigned or signed by another key than its device's.
 */
import { compactSignature, dkls23, frost, type Party } from "@keyshard/mpc";
import {
  deviceId,
  httpRelayChannel,
  newDeviceIdentity,
  type RelayChannel,
  type RelayPeer,
  readRequestSignature,
  runOverRelay,
  sealEnvelope,
  signRequest,
  wsRelayChannel,
} from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  activeDevice,
  type DatabaseKind,
  deviceGroup,
  startTestProvider,
  type TestDevice,
  type TestProvider,
} from "./harness.js";

describe.each<DatabaseKind>(["pglite", "postgres"])("relay on %s", (kind) => {
  let provider: TestProvider;
  let devices: TestDevice[];
  beforeAll(async () => {
    // Devices join without the account-change wait (tested in account-changes.test.ts), so the
    // clock the relay's sockets sign with stays the provider's.
    provider = await startTestProvider(kind, { accountChangeDelayMs: 0 });
    devices = await deviceGroup(provider, "trio@example.com", 3);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const peersOf = (members: number[], me: number): RelayPeer[] =>
    members
      .filter((i) => i !== me)
      .map((i) => ({
        index: i,
        deviceId: (devices[i] as TestDevice).id,
        identityKey: (devices[i] as TestDevice).identity.publicKey,
      }));

  /** Opens a relay session for `members` (device indices = party indices) and runs each one's party through it. */
  async function run<T>(members: number[], party: (index: number, sid: Uint8Array) => Party<T>): Promise<T[]> {
    const creator = devices[members[0] as number] as TestDevice;
    const opened = await creator.request("POST", "/v1/relay", {
      participants: members.map((i) => (devices[i] as TestDevice).id),
      purpose: "test run",
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const relayId = opened.body.relayId as string;
    const sid = hexToBytes(opened.body.sid as string);
    const channels: RelayChannel[] = await Promise.all(
      members.map((i, n) => {
        const identity = (devices[i] as TestDevice).identity;
        return n === members.length - 1
          ? httpRelayChannel(provider.url, identity, relayId)
          : wsRelayChannel(provider.url, identity, relayId);
      }),
    );
    try {
      return await Promise.all(
        members.map((i, n) =>
          runOverRelay(party(i, sid), {
            identity: (devices[i] as TestDevice).identity,
            sid,
            index: i,
            peers: peersOf(members, i),
            channel: channels[n] as RelayChannel,
            timeoutMs: 30_000,
          }),
        ),
      );
    } finally {
      for (const c of channels) c.close();
    }
  }

  it("FROST Ed25519 2-of-3: keygen among three devices, then any two sign", async () => {
    const shares = await run([0, 1, 2], (index, sid) => frost.ed25519.keygen({ sid, index, n: 3, t: 2 }));
    const publicKey = frost.ed25519.publicKey(shares[0] as (typeof shares)[number]);
    for (const s of shares) expect(frost.ed25519.publicKey(s)).toEqual(publicKey);
    const message = new TextEncoder().encode("pay bob 1 SOL");
    const signatures = await run([0, 2], (index, sid) =>
      frost.ed25519.sign(shares[index] as (typeof shares)[number], { sid, message, signers: [0, 2] }),
    );
    for (const signature of signatures) expect(ed25519.verify(signature, message, publicKey)).toBe(true);
  });

  it("DKLs23 2-of-3: keygen among three devices, then two sign an ECDSA digest", async () => {
    const shares = await run([0, 1, 2], (index, sid) => dkls23.keygen({ sid, index, n: 3, t: 2 }));
    const publicKey = dkls23.publicKey(shares[1] as (typeof shares)[number]);
    const messageHash = sha256(new TextEncoder().encode("pay bob 1 ETH"));
    const [signature] = await run([1, 2], (index, sid) =>
      dkls23.sign(shares[index] as (typeof shares)[number], { sid, messageHash, signers: [1, 2] }),
    );
    const compact = compactSignature(signature as NonNullable<typeof signature>);
    expect(secp256k1.verify(compact, messageHash, publicKey, { prehash: false })).toBe(true);
  });

  it("the relay refuses forged senders, outsiders and other accounts; it holds only ciphertext", async () => {
    const [a, b] = devices as [TestDevice, TestDevice, TestDevice];
    const opened = await a.request("POST", "/v1/relay", { participants: [a.id, b.id], purpose: "checks" });
    const relayId = opened.body.relayId as string;
    const sid = hexToBytes(opened.body.sid as string);
    const secret = new TextEncoder().encode("secret protocol message");
    const fromA = sealEnvelope(a.identity, b.identity.publicKey, { sid, round: 0 }, secret);
    expect((await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [fromA] })).status).toBe(200);
    // b posting a's envelope (in a's name) is refused; so is one for another session or to itself.
    expect((await b.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [fromA] })).status).toBe(403);
    const otherSid = sealEnvelope(a.identity, b.identity.publicKey, { sid: new Uint8Array(32), round: 0 }, secret);
    expect((await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [otherSid] })).status).toBe(400);
    const toSelf = sealEnvelope(a.identity, a.identity.publicKey, { sid, round: 1 }, secret);
    expect((await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [toSelf] })).status).toBe(400);
    expect((await a.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [{ v: 1 }] })).status).toBe(400);
    // The third device of the account is not in this session; another account does not see it.
    const c = devices[2] as TestDevice;
    expect((await c.request("GET", `/v1/relay/${relayId}/envelopes`)).status).toBe(404);
    const stranger = await activeDevice(provider, "relay-stranger@example.com");
    expect((await stranger.request("GET", `/v1/relay/${relayId}`)).status).toBe(404);
    expect(
      (await stranger.request("POST", "/v1/relay", { participants: [stranger.id, a.id], purpose: "x" })).status,
    ).toBe(400);
    const received = await b.request("GET", `/v1/relay/${relayId}/envelopes?after=0`);
    expect(received.body.envelopes).toEqual([{ id: expect.any(Number), envelope: fromA }]);
    const invited = await b.request("GET", "/v1/relay");
    expect((invited.body.sessions as { relayId: string }[]).map((s) => s.relayId)).toContain(relayId);
    const rows = await provider.context.db.query<{ envelope: string }>(
      "SELECT envelope FROM relay_envelopes WHERE relay_id = $1",
      [relayId],
    );
    for (const row of rows) {
      expect(row.envelope).not.toContain("secret protocol");
      expect(Buffer.from(JSON.parse(row.envelope).ct, "base64").includes(Buffer.from(secret))).toBe(false);
    }
    expect(deviceId(a.identity.publicKey)).toBe(a.id);
  });

  it("refuses an unsigned or forged WebSocket upgrade with 401", async () => {
    const path = "/v1/relay/ws";
    /** The provider's answer to an upgrade with `headers`, which must not open a socket. */
    const upgrade = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const socket = new WebSocket(provider.url.replace(/^http/, "ws") + path, { headers });
        socket.on("open", () => {
          socket.close();
          reject(new Error("the upgrade was let through"));
        });
        socket.on("unexpected-response", (request, response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            request.destroy();
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
          });
        });
        socket.on("error", reject);
      });
    expect(await upgrade({})).toEqual({
      status: 401,
      body: { error: "unauthorized", message: "missing or malformed signature-input header" },
    });
    // Another key signs an upgrade that names an active device as its signer.
    const [device] = devices as [TestDevice];
    const other = newDeviceIdentity();
    const forged = signRequest(other, { method: "GET", path, body: new Uint8Array() });
    forged["signature-input"] = (forged["signature-input"] as string).replace(deviceId(other.publicKey), device.id);
    const { base } = readRequestSignature({ method: "GET", target: path, headers: forged, body: new Uint8Array() });
    forged.signature = `sig1=:${Buffer.from(ed25519.sign(base, other.secretKey)).toString("base64")}:`;
    expect(await upgrade(forged)).toEqual({
      status: 401,
      body: { error: "unauthorized", message: "request signature does not verify" },
    });
  });

  it("a peer key the relay substitutes is caught by its device id", async () => {
    const [a, b] = devices as [TestDevice, TestDevice, TestDevice];
    const impostor = (devices[2] as TestDevice).identity.publicKey;
    await expect(
      runOverRelay(frost.ed25519.keygen({ sid: new Uint8Array(32), index: 0, n: 2, t: 2 }), {
        identity: a.identity,
        sid: new Uint8Array(32),
        index: 0,
        peers: [{ index: 1, deviceId: b.id, identityKey: impostor }],
        channel: { send: async () => {}, receive: async () => [], close() {} },
      }),
    ).rejects.toThrow(/not that device's/);
  });
});
