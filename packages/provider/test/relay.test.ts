/**
 * M-of-N among an account's devices with the provider only as the relay, on PGlite and
 * PostgreSQL: three devices make a 2-of-3 key (FROST Ed25519, DKLs23 ECDSA) and two of them sign,
 * two over WebSocket and one over the HTTP fallback. The provider stores only sealed envelopes;
 * it refuses posts in another device's name, to outsiders, and reads by other accounts. The
 * WebSocket's first frame authenticates it: a socket that sends none in time, sends anything
 * before its answer, replays one, or signs with another key, a stale clock, a revoked device or
 * another path is closed with nothing relayed.
 */
import { compactSignature, dkls23, frost, type Party } from "@keyshard/mpc";
import {
  authenticationFrame,
  deviceId,
  httpRelayChannel,
  newDeviceIdentity,
  POLICY_VIOLATION_CLOSE_CODE,
  REVOKED_CLOSE_CODE,
  type RelayChannel,
  type RelayPeer,
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
import { REQUEST_WINDOW_MS } from "../src/http/plugins/auth.js";
import {
  activeDevice,
  bareRelayUpgrade,
  type DatabaseKind,
  deviceGroup,
  relaySocket,
  startTestProvider,
  type TestDevice,
  type TestProvider,
} from "./harness.js";

/** The wait for a socket's authentication here: short, so that its end comes soon. */
const AUTHENTICATION_WAIT_MS = 1_500;

describe.each<DatabaseKind>(["pglite", "postgres"])("relay on %s", (kind) => {
  let provider: TestProvider;
  let devices: TestDevice[];
  /** While set, the provider holds every authentication frame's check until it resolves. */
  let holdChecks: Promise<void> | undefined;
  beforeAll(async () => {
    // Devices join without the account-change wait (tested in account-changes.test.ts), so the
    // clock the relay's sockets sign with stays the provider's.
    provider = await startTestProvider(kind, {
      accountChangeDelayMs: 0,
      relaySockets: { authenticationWaitMs: AUTHENTICATION_WAIT_MS, beforeCheck: async () => holdChecks },
    });
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

  /** A socket to the relay with nothing sent yet, and a wait until a frame of `type` has come or it closed. */
  async function rawSocket() {
    const opened = await relaySocket(provider);
    return { ...opened, until: (type: string) => opened.next((f) => f.type === type) };
  }

  /** What the relay does with a socket whose first frame is `frame`: it must close it with `reason`. */
  async function refusedFirstFrame(
    frame: string | Uint8Array,
    reason: RegExp | string,
    code = POLICY_VIOLATION_CLOSE_CODE,
  ): Promise<void> {
    const { socket, frames, closed, until } = await rawSocket();
    socket.send(frame);
    await until("authenticated");
    expect(frames).toEqual([]);
    expect(await closed).toEqual({ code, reason: typeof reason === "string" ? reason : expect.stringMatching(reason) });
  }

  /** A session from a to b with one envelope of a's for b, sealed but not posted. */
  async function sessionWithEnvelope() {
    const [a, b] = devices as [TestDevice, TestDevice, TestDevice];
    const opened = await a.request("POST", "/v1/relay", { participants: [a.id, b.id], purpose: "socket checks" });
    const relayId = opened.body.relayId as string;
    const sid = hexToBytes(opened.body.sid as string);
    const envelope = sealEnvelope(a.identity, b.identity.publicKey, { sid, round: 0 }, new Uint8Array([1]));
    const relayedToB = async () =>
      (await b.request("GET", `/v1/relay/${relayId}/envelopes?after=0`)).body.envelopes as unknown[];
    return { a, relayId, envelope, relayedToB };
  }

  it("authenticates a socket by its first frame, and then serves it", async () => {
    const [a] = devices as [TestDevice];
    const { socket, frames, until, closed } = await rawSocket();
    socket.send(authenticationFrame(a.identity));
    await until("authenticated");
    expect(frames).toEqual([{ type: "authenticated" }]);
    socket.send(JSON.stringify({ type: "watch", id: 3 }));
    await until("watching");
    expect(frames.at(-1)).toEqual({ type: "watching", id: 3 });
    // Authenticating again is a breach, not a way to change devices on the same socket, and
    // nothing sent behind it is acted on while the socket closes.
    const { relayId, envelope, relayedToB } = await sessionWithEnvelope();
    socket.send(authenticationFrame(a.identity));
    socket.send(JSON.stringify({ type: "send", id: 4, relayId, envelopes: [envelope] }));
    await until("stored");
    expect(frames.at(-1)).toEqual({ type: "watching", id: 3 });
    expect(await closed).toEqual({ code: POLICY_VIOLATION_CLOSE_CODE, reason: "the socket is already authenticated" });
    expect(await relayedToB()).toEqual([]);
  });

  it("closes a socket that sends no authentication within the wait, and keeps one that did", async () => {
    const [a] = devices as [TestDevice];
    const authenticated = await rawSocket();
    authenticated.socket.send(authenticationFrame(a.identity));
    await authenticated.until("authenticated");
    const started = Date.now();
    const { frames, closed } = await rawSocket();
    expect(await closed).toEqual({
      code: POLICY_VIOLATION_CLOSE_CODE,
      reason: `no authentication frame within ${AUTHENTICATION_WAIT_MS / 1000} s`,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(AUTHENTICATION_WAIT_MS - 100);
    expect(frames).toEqual([]);
    // Opened before the other, the authenticated socket is past its wait too, and still served.
    authenticated.socket.send(JSON.stringify({ type: "watch", id: 5 }));
    expect(await authenticated.until("watching")).toEqual({ type: "watching", id: 5 });
    authenticated.socket.close();
  });

  it("closes a socket whose first frame is not its authentication, and relays nothing of it", async () => {
    const { relayId, envelope, relayedToB } = await sessionWithEnvelope();
    await refusedFirstFrame(
      JSON.stringify({ type: "send", id: 1, relayId, envelopes: [envelope] }),
      /^the first frame must be/,
    );
    // Nor does a frame sent behind the authentication, before its answer, reach the relay: the
    // check is held until the socket has been refused.
    const [a] = devices as [TestDevice];
    const { socket, frames, closed, until } = await rawSocket();
    let release = () => {};
    holdChecks = new Promise<void>((resolve) => {
      release = resolve;
    });
    socket.send(authenticationFrame(a.identity));
    socket.send(JSON.stringify({ type: "send", id: 2, relayId, envelopes: [envelope] }));
    await until("stored");
    holdChecks = undefined;
    release();
    expect(await closed).toEqual({
      code: POLICY_VIOLATION_CLOSE_CODE,
      reason: "a frame came before the authentication was answered",
    });
    expect(frames).toEqual([]);
    expect(await relayedToB()).toEqual([]);
  });

  it("closes a socket whose authentication frame is malformed", async () => {
    const [a] = devices as [TestDevice];
    const valid = JSON.parse(authenticationFrame(a.identity)) as { type: string; headers: Record<string, string> };
    await refusedFirstFrame(JSON.stringify({ ...valid, id: 1 }), /^the first frame must be/);
    await refusedFirstFrame(JSON.stringify({ ...valid, type: "watch" }), /^the first frame must be/);
    await refusedFirstFrame(
      JSON.stringify({ ...valid, headers: { ...valid.headers, "x-extra": "1" } }),
      /^the authentication frame's headers must be exactly/,
    );
    await refusedFirstFrame(
      JSON.stringify({ ...valid, headers: { ...valid.headers, signature: 1 } }),
      /^the authentication frame's headers must be exactly/,
    );
    await refusedFirstFrame(
      new TextEncoder().encode(authenticationFrame(a.identity)),
      "the first frame must be JSON text",
    );
    await refusedFirstFrame(
      JSON.stringify({
        ...valid,
        headers: { ...valid.headers, signature: `${valid.headers.signature}${" ".repeat(2048)}` },
      }),
      "the authentication frame is over 2048 bytes",
    );
    // Its bytes are bounded, not its characters: three bytes each, these are under 2048 characters.
    await refusedFirstFrame(
      JSON.stringify({
        ...valid,
        headers: { ...valid.headers, signature: `${valid.headers.signature}${"€".repeat(600)}` },
      }),
      "the authentication frame is over 2048 bytes",
    );
    await refusedFirstFrame("{", "the first frame must be JSON");
  });

  it("refuses a replayed authentication frame", async () => {
    const [a] = devices as [TestDevice];
    const frame = authenticationFrame(a.identity);
    const first = await rawSocket();
    first.socket.send(frame);
    await first.until("authenticated");
    expect(first.frames).toEqual([{ type: "authenticated" }]);
    await refusedFirstFrame(frame, "request was replayed");
    first.socket.close();
  });

  it("refuses another key's signature, a stale one, a revoked device's and one of another path", async () => {
    const [a] = devices as [TestDevice];
    // Another key signs a frame that names an active device as its signer.
    const other = newDeviceIdentity();
    const forged = authenticationFrame(other).replace(deviceId(other.publicKey), a.id);
    await refusedFirstFrame(forged, "request signature does not verify");
    await refusedFirstFrame(
      authenticationFrame(a.identity, provider.now() - REQUEST_WINDOW_MS - 60_000),
      "request is stale or from the future",
    );
    // A signature of another request of the device's, carried as if it were the socket's.
    const elsewhere = signRequest(a.identity, { method: "GET", path: "/v1/relay", body: new Uint8Array() });
    await refusedFirstFrame(
      JSON.stringify({ type: "authenticate", headers: elsewhere }),
      "request signature does not verify",
    );
    const [phone, tablet] = await deviceGroup(provider, `revoked-${kind}@example.com`, 2);
    const revoked = await (phone as TestDevice).request("POST", `/v1/devices/${(tablet as TestDevice).id}/revoke`, {
      strandWallets: true,
    });
    expect(revoked.status).toBe(200);
    // Revoked while away, it is told so as a connected device is: by the revocation's close code.
    await refusedFirstFrame(
      authenticationFrame((tablet as TestDevice).identity),
      "device is revoked",
      REVOKED_CLOSE_CODE,
    );
  });

  it("tells a client that signs the upgrade, as old clients did, to update", async () => {
    const [a] = devices as [TestDevice];
    const signed = signRequest(a.identity, { method: "GET", path: "/v1/relay/ws", body: new Uint8Array() });
    for (const headers of [signed, { "x-keyshard-device": a.id, "x-keyshard-signature": "AA" }]) {
      const upgrade = await bareRelayUpgrade(provider, headers);
      expect(upgrade.status).toBe(101);
      expect(await upgrade.closeFrame()).toEqual({
        code: POLICY_VIOLATION_CLOSE_CODE,
        reason: "outdated client: update keyshard",
      });
      upgrade.destroy();
    }
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
