/**
 * t-of-n wallets among an account's devices, on PGlite and PostgreSQL: with the provider as a
 * party (it keeps a share and co-signs only what the policy allows, over the relay) and with the
 * provider only relaying (it keeps nothing and signs nothing). Devices confirm the key they got;
 * a wallet whose members disagree fails.
 */
import { buildEthereumTransaction, ethereumAddress, ethereumSigningDigest } from "@keyshard/chains";
import { type Party, type SchemeName, type Share, type ShareOf, type SignResultOf, scheme } from "@keyshard/mpc";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { expireRelayParties } from "../src/relay/provider-party.js";
import { RELAY_LIFETIME_MS } from "../src/relay/relay.js";
import {
  type DatabaseKind,
  deviceGroup,
  runMemberDevices,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type WalletMember,
} from "./harness.js";

type Member = WalletMember;

const transfer = (nonce: number, data?: `0x${string}`) =>
  buildEthereumTransaction({
    chainId: 1,
    nonce,
    to: "0x00000000000000000000000000000000000b0b00",
    value: data ? 0n : 10n ** 15n,
    gas: 60_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
    ...(data && { data }),
  });

describe.each<DatabaseKind>(["pglite", "postgres"])("t-of-n wallets on %s", (kind) => {
  let provider: TestProvider;
  let devices: TestDevice[];
  beforeAll(async () => {
    // Devices join without the account-change wait (tested in account-changes.test.ts), so the
    // clock the relay's sockets sign with stays the provider's.
    provider = await startTestProvider(kind, { accountChangeDelayMs: 0 });
    devices = await deviceGroup(provider, "quorum@example.com", 3);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const runDevices = <T>(
    relay: { relayId: string; sid: string },
    members: Member[],
    parties: number[],
    party: (index: number, sid: Uint8Array) => Party<T>,
  ) => runMemberDevices(provider, devices, relay, members, parties, party);

  async function createWallet(name: string, schemeName: SchemeName, members: TestDevice[], withProvider: boolean) {
    const created = await members[0]?.request("POST", "/v1/wallets", {
      name,
      scheme: schemeName,
      members: members.map((d) => d.id),
      threshold: 2,
      provider: withProvider,
    });
    expect(created?.status, JSON.stringify(created?.body)).toBe(201);
    const body = created?.body as { walletId: string; relayId: string; sid: string; members: Member[] };
    expect(body.members.map((m) => m.provider)).toEqual([...members.map(() => false), ...(withProvider ? [true] : [])]);
    const n = body.members.length;
    const shares = await runDevices(
      body,
      body.members,
      body.members.map((m) => m.index),
      (index, sid) => scheme(schemeName).keygen(sid, index, { t: 2, n }),
    );
    const publicKey = bytesToHex(scheme(schemeName).publicKey(shares[0] as Share));
    return { ...body, shares, publicKey };
  }

  async function confirmAll(walletId: string, members: TestDevice[], publicKey: string) {
    const states = [];
    for (const d of members)
      states.push((await d.request("POST", `/v1/wallets/${walletId}/confirm`, { publicKey })).body.state);
    return states;
  }

  it("dkls23 2-of-3 with the provider as a party: keygen, confirm, then a device and the provider sign", async () => {
    const [d0, d1] = devices as [TestDevice, TestDevice];
    const wallet = await createWallet("team", "dkls23", [d0, d1], true);
    expect(await confirmAll(wallet.walletId, [d0, d1], wallet.publicKey)).toEqual(["creating", "active"]);
    const listed = await d0.request("GET", "/v1/wallets");
    expect(listed.body.wallets).toContainEqual(
      expect.objectContaining({ id: wallet.walletId, state: "active", threshold: 2, publicKey: wallet.publicKey }),
    );

    const transaction = transfer(0);
    const asked = await d1.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transaction),
      chainId: 1,
      signers: [d1.id],
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body).toMatchObject({ status: "signing", rule: "transfers" });
    const [relay] = asked.body.relays as { relayId: string; sid: string; parties: number[]; members: Member[] }[];
    if (relay === undefined) throw new Error("no relayed run");
    expect(relay.parties).toEqual([1, 2]);
    const digest = ethereumSigningDigest(transaction);
    const [result] = await runDevices(relay, relay.members, relay.parties, (index, sid) =>
      scheme("dkls23").sign(wallet.shares[index] as ShareOf<"dkls23">, {
        sid,
        message: digest,
        signers: relay.parties,
      }),
    );
    const signature = scheme("dkls23").signatureBytes(result as SignResultOf<"dkls23">);
    const recovered = secp256k1.Signature.fromBytes(signature.subarray(0, 64), "compact")
      .addRecoveryBit(signature[64] as number)
      .recoverPublicKey(digest)
      .toBytes(true);
    expect(ethereumAddress(recovered)).toBe(ethereumAddress(hexToBytes(wallet.publicKey)));
    // The provider's run finished too and recorded the same signature.
    let stored: { status: string; signatures: { signature: string | null }[] } | undefined;
    for (let i = 0; i < 50 && stored?.status !== "signed"; i++) {
      stored = (await d1.request("GET", `/v1/sign-requests/${asked.body.requestId}`)).body as typeof stored;
      if (stored?.status !== "signed") await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored?.status).toBe("signed");
    expect(stored?.signatures[0]?.signature?.slice(0, 128)).toBe(bytesToHex(signature).slice(0, 128));

    // The policy still decides: a contract call gets no run; a non-member cannot be a signer.
    const denied = await d1.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transfer(1, "0xdeadbeef")),
      chainId: 1,
      signers: [d1.id],
    });
    expect(denied.body).toMatchObject({ status: "denied" });
    expect(denied.body.relays).toBeUndefined();
    const outsider = await d1.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transfer(2)),
      chainId: 1,
      signers: [(devices[2] as TestDevice).id],
    });
    expect(outsider.status).toBe(400);
    // The relay carries t-of-n runs: a first round for a two-party session has no place here.
    const opened = await d1.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transfer(3)),
      chainId: 1,
      signers: [d1.id],
      sessions: [{ sid: "00".repeat(32), messages: [] }],
    });
    expect(opened).toMatchObject({ status: 400, body: { message: expect.stringMatching(/hybrid wallets' requests/) } });
  });

  it("FROST 2-of-3 with the provider only relaying: it keeps no share and signs nothing", async () => {
    const wallet = await createWallet("devices-only", "frost-ed25519", devices, false);
    expect(await confirmAll(wallet.walletId, devices, wallet.publicKey)).toEqual(["creating", "creating", "active"]);
    const [row] = await provider.context.db.query<{ share: Uint8Array | null }>(
      "SELECT share FROM wallets WHERE id = $1",
      [wallet.walletId],
    );
    expect(row?.share).toBeNull();
    const asked = await (devices[0] as TestDevice).request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: "00",
      signers: [(devices[0] as TestDevice).id],
    });
    expect(asked.status).toBe(409);
  });

  it("a member reporting another key fails the wallet; only members confirm", async () => {
    const [d0, d1, d2] = devices as [TestDevice, TestDevice, TestDevice];
    const wallet = await createWallet("disagree", "frost-ed25519", [d0, d1], true);
    expect(
      (await d2.request("POST", `/v1/wallets/${wallet.walletId}/confirm`, { publicKey: wallet.publicKey })).status,
    ).toBe(403);
    const states = await confirmAll(wallet.walletId, [d0], wallet.publicKey);
    expect(states).toEqual(["creating"]);
    const wrong = `${wallet.publicKey.slice(0, -2)}${wallet.publicKey.endsWith("00") ? "01" : "00"}`;
    expect((await d1.request("POST", `/v1/wallets/${wallet.walletId}/confirm`, { publicKey: wrong })).body.state).toBe(
      "failed",
    );
  });

  it("refuses impossible quorums and 2-of-2-only schemes", async () => {
    const [d0, d1] = devices as [TestDevice, TestDevice];
    const ask = (body: Record<string, unknown>) =>
      d0.request("POST", "/v1/wallets", { name: `bad-${Math.random()}`, scheme: "dkls23", ...body });
    expect((await ask({ members: [d0.id, d1.id], threshold: 4 })).status).toBe(400);
    expect((await ask({ members: [d0.id], provider: false })).status).toBe(400);
    expect((await ask({ members: [d1.id] })).status).toBe(400);
    expect((await ask({ scheme: "ecdsa2p", members: [d0.id, d1.id] })).status).toBe(400);
    expect((await ask({ threshold: 2 })).status).toBe(400);
  });

  it("revoking a member says what its wallets keep, and refuses to strand one unless told to", async () => {
    // From the tests above: "team" is d0, d1 and the provider; "devices-only" is d0, d1 and d2; both 2-of-3.
    const [d0, d1, d2] = devices as [TestDevice, TestDevice, TestDevice];
    const wallets = (await d0.request("GET", "/v1/wallets")).body.wallets as { id: string; name: string }[];
    const idOf = (name: string) => wallets.find((w) => w.name === name)?.id;

    const first = await d0.request("POST", `/v1/devices/${d2.id}/revoke`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.wallets).toEqual([
      { walletId: idOf("devices-only"), name: "devices-only", threshold: 2, signersLeft: 2 },
    ]);

    // d1 as well would leave "devices-only" with d0 alone; "team" keeps d0 and the provider.
    const refused = await d0.request("POST", `/v1/devices/${d1.id}/revoke`);
    expect(refused).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining("wallet devices-only would have 1 of the 2 signers it needs") },
    });
    expect((await d1.request("GET", "/v1/account")).status).toBe(200);
    expect((await d0.request("POST", `/v1/devices/${d1.id}/revoke`, { strandWallets: "yes" })).status).toBe(400);

    const stranded = await d0.request("POST", `/v1/devices/${d1.id}/revoke`, { strandWallets: true });
    expect(stranded.status, JSON.stringify(stranded.body)).toBe(200);
    expect(stranded.body.wallets).toEqual([
      { walletId: idOf("devices-only"), name: "devices-only", threshold: 2, signersLeft: 1 },
      { walletId: idOf("team"), name: "team", threshold: 2, signersLeft: 2 },
    ]);
    const entries = (await d0.request("GET", "/v1/audit")).body.entries as { action: string; details: object }[];
    expect(entries.filter((e) => e.action === "device.revoked").map((e) => e.details)).toEqual([
      { device: d2.id },
      { device: d1.id, strandedWallets: [idOf("devices-only")] },
    ]);
  });

  it("the provider's party in a run whose relay session expired is failed by the sweep, its state erased", async () => {
    // An account of its own, so that the wallets other tests count stay as they are.
    const [d0, d1] = (await deviceGroup(provider, "abandoned@example.com", 2)) as [TestDevice, TestDevice];
    devices.push(d0, d1);
    const wallet = await createWallet("left", "dkls23", [d0, d1], true);
    await confirmAll(wallet.walletId, [d0, d1], wallet.publicKey);
    const ask = async (nonce: number) => {
      const asked = await d1.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
        chain: "ethereum",
        payload: bytesToHex(transfer(nonce)),
        chainId: 1,
        signers: [d1.id],
      });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      return {
        requestId: asked.body.requestId as string,
        relayId: (asked.body.relays as { relayId: string }[])[0]?.relayId,
      };
    };
    const party = async (relayId: string | undefined) =>
      (
        await provider.context.db.query<{ status: string; state: Uint8Array | null }>(
          "SELECT status, state FROM relay_parties WHERE relay_id = $1",
          [relayId],
        )
      )[0];
    const left = await ask(10); // no device ever runs its party
    expect((await party(left.relayId))?.status).toBe("running");
    // Back afterwards: the relay's WebSocket handshake in later tests signs with the real time.
    provider.advance(RELAY_LIFETIME_MS + 60_000);
    onTestFinished(() => provider.advance(-(RELAY_LIFETIME_MS + 60_000)));
    const current = await ask(11);
    expect(await expireRelayParties(provider.context)).toBeGreaterThanOrEqual(1);
    expect(await party(left.relayId)).toEqual({ status: "failed", state: null });
    expect((await party(current.relayId))?.status).toBe("running");
    expect((await d1.request("GET", `/v1/sign-requests/${left.requestId}`)).body.status).toBe("failed");
    const entries = (await d1.request("GET", "/v1/audit")).body.entries as { action: string; details: never }[];
    expect(entries.filter((e) => e.action === "session.aborted").map((e) => e.details)).toContainEqual(
      expect.objectContaining({ session: left.relayId, reason: "the relay session expired" }),
    );
    expect(await expireRelayParties(provider.context)).toBe(0);
  });
});
