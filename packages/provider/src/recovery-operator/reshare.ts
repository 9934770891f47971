/**
 * Moving every enrollment's OPRF key to a new set of recovery operators without rebuilding it:
 * `reshareRecoveryOperators` asks each helper (exactly the old threshold of old operators) to deal
 * its shares to the recipients, with the recipients' keys as the plan pins them (never as an
 * operator reports them: a swapped key would receive the shares), and hands every recipient all
 * the dealings to verify and install. Recipients that are new operators install first: if one of
 * them refuses a dealing, no old operator has replaced its share yet and the old sharing is intact.
 * Last, every old operator left out of the new set deletes its shares: a retired share would
 * still combine with another old one. Each operator deals, accepts or retires only as its own
 * administrator configured (KEYSHARD_OPERATOR_RESHARE_TO); the plan cannot widen that.
 */

/** An operator the administrator drives: its url and its admin bearer token. */
export interface ReshareOperator {
  url: string;
  adminToken: string;
}

/** A helper and its index in the old sharing. */
export interface ReshareHelper extends ReshareOperator {
  index: number;
}

/** A recipient, its index in the new sharing (its position in the provider's new list) and its pinned X25519 key (hex). */
export interface ReshareRecipient extends ReshareOperator {
  index: number;
  key: string;
}

export interface ResharePlan {
  helpers: ReshareHelper[];
  recipients: ReshareRecipient[];
  /** The new threshold. */
  threshold: number;
  /** The old operators not in the new set: they delete their shares once the recipients installed theirs. */
  retire: ReshareOperator[];
}

export interface ReshareOutcome {
  /** Enrollments each recipient installed, by url. */
  accepted: Record<string, number>;
  /** Shares each retired operator deleted, by url. */
  retired: Record<string, number>;
  /** Retired operators that could not be reached or refused: they still hold their old shares. */
  notRetired: { url: string; reason: string }[];
}

/** A reshare step an operator refused, naming the operator by its url and giving its answer. */
export class ReshareError extends Error {
  override readonly name = "ReshareError";
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${url}: ${message}`);
  }
}

async function call(operator: ReshareOperator, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(operator.url + path, {
    method,
    headers: {
      authorization: `Bearer ${operator.adminToken}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let answer: { error?: unknown; message?: unknown } | undefined;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ReshareError(operator.url, response.status, "not-json", `answered ${response.status} with no JSON`);
  }
  if (response.status !== 200)
    throw new ReshareError(
      operator.url,
      response.status,
      String(answer?.error ?? "error"),
      String(answer?.message ?? `answered ${response.status}`),
    );
  return answer;
}

/** Runs the plan: stops at the first helper or recipient that refuses, then retires what it can. */
export async function reshareRecoveryOperators(plan: ResharePlan): Promise<ReshareOutcome> {
  const helpers = plan.helpers.map((h) => h.index);
  const recipients = plan.recipients.map((r) => ({ index: r.index, key: r.key }));
  const dealings = await Promise.all(
    plan.helpers.map(async (helper) => {
      const { dealings: enrollments } = (await call(helper, "POST", "/v1/operator/reshare/deal", {
        helpers,
        threshold: plan.threshold,
        recipients,
      })) as { dealings: unknown[] };
      return { from: helper.index, enrollments };
    }),
  );
  const oldUrls = new Set(plan.helpers.map((h) => h.url));
  const ordered = [
    ...plan.recipients.filter((r) => !oldUrls.has(r.url)),
    ...plan.recipients.filter((r) => oldUrls.has(r.url)),
  ];
  const accepted: Record<string, number> = {};
  for (const recipient of ordered) {
    const answer = (await call(recipient, "POST", "/v1/operator/reshare/accept", {
      index: recipient.index,
      helpers,
      threshold: plan.threshold,
      dealings,
    })) as { accepted: number };
    accepted[recipient.url] = answer.accepted;
  }
  const retired: Record<string, number> = {};
  const notRetired: ReshareOutcome["notRetired"] = [];
  // One unreachable operator does not stop the others from retiring; the caller learns which remain.
  for (const operator of plan.retire) {
    try {
      const answer = (await call(operator, "POST", "/v1/operator/reshare/retire", {})) as { retired: number };
      retired[operator.url] = answer.retired;
    } catch (e) {
      notRetired.push({ url: operator.url, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { accepted, retired, notRetired };
}
