/**
 * The operator console's API (`/console/api/*`) as TypeBox schemas: the routes validate their
 * parameters and serialize their replies with them, and the handlers' types follow from them.
 * Lists are capped: each names its `limit` and the `total` there is, newest first. Times are
 * milliseconds since the epoch; texts the operator reads (audit details, policies) are JSON text,
 * cut to their first `CONSOLE_TEXT_LIMIT` characters, with their whole length beside them.
 */
import { PolicyTemplate } from "@keyshard/api";
import { type Static, type TSchema, Type } from "typebox";

const strict = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });
const Ms = Type.Integer({ minimum: 0 });
const NullableMs = Type.Union([Ms, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });
const ByState = Type.Record(Type.String(), Count);

/** The newest rows a list holds, at most. */
export const CONSOLE_LIST_LIMIT = 200;
/** The devices listed under each account, at most: anyone can start registrations under an address. */
export const CONSOLE_DEVICES_PER_ACCOUNT = 20;
/**
 * The characters of a long text (an audit entry's details, a policy: up to about a megabyte) a
 * reply holds: enough to read what it is, where a whole list of whole texts could be hundreds of
 * megabytes.
 */
export const CONSOLE_TEXT_LIMIT = 4000;
const CutText = Type.String({ maxLength: CONSOLE_TEXT_LIMIT });

export const ConsoleOverview = strict({
  version: Type.String(),
  trial: Type.Boolean(),
  startedAtMs: Ms,
  uptimeSeconds: Count,
  database: strict({ kind: Type.String(), reachable: Type.Boolean() }),
  /** Null when the database did not answer. */
  counts: Type.Union([strict({ accounts: Count, devices: ByState, wallets: ByState, requests: ByState }), Type.Null()]),
  /** This process's ecdsa2p signing runs, by whether their precomputation was made ahead (as /metrics counts them). */
  signRuns: strict({ precomputedAhead: Count, precomputedInRun: Count }),
});
export type ConsoleOverview = Static<typeof ConsoleOverview>;

const Device = strict({ id: Type.String(), name: Type.String(), state: Type.String(), createdMs: Ms });

export const ConsoleAccounts = strict({
  limit: Count,
  total: Count,
  /** The devices listed under each account, at most. */
  devicesLimit: Count,
  accounts: Type.Array(
    strict({
      id: Type.String(),
      email: Type.String(),
      verified: Type.Boolean(),
      createdMs: Ms,
      lastActiveMs: NullableMs,
      /** The account's devices in all; those listed come active, awaiting approval and revoked first, then unverified, newest first. */
      devicesTotal: Count,
      devices: Type.Array(Device),
    }),
  ),
});
export type ConsoleAccounts = Static<typeof ConsoleAccounts>;

export const ConsoleHeldRequests = strict({
  limit: Count,
  total: Count,
  requests: Type.Array(
    strict({
      id: Type.String(),
      accountId: Type.String(),
      email: Type.String(),
      walletId: Type.String(),
      walletName: Type.String(),
      chain: Type.String(),
      kind: Type.String(),
      requestedBy: strict({ deviceId: Type.String(), name: Type.String() }),
      createdMs: Ms,
      /** The rule that held it: its name and number in the policy (null for a request from before rules were numbered). */
      rule: Type.Union([Type.String(), Type.Null()]),
      ruleNumber: Type.Union([Type.Integer(), Type.Null()]),
      decision: Type.String(),
      /** What it still waits for; empty when only its device's start of signing does. */
      waitingFor: strict({
        totp: Type.Optional(Type.Boolean()),
        approvals: Type.Optional(strict({ needed: Count, have: Count })),
        releaseMs: Type.Optional(Ms),
      }),
      approvals: Type.Array(strict({ deviceId: Type.String(), atMs: Ms, counts: Type.Boolean() })),
    }),
  ),
});
export type ConsoleHeldRequests = Static<typeof ConsoleHeldRequests>;

export const ConsoleAudit = strict({
  accountId: Type.String(),
  limit: Count,
  total: Count,
  /** The newest entries, in chain order. */
  entries: Type.Array(
    strict({
      seq: Count,
      atMs: Ms,
      actor: Type.String(),
      action: Type.String(),
      details: CutText,
      detailsLength: Count,
      hash: Type.String(),
    }),
  ),
});
export type ConsoleAudit = Static<typeof ConsoleAudit>;

export const ConsoleAuditVerdict = strict({
  accountId: Type.String(),
  ok: Type.Boolean(),
  length: Count,
  /** The first entry whose link does not hold, or one past the end when entries were cut from it. */
  firstBroken: Type.Optional(Count),
  head: Type.Optional(Type.String()),
});
export type ConsoleAuditVerdict = Static<typeof ConsoleAuditVerdict>;

export const ConsoleRecovery = strict({
  limit: Count,
  recoveriesTotal: Count,
  recoveries: Type.Array(
    strict({
      id: Type.String(),
      accountId: Type.String(),
      device: strict({ id: Type.String(), name: Type.String() }),
      atMs: Ms,
      holdUntilMs: Ms,
      status: Type.String(),
      decidedBy: Type.Union([Type.String(), Type.Null()]),
      decidedMs: NullableMs,
    }),
  ),
  enrollmentsTotal: Count,
  /** Face enrollments: the owner's own, and heirs' (whose email is the heir's). */
  enrollments: Type.Array(
    strict({
      id: Type.String(),
      accountId: Type.String(),
      kind: Type.String(),
      email: Type.String(),
      status: Type.String(),
      inactivityMs: NullableMs,
      createdBy: Type.String(),
      createdMs: Ms,
      changedMs: NullableMs,
    }),
  ),
});
export type ConsoleRecovery = Static<typeof ConsoleRecovery>;

export const ConsolePolicies = strict({
  limit: Count,
  total: Count,
  /** The policies offered to new wallets, the built-in default first; a wallet keeps a copy of its template's rules. */
  templates: Type.Array(PolicyTemplate),
  wallets: Type.Array(
    strict({
      id: Type.String(),
      accountId: Type.String(),
      name: Type.String(),
      scheme: Type.String(),
      state: Type.String(),
      createdMs: Ms,
      policy: CutText,
      policyLength: Count,
      nextChangeMs: NullableMs,
    }),
  ),
});
export type ConsolePolicies = Static<typeof ConsolePolicies>;
