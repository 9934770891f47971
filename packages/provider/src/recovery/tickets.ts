/**
 * The tickets the provider signs for the recovery operators: one lets a device register an
 * enrollment's key shares (`enroll`), one is one face guess the device may ask each operator to
 * evaluate (`recover`). A ticket names the enrollment, the email the operators mail about it (the
 * account owner's, whoever enrolls or guesses), the account, the device, and expires after
 * `TICKET_LIFETIME_MS`; an enroll ticket names the operators and threshold configured now, so no
 * operator takes a share dealt to another set, and a recover ticket the blinded element the device
 * will send, so one counted guess is one input. Operators trust the provider's ticket key
 * (`recovery-operator/ticket-key.ts`) and refuse anything else.
 */
import { type SignedTicket, signTicket, TICKET_LIFETIME_MS } from "@keyshard/recovery";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../context.js";
import { providerTicketKeys } from "../recovery-operator/ticket-key.js";

/** Whom a ticket is about: the enrollment, its account, and the account owner's email. */
export interface TicketSubject {
  id: string;
  ownerEmail: string;
  accountId: string;
}

const ticketFields = (ctx: ProviderContext, subject: TicketSubject, deviceId: string) => ({
  enrollment: subject.id,
  email: subject.ownerEmail,
  account: subject.accountId,
  device: deviceId,
  expiresMs: ctx.now() + TICKET_LIFETIME_MS,
});

/** Lets `deviceId` register the shares of enrollment `subject` at the operators configured now. */
export function enrollTicket(ctx: ProviderContext, subject: TicketSubject, deviceId: string): SignedTicket {
  return signTicket(providerTicketKeys(ctx.masterKey).secretKey, {
    purpose: "enroll",
    ...ticketFields(ctx, subject, deviceId),
    threshold: ctx.recoveryThreshold,
    operators: ctx.recoveryOperators.map((o) => o.key),
  });
}

/** One guess: lets `deviceId` ask each operator for one evaluation of `blinded`. */
export function recoverTicket(
  ctx: ProviderContext,
  subject: TicketSubject,
  deviceId: string,
  blinded: Uint8Array,
): SignedTicket {
  return signTicket(providerTicketKeys(ctx.masterKey).secretKey, {
    purpose: "recover",
    ...ticketFields(ctx, subject, deviceId),
    blinded: bytesToHex(blinded),
  });
}
