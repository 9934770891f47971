/**
 * The contract of the account's second factor (TOTP enrollment) and of wallets' rules: the policy
 * in force and its pending changes, a policy change, the allow-list, and the policy templates the
 * provider offers a new wallet.
 */
import { CHAIN_NAMES, type ChainName } from "@keyshard/chains";
import { type Static, Type } from "typebox";
import { StringEnum, TotpCode } from "./common.js";
import { Policy } from "./policy.js";

/** Starting an enrollment: replacing a TOTP in force needs its current code. */
export const TotpStart = Type.Object({ code: Type.Optional(TotpCode) }, { additionalProperties: false });
export type TotpStart = Static<typeof TotpStart>;

export const TotpSecret = Type.Object({ secret: Type.String(), uri: Type.String() });
export type TotpSecret = Static<typeof TotpSecret>;

export const TotpConfirmed = Type.Object({
  enrolled: Type.Boolean(),
  changeId: Type.String(),
  effectiveMs: Type.Integer(),
});
export type TotpConfirmed = Static<typeof TotpConfirmed>;

export const WalletRules = Type.Object({
  policy: Policy,
  pending: Type.Array(
    Type.Object({ changeId: Type.String(), policy: Policy, requestedBy: Type.String(), effectiveMs: Type.Integer() }),
  ),
  allowList: Type.Array(
    Type.Object({ chain: Type.String(), address: Type.String(), label: Type.String(), addedMs: Type.Integer() }),
  ),
  totpEnrolled: Type.Boolean(),
});
export type WalletRules = Static<typeof WalletRules>;

/** A new policy with the account's TOTP code. */
export const PolicyChangeRequest = Type.Object({ policy: Policy, totp: TotpCode }, { additionalProperties: false });
export type PolicyChangeRequest = Static<typeof PolicyChangeRequest>;

export const PolicyChangeAccepted = Type.Object({
  changeId: Type.String(),
  effectiveMs: Type.Integer(),
});
export type PolicyChangeAccepted = Static<typeof PolicyChangeAccepted>;

export const PolicyChangeCancelled = Type.Object({ cancelled: Type.Boolean() });
export type PolicyChangeCancelled = Static<typeof PolicyChangeCancelled>;

export const AllowListEntry = Type.Object(
  {
    chain: StringEnum<ChainName>(CHAIN_NAMES),
    address: Type.String({ minLength: 1, maxLength: 128 }),
    label: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type AllowListEntry = Static<typeof AllowListEntry>;

export const AllowListAdded = Type.Object({
  address: Type.String(),
  addedMs: Type.Integer(),
});
export type AllowListAdded = Static<typeof AllowListAdded>;

export const AllowListRemoved = Type.Object({ removed: Type.Boolean() });
export type AllowListRemoved = Static<typeof AllowListRemoved>;

/** A policy template's id, as the provider's operator names it and a new wallet picks it. */
export const POLICY_TEMPLATE_ID = /^[a-z0-9-]{1,40}$/;
export const PolicyTemplateId = Type.String({
  pattern: POLICY_TEMPLATE_ID.source,
  description: "a policy template's id: lower-case letters, digits and hyphens, at most 40",
});

/** The longest name and description of a policy template. */
export const POLICY_TEMPLATE_NAME_MAX = 64;
export const POLICY_TEMPLATE_DESCRIPTION_MAX = 200;

/** A policy the provider offers a new wallet: the wallet gets a copy of its rules. */
export const PolicyTemplate = Type.Object(
  {
    id: PolicyTemplateId,
    name: Type.String({ minLength: 1, maxLength: POLICY_TEMPLATE_NAME_MAX }),
    description: Type.String({ maxLength: POLICY_TEMPLATE_DESCRIPTION_MAX, description: "one line" }),
    rules: Policy,
  },
  { additionalProperties: false },
);
export type PolicyTemplate = Static<typeof PolicyTemplate>;

/** The provider's policy templates: its built-in default first, then its operator's. */
export const PolicyTemplateList = Type.Object({ templates: Type.Array(PolicyTemplate) });
export type PolicyTemplateList = Static<typeof PolicyTemplateList>;
