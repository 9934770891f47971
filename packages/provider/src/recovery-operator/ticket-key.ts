/**
 * The provider's ticket key: the Ed25519 key whose signature on a ticket lets a device enroll at,
 * or ask an evaluation of, the recovery operators. It is derived from the provider's master key,
 * so it survives restarts and is the same on every replica; operators are configured with its
 * public half (`KEYSHARD_OPERATOR_TICKET_KEY`).
 */
import { ticketKeyPair } from "@keyshard/recovery";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import type { MasterKey } from "../store/master-key.js";

/** The provider's ticket key pair: the secret signs tickets (`signTicket`), the public half verifies them. */
export function providerTicketKeys(masterKey: MasterKey): { secretKey: Uint8Array; publicKey: Uint8Array } {
  return ticketKeyPair(masterKey.mac("operator-ticket-key", utf8ToBytes("v1")));
}

/** The public ticket key an operator of this provider is configured with. */
export const providerTicketKey = (masterKey: MasterKey): Uint8Array => providerTicketKeys(masterKey).publicKey;
