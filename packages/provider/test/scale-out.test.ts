/**
 * Two provider processes on one PostgreSQL database: a session whose rounds alternate between
 * them completes; one of them killed with SIGKILL in the middle of a round, the request retried
 * on the other completes; the audit chain stays valid and nothing is signed twice. The replicas
 * run the build `npm start` runs, worker threads included.
 */
import { ethereumSigningDigest } from "@keyshard/chains";
import { type ShareOf, scheme, WALLET_DEVICE } from "@keyshard/mpc";
import { driveSession, type WireMessage } from "@keyshard/transport";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ethereumTransfer,
  freshPostgres,
  type ProviderProcess,
  type SessionReply,
  scrapeMetrics,
  spawnProvider,
  TestDevice,
} from "./harness.js";

describe("scale-out: two replicas on one PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof freshPostgres>>;
  let a: ProviderProcess;
  let b: ProviderProcess;
  let sql: pg.Client;
  // Made by the first test, used by the next.
  let device: TestDevice;
  let walletId: string;
  let share: ShareOf<"ecdsa2p">;
  beforeAll(async () => {
    database = await freshPostgres();
    const masterKey = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const env = { DATABASE_URL: database.url, KEYSHARD_MASTER_KEY: masterKey };
    [a, b] = await Promise.all([spawnProvider(env), spawnProvider(env)]);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await sql?.end();
    await database?.drop();
  });

  it("rounds alternate between replicas; a replica killed mid-round is replaced by the other", async () => {
    device = new TestDevice(a.url);
    await device.request("POST", "/v1/devices", {
      identityKey: device.identityKey,
      email: "scale@example.com",
      name: "phone",
    });
    const { rows } = await sql.query("SELECT body FROM outbox WHERE recipient = 'scale@example.com'");
    const code = String(rows[0]?.body).match(/code is (\d{6})/)?.[1];
    expect((await device.request("POST", "/v1/devices/verify", { code }, { url: b.url })).status).toBe(200);

    // Key generation: every round goes to the other replica than the one before.
    const replicas = [a.url, b.url];
    let turn = 0;
    const alternate = (sessionId: string) => async (round: number, messages: WireMessage[]) => {
      const reply = await device.request(
        "POST",
        `/v1/sessions/${sessionId}/round`,
        { round, messages },
        { url: replicas[turn++ % 2] },
      );
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body as unknown as SessionReply;
    };
    const created = await device.request("POST", "/v1/wallets", { name: "main", scheme: "ecdsa2p" });
    const keygen = created.body.session as SessionReply;
    const keyParty = scheme("ecdsa2p").keygen(hexToBytes(keygen.sid), WALLET_DEVICE);
    await driveSession(keyParty, keygen, alternate(keygen.sessionId));
    share = keyParty.result();
    walletId = created.body.walletId as string;

    // Signing: round 0 is sent to A, which is killed while it may be running it; the same request
    // is retried on B, and the session finishes there.
    const transaction = ethereumTransfer(0);
    const asked = await device.request(
      "POST",
      `/v1/wallets/${created.body.walletId}/sign-requests`,
      { chain: "ethereum", payload: bytesToHex(transaction), chainId: 1 },
      { url: b.url },
    );
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const digest = ethereumSigningDigest(transaction);
    const party = scheme("ecdsa2p").sign(share, { sid: hexToBytes(session.sid), message: digest });
    let killed = false;
    const done = await driveSession(party, session, async (round, messages) => {
      if (!killed) {
        killed = true;
        const inFlight = device
          .request("POST", `/v1/sessions/${session.sessionId}/round`, { round, messages }, { url: a.url })
          .catch(() => null);
        await new Promise((r) => setTimeout(r, 15));
        a.child.kill("SIGKILL");
        await inFlight;
      }
      const reply = await device.request(
        "POST",
        `/v1/sessions/${session.sessionId}/round`,
        { round, messages },
        { url: b.url },
      );
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body as unknown as SessionReply;
    });
    expect(a.child.signalCode ?? "SIGKILL").toBe("SIGKILL");
    const signature = hexToBytes(done.signature as string);
    const recovered = secp256k1.Signature.fromBytes(signature.subarray(0, 64), "compact")
      .addRecoveryBit(signature[64] as number)
      .recoverPublicKey(digest);
    expect(recovered.toBytes(true)).toEqual(scheme("ecdsa2p").publicKey(share));

    const signed = await sql.query("SELECT status FROM sign_requests WHERE id = $1", [asked.body.requestId]);
    expect(signed.rows).toHaveLength(1);
    expect(signed.rows[0]?.status).toBe("signed");
    const stored = await sql.query("SELECT signature FROM request_signatures WHERE request_id = $1", [
      asked.body.requestId,
    ]);
    expect(stored.rows.map((r) => Buffer.from(r.signature).toString("hex"))).toEqual([done.signature]);
    const sessions = await sql.query("SELECT status FROM sessions WHERE sign_request_id = $1", [asked.body.requestId]);
    expect(sessions.rows.map((r) => r.status)).toEqual(["done"]);
    const audit = await device.request("GET", "/v1/audit/verify", undefined, { url: b.url });
    expect(audit.body).toMatchObject({ ok: true });
    const actions = (await device.request("GET", "/v1/audit", undefined, { url: b.url })).body.entries as {
      action: string;
    }[];
    expect(actions.filter((e) => e.action === "request.signed")).toHaveLength(1);
  });

  it("the built provider's worker thread makes signing work ahead", async () => {
    const aheadRuns = async () => {
      const metrics = await scrapeMetrics(b.url);
      return Number(metrics.match(/keyshard_ecdsa2p_sign_runs_total\{precomputed="ahead"\} (\d+)/)?.[1] ?? 0);
    };
    // The pool refills between signatures; the worker's first start loads its code.
    for (let nonce = 1; nonce < 12 && (await aheadRuns()) === 0; nonce++) {
      const transaction = ethereumTransfer(nonce);
      const asked = await device.request(
        "POST",
        `/v1/wallets/${walletId}/sign-requests`,
        { chain: "ethereum", payload: bytesToHex(transaction), chainId: 1 },
        { url: b.url },
      );
      const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
      const party = scheme("ecdsa2p").sign(share, {
        sid: hexToBytes(session.sid),
        message: ethereumSigningDigest(transaction),
      });
      await driveSession(
        party,
        session,
        async (round, messages) =>
          (await device.request("POST", `/v1/sessions/${session.sessionId}/round`, { round, messages }, { url: b.url }))
            .body as unknown as SessionReply,
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await aheadRuns()).toBeGreaterThan(0);
  });
});
