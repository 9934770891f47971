/**
 * Device registration. A device proves it holds its identity key by signing the registration
 * itself, then proves the account's email by a one-time code. The first device of an account
 * becomes active at once; later ones wait for an active device of the account to approve them,
 * so that access to the mailbox alone never adds a device, and then for the approval's delay
 * (`devices/approval.ts`), so that one stolen device cannot quietly add others. Any active device
 * can revoke a device of its account, but never the last active one.
 */
import { randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import { deviceId, REQUEST_HEADERS } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { cancelChangeOf } from "../../account/guarded-changes.js";
import { appendAudit } from "../../audit/log.js";
import { approveDevice } from "../../devices/approval.js";
import { recordRevocation, revokeDevice, walletsWithout } from "../../devices/revoke.js";
import { requireSecondFactor } from "../../policy/account-totp.js";
import { announceRevocation } from "../../relay/relay.js";
import { authenticate, checkSignedRequest, type DeviceState } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, conflict, errorSchema, forbidden, HttpError, notFound, unauthorized } from "../errors.js";
import { codeRateLimit } from "../rate-limits.js";

const CODE_LIFETIME_MS = 10 * 60_000;
const CODE_ATTEMPTS = 5;
const deviceSchema = {
  type: "object",
  properties: { deviceId: { type: "string" }, accountId: { type: "string" }, state: { type: "string" } },
  required: ["deviceId", "state"],
} as const;

const deviceIdParams = {
  type: "object",
  properties: { id: { type: "string", pattern: "^[0-9a-f]{32}$" } },
  required: ["id"],
} as const;

function codeMac(ctx: ProviderContext, device: string, code: string): Uint8Array {
  return ctx.masterKey.mac("email-code", utf8ToBytes(`${device}:${code}`));
}

/**
 * Mails `device` a new code, unless a code went to the address less than a code's lifetime ago
 * and was not used since: whoever knows an address can register keys under it, and each would
 * otherwise mail its owner. The claim on the account's row is atomic, so concurrent registrations
 * mail one code between them.
 */
async function issueCode(
  ctx: ProviderContext,
  tx: Parameters<Parameters<ProviderContext["db"]["transaction"]>[0]>[0],
  device: string,
  accountId: string,
  email: string,
) {
  const claimed = await tx.query(
    "UPDATE accounts SET code_mailed_ms = $2 WHERE id = $1 AND (code_mailed_ms IS NULL OR code_mailed_ms <= $3) RETURNING id",
    [accountId, ctx.now(), ctx.now() - CODE_LIFETIME_MS],
  );
  if (claimed.length === 0)
    throw new HttpError(
      429,
      "code-recently-sent",
      "a verification code was mailed to this address less than 10 minutes ago and is not used yet: verify the device it was for, or try again later",
    );
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  await tx.query(
    `INSERT INTO email_codes (device_id, code_mac, expires_ms, attempts) VALUES ($1, $2, $3, 0)
     ON CONFLICT (device_id) DO UPDATE SET code_mac = EXCLUDED.code_mac, expires_ms = EXCLUDED.expires_ms, attempts = 0`,
    [device, codeMac(ctx, device, code), ctx.now() + CODE_LIFETIME_MS],
  );
  await ctx.notifier.queue(
    tx,
    {
      accountId,
      to: email,
      subject: "Your keyshard verification code",
      body: `Your keyshard verification code is ${code}. It expires in 10 minutes.\nIf you did not ask for it, ignore this message.`,
    },
    ctx.now(),
  );
}

export function deviceRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/devices",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Register a device identity key under an email (signed by that key)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["identityKey", "email", "name"],
          properties: {
            identityKey: { type: "string", pattern: "^[0-9a-f]{64}$" },
            email: { type: "string", maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" },
            name: { type: "string", minLength: 1, maxLength: 64 },
          },
        },
        response: { 201: deviceSchema, "4xx": errorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body as { identityKey: string; email: string; name: string };
      const identityKey = hexToBytes(body.identityKey);
      try {
        ed25519.Point.fromBytes(identityKey);
      } catch {
        throw badRequest("identityKey is not an Ed25519 public key");
      }
      const id = deviceId(identityKey);
      if (request.headers[REQUEST_HEADERS.device] !== id)
        throw unauthorized("device header does not match identityKey");
      await checkSignedRequest(ctx, request, id, identityKey);
      const email = body.email.toLowerCase();
      const accountId = await ctx.db.transaction(async (tx) => {
        if ((await tx.query("SELECT 1 FROM devices WHERE id = $1", [id])).length > 0)
          throw conflict("this identity key is already registered");
        await tx.query(
          "INSERT INTO accounts (id, email, created_ms) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING",
          [randomUUID(), email, ctx.now()],
        );
        const [account] = await tx.query<{ id: string }>("SELECT id FROM accounts WHERE email = $1", [email]);
        const accountId = (account as { id: string }).id;
        await tx.query(
          "INSERT INTO devices (id, account_id, identity_key, name, state, created_ms) VALUES ($1, $2, $3, $4, 'unverified', $5)",
          [id, accountId, identityKey, body.name, ctx.now()],
        );
        await issueCode(ctx, tx, id, accountId, email);
        return accountId;
      });
      ctx.notifier.kick();
      return reply.code(201).send({ deviceId: id, accountId, state: "unverified" });
    },
  );

  app.get(
    "/v1/devices/self",
    {
      schema: {
        summary: "The calling device's own state, in any state short of revoked",
        response: { 200: deviceSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      // A device that stopped between registering and verifying learns here where it stands.
      const device = await authenticate(ctx, request, ["unverified", "awaiting-approval", "approved", "active"]);
      return { deviceId: device.id, accountId: device.accountId, state: device.state };
    },
  );

  app.post(
    "/v1/devices/code",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Send a new email code to an unverified device",
        response: { 200: deviceSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request, ["unverified"]);
      await ctx.db.transaction(async (tx) => {
        const [account] = await tx.query<{ email: string }>("SELECT email FROM accounts WHERE id = $1", [
          device.accountId,
        ]);
        await issueCode(ctx, tx, device.id, device.accountId, (account as { email: string }).email);
      });
      ctx.notifier.kick();
      return { deviceId: device.id, state: device.state };
    },
  );

  app.post(
    "/v1/devices/verify",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary: "Prove the account's email with the one-time code",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["code"],
          properties: { code: { type: "string", pattern: "^[0-9]{6}$" } },
        },
        response: { 200: deviceSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request, ["unverified"]);
      const { code } = request.body as { code: string };
      // A wrong code must count even though the request fails: the count commits, then we throw.
      const outcome = await ctx.db.transaction(async (tx) => {
        const [row] = await tx.query<{ code_mac: Uint8Array; expires_ms: string; attempts: number }>(
          "SELECT code_mac, expires_ms, attempts FROM email_codes WHERE device_id = $1 FOR UPDATE",
          [device.id],
        );
        if (row === undefined || Number(row.expires_ms) < ctx.now())
          return { error: badRequest("no valid code: ask for a new one") };
        if (row.attempts >= CODE_ATTEMPTS) return { error: forbidden("too many wrong codes: ask for a new one") };
        if (!timingSafeEqual(new Uint8Array(row.code_mac), codeMac(ctx, device.id, code))) {
          await tx.query("UPDATE email_codes SET attempts = attempts + 1 WHERE device_id = $1", [device.id]);
          return { error: badRequest("wrong code") };
        }
        await tx.query("DELETE FROM email_codes WHERE device_id = $1", [device.id]);
        const [active] = await tx.query<{ n: string }>(
          "SELECT count(*) AS n FROM devices WHERE account_id = $1 AND state = 'active'",
          [device.accountId],
        );
        const state = Number(active?.n ?? 0) === 0 ? "active" : "awaiting-approval";
        await tx.query("UPDATE devices SET state = $1, active_since_ms = $3 WHERE id = $2", [
          state,
          device.id,
          state === "active" ? ctx.now() : null,
        ]);
        await tx.query("UPDATE accounts SET verified = true, code_mailed_ms = NULL WHERE id = $1", [device.accountId]);
        // Registered devices enter the account's audit once they prove the address: until then
        // anyone could have registered them, and they are not the account's.
        const [registered] = await tx.query<{ name: string }>("SELECT name FROM devices WHERE id = $1", [device.id]);
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "device.registered",
          details: { device: device.id, name: (registered as { name: string }).name },
        });
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "device.verified",
          details: { device: device.id, state },
        });
        return { state };
      });
      if ("error" in outcome) throw outcome.error as HttpError;
      return { deviceId: device.id, accountId: device.accountId, state: outcome.state };
    },
  );

  app.post(
    "/v1/devices/:id/approve",
    {
      config: { rateLimit: codeRateLimit(ctx) },
      schema: {
        summary:
          "An active device lets another device of its account in (with the TOTP code where one is enrolled): it becomes active once the account change has waited out its delay",
        params: deviceIdParams,
        // Optional: an account without TOTP approves without a body.
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { totp: { type: "string", pattern: "^[0-9]{6}$" } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              ...deviceSchema.properties,
              changeId: { type: "string" },
              effectiveAt: { type: "string" },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const approver = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      await requireSecondFactor(ctx, approver, (request.body as { totp?: string } | null)?.totp);
      const change = await ctx.db.transaction((tx) => approveDevice(ctx, tx, approver, id));
      ctx.notifier.kick();
      return {
        deviceId: id,
        accountId: approver.accountId,
        state: "approved",
        changeId: change.changeId,
        effectiveAt: new Date(change.effectiveMs).toISOString(),
      };
    },
  );

  app.post(
    "/v1/devices/:id/revoke",
    {
      schema: {
        summary:
          "An active device shuts a device of its account out, itself included, unless it is the last active one or `strandWallets` is needed",
        description:
          "Lists the account's t-of-n wallets the device is a member of, with how many members could still sign without it. A revocation that would leave a wallet fewer signers than its threshold is refused (409) unless the body says `strandWallets: true`: such a wallet could neither sign nor reshare again.",
        params: deviceIdParams,
        // Optional: a revocation without a body is the usual one.
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { strandWallets: { type: "boolean" } },
        },
        response: {
          200: {
            type: "object",
            properties: {
              ...deviceSchema.properties,
              wallets: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    walletId: { type: "string" },
                    name: { type: "string" },
                    threshold: { type: "integer" },
                    signersLeft: { type: "integer" },
                  },
                },
              },
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const revoker = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const { strandWallets = false } = (request.body ?? {}) as { strandWallets?: boolean };
      const wallets = await ctx.db.transaction(async (tx) => {
        // The account's active devices are locked, so two revocations at once cannot leave none
        // (not FOR UPDATE: that would also wait for, and deadlock with, an approval being recorded,
        // whose reference to its device takes a key-share lock on the device's row).
        const active = await tx.query<{ id: string }>(
          "SELECT id FROM devices WHERE account_id = $1 AND state = 'active' ORDER BY id FOR NO KEY UPDATE",
          [revoker.accountId],
        );
        const [target] = await tx.query<{ state: DeviceState; name: string }>(
          "SELECT state, name FROM devices WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE",
          [id, revoker.accountId],
        );
        if (target === undefined) throw notFound("no device of this account under that id");
        if (target.state === "revoked") throw conflict("the device is already revoked");
        // With no active device left, the next device to prove the email would be let in at once.
        if (active.every((d) => d.id === id))
          throw conflict("the account's last active device cannot be revoked: add or recover another first");
        const wallets = await walletsWithout(
          tx,
          { id: revoker.accountId, activeDevices: active.map((d) => d.id), providerId: ctx.identityId },
          id,
        );
        const stranded = wallets.filter((w) => w.signersLeft < w.threshold);
        if (stranded.length > 0 && !strandWallets)
          throw conflict(
            `without the device, ${stranded.map((w) => `wallet ${w.name} would have ${w.signersLeft} of the ${w.threshold} signers it needs`).join("; ")}: it could never sign or reshare again. Let the device take part in a reshare first, or revoke with strandWallets if it is lost anyway`,
          );
        // A device still waiting to become active: its change is cancelled with it.
        await cancelChangeOf(ctx, tx, revoker, "device", id);
        await revokeDevice(tx, id);
        await appendAudit(tx, {
          chain: revoker.accountId,
          atMs: ctx.now(),
          actor: revoker.id,
          action: "device.revoked",
          details: { device: id, ...(stranded.length > 0 && { strandedWallets: stranded.map((w) => w.walletId) }) },
        });
        // Another active device's revocation can be undone from the mailbox for a while: a thief
        // holding one device who revokes the owner's others must not leave the owner without any.
        if (id !== revoker.id && target.state === "active")
          await recordRevocation(ctx, tx, revoker, { id, name: target.name });
        await ctx.notifier.queueForAccount(
          tx,
          revoker.accountId,
          {
            subject: "keyshard: a device was revoked",
            body: `Device ${revoker.id} revoked device ${id} (${target.name}). Its held requests are cancelled and its approvals no longer count.${wallets.map((w) => `\nWallet ${w.name}: ${w.signersLeft} of its members can still sign, ${w.threshold} are needed${w.signersLeft >= w.threshold ? "; reshare it without the device" : "; it can no longer sign"}.`).join("")}\nIf you did not do this, a device of your account is in someone else's hands: recover with your face (keyshard recover) and revoke it.`,
          },
          ctx.now(),
        );
        return wallets;
      });
      announceRevocation(id);
      ctx.notifier.kick();
      return { deviceId: id, accountId: revoker.accountId, state: "revoked", wallets };
    },
  );
}
