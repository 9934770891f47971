/**
 * The two promises of the hybrid layout, attacked directly on PGlite and PostgreSQL:
 * - a thief holding the wallet device (its share and identity key) cannot get a transfer the
 *   policy denies or holds signed — not by asking, not by steering an allowed session to other
 *   bytes, not by replaying another session's messages, not by approving or loosening for itself;
 * - the provider alone — its database and master key, so its decrypted share — cannot sign.
 */
import { buildEthereumTransaction, ethereumSigningDigest } from "@keyshard/chains";
import {
  type Ecdsa2pShare,
  ecdsa2p,
  type FrostShare,
  frost,
  ProtocolAbort,
  runLocal,
  type SignResultOf,
  scheme,
  WALLET_DEVICE,
} from "@keyshard/mpc";
import { signApproval, toWire } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeDevice,
  addDevice,
  createWallet,
  type DatabaseKind,
  drive,
  type SessionReply,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const BOB = "0x00000000000000000000000000000000000b0b00" as const;
const EVE = "0x0000000000000000000000000000000000000e0e" as const;
const POLICY = [
  { name: "small-to-bob", when: { to: [BOB], maxAmount: "1000000000000000000" }, decision: "allow" },
  { name: "large", when: { action: ["transfer"] }, decision: "require-approvals", approvals: 1 },
];

const ethTransfer = (to: `0x${string}`, value: bigint, nonce = 0) =>
  buildEthereumTransaction({
    chainId: 1,
    nonce,
    to,
    value,
    gas: 21_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });

/** Whether a 65-byte r ‖ s ‖ v signature verifies for `digest` under `publicKey`. */
const verifies = (signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array) =>
  secp256k1.verify(signature.subarray(0, 64), digest, publicKey, { prehash: false, format: "compact", lowS: false });

describe.each<DatabaseKind>(["pglite", "postgres"])("attacks on %s", (kind) => {
  let provider: TestProvider;
  let thief: TestDevice;
  let wallet: TestWallet<"ecdsa2p">;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
    thief = await activeDevice(provider, "victim@example.com");
    wallet = await createWallet(thief, "main", "ecdsa2p", POLICY);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const ask = (transaction: Uint8Array) =>
    thief.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transaction),
      chainId: 1,
    });

  // This one caught a real hole: a rule about destinations and amounts once matched a contract
  // call with no transfers at all, vacuously.
  it("a denied transfer gets no session, and cannot be started or approved by the same device", async () => {
    const denied = await ask(
      buildEthereumTransaction({
        chainId: 1,
        nonce: 0,
        to: EVE,
        value: 0n,
        data: "0xa9059cbb",
        gas: 60_000n,
        maxFeePerGas: 1n,
        maxPriorityFeePerGas: 1n,
      }),
    );
    expect(denied.body, JSON.stringify(denied.body)).toMatchObject({ status: "denied" });
    expect(denied.body.sessions).toBeUndefined();
    const id = denied.body.requestId as string;
    expect((await thief.request("POST", `/v1/sign-requests/${id}/sign`)).status).toBe(409);

    const held = await ask(ethTransfer(EVE, 10n ** 19n));
    expect(held.body).toMatchObject({ status: "held", rule: "large" });
    const heldId = held.body.requestId as string;
    const approval = signApproval(thief.identity, heldId, ethTransfer(EVE, 10n ** 19n));
    expect(
      (await thief.request("POST", `/v1/sign-requests/${heldId}/approve`, { signature: bytesToHex(approval) })).status,
    ).toBe(403);
    expect((await thief.request("POST", `/v1/sign-requests/${heldId}/sign`)).status).toBe(409);
    // Loosening the policy needs the TOTP the thief does not have (here: not even enrolled).
    const loosen = await thief.request("POST", `/v1/wallets/${wallet.walletId}/policy`, {
      policy: [{ name: "all", when: {}, decision: "allow" }],
      totp: "123456",
    });
    expect(loosen.status).toBe(403);
    // A second device the thief adds (with the mailbox too) cannot approve before the policy delay.
    const accomplice = await addDevice(provider, thief, "victim@example.com");
    const byAccomplice = signApproval(accomplice.identity, heldId, ethTransfer(EVE, 10n ** 19n));
    expect(
      (await accomplice.request("POST", `/v1/sign-requests/${heldId}/approve`, { signature: bytesToHex(byAccomplice) }))
        .status,
    ).toBe(403);
  });

  it("an allowed session steered to other bytes yields no signature over them", async () => {
    const allowed = ethTransfer(BOB, 1n, 1);
    const wanted = ethTransfer(EVE, 10n ** 19n, 1);
    const asked = await ask(allowed);
    expect(asked.body).toMatchObject({ status: "signing" });
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const wantedDigest = ethereumSigningDigest(wanted);
    const party = scheme("ecdsa2p").sign(wallet.share, {
      sid: hexToBytes(session.sid),
      message: wantedDigest,
    });
    let signature: Uint8Array | undefined;
    try {
      signature = hexToBytes((await drive(thief, party, session)).signature as string);
    } catch (e) {
      expect(String(e)).toMatch(/422|abort/);
    }
    const publicKey = hexToBytes(wallet.publicKey);
    if (signature !== undefined) expect(verifies(signature, wantedDigest, publicKey)).toBe(false);
    // The provider signed at most what it decided on, and nothing is marked signed for other bytes.
    const read = await thief.request("GET", `/v1/sign-requests/${asked.body.requestId}`);
    for (const s of read.body.signatures as { signature: string | null }[])
      if (s.signature !== null) expect(verifies(hexToBytes(s.signature), wantedDigest, publicKey)).toBe(false);
  });

  it("messages from one session are refused in another", async () => {
    const first = await ask(ethTransfer(BOB, 1n, 2));
    const second = await ask(ethTransfer(BOB, 1n, 3));
    const one = (first.body.sessions as SessionReply[])[0] as SessionReply;
    const two = (second.body.sessions as SessionReply[])[0] as SessionReply;
    const party = scheme("ecdsa2p").sign(wallet.share, {
      sid: hexToBytes(one.sid),
      message: ethereumSigningDigest(ethTransfer(BOB, 1n, 2)),
    });
    const replayed = await thief.request("POST", `/v1/sessions/${two.sessionId}/round`, {
      round: 0,
      messages: toWire(party.start()),
    });
    expect([400, 422]).toContain(replayed.status);
  });

  it("the provider's decrypted share alone signs nothing: without the device's share every run fails", async () => {
    const [row] = await provider.context.db.query<{ share: Uint8Array }>("SELECT share FROM wallets WHERE id = $1", [
      wallet.walletId,
    ]);
    const sealed = new Uint8Array((row as { share: Uint8Array }).share);
    const providerShare = scheme("ecdsa2p").decodeShare(
      provider.context.masterKey.open(sealed, `share:${wallet.walletId}`),
    ) as Ecdsa2pShare;
    const digest = ethereumSigningDigest(ethTransfer(EVE, 10n ** 20n, 9));
    // The best an insider can do is play the device with a share of its own making.
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const forged = runLocal([ecdsa2p.keygen({ sid, index: 0 }), ecdsa2p.keygen({ sid, index: 1 })])[0] as Ecdsa2pShare;
    const signSid = crypto.getRandomValues(new Uint8Array(32));
    let signature: Uint8Array | undefined;
    try {
      const results = runLocal([
        ecdsa2p.sign(forged, { sid: signSid, messageHash: digest }),
        ecdsa2p.sign(providerShare, { sid: signSid, messageHash: digest }),
      ]);
      signature = scheme("ecdsa2p").signatureBytes((results[0] ?? results[1]) as SignResultOf<"ecdsa2p">);
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolAbort);
    }
    if (signature !== undefined) expect(verifies(signature, digest, hexToBytes(wallet.publicKey))).toBe(false);

    // The same for a FROST wallet: the provider's share with a made-up device share.
    const device = await activeDevice(provider, "frost-insider@example.com");
    const frostWallet = await createWallet(device, "sol", "frost-ed25519");
    const [frostRow] = await provider.context.db.query<{ share: Uint8Array }>(
      "SELECT share FROM wallets WHERE id = $1",
      [frostWallet.walletId],
    );
    const providerFrost = scheme("frost-ed25519").decodeShare(
      provider.context.masterKey.open(
        new Uint8Array((frostRow as { share: Uint8Array }).share),
        `share:${frostWallet.walletId}`,
      ),
    ) as FrostShare;
    const keygenSid = crypto.getRandomValues(new Uint8Array(32));
    const madeUp = runLocal([0, 1].map((index) => frost.ed25519.keygen({ sid: keygenSid, index, n: 2, t: 2 })))[
      WALLET_DEVICE
    ] as FrostShare;
    const message = new TextEncoder().encode("move everything");
    const frostSid = crypto.getRandomValues(new Uint8Array(32));
    let frostSignature: Uint8Array | undefined;
    try {
      const results = runLocal([
        frost.ed25519.sign(madeUp, { sid: frostSid, message, signers: [0, 1] }),
        frost.ed25519.sign(providerFrost, { sid: frostSid, message, signers: [0, 1] }),
      ]);
      frostSignature = (results[1] ?? results[0]) as Uint8Array;
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolAbort);
    }
    if (frostSignature !== undefined)
      expect(ed25519.verify(frostSignature, message, hexToBytes(frostWallet.publicKey))).toBe(false);
  });
});
