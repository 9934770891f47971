/**
 * Deleting a wallet whose key generation never finished, on either database: its name is free
 * again, its runs end, and nobody can use the route on a wallet with a key (also a t-of-n key made
 * but not yet confirmed by every member device) or on another account's wallet. And the delays: below their production minimums only in trial mode.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ShareOf, scheme } from "@keyshard/mpc";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DelayTooShortError, startProvider } from "../src/index.js";
import {
  activeDevice,
  createWallet,
  type DatabaseKind,
  deviceGroup,
  runMemberDevices,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type WalletMember,
} from "./harness.js";

describe.each<DatabaseKind>(["pglite", "postgres"])("deleting an unfinished wallet on %s", (kind) => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("a hybrid wallet whose key generation stopped: its name is refused, then deleted, free and audited", async () => {
    const phone = await activeDevice(provider, `h-${kind}@example.com`);
    const started = await phone.request("POST", "/v1/wallets", { name: "main", scheme: "ecdsa2p" });
    expect(started.status).toBe(201);
    const walletId = started.body.walletId as string;
    const again = await phone.request("POST", "/v1/wallets", { name: "main", scheme: "ecdsa2p" });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain("key generation never finished: delete it");

    expect(await phone.request("DELETE", `/v1/wallets/${walletId}`)).toMatchObject({
      status: 200,
      body: { walletId, name: "main" },
    });
    // Its session takes no more rounds: the provider's state in it is gone.
    const session = started.body.session as { sessionId: string };
    const round = await phone.request("POST", `/v1/sessions/${session.sessionId}/round`, { round: 1, messages: [] });
    expect(round.status).toBeGreaterThanOrEqual(400);
    const [row] = await provider.context.db.query<{ state: Uint8Array | null; status: string }>(
      "SELECT state, status FROM sessions WHERE id = $1",
      [session.sessionId],
    );
    expect(row).toMatchObject({ state: null, status: "failed" });
    expect((await phone.request("GET", "/v1/wallets")).body.wallets).toEqual([]);
    const audit = await provider.context.db.query<{ action: string; details: string }>(
      "SELECT action, details FROM audit_log WHERE action = 'wallet.abandoned'",
    );
    expect(audit.map((a) => JSON.parse(a.details))).toContainEqual({ wallet: walletId, name: "main", was: "creating" });
    expect((await phone.request("DELETE", `/v1/wallets/${walletId}`)).body.message).toContain("deleted already");

    const made = await createWallet(phone, "main", "ecdsa2p");
    expect((await phone.request("GET", "/v1/wallets")).body.wallets).toEqual([
      expect.objectContaining({ id: made.walletId, name: "main", state: "active" }),
    ]);
  });

  it("a t-of-n key generation deleted: its relay session ends, so no member is offered it or waits in it", async () => {
    const [phone, laptop] = await deviceGroup(provider, `t-${kind}@example.com`, 2);
    if (phone === undefined || laptop === undefined) throw new Error("no devices");
    const started = await phone.request("POST", "/v1/wallets", {
      name: "team",
      scheme: "dkls23",
      members: [phone.id, laptop.id],
      threshold: 2,
    });
    expect(started.status).toBe(201);
    const relayId = started.body.relayId as string;
    const offered = await laptop.request("GET", "/v1/relay");
    expect(offered.body.sessions).toContainEqual(expect.objectContaining({ relayId }));
    expect((await laptop.request("DELETE", `/v1/wallets/${started.body.walletId}`)).status).toBe(200);
    expect((await laptop.request("GET", "/v1/relay")).body.sessions).not.toContainEqual(
      expect.objectContaining({ relayId }),
    );
    expect((await phone.request("GET", `/v1/wallets/${started.body.walletId}`)).body.state).toBe("abandoned");
    const [party] = await provider.context.db.query<{ status: string; state: Uint8Array | null }>(
      "SELECT status, state FROM relay_parties WHERE relay_id = $1",
      [relayId],
    );
    expect(party).toMatchObject({ status: "failed", state: null });
  });

  it("a wallet whose key was made is not deleted", async () => {
    const phone = await activeDevice(provider, `f-${kind}@example.com`);
    const made = await createWallet(phone, "savings", "ecdsa2p");
    const refused = await phone.request("DELETE", `/v1/wallets/${made.walletId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain("only a wallet whose key generation never finished can be deleted");
    expect((await phone.request("GET", `/v1/wallets/${made.walletId}`)).body.state).toBe("active");
  });

  it("a device of another account cannot delete the account's unfinished wallet", async () => {
    const phone = await activeDevice(provider, `o-${kind}@example.com`);
    const stranger = await activeDevice(provider, `m-${kind}@example.com`);
    const started = await phone.request("POST", "/v1/wallets", { name: "main", scheme: "ecdsa2p" });
    const refused = await stranger.request("DELETE", `/v1/wallets/${started.body.walletId}`);
    expect(refused.status).toBe(404);
    expect((await phone.request("GET", `/v1/wallets/${started.body.walletId}`)).body.state).toBe("creating");
  });
});

describe.each<DatabaseKind>(["pglite", "postgres"])("a t-of-n wallet whose key was made, on %s", (kind) => {
  let provider: TestProvider;
  let devices: TestDevice[];
  beforeAll(async () => {
    // Devices join without the account-change wait, so the clock the relay's sockets sign with
    // stays the provider's.
    provider = await startTestProvider(kind, { accountChangeDelayMs: 0 });
    devices = await deviceGroup(provider, `k-${kind}@example.com`, 2);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  /** Runs a 2-of-n key generation of `devices` (and the provider if `withProvider`) to its end. */
  async function makeKey(name: string, withProvider: boolean) {
    const created = await devices[0]?.request("POST", "/v1/wallets", {
      name,
      scheme: "dkls23",
      members: devices.map((d) => d.id),
      threshold: 2,
      provider: withProvider,
    });
    expect(created?.status, JSON.stringify(created?.body)).toBe(201);
    const body = created?.body as { walletId: string; relayId: string; sid: string; members: WalletMember[] };
    const n = body.members.length;
    const shares = await runMemberDevices(
      provider,
      devices,
      body,
      body.members,
      body.members.map((m) => m.index),
      (index, sid) => scheme("dkls23").keygen(sid, index, { t: 2, n }),
    );
    return {
      walletId: body.walletId,
      publicKey: bytesToHex(scheme("dkls23").publicKey(shares[0] as ShareOf<"dkls23">)),
    };
  }

  async function refusedAndKept(walletId: string) {
    const refused = await (devices[1] as TestDevice).request("DELETE", `/v1/wallets/${walletId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain("only a wallet whose key generation never finished can be deleted");
    expect((await (devices[0] as TestDevice).request("GET", `/v1/wallets/${walletId}`)).body.state).toBe("creating");
  }

  const stored = async (walletId: string) =>
    (
      await provider.context.db.query<{ share: Uint8Array | null; public_key: Uint8Array | null }>(
        "SELECT share, public_key FROM wallets WHERE id = $1",
        [walletId],
      )
    )[0];

  it("is not deleted once the provider's party stored its share, before any device confirmed", async () => {
    const { walletId } = await makeKey("with-provider", true);
    // The provider's party stores its share as its run ends, which the devices' runs may precede.
    await vi.waitFor(async () => expect((await stored(walletId))?.public_key).not.toBeNull());
    await refusedAndKept(walletId);
    expect((await stored(walletId))?.share).not.toBeNull();
  });

  it("is not deleted once a member device confirmed its key, though another has not", async () => {
    const { walletId, publicKey } = await makeKey("devices-only", false);
    // No party of the provider: its row has no key until every device confirmed the same one.
    expect((await stored(walletId))?.public_key).toBeNull();
    const confirmed = await (devices[0] as TestDevice).request("POST", `/v1/wallets/${walletId}/confirm`, {
      publicKey,
    });
    expect(confirmed.body.state).toBe("creating");
    await refusedAndKept(walletId);
  });

  it("is deleted once it failed, its key refused: the devices reported different keys", async () => {
    const { walletId, publicKey } = await makeKey("disagreed", true);
    const [first, second] = devices as [TestDevice, TestDevice];
    await first.request("POST", `/v1/wallets/${walletId}/confirm`, { publicKey });
    const wrong = `${publicKey.slice(0, -2)}${publicKey.endsWith("00") ? "01" : "00"}`;
    expect((await second.request("POST", `/v1/wallets/${walletId}/confirm`, { publicKey: wrong })).body.state).toBe(
      "failed",
    );
    expect((await second.request("DELETE", `/v1/wallets/${walletId}`)).status).toBe(200);
  });
});

describe("delays below their production minimums", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "keyshard-delays-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("are refused without trial mode, before anything is opened", async () => {
    const folder = join(dataDir, "refused");
    await expect(startProvider({ dataDir: folder, accountChangeDelayMs: 0 })).rejects.toBeInstanceOf(
      DelayTooShortError,
    );
    await expect(startProvider({ dataDir: folder, backupDelayMs: 3600_000 })).rejects.toThrow(
      "KEYSHARD_BACKUP_DELAY_SECONDS is 3600 s, below its minimum of 86400 s",
    );
    expect(() => readdirSync(folder)).toThrow();
  });

  it("are taken in trial mode, whose every reply says so", async () => {
    const provider = await startProvider({ dataDir: join(dataDir, "trial"), trial: true, policyDelayMs: 5000 });
    try {
      expect(provider.delays).toMatchObject({
        policyDelayMs: 5000,
        accountChangeDelayMs: 5000,
        backupDelayMs: 7 * 24 * 3600_000,
      });
      const health = await fetch(`${provider.url}/health`);
      expect(health.headers.get("keyshard-trial")).toBe("delays shortened; not for real funds");
      const missing = await fetch(`${provider.url}/v1/nothing`);
      expect(missing.headers.get("keyshard-trial")).toBe("delays shortened; not for real funds");
    } finally {
      await provider.close();
    }
  });

  it("at or above their minimums they need no trial mode, and no reply carries the header", async () => {
    const provider = await startProvider({ dataDir: join(dataDir, "production"), policyDelayMs: 24 * 3600_000 });
    try {
      expect(provider.delays).toMatchObject({ policyDelayMs: 24 * 3600_000, accountChangeDelayMs: 24 * 3600_000 });
      expect((await fetch(`${provider.url}/health`)).headers.get("keyshard-trial")).toBeNull();
    } finally {
      await provider.close();
    }
  });
});
