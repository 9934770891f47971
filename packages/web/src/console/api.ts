/**
 * The console's side of `/console/api/*`: a GET with the operator's token in the Authorization
 * header (the token is held by the page in memory only, never in storage, a URL or a cookie), and
 * each reply read strictly (`engine/readers.ts`) into the types the views show: every field in its
 * type and form, and a text that is merely long cut rather than refused.
 */
import {
  boolean,
  count,
  isRecord,
  list,
  optional,
  orNull,
  ProtocolError,
  type Reader,
  record,
  text,
} from "../engine/readers.js";
import { policyInWords } from "../engine/rule-words.js";

/** Ids, names, states, actions. */
const idText = text({ max: 1000 });

/**
 * The most of a long text (audit details, a policy, a refusal's message) the console keeps: the
 * provider sends the first 4000 characters of one, with its whole length beside it.
 */
export const LONG_TEXT_KEPT = 4000;

/** A text of any length, its first `LONG_TEXT_KEPT` characters kept: one long field does not cost the page its list. */
const longText: Reader<string> = (value, what) => {
  if (typeof value !== "string") throw new ProtocolError(`${what} is not a string`);
  return value.slice(0, LONG_TEXT_KEPT);
};

/** Counts by state: a few short names, each with a whole number. */
const countsByName: Reader<Record<string, number>> = (value, what) => {
  if (!isRecord(value)) throw new ProtocolError(`${what} is not an object`);
  const entries = Object.entries(value);
  if (entries.length > 32) throw new ProtocolError(`${what} has more than 32 entries`);
  return Object.fromEntries(entries.map(([name, n]) => [idText(name, what), count(n, `${what}.${name}`)]));
};

const API = "/console/api/";

/** The provider refused the call; `status` 401 means the token is not the console's. */
export class ConsoleApiError extends Error {
  override readonly name = "ConsoleApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const errorBody = record<{ error: string; message: string }>({ error: idText, message: longText });

export interface Overview {
  version: string;
  trial: boolean;
  startedAtMs: number;
  uptimeSeconds: number;
  database: { kind: string; reachable: boolean };
  counts: {
    accounts: number;
    devices: Record<string, number>;
    wallets: Record<string, number>;
    requests: Record<string, number>;
  } | null;
  signRuns: { precomputedAhead: number; precomputedInRun: number };
}

const overview = record<Overview>({
  version: idText,
  trial: boolean,
  startedAtMs: count,
  uptimeSeconds: count,
  database: record({ kind: idText, reachable: boolean }),
  counts: orNull(record({ accounts: count, devices: countsByName, wallets: countsByName, requests: countsByName })),
  signRuns: record({ precomputedAhead: count, precomputedInRun: count }),
});

export interface Device {
  id: string;
  name: string;
  state: string;
  createdMs: number;
}

export interface Account {
  id: string;
  email: string;
  verified: boolean;
  createdMs: number;
  lastActiveMs: number | null;
  /** The account's devices in all, of which `devices` are the first `devicesLimit` at most. */
  devicesTotal: number;
  devices: Device[];
}

/** A capped list: its newest `limit` rows at most, of `total`. */
export interface Capped {
  limit: number;
  total: number;
}

export interface Accounts extends Capped {
  devicesLimit: number;
  accounts: Account[];
}

const accounts = record<Accounts>({
  limit: count,
  total: count,
  devicesLimit: count,
  accounts: list(
    record<Account>({
      id: idText,
      email: idText,
      verified: boolean,
      createdMs: count,
      lastActiveMs: orNull(count),
      devicesTotal: count,
      devices: list(record<Device>({ id: idText, name: idText, state: idText, createdMs: count })),
    }),
  ),
});

export interface WaitingFor {
  totp?: boolean;
  approvals?: { needed: number; have: number };
  releaseMs?: number;
}

export interface HeldRequest {
  id: string;
  accountId: string;
  email: string;
  walletId: string;
  walletName: string;
  chain: string;
  kind: string;
  requestedBy: { deviceId: string; name: string };
  createdMs: number;
  rule: string | null;
  ruleNumber: number | null;
  decision: string;
  waitingFor: WaitingFor;
  approvals: { deviceId: string; atMs: number; counts: boolean }[];
}

export interface HeldRequests extends Capped {
  requests: HeldRequest[];
}

const heldRequests = record<HeldRequests>({
  limit: count,
  total: count,
  requests: list(
    record<HeldRequest>({
      id: idText,
      accountId: idText,
      email: idText,
      walletId: idText,
      walletName: idText,
      chain: idText,
      kind: idText,
      requestedBy: record({ deviceId: idText, name: idText }),
      createdMs: count,
      rule: orNull(idText),
      ruleNumber: orNull(count),
      decision: idText,
      waitingFor: record<WaitingFor>({
        totp: optional(boolean),
        approvals: optional(record({ needed: count, have: count })),
        releaseMs: optional(count),
      }),
      approvals: list(record({ deviceId: idText, atMs: count, counts: boolean })),
    }),
  ),
});

export interface AuditEntry {
  seq: number;
  atMs: number;
  actor: string;
  action: string;
  /** The entry's stored details (canonical JSON), cut to their beginning when long. */
  details: string;
  /** How long the stored details are. */
  detailsLength: number;
  hash: string;
}

export interface Audit extends Capped {
  accountId: string;
  entries: AuditEntry[];
}

const audit = record<Audit>({
  accountId: idText,
  limit: count,
  total: count,
  entries: list(
    record<AuditEntry>({
      seq: count,
      atMs: count,
      actor: idText,
      action: idText,
      details: longText,
      detailsLength: count,
      hash: idText,
    }),
  ),
});

export interface AuditVerdict {
  accountId: string;
  ok: boolean;
  length: number;
  firstBroken?: number;
  head?: string;
}

const auditVerdict = record<AuditVerdict>({
  accountId: idText,
  ok: boolean,
  length: count,
  firstBroken: optional(count),
  head: optional(idText),
});

export interface Recovery {
  id: string;
  accountId: string;
  device: { id: string; name: string };
  atMs: number;
  holdUntilMs: number;
  status: string;
  decidedBy: string | null;
  decidedMs: number | null;
}

export interface Enrollment {
  id: string;
  accountId: string;
  kind: string;
  email: string;
  status: string;
  inactivityMs: number | null;
  createdBy: string;
  createdMs: number;
  changedMs: number | null;
}

export interface RecoveryActivity {
  limit: number;
  recoveriesTotal: number;
  recoveries: Recovery[];
  enrollmentsTotal: number;
  enrollments: Enrollment[];
}

const recoveryActivity = record<RecoveryActivity>({
  limit: count,
  recoveriesTotal: count,
  recoveries: list(
    record<Recovery>({
      id: idText,
      accountId: idText,
      device: record({ id: idText, name: idText }),
      atMs: count,
      holdUntilMs: count,
      status: idText,
      decidedBy: orNull(idText),
      decidedMs: orNull(count),
    }),
  ),
  enrollmentsTotal: count,
  enrollments: list(
    record<Enrollment>({
      id: idText,
      accountId: idText,
      kind: idText,
      email: idText,
      status: idText,
      inactivityMs: orNull(count),
      createdBy: idText,
      createdMs: count,
      changedMs: orNull(count),
    }),
  ),
});

export interface WalletPolicy {
  id: string;
  accountId: string;
  name: string;
  scheme: string;
  state: string;
  createdMs: number;
  /** The policy in force, cut to its beginning when long. */
  policy: string;
  /** How long the whole policy is. */
  policyLength: number;
  nextChangeMs: number | null;
}

/** A policy the provider offers new wallets. */
export interface PolicyTemplate {
  id: string;
  name: string;
  description: string;
  /** Its rules in words (`engine/rule-words.ts`), in the order they are tried, then what none matching means. */
  rules: string[];
}

/** The most templates and rules the provider has (its bounds). */
const TEMPLATES_MAX = 32;
const RULES_MAX = 100;

/** A policy as the provider holds it, read into words: a rule this page cannot read is said to be one. */
const rulesInWords: Reader<string[]> = (value, what) => {
  if (!Array.isArray(value) || value.length > RULES_MAX) throw new ProtocolError(`${what} is not a list of rules`);
  return policyInWords(value);
};

export interface Policies extends Capped {
  /** The built-in default first. */
  templates: PolicyTemplate[];
  wallets: WalletPolicy[];
}

const policies = record<Policies>({
  limit: count,
  total: count,
  templates: list(
    record<PolicyTemplate>({ id: idText, name: idText, description: idText, rules: rulesInWords }),
    TEMPLATES_MAX,
  ),
  wallets: list(
    record<WalletPolicy>({
      id: idText,
      accountId: idText,
      name: idText,
      scheme: idText,
      state: idText,
      createdMs: count,
      policy: longText,
      policyLength: count,
      nextChangeMs: orNull(count),
    }),
  ),
});

/** An account id as the API takes it in a path. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The provider's reason for a refusal, when its body is the provider's error body; undefined otherwise (a proxy's page, say). */
async function refusalReason(response: Response): Promise<string | undefined> {
  try {
    return errorBody(await response.json(), "the provider's refusal").message;
  } catch {
    return undefined;
  }
}

async function get<T>(token: string, path: string, read: Reader<T>): Promise<T> {
  const response = await fetch(`${API}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    cache: "no-store",
    credentials: "omit",
  });
  // The status first: a refusal may come from a proxy in front of the provider, with a page of its own.
  if (response.status === 401)
    throw new ConsoleApiError(401, "The provider refused the token: it is not the console token it was started with.");
  if (!response.ok)
    throw new ConsoleApiError(
      response.status,
      (await refusalReason(response)) ??
        `The provider answered with an error (HTTP ${response.status}), without saying why: a provider error, or one of a proxy in front of it.`,
    );
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ProtocolError(`the provider's answer to ${path} (HTTP ${response.status}) is not JSON`);
  }
  return read(body, `the provider's answer to ${path}`);
}

function accountPath(accountId: string, rest: string): string {
  if (!UUID.test(accountId)) throw new ConsoleApiError(400, "that is not an account id");
  return `accounts/${accountId}/${rest}`;
}

/** The console API's calls, each with the operator's token. */
export const consoleApi = {
  overview: (token: string) => get(token, "overview", overview),
  accounts: (token: string) => get(token, "accounts", accounts),
  heldRequests: (token: string) => get(token, "held-requests", heldRequests),
  // Async, so that a refused id rejects the call like any other refusal instead of throwing at it.
  audit: async (token: string, accountId: string) => get(token, accountPath(accountId, "audit"), audit),
  verifyAudit: async (token: string, accountId: string) =>
    get(token, accountPath(accountId, "audit/verify"), auditVerdict),
  recovery: (token: string) => get(token, "recovery", recoveryActivity),
  policies: (token: string) => get(token, "policies", policies),
};
