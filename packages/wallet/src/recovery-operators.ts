/**
 * The device's side of the recovery operators: reading the provider's list of them strictly,
 * pinning it (the provider cannot swap in operators of its own later without the caller's say),
 * and the three calls the device makes to an operator — its key, registering a sealed OPRF key
 * share, and evaluating a blinded face guess. Every answer comes from another party and is
 * decoded strictly; every failure is a `WalletError` naming the operator's url.
 */
import { MAX_RECOVERY_OPERATORS } from "@keyshard/api";
import { isLoopbackHost, type PartialEvaluation } from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { WalletError } from "./errors.js";
import type { PinnedOperators, RecoveryOperator } from "./state.js";

/** An operator that does not answer within this is taken as unreachable. */
const OPERATOR_TIMEOUT_MS = 30_000;
/** How much of an operator's refusal message is shown: it is another party's text. */
const SHOWN_MESSAGE_CHARS = 200;

/** The provider's list of operators, and the key the tickets it signs for them verify with. */
export interface OperatorListing extends PinnedOperators {
  ticketKey: Uint8Array;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `value` as `bytes` bytes of lower-case hex, or undefined. */
export function hexOf(value: unknown, bytes: number): Uint8Array | undefined {
  return typeof value === "string" && value.length === bytes * 2 && /^[0-9a-f]*$/.test(value)
    ? hexToBytes(value)
    : undefined;
}

/**
 * `url` as operators are compared and called: https (http on loopback only, as the provider
 * allows), no credentials, query or fragment, no trailing slash.
 */
function operatorUrl(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopbackHost(parsed.hostname)))
    return undefined;
  if (parsed.username !== "" || parsed.password !== "" || parsed.search !== "" || parsed.hash !== "") return undefined;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

/**
 * Checks what makes a set of operators usable for a t-of-n sharing: 2 ≤ t ≤ n, distinct indices
 * and keys (one operator listed twice would count twice towards t).
 */
function checkOperatorSet(set: PinnedOperators, from: string): void {
  const { threshold, operators } = set;
  const bad = (why: string) => new WalletError("operator", `${from}: ${why}`);
  if (!Number.isInteger(threshold) || threshold < 2)
    throw bad("the threshold is less than 2, so one operator alone could test face guesses");
  if (operators.length < threshold) throw bad(`${operators.length} operators cannot meet a threshold of ${threshold}`);
  if (operators.length > MAX_RECOVERY_OPERATORS) throw bad(`more than ${MAX_RECOVERY_OPERATORS} operators`);
  if (new Set(operators.map((o) => o.index)).size !== operators.length) throw bad("two operators share an index");
  if (new Set(operators.map((o) => o.key)).size !== operators.length) throw bad("two operators share a key");
  if (new Set(operators.map((o) => o.url)).size !== operators.length) throw bad("two operators share a url");
}

/** One operator of a list the provider sent, strictly. */
function readOperator(value: unknown, from: string): RecoveryOperator {
  const bad = () => new WalletError("operator", `${from} lists an operator that is not {index, url, key}`);
  if (!isRecord(value) || Object.keys(value).length !== 3) throw bad();
  const { index, url, key } = value;
  const shown = operatorUrl(url);
  if (!Number.isInteger(index) || (index as number) < 1 || (index as number) > MAX_RECOVERY_OPERATORS) throw bad();
  if (shown === undefined || hexOf(key, 32) === undefined) throw bad();
  return { index: index as number, url: shown, key: key as string };
}

/** A threshold and list of operators from the provider, strictly, ordered by index. */
export function readOperatorSet(threshold: unknown, operators: unknown, from: string): PinnedOperators {
  if (!Array.isArray(operators)) throw new WalletError("operator", `${from} has no list of operators`);
  const set = {
    threshold: threshold as number,
    operators: operators.map((o) => readOperator(o, from)).sort((a, b) => a.index - b.index),
  };
  checkOperatorSet(set, from);
  return set;
}

/** The provider's `GET /v1/recovery/operators` answer, strictly. */
export function readOperatorListing(reply: unknown): OperatorListing {
  const from = "the provider's list of recovery operators";
  if (!isRecord(reply)) throw new WalletError("operator", `${from} is not an object`);
  if (Array.isArray(reply.operators) && reply.operators.length === 0)
    throw new WalletError(
      "provider-refused",
      "the provider names no recovery operators, so it cannot enroll or recover a face: its operator asks for them to be set up",
    );
  const ticketKey = hexOf(reply.ticketKey, 32);
  if (ticketKey === undefined) throw new WalletError("operator", `${from} has no ticket key`);
  return { ...readOperatorSet(reply.threshold, reply.operators, from), ticketKey };
}

/**
 * `operators` as the caller gives them to accept a new list: `url#key` entries, comma-separated,
 * the index of each its place from 1 (as the provider's setting lists them).
 */
export function parseOperatorList(text: string): RecoveryOperator[] {
  const entries = text.split(",").map((entry) => entry.trim());
  return entries.map((entry, i) => {
    const [url, key, extra] = entry.split("#");
    const shown = operatorUrl(url);
    if (shown === undefined || extra !== undefined || hexOf(key, 32) === undefined)
      throw new WalletError(
        "usage",
        "`operators` lists the recovery operators as url#key, comma-separated: an http(s) url and the operator's 32-byte key in lower-case hex",
        { parameter: "operators" },
      );
    return { index: i + 1, url: shown, key: key as string };
  });
}

const sameOperators = (a: readonly RecoveryOperator[], b: readonly RecoveryOperator[]) =>
  a.length === b.length && a.every((o, i) => o.index === b[i]?.index && o.url === b[i]?.url && o.key === b[i]?.key);

/** Whether two sets are the same operators in the same places with the same threshold. */
export const sameOperatorSet = (a: PinnedOperators, b: PinnedOperators): boolean =>
  a.threshold === b.threshold && sameOperators(a.operators, b.operators);

const described = (set: PinnedOperators) =>
  `${set.threshold} of ${set.operators.map((o) => `${o.url}#${o.key}`).join(", ")}`;

/**
 * The operators to use: the provider's listing when it is the one this device pinned (or nothing
 * is pinned yet), or when the caller gave exactly it as `explicit`. Whoever pins the list trusts
 * that no `threshold` of them collude, so a different list is never taken silently.
 */
export function chooseOperators(
  listed: PinnedOperators,
  pinned: PinnedOperators | undefined,
  explicit?: readonly RecoveryOperator[],
): PinnedOperators {
  if (explicit !== undefined) {
    // Accepting new operators is not accepting that fewer of them suffice to test face guesses.
    if (pinned !== undefined && listed.threshold < pinned.threshold)
      throw new WalletError(
        "operators-changed",
        `the provider names the recovery operators ${described(listed)}: a threshold below the ${pinned.threshold} this device pinned is not accepted`,
        { parameter: "operators" },
      );
    if (!sameOperators(explicit, listed.operators))
      throw new WalletError(
        "operators-changed",
        `the provider names the recovery operators ${described(listed)}, not the ones given in \`operators\``,
        { parameter: "operators" },
      );
    return listed;
  }
  if (pinned === undefined || sameOperatorSet(pinned, listed)) return listed;
  throw new WalletError(
    "operators-changed",
    `the provider now names other recovery operators (${described(listed)}) than the ones this device pinned (${described(pinned)}): whoever accepts them trusts that no ${listed.threshold} of them work together; pass them explicitly in \`operators\` to accept`,
    { parameter: "operators" },
  );
}

// ── calls to an operator ───────────────────────────────────────────────────────────────────────

/** An operator's JSON answer to one call; any failure is a WalletError naming the operator. */
async function call(operator: RecoveryOperator, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(operator.url + path, {
      method,
      redirect: "error",
      signal: AbortSignal.timeout(OPERATOR_TIMEOUT_MS),
      ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    text = await response.text();
  } catch (e) {
    throw new WalletError(
      "operator",
      `recovery operator ${operator.url} is unreachable (${e instanceof Error ? e.message : String(e)})`,
      { operator: operator.url },
      { cause: e },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (response.ok) {
    if (parsed === undefined)
      throw new WalletError("operator", `recovery operator ${operator.url} answered something that is not JSON`, {
        operator: operator.url,
      });
    return parsed;
  }
  const code = isRecord(parsed) && typeof parsed.error === "string" ? printable(parsed.error.slice(0, 64)) : "error";
  const message = isRecord(parsed) && typeof parsed.message === "string" ? printable(parsed.message) : "";
  throw new WalletError(
    "operator",
    `recovery operator ${operator.url} refused (${response.status} ${code}${message ? `: ${message.slice(0, SHOWN_MESSAGE_CHARS)}` : ""})`,
    { operator: operator.url, status: response.status, operatorError: code },
  );
}

/** Another party's text with its control characters (which could rewrite a terminal) made spaces. */
const printable = (text: string) => text.replace(/\p{Cc}/gu, " ");

const wrongAnswer = (operator: RecoveryOperator, what: string) =>
  new WalletError("operator", `recovery operator ${operator.url} answered ${what}`, { operator: operator.url });

/**
 * Checks that the operator answers with the key the provider listed for it (a share sealed to
 * another key would be lost, or read by someone else) and trusts the provider's ticket key.
 */
export async function checkOperatorKey(operator: RecoveryOperator, ticketKey: Uint8Array): Promise<void> {
  const reply = await call(operator, "GET", "/v1/operator");
  if (!isRecord(reply) || hexOf(reply.key, 32) === undefined || hexOf(reply.ticketKey, 32) === undefined)
    throw wrongAnswer(operator, "something other than its key and ticket key");
  if (reply.key !== operator.key)
    throw wrongAnswer(operator, `with the key ${String(reply.key)}, not the ${operator.key} the provider lists for it`);
  if (reply.ticketKey !== bytesToHex(ticketKey))
    throw wrongAnswer(operator, "that it trusts another provider's tickets than this provider's");
}

/** What the device registers at an operator for an enrollment. */
export interface ShareRegistration {
  enrollment: string;
  ticket: unknown;
  threshold: number;
  commitments: readonly Uint8Array[];
  sealedShare: Uint8Array;
  /** The share's public key, K_index: the operator answers it once it checked its share. */
  publicShare: Uint8Array;
}

/** Registers an enrollment's sealed OPRF key share at `operator`, which answers the share's public key. */
export async function registerShare(operator: RecoveryOperator, registration: ShareRegistration): Promise<void> {
  const reply = await call(operator, "POST", "/v1/operator/enrollments", {
    ticket: registration.ticket,
    index: operator.index,
    threshold: registration.threshold,
    commitments: registration.commitments.map(bytesToHex),
    sealedShare: bytesToHex(registration.sealedShare),
  });
  if (
    !isRecord(reply) ||
    reply.enrollment !== registration.enrollment ||
    reply.index !== operator.index ||
    reply.publicShare !== bytesToHex(registration.publicShare)
  )
    throw wrongAnswer(operator, "the registration for another enrollment, index or share");
}

/** An operator's evaluation of a blinded guess, decoded but not yet verified. */
export interface OperatorEvaluation {
  partial: PartialEvaluation;
  commitments: Uint8Array[];
}

/** Asks `operator` to evaluate `blinded` for `enrollment` (one counted, mailed attempt there). */
export async function askEvaluation(
  operator: RecoveryOperator,
  enrollment: string,
  ticket: unknown,
  blinded: Uint8Array,
): Promise<OperatorEvaluation> {
  const reply = await call(operator, "POST", `/v1/operator/enrollments/${enrollment}/evaluations`, {
    ticket,
    blinded: bytesToHex(blinded),
  });
  const malformed = () => wrongAnswer(operator, "an evaluation that is not {index, evaluated, proof, commitments}");
  if (!isRecord(reply) || reply.index !== operator.index) throw malformed();
  const evaluated = hexOf(reply.evaluated, 32);
  const proof = hexOf(reply.proof, 64);
  const { commitments } = reply;
  if (evaluated === undefined || proof === undefined || !Array.isArray(commitments)) throw malformed();
  if (commitments.length === 0 || commitments.length > MAX_RECOVERY_OPERATORS) throw malformed();
  const decoded = commitments.map((c) => hexOf(c, 32));
  if (decoded.some((c) => c === undefined)) throw malformed();
  return { partial: { index: operator.index, evaluated, proof }, commitments: decoded as Uint8Array[] };
}
