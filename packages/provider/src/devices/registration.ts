/**
 * Device registration. A device proves it holds its identity key by signing the registration
 * itself (checked by the route), then proves the account's email by a one-time code. The first
 * device of an account becomes active at once; later ones wait for an active device of the
 * account to approve them (`approval.ts`), so that access to the mailbox alone never adds a device.
 */
import { randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict, forbidden, invalid, ProviderError } from "../errors.js";
import {
  accountEmail,
  accountIdByEmail,
  claimCodeMail,
  insertAccountIfNew,
  markAccountVerified,
} from "../store/accounts.js";
import {
  activeDeviceCount,
  deviceName,
  deviceRegistered,
  insertUnverifiedDevice,
  setVerifiedState,
} from "../store/devices.js";
import { countWrongCode, deleteEmailCode, lockEmailCode, storeEmailCode } from "../store/email-codes.js";
import type { Queryable } from "../store/queryable.js";
import type { DeviceState } from "./authenticated.js";

const CODE_LIFETIME_MS = 10 * 60_000;
const CODE_ATTEMPTS = 5;

interface Device {
  id: string;
  accountId: string;
}

function codeMac(ctx: ProviderContext, device: string, code: string): Uint8Array {
  return ctx.masterKey.mac("email-code", utf8ToBytes(`${device}:${code}`));
}

/**
 * Mails `device` a new code, unless a code went to the address less than a code's lifetime ago
 * and was not used since: whoever knows an address can register keys under it, and each would
 * otherwise mail its owner. The caller kicks the notifier once `tx` commits.
 */
async function issueCode(ctx: ProviderContext, tx: Queryable, device: Device, email: string): Promise<void> {
  if (!(await claimCodeMail(tx, device.accountId, ctx.now(), ctx.now() - CODE_LIFETIME_MS)))
    throw new ProviderError(
      "limited",
      "code-recently-sent",
      "a verification code was mailed to this address less than 10 minutes ago and is not used yet: verify the device it was for, or try again later",
    );
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  await storeEmailCode(tx, device.id, codeMac(ctx, device.id, code), ctx.now() + CODE_LIFETIME_MS);
  await ctx.notifier.queue(
    tx,
    {
      accountId: device.accountId,
      to: email,
      subject: "Your keyshard verification code",
      body: `Your keyshard verification code is ${code}. It expires in 10 minutes.\nIf you did not ask for it, ignore this message.`,
    },
    ctx.now(),
  );
}

/**
 * Registers device `id` with its identity key under `email` (creating the account of a new
 * address) and mails it a code. Returns the account's id.
 */
export async function registerDevice(
  ctx: ProviderContext,
  device: { id: string; identityKey: Uint8Array; email: string; name: string },
): Promise<string> {
  const email = device.email.toLowerCase();
  const accountId = await ctx.db.transaction(async (tx) => {
    if (await deviceRegistered(tx, device.id)) throw conflict("this identity key is already registered");
    await insertAccountIfNew(tx, randomUUID(), email, ctx.now());
    const accountId = (await accountIdByEmail(tx, email)) as string;
    await insertUnverifiedDevice(tx, {
      id: device.id,
      accountId,
      identityKey: device.identityKey,
      name: device.name,
      createdMs: ctx.now(),
    });
    await issueCode(ctx, tx, { id: device.id, accountId }, email);
    return accountId;
  });
  ctx.notifier.kick();
  return accountId;
}

/** Mails an unverified device a new code. */
export async function resendCode(ctx: ProviderContext, device: Device): Promise<void> {
  await ctx.db.transaction(async (tx) =>
    issueCode(ctx, tx, device, (await accountEmail(tx, device.accountId)) as string),
  );
  ctx.notifier.kick();
}

/**
 * An unverified device proves the account's email with its code: it becomes active if the
 * account has no active device, and waits for approval otherwise. Returns its new state.
 */
export async function verifyDevice(ctx: ProviderContext, device: Device, code: string): Promise<DeviceState> {
  // A wrong code must count even though the request fails: the count commits, then we throw.
  const outcome = await ctx.db.transaction(async (tx) => {
    const row = await lockEmailCode(tx, device.id);
    if (row === undefined || Number(row.expires_ms) < ctx.now())
      return { error: invalid("no valid code: ask for a new one") };
    if (row.attempts >= CODE_ATTEMPTS) return { error: forbidden("too many wrong codes: ask for a new one") };
    if (!timingSafeEqual(new Uint8Array(row.code_mac), codeMac(ctx, device.id, code))) {
      await countWrongCode(tx, device.id);
      return { error: invalid("wrong code") };
    }
    await deleteEmailCode(tx, device.id);
    const state: DeviceState = (await activeDeviceCount(tx, device.accountId)) === 0 ? "active" : "awaiting-approval";
    await setVerifiedState(tx, device.id, state, state === "active" ? ctx.now() : null);
    await markAccountVerified(tx, device.accountId);
    // Registered devices enter the account's audit once they prove the address: until then
    // anyone could have registered them, and they are not the account's.
    await appendAudit(tx, {
      chain: device.accountId,
      atMs: ctx.now(),
      actor: device.id,
      action: "device.registered",
      details: { device: device.id, name: await deviceName(tx, device.id) },
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
  if ("error" in outcome) throw outcome.error;
  return outcome.state;
}
