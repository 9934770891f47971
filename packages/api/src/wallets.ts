/**
 * The contract of wallets: creating one (a hybrid 2-of-2 with the provider, or a t-of-n among the
 * account's devices), confirming a t-of-n key, deleting an unfinished one, and the rounds of a
 * two-party session.
 */
import { SCHEME_NAMES, type SchemeName } from "@keyshard/mpc";
import { type Static, Type } from "typebox";
import { FreeObject, Hex, SessionReply, StringEnum } from "./common.js";
import { PolicyTemplateId } from "./policies.js";
import { Policy } from "./policy.js";

export const WalletCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    scheme: StringEnum<SchemeName>(SCHEME_NAMES),
    /** The wallet's policy; without it (and without `policyTemplate`), the provider's default. */
    policy: Type.Optional(Policy),
    /** One of the provider's policy templates, whose rules the wallet gets a copy of; not with `policy`. */
    policyTemplate: Type.Optional(PolicyTemplateId),
    /** Device ids in party order; present for a t-of-n wallet. */
    members: Type.Optional(Type.Array(Hex(16), { minItems: 1, maxItems: 15 })),
    threshold: Type.Optional(Type.Integer({ minimum: 2, maximum: 16 })),
    /** Whether the provider is a party of a t-of-n wallet (default) or only its relay. */
    provider: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type WalletCreate = Static<typeof WalletCreate>;

/** A new hybrid wallet's first session round, or a new t-of-n wallet's relay session and members. */
export const WalletCreated = Type.Object({
  walletId: Type.String(),
  session: Type.Optional(SessionReply),
  relayId: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  threshold: Type.Optional(Type.Integer()),
  members: Type.Optional(Type.Array(FreeObject)),
});
export type WalletCreated = Static<typeof WalletCreated>;

export const WalletState = Type.Object({ state: Type.String() });
export type WalletState = Static<typeof WalletState>;

export const WalletDeleted = Type.Object({
  walletId: Type.String(),
  name: Type.String(),
});
export type WalletDeleted = Static<typeof WalletDeleted>;

/** The device's messages of one round of a two-party session. */
export const SessionRound = Type.Object(
  {
    round: Type.Integer({ minimum: 0, maximum: 100 }),
    messages: Type.Array(FreeObject, { maxItems: 16 }),
  },
  { additionalProperties: false },
);
export type SessionRound = Static<typeof SessionRound>;

/** A party of a t-of-n wallet, in party order: a device of the account, or the provider. */
export interface WalletMember {
  index: number;
  deviceId: string;
  /** Hex; its SHA-256 names the device, so the relay cannot swap it. */
  identityKey: string;
  provider: boolean;
}

/** The account's wallets; `members` are device ids in party order (t-of-n), or null (hybrid). */
export interface WalletList {
  wallets: {
    id: string;
    name: string;
    scheme: string;
    state: string;
    publicKey: string | null;
    threshold: number;
    epoch: number;
    members: string[] | null;
  }[];
}

/** One wallet, with its members and the key change under way, if any. */
export interface WalletDetail {
  id: string;
  name: string;
  scheme: string;
  state: string;
  publicKey: string | null;
  epoch: number;
  threshold: number;
  members: WalletMember[] | null;
  change: {
    epoch: number;
    kind: "refresh" | "reshare";
    threshold: number;
    relayId: string | null;
    createdBy: string;
    members: WalletMember[] | null;
  } | null;
}
