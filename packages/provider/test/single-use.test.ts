/**
 * Single use on the provider, on PGlite and PostgreSQL. Its parties claim their sid before they
 * are made — two-party sessions of every kind, and its party in relayed runs — so neither a
 * device nor the relay can have it take part twice under one sid. And a saved party state is
 * consumed under its row's lock: two requests that deliver the same round at once do not both
 * run the party from it (on PGlite's one connection they queue anyway; PostgreSQL runs them side
 * by side, and the lock is what stops them).
 */
import { buildSolTransfer, ethereumSigningDigest, solanaAddress } from "@keyshard/chains";
import { type Party, type ShareOf, type SignResultOf, scheme } from "@keyshard/mpc";
import { driveSession, type RelayChannel, toWire, type WireMessage } from "@keyshard/transport";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refusal } from "../src/http/errors.js";
import { advanceProviderParty, startProviderParty } from "../src/relay/provider-party.js";
import { createRelaySession, postEnvelopes, readEnvelopes } from "../src/relay/relay.js";
import {
  createWallet,
  type DatabaseKind,
  deviceGroup,
  ethereumTransfer,
  runMemberDevices,
  type SessionReply,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
  type WalletMember,
} from "./harness.js";

type Member = WalletMember;

const solTransfer = (publicKey: string, lamports: bigint) =>
  buildSolTransfer({
    from: solanaAddress(hexToBytes(publicKey)),
    to: "Vote111111111111111111111111111111111111111",
    lamports,
    recentBlockhash: "11111111111111111111111111111111",
  });

describe.each<DatabaseKind>(["pglite", "postgres"])("single use on %s", (kind) => {
  let provider: TestProvider;
  let d0: TestDevice;
  let d1: TestDevice;
  let accountId: string;
  beforeAll(async () => {
    // Devices join without the account-change wait (tested in account-changes.test.ts), so the
    // clock the relay's sockets sign with stays the provider's.
    provider = await startTestProvider(kind, { accountChangeDelayMs: 0 });
    [d0, d1] = (await deviceGroup(provider, "single-use@example.com", 2)) as [TestDevice, TestDevice];
    const [row] = await provider.context.db.query<{ account_id: string }>(
      "SELECT account_id FROM devices WHERE id = $1",
      [d0.id],
    );
    accountId = row?.account_id as string;
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const sidOf = async (sql: string, params: unknown[]) => {
    const [row] = await provider.context.db.query<{ sid: Uint8Array }>(sql, params);
    if (row === undefined) throw new Error("no such run");
    return bytesToHex(new Uint8Array(row.sid));
  };

  it("a two-party session's sid, of any kind, is refused again before the provider's party is made", async () => {
    const wallet = await createWallet(d0, "sol", "frost-ed25519");
    const keygenSid = await sidOf("SELECT sid FROM sessions WHERE wallet_id = $1 AND kind = 'keygen'", [
      wallet.walletId,
    ]);
    const refresh = await d0.request("POST", `/v1/wallets/${wallet.walletId}/key-changes`, {});
    expect(refresh.status, JSON.stringify(refresh.body)).toBe(201);
    const refreshSid = (refresh.body.session as SessionReply).sid;

    const message = solTransfer(wallet.publicKey, 1000n);
    const opening = (sid: string) => {
      const party = scheme("frost-ed25519").sign(wallet.share, { sid: hexToBytes(sid), message });
      return { sid, messages: toWire(party.start()) };
    };
    const ask = (sessions: unknown[]) =>
      d0.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
        chain: "solana",
        payload: bytesToHex(message),
        sessions,
      });
    // The device names the sid of the wallet's key generation, then of its refresh.
    for (const sid of [keygenSid, refreshSid])
      expect(await ask([opening(sid)])).toMatchObject({
        status: 409,
        body: { message: expect.stringMatching(/session id was used before/) },
      });
    const fresh = opening(bytesToHex(crypto.getRandomValues(new Uint8Array(32))));
    expect((await ask([fresh])).status).toBe(201);
    expect((await ask([fresh])).status).toBe(409);
    const sessions = await provider.context.db.query<{ kind: string }>(
      "SELECT kind FROM sessions WHERE wallet_id = $1 ORDER BY updated_ms",
      [wallet.walletId],
    );
    expect(sessions.map((s) => s.kind)).toEqual(["keygen", "refresh", "sign"]);
  });

  /** The hybrid ecdsa2p wallet of the next tests, and the sid of its signing session. */
  let eth: TestWallet<"ecdsa2p">;
  let ethSid: string;

  it("two requests with the same round at once: one runs it, the other is refused, and the session completes", async () => {
    eth = await createWallet(d0, "eth", "ecdsa2p");
    const wallet = eth;
    const transaction = ethereumTransfer(0);
    const asked = await d0.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transaction),
      chainId: 1,
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    ethSid = session.sid;
    const digest = ethereumSigningDigest(transaction);
    const party = scheme("ecdsa2p").sign(wallet.share, { sid: hexToBytes(session.sid), message: digest });
    const path = `/v1/sessions/${session.sessionId}/round`;
    const statuses: number[][] = [];
    // Every round goes twice at once, as two bodies that differ in their bytes only (so neither is
    // a retry of the other, which would get the stored reply).
    const done = await driveSession(party, session, async (round: number, messages: WireMessage[]) => {
      const replies = await Promise.all([
        d0.request("POST", path, { round, messages }),
        d0.request("POST", path, { messages, round }),
      ]);
      statuses.push(replies.map((r) => r.status).sort());
      const ran = replies.find((r) => r.status === 200);
      if (ran === undefined) throw new Error(`round ${round}: ${JSON.stringify(replies.map((r) => r.body))}`);
      return ran.body as unknown as SessionReply;
    });
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    for (const pair of statuses) expect(pair).toEqual([200, 409]);
    const signature = hexToBytes(done.signature as string);
    expect(
      secp256k1.verify(signature.subarray(0, 64), digest, scheme("ecdsa2p").publicKey(wallet.share), {
        prehash: false,
      }),
    ).toBe(true);
    expect((await d0.request("GET", `/v1/sign-requests/${asked.body.requestId}`)).body.status).toBe("signed");
  });

  it("a used sid is refused before the provider's party answers the device's first round; a refused round spends its sid", async () => {
    // A first round the provider's party would refuse (it was made for another sid and other
    // bytes): under a used sid it is never handled, so the answer is 409, not the party's 422.
    const other = scheme("ecdsa2p").sign(eth.share, {
      sid: crypto.getRandomValues(new Uint8Array(32)),
      message: new Uint8Array(32).fill(7),
    });
    const messages = toWire(other.start());
    const transaction = ethereumTransfer(1);
    const ask = (sid: string) =>
      d0.request("POST", `/v1/wallets/${eth.walletId}/sign-requests`, {
        chain: "ethereum",
        payload: bytesToHex(transaction),
        chainId: 1,
        sessions: [{ sid, messages }],
      });
    expect(await ask(ethSid)).toMatchObject({ status: 409, body: { error: "conflict" } });
    // A sid that another replica used (this process never made a party under it).
    const elsewhere = crypto.getRandomValues(new Uint8Array(32));
    await provider.context.db.query(
      `INSERT INTO sessions (id, account_id, wallet_id, kind, sid, round, status, updated_ms)
       VALUES ($1, $2, $3, 'sign', $4, 2, 'done', $5)`,
      [crypto.randomUUID(), accountId, eth.walletId, elsewhere, provider.now()],
    );
    expect(await ask(bytesToHex(elsewhere))).toMatchObject({ status: 409, body: { error: "conflict" } });
    // The same first round under a new sid reaches the party, which refuses it. The request is
    // not kept, but the sid is: the party ran under it.
    const refused = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    expect(await ask(refused)).toMatchObject({ status: 422, body: { error: "protocol-abort" } });
    const kept = await provider.context.db.query<{ status: string; sign_request_id: string | null }>(
      "SELECT status, sign_request_id FROM sessions WHERE sid = $1",
      [hexToBytes(refused)],
    );
    expect(kept).toEqual([{ status: "failed", sign_request_id: null }]);
    expect(await ask(refused)).toMatchObject({ status: 409, body: { error: "conflict" } });
  });

  describe("the provider's party in relayed runs", () => {
    let walletId: string;
    let members: Member[];
    let shares: ShareOf<"dkls23">[];

    const runDevices = <T>(
      relay: { relayId: string; sid: string },
      parties: number[],
      party: (index: number, sid: Uint8Array) => Party<T>,
      channelOf?: (device: TestDevice) => RelayChannel,
    ) => runMemberDevices(provider, [d0, d1], relay, members, parties, party, channelOf);

    /** A dkls23 signature by d1 and the provider: the request, and its relayed run. */
    async function askSignature(nonce: number) {
      const transaction = ethereumTransfer(nonce);
      const asked = await d1.request("POST", `/v1/wallets/${walletId}/sign-requests`, {
        chain: "ethereum",
        payload: bytesToHex(transaction),
        chainId: 1,
        signers: [d1.id],
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      const relay = (asked.body.relays as { relayId: string; sid: string; parties: number[] }[])[0];
      if (relay === undefined) throw new Error("no relayed run");
      return { requestId: asked.body.requestId as string, relay, digest: ethereumSigningDigest(transaction) };
    }

    beforeAll(async () => {
      const created = await d0.request("POST", "/v1/wallets", {
        name: "team",
        scheme: "dkls23",
        members: [d0.id, d1.id],
        threshold: 2,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const body = created.body as { walletId: string; relayId: string; sid: string; members: Member[] };
      walletId = body.walletId;
      members = body.members;
      shares = await runDevices(body, [0, 1, 2], (index, sid) => scheme("dkls23").keygen(sid, index, { t: 2, n: 3 }));
      const publicKey = bytesToHex(scheme("dkls23").publicKey(shares[0] as ShareOf<"dkls23">));
      for (const d of [d0, d1])
        expect((await d.request("POST", `/v1/wallets/${walletId}/confirm`, { publicKey })).status).toBe(200);
    });

    it("claims its sid: a relay session naming one it ran under starts nothing, and devices cannot name one", async () => {
      const { requestId, relay } = await askSignature(1);
      const ctx = provider.context;
      const signSid = await sidOf("SELECT sid FROM relay_parties WHERE relay_id = $1", [relay.relayId]);
      expect(signSid).toBe(relay.sid);
      const keygenSid = await sidOf("SELECT sid FROM relay_parties WHERE wallet_id = $1 AND kind = 'keygen'", [
        walletId,
      ]);
      const made: Uint8Array[] = [];
      for (const used of [signSid, keygenSid]) {
        const started = ctx.db.transaction(async (tx) => {
          const replayed = await createRelaySession(
            ctx,
            tx,
            { id: d1.id, accountId },
            { participants: [d1.id], purpose: "a replay", withProvider: true },
          );
          await startProviderParty(
            ctx,
            tx,
            {
              relay: { ...replayed, sid: hexToBytes(used) },
              accountId,
              walletId,
              kind: "sign",
              signRequestId: requestId,
              messageIndex: 0,
              members: members.map((m) => m.deviceId),
              parties: relay.parties,
              partyIndex: 2,
            },
            (sid) => {
              made.push(sid);
              return scheme("dkls23").sign(shares[1] as ShareOf<"dkls23">, {
                sid,
                message: new Uint8Array(32),
                signers: relay.parties,
              });
            },
          );
        });
        // Refused as a client sees it: the status the HTTP layer gives the domain's refusal.
        await expect(started.catch(refusal)).resolves.toMatchObject({
          status: 409,
          message: expect.stringMatching(/has taken part in a run under this session id/),
        });
      }
      expect(made).toEqual([]);
      expect(await ctx.db.query("SELECT id FROM relay_sessions WHERE purpose = 'a replay'")).toEqual([]);

      // A device opens relay sessions, but the relay draws their sids.
      const chosen = await d1.request("POST", "/v1/relay", {
        participants: [d0.id, d1.id],
        purpose: "mine",
        sid: signSid,
      });
      expect(chosen.status).toBe(400);
    });

    it("two deliveries of the same round at once run the provider's party once; the signature completes", async () => {
      const { requestId, relay, digest } = await askSignature(2);
      const ctx = provider.context;
      // Each round the device posts is handed to the provider's party twice at once, as two
      // replicas woken by the same post would.
      const racing = (device: TestDevice): RelayChannel => {
        let cursor = 0;
        const self = { id: device.id, accountId };
        return {
          async send(envelopes) {
            await postEnvelopes(ctx, relay.relayId, self, envelopes);
            await Promise.all([
              advanceProviderParty(ctx, relay.relayId, device.id),
              advanceProviderParty(ctx, relay.relayId, device.id),
            ]);
          },
          async receive() {
            await new Promise((r) => setTimeout(r, 20));
            const got = await readEnvelopes(ctx.db, relay.relayId, device.id, cursor);
            for (const item of got) cursor = Math.max(cursor, item.id);
            return got.map((item) => item.envelope);
          },
          close() {},
        };
      };
      const [result] = await runDevices(
        relay,
        relay.parties,
        (index, sid) =>
          scheme("dkls23").sign(shares[index] as ShareOf<"dkls23">, { sid, message: digest, signers: relay.parties }),
        racing,
      );
      const signature = scheme("dkls23").signatureBytes(result as SignResultOf<"dkls23">);
      const recovered = secp256k1.Signature.fromBytes(signature.subarray(0, 64), "compact")
        .addRecoveryBit(signature[64] as number)
        .recoverPublicKey(digest);
      expect(recovered.toBytes(true)).toEqual(scheme("dkls23").publicKey(shares[0] as ShareOf<"dkls23">));
      // The provider sent each of its rounds once, and its run ended as it should.
      const sent = await ctx.db.query<{ envelope: string }>(
        "SELECT envelope FROM relay_envelopes WHERE relay_id = $1 AND from_device = $2 ORDER BY id",
        [relay.relayId, ctx.identityId],
      );
      const rounds = sent.map((r) => (JSON.parse(r.envelope) as { round: number }).round);
      expect(rounds).toEqual([...new Set(rounds)].sort((a, b) => a - b));
      const [party] = await ctx.db.query<{ status: string }>("SELECT status FROM relay_parties WHERE relay_id = $1", [
        relay.relayId,
      ]);
      expect(party?.status).toBe("done");
      expect((await d1.request("GET", `/v1/sign-requests/${requestId}`)).body.status).toBe("signed");
    });
  });
});
