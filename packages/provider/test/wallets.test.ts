/**
 * Hybrid wallets through the real HTTP API, on PGlite and PostgreSQL: the device (party 0) and
 * the provider (party 1) make a key; the provider co-signs only what the wallet's policy allows,
 * from its own reading of the bytes; sessions resist stale rounds, retries and other accounts.
 */

import {
  buildEthereumTransaction,
  buildSolTransfer,
  ethereumAddress,
  ethereumSigningDigest,
  solanaAddress,
} from "@keyshard/chains";
import { scheme, toWire } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeDevice,
  createWallet,
  type DatabaseKind,
  drive,
  type SessionReply,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

describe.each<DatabaseKind>(["pglite", "postgres"])("hybrid wallets on %s", (kind) => {
  let provider: TestProvider;
  let device: TestDevice;
  let ethWallet: TestWallet;
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
  });
});
