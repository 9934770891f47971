/**
 * Hybrid wallets through the real HTTP API, on PGlite and PostgreSQL: the device (party 0) and
 * the provider (party 1) make a key; the provider co-signs only what the wallet's policy allows,
 * from its own reading of the bytes; sessions resist stale rounds, retries and other accounts.
 */

import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import {
  buildEthereumTransaction,
  buildPsbt,
  buildSolTransfer,
  ethereumAddress,
  ethereumSigningDigest,
  finalizePsbt,
  p2trOutput,
  p2wpkhOutput,
  signPsbt,
  solanaAddress,
} from "@keyshard/chains";
import { type FrostShare, frost, type ShareOf, scheme } from "@keyshard/mpc";
import { driveSession, toWire } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { Transaction } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { expireIdleSessions, SESSION_IDLE_MS } from "../src/sessions/driver.js";
import { signatureMade } from "../src/sessions/outcome.js";
import {
  activeDevice,
  createWallet,
  type DatabaseKind,
  drive,
  type SessionReply,
  scrapeMetrics,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

describe.each<DatabaseKind>(["pglite", "postgres"])("hybrid wallets on %s", (kind) => {
  let provider: TestProvider;
  let device: TestDevice;
  let ethWallet: TestWallet<"ecdsa2p">;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
    device = await activeDevice(provider, "owner@example.com");
    ethWallet = await createWallet(device, "main", "ecdsa2p");
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const ethTransfer = (fields: Record<string, unknown> = {}) =>
    Buffer.from(
      buildEthereumTransaction({
        chainId: 1,
        nonce: 0,
        to: "0x00000000000000000000000000000000000b0b00",
        value: 10n ** 17n,
        gas: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
        ...fields,
      } as never),
    ).toString("hex");

  it("device and provider hold one ECDSA key; both sides agree on it", async () => {
    expect(ethWallet.publicKey).toBe(Buffer.from(scheme("ecdsa2p").publicKey(ethWallet.share)).toString("hex"));
    const list = await device.request("GET", "/v1/wallets");
    expect(list.body.wallets).toEqual([
      expect.objectContaining({ name: "main", scheme: "ecdsa2p", state: "active", publicKey: ethWallet.publicKey }),
    ]);
  });

  it("an allowed Ethereum transfer is co-signed, and the signature recovers to the wallet's address", async () => {
    const transaction = ethTransfer();
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: transaction,
      chainId: 1,
      path: "m/0/0",
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body).toMatchObject({ status: "signing", rule: "transfers", description: { action: "transfer" } });
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const digest = ethereumSigningDigest(hexToBytes(transaction));
    const party = scheme("ecdsa2p").sign(ethWallet.share, {
      sid: hexToBytes(session.sid),
      message: digest,
      path: "m/0/0",
    });
    const done = await drive(device, party, session);
    const signature = hexToBytes(done.signature as string);
    const recovered = secp256k1.Signature.fromBytes(signature.subarray(0, 64), "compact")
      .addRecoveryBit(signature[64] as number)
      .recoverPublicKey(digest)
      .toBytes(true);
    expect(ethereumAddress(recovered)).toBe(ethereumAddress(scheme("ecdsa2p").publicKey(ethWallet.share, "m/0/0")));
  });

  /** A party for `transaction` under a sid the device draws, with the first round it sends along. */
  const opened = (transaction: string, sid = crypto.getRandomValues(new Uint8Array(32))) => {
    const party = scheme("ecdsa2p").sign(ethWallet.share, {
      sid,
      message: ethereumSigningDigest(hexToBytes(transaction)),
    });
    const first = party.start();
    return { sid: bytesToHex(sid), party, first, opening: { sid: bytesToHex(sid), messages: toWire(first) } };
  };
  const requestCount = async () =>
    Number((await provider.context.db.query<{ n: string }>("SELECT count(*) AS n FROM sign_requests"))[0]?.n);

  it("the device's first round rides on the sign request: the reply answers it, and two more requests finish", async () => {
    const transaction = ethTransfer({ nonce: 400 });
    const own = opened(transaction);
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: transaction,
      chainId: 1,
      sessions: [own.opening],
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    expect(session).toMatchObject({ sid: own.sid, round: 1, done: false });
    expect(session.messages).toHaveLength(1);
    const rounds: number[] = [];
    const done = await driveSession(
      own.party,
      session,
      async (round, messages) => {
        rounds.push(round);
        return (await device.request("POST", `/v1/sessions/${session.sessionId}/round`, { round, messages }))
          .body as unknown as SessionReply;
      },
      own.first,
    );
    expect(rounds).toEqual([1, 2]);
    const digest = ethereumSigningDigest(hexToBytes(transaction));
    expect(
      secp256k1.verify(
        hexToBytes(done.signature as string).subarray(0, 64),
        digest,
        scheme("ecdsa2p").publicKey(ethWallet.share),
        {
          prehash: false,
        },
      ),
    ).toBe(true);
  });

  it("first rounds that cannot be taken are refused, and the refused request is not kept", async () => {
    const before = await requestCount();
    const transaction = ethTransfer({ nonce: 401 });
    const ask = (sessions: unknown) =>
      device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
        chain: "ethereum",
        payload: transaction,
        chainId: 1,
        sessions,
      });
    const own = opened(transaction);
    // One round per signature: this request has one.
    expect((await ask([own.opening, opened(transaction).opening])).status).toBe(400);
    // Messages that claim to come from the provider.
    const forged = { sid: own.sid, messages: own.opening.messages.map((m) => ({ ...m, from: 1 })) };
    expect((await ask([forged])).status).toBe(400);
    // A first round for other bytes: the parties disagree on the message.
    const other = await ask([opened(ethTransfer({ nonce: 402 })).opening]);
    expect(other).toMatchObject({ status: 422, body: { error: "protocol-abort" } });
    expect(other.body.message).toMatch(/first round was refused: parties disagree on the message/);
    expect(await requestCount()).toBe(before);

    // A sid is used once: a second request under the same one is refused. (Its first round is
    // the one already sent: a device party does not start twice under one sid either.)
    expect((await ask([own.opening])).status).toBe(201);
    const reused = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: ethTransfer({ nonce: 403 }),
      chainId: 1,
      sessions: [own.opening],
    });
    expect(reused).toMatchObject({
      status: 409,
      body: { message: expect.stringMatching(/session id was used before/) },
    });
    expect(await requestCount()).toBe(before + 1);
  });

  /** A transfer with this nonce, co-signed; the signature checked against the wallet's key. */
  const signTransfer = async (nonce: number) => {
    const transaction = ethTransfer({ nonce });
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: transaction,
      chainId: 1,
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const digest = ethereumSigningDigest(hexToBytes(transaction));
    const party = scheme("ecdsa2p").sign(ethWallet.share, { sid: hexToBytes(session.sid), message: digest });
    const signature = hexToBytes((await drive(device, party, session)).signature as string);
    expect(
      secp256k1.verify(signature.subarray(0, 64), digest, scheme("ecdsa2p").publicKey(ethWallet.share), {
        prehash: false,
      }),
    ).toBe(true);
  };

  /** How many of the provider's ecdsa2p runs took a precomputation made ahead (`ahead`) or made their own. */
  const precomputedRuns = async (how: "ahead" | "in-run") => {
    const metrics = await scrapeMetrics(provider.url);
    return Number(metrics.match(new RegExp(`keyshard_ecdsa2p_sign_runs_total\\{precomputed="${how}"\\} (\\d+)`))?.[1]);
  };

  it("many concurrent signings on one wallet all complete", async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => signTransfer(100 + i)));
  });

  it("the last of a request's signatures marks it signed, also when two finish at once", async () => {
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: ethTransfer({ nonce: 300 }),
      chainId: 1,
    });
    const requestId = asked.body.requestId as string;
    // A second message to sign, as a PSBT with two inputs has.
    const { db } = provider.context;
    await db.query("INSERT INTO request_signatures (request_id, idx, message) VALUES ($1, 1, $2)", [
      requestId,
      new Uint8Array(32),
    ]);
    const [{ account_id: accountId }] = (await db.query<{ account_id: string }>(
      "SELECT account_id FROM sign_requests WHERE id = $1",
      [requestId],
    )) as [{ account_id: string }];
    // A FROST result is the signature's bytes: the run's outcome without running a protocol.
    const run = (messageIndex: number) => ({
      accountId,
      actor: device.id,
      requestId,
      messageIndex,
      scheme: "frost-ed25519" as const,
    });
    // The first run's transaction stays open while the second one finishes.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let firstDone = () => {};
    const firstSigned = new Promise<void>((r) => (firstDone = r));
    const first = db.transaction(async (tx) => {
      await signatureMade(provider.context, tx, run(0), new Uint8Array(64).fill(1));
      firstDone();
      await held;
    });
    await firstSigned;
    const second = db.transaction(async (tx) =>
      signatureMade(provider.context, tx, run(1), new Uint8Array(64).fill(2)),
    );
    await new Promise((r) => setTimeout(r, 50));
    release();
    await Promise.all([first, second]);
    const [request] = await db.query<{ status: string }>("SELECT status FROM sign_requests WHERE id = $1", [requestId]);
    expect(request?.status).toBe("signed");
  });

  it("signing runs take precomputations made ahead on a worker thread", async () => {
    const before = await precomputedRuns("ahead");
    // The worker refills the wallet's pool between signatures; its first start loads the code.
    for (let nonce = 200; nonce < 220 && (await precomputedRuns("ahead")) < before + 2; nonce++) {
      await signTransfer(nonce);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await precomputedRuns("ahead")).toBeGreaterThanOrEqual(before + 2);
    // The worker thread runs at a lower priority than the request path (Linux: per-thread nice values).
    if (process.platform === "linux") {
      const nice = readdirSync("/proc/self/task").map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      });
      expect(nice).toContain(10);
      expect(getPriority(process.pid)).toBe(0);
    }
    expect(await precomputedRuns("in-run")).toBeGreaterThanOrEqual(1);
  });

  it("a contract call is denied by default: no session starts, the decision is audited", async () => {
    const transaction = ethTransfer({ data: "0xdeadbeef", gas: 60_000n });
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: transaction,
      chainId: 1,
    });
    expect(asked.body).toMatchObject({ status: "denied", rule: null, description: { action: "contract-call" } });
    expect(asked.body.sessions).toBeUndefined();
    const audit = await device.request("GET", "/v1/audit");
    expect((audit.body.entries as { action: string }[]).map((e) => e.action)).toContain("request.denied");
    expect((await device.request("GET", "/v1/audit/verify")).body.ok).toBe(true);
  });

  it("stale rounds get 409, a retried round gets the same reply, another account gets 404", async () => {
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: ethTransfer({ nonce: 5 }),
      chainId: 1,
    });
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const party = scheme("ecdsa2p").sign(ethWallet.share, {
      sid: hexToBytes(session.sid),
      message: ethereumSigningDigest(hexToBytes(ethTransfer({ nonce: 5 }))),
    });
    const body = { round: 0, messages: toWire(party.start()) };
    const stranger = await activeDevice(provider, "stranger@example.com");
    expect((await stranger.request("POST", `/v1/sessions/${session.sessionId}/round`, body)).status).toBe(404);
    expect(
      (
        await stranger.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
          chain: "ethereum",
          payload: ethTransfer(),
          chainId: 1,
        })
      ).status,
    ).toBe(404);
    const first = await device.request("POST", `/v1/sessions/${session.sessionId}/round`, body);
    expect(first.status).toBe(200);
    const again = await device.request("POST", `/v1/sessions/${session.sessionId}/round`, body);
    expect(again.body).toEqual(first.body);
    const stale = await device.request("POST", `/v1/sessions/${session.sessionId}/round`, { round: 0, messages: [] });
    expect(stale.status).toBe(409);
  });

  /** A sign request for `payload`, its session started by the provider; `firstRound` sends the device's. */
  async function signing(payload: string) {
    const asked = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload,
      chainId: 1,
    });
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const party = scheme("ecdsa2p").sign(ethWallet.share, {
      sid: hexToBytes(session.sid),
      message: ethereumSigningDigest(hexToBytes(payload)),
    });
    const body = { round: 0, messages: toWire(party.start()) };
    const firstRound = async () => {
      const first = await device.request("POST", `/v1/sessions/${session.sessionId}/round`, body);
      expect(first.status).toBe(200);
    };
    return { requestId: asked.body.requestId as string, sessionId: session.sessionId, body, firstRound };
  }

  const sessionRow = async (id: string) =>
    (
      await provider.context.db.query<{ status: string; state: Uint8Array | null }>(
        "SELECT status, state FROM sessions WHERE id = $1",
        [id],
      )
    )[0];

  /** Moves the provider's clock on for the rest of this test only. */
  const later = (ms: number) => {
    provider.advance(ms);
    onTestFinished(() => provider.advance(-ms));
  };

  it("a session idle for over an hour fails on its next round, its state erased; the request signs again", async () => {
    const payload = ethTransfer({ nonce: 6 });
    const { requestId, sessionId, body, firstRound } = await signing(payload);
    await firstRound();
    expect((await sessionRow(sessionId))?.state).not.toBeNull();
    later(SESSION_IDLE_MS + 60_000);
    // Even the repeated first round, which would otherwise get its stored reply.
    const late = await device.request("POST", `/v1/sessions/${sessionId}/round`, body);
    expect(late.status).toBe(422);
    expect(late.body.message).toMatch(/no round came for over an hour; start a new one/);
    expect(await sessionRow(sessionId)).toEqual({ status: "failed", state: null });
    expect((await device.request("POST", `/v1/sessions/${sessionId}/round`, body)).status).toBe(409);
    expect((await device.request("GET", `/v1/sign-requests/${requestId}`)).body.status).toBe("failed");
    const aborted = (await device.request("GET", "/v1/audit")).body.entries as { action: string; details: never }[];
    expect(aborted.filter((e) => e.action === "session.aborted").map((e) => e.details)).toContainEqual(
      expect.objectContaining({ session: sessionId, reason: "no round came for over an hour" }),
    );
    // The device starts the request's signing again, and it completes.
    const again = await device.request("POST", `/v1/sign-requests/${requestId}/sign`);
    expect(again.status).toBe(200);
    const session = (again.body.sessions as SessionReply[])[0] as SessionReply;
    const party = scheme("ecdsa2p").sign(ethWallet.share, {
      sid: hexToBytes(session.sid),
      message: ethereumSigningDigest(hexToBytes(payload)),
    });
    expect((await drive(device, party, session)).signature).toMatch(/^[0-9a-f]+$/);
  });

  it("a failed request whose signing began over a day ago is not started again: a new one is decided anew", async () => {
    const { requestId, firstRound } = await signing(ethTransfer({ nonce: 9 }));
    await firstRound();
    later(24 * 3_600_000 + 60_000);
    await expireIdleSessions(provider.context);
    expect((await device.request("GET", `/v1/sign-requests/${requestId}`)).body.status).toBe("failed");
    const again = await device.request("POST", `/v1/sign-requests/${requestId}/sign`);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/signing began over a day ago; make a new request/);
  });

  it("the sweep fails sessions idle for an hour, and not those whose device sent a round within it", async () => {
    const idle = await signing(ethTransfer({ nonce: 7 }));
    await idle.firstRound();
    const active = await signing(ethTransfer({ nonce: 8 }));
    later(50 * 60_000);
    await active.firstRound(); // 50 minutes after it started
    later(20 * 60_000);
    expect(await expireIdleSessions(provider.context)).toBeGreaterThanOrEqual(1);
    expect(await sessionRow(idle.sessionId)).toEqual({ status: "failed", state: null });
    expect((await sessionRow(active.sessionId))?.status).toBe("running");
    expect((await device.request("GET", `/v1/sign-requests/${idle.requestId}`)).body.status).toBe("failed");
    expect(await expireIdleSessions(provider.context)).toBe(0);
  });

  it("a wrong-chain transaction and garbage are refused with a typed 400", async () => {
    const wrongChain = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: ethTransfer({ chainId: 5 }),
      chainId: 1,
    });
    expect(wrongChain).toMatchObject({ status: 400, body: { error: "transaction-wrong-network" } });
    const garbage = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: "02c0",
      chainId: 1,
    });
    expect(garbage.status).toBe(400);
  });

  it("a FROST Ed25519 wallet co-signs a Solana transfer", async () => {
    const wallet = await createWallet(device, "sol", "frost-ed25519");
    const address = solanaAddress(hexToBytes(wallet.publicKey));
    const message = buildSolTransfer({
      from: address,
      to: "Vote111111111111111111111111111111111111111",
      lamports: 1000n,
      recentBlockhash: "11111111111111111111111111111111",
    });
    const asked = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: Buffer.from(message).toString("hex"),
    });
    expect(asked.body).toMatchObject({ status: "signing", description: { chain: "solana", action: "transfer" } });
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const party = scheme("frost-ed25519").sign(wallet.share, { sid: hexToBytes(session.sid), message });
    const done = await drive(device, party, session);
    expect(ed25519.verify(hexToBytes(done.signature as string), message, hexToBytes(wallet.publicKey))).toBe(true);

    // Both FROST parties speak in round 1, so a first round sent with the request waits for round 0.
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const own = scheme("frost-ed25519").sign(wallet.share, { sid, message });
    const first = own.start();
    const again = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: Buffer.from(message).toString("hex"),
      sessions: [{ sid: bytesToHex(sid), messages: toWire(first) }],
    });
    const started = (again.body.sessions as SessionReply[])[0] as SessionReply;
    expect(started).toMatchObject({ sid: bytesToHex(sid), round: 0 });
    const signed = await drive(device, own, started, first);
    expect(ed25519.verify(hexToBytes(signed.signature as string), message, hexToBytes(wallet.publicKey))).toBe(true);
  });

  it("a Bitcoin PSBT gets one co-signed session per input the wallet owns, and finalizes", async () => {
    const taprootWallet = await createWallet(device, "btc-taproot", "frost-taproot");
    const path = "m/0/3";
    const ecdsaKey = scheme("ecdsa2p").publicKey(ethWallet.share, path);
    const internalKey = frost.secp256k1tr.internalKey(taprootWallet.share as FrostShare);
    const mine = p2wpkhOutput(ecdsaKey, "regtest");
    const payee = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), "regtest");
    const utxo = (script: Uint8Array, amount: bigint) => {
      const previous = new Transaction({ allowUnknownInputs: true });
      previous.addInput({ txid: crypto.getRandomValues(new Uint8Array(32)), index: 0 });
      previous.addOutput({ script, amount });
      return { txid: previous.id, vout: 0, amount, script, previousTransaction: previous.unsignedTx };
    };
    const psbt = buildPsbt({
      network: "regtest",
      inputs: [utxo(mine.script, 50_000n), utxo(mine.script, 30_000n)],
      outputs: [
        { address: payee.address, amount: 60_000n },
        { address: mine.address, amount: 19_000n },
      ],
    });

    /** The client side: one sign request for the PSBT, then each input's session as signPsbt asks for it. */
    async function cosigner(
      walletId: string,
      schemeName: "ecdsa2p" | "frost-taproot",
      share: ShareOf<"ecdsa2p" | "frost-taproot">,
      psbtBytes: Uint8Array,
      p?: string,
    ) {
      const asked = await device.request("POST", `/v1/wallets/${walletId}/sign-requests`, {
        chain: "bitcoin",
        network: "regtest",
        payload: Buffer.from(psbtBytes).toString("hex"),
        ...(p && { path: p }),
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      const sessions = asked.body.sessions as (SessionReply & { input: number })[];
      return {
        asked,
        async sign(digest: Uint8Array, input: number): Promise<Uint8Array> {
          const session = sessions.find((x) => x.input === input) as SessionReply;
          const party = scheme(schemeName).sign(share, {
            sid: hexToBytes(session.sid),
            message: digest,
            ...(p && { path: p }),
          });
          return hexToBytes((await drive(device, party, session)).signature as string);
        },
      };
    }

    const ecdsa = await cosigner(ethWallet.walletId, "ecdsa2p", ethWallet.share, psbt, path);
    expect(ecdsa.asked.body).toMatchObject({
      status: "signing",
      description: { chain: "bitcoin", transfers: [{ to: payee.address, value: "60000" }], fee: { value: "1000" } },
    });
    expect((ecdsa.asked.body.sessions as { input: number }[]).map((x) => x.input)).toEqual([0, 1]);
    const signed = await signPsbt(psbt, "regtest", {
      ecdsa: [
        {
          publicKey: ecdsaKey,
          async signDigest(digest, request) {
            const bytes = await ecdsa.sign(digest, (request as { input: number }).input);
            return {
              r: BigInt(`0x${Buffer.from(bytes.subarray(0, 32)).toString("hex")}`),
              s: BigInt(`0x${Buffer.from(bytes.subarray(32, 64)).toString("hex")}`),
              recovery: bytes[64] as number,
            };
          },
        },
      ],
    });
    expect(signed.signed).toEqual([0, 1]);
    expect(finalizePsbt(signed.psbt).txid).toMatch(/^[0-9a-f]{64}$/);
    const read = await device.request("GET", `/v1/sign-requests/${ecdsa.asked.body.requestId}`);
    expect(read.body).toMatchObject({ status: "signed", signatures: [{ input: 0 }, { input: 1 }] });

    const own = p2trOutput(internalKey, "regtest");
    const taprootPsbt = buildPsbt({
      network: "regtest",
      inputs: [{ ...utxo(own.script, 40_000n), internalKey }],
      outputs: [{ address: payee.address, amount: 39_000n }],
    });
    const taproot = await cosigner(taprootWallet.walletId, "frost-taproot", taprootWallet.share, taprootPsbt);
    const signedTaproot = await signPsbt(taprootPsbt, "regtest", {
      taproot: [
        { internalKey, signSchnorr: (digest, request) => taproot.sign(digest, (request as { input: number }).input) },
      ],
    });
    expect(signedTaproot.signed).toEqual([0]);
    expect(finalizePsbt(signedTaproot.psbt).txid).toMatch(/^[0-9a-f]{64}$/);

    // A PSBT spending nothing of the wallet's is refused.
    const foreign = await device.request("POST", `/v1/wallets/${taprootWallet.walletId}/sign-requests`, {
      chain: "bitcoin",
      network: "regtest",
      payload: Buffer.from(psbt).toString("hex"),
    });
    expect(foreign).toMatchObject({ status: 400, body: { error: "transaction-unsupported" } });

    // A BIP322 message moves nothing, so the default policy denies it; the provider reads it for
    // the wallet's own address at the path.
    const message = await device.request("POST", `/v1/wallets/${ethWallet.walletId}/sign-requests`, {
      chain: "bitcoin",
      kind: "message",
      network: "regtest",
      path,
      payload: Buffer.from("I own this").toString("hex"),
    });
    expect(message.body).toMatchObject({
      status: "denied",
      rule: null,
      description: { kind: "message", chain: "bitcoin", address: mine.address, encoding: "text", shown: "I own this" },
    });
  });
});
