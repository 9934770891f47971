/**
 * `npx tsx --conditions=keyshard-source packages/provider/src/recovery-operator/reshare-cli.ts --plan plan.json`:
 * runs a reshare of every enrollment from the plan's helpers to its recipients (README, "Recovery
 * operators"). The plan holds admin tokens: it is read from a file, never from the command line.
 * Exits 0 with each recipient's count of installed enrollments and each retired operator's count
 * of deleted shares, 2 on a plan it cannot read, 1 when an operator refused or a retired one could
 * not be reached (naming it).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ReshareError, type ResharePlan, reshareRecoveryOperators } from "./reshare.js";

function fail(message: string, status: number): never {
  console.error(message);
  process.exit(status);
}

const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 255;

/** The plan in `text`, or why it is not one. */
function readPlan(text: string): ResharePlan {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    throw new Error("the plan is not JSON");
  }
  const p = plan as Partial<ResharePlan> | null;
  const operators = (list: unknown, what: string) => {
    if (!Array.isArray(list) || list.length === 0) throw new Error(`the plan's ${what} are a non-empty list`);
    for (const o of list)
      if (typeof o?.url !== "string" || typeof o?.adminToken !== "string" || !isIndex(o?.index))
        throw new Error(`each of the plan's ${what} has a url, an adminToken and an index (1 to 255)`);
  };
  operators(p?.helpers, "helpers");
  operators(p?.recipients, "recipients");
  for (const r of p?.recipients ?? [])
    if (typeof r.key !== "string" || !/^[0-9a-f]{64}$/.test(r.key))
      throw new Error(
        "each of the plan's recipients has its key, 64 lower-case hex digits, as its administrator gave it",
      );
  const retire = p?.retire ?? [];
  if (!Array.isArray(retire) || retire.some((o) => typeof o?.url !== "string" || typeof o?.adminToken !== "string"))
    throw new Error("the plan's retire is a list of operators with a url and an adminToken");
  if (!isIndex(p?.threshold) || (p?.threshold as number) < 2)
    throw new Error("the plan's threshold is a whole number, at least 2");
  return { ...(p as ResharePlan), retire };
}

const { values } = parseArgs({ options: { plan: { type: "string" } } });
if (values.plan === undefined) fail("usage: reshare-cli.ts --plan plan.json", 2);
let plan: ResharePlan;
try {
  plan = readPlan(readFileSync(values.plan, "utf8"));
} catch (e) {
  fail(`cannot use ${values.plan}: ${(e as Error).message}`, 2);
}
try {
  const { accepted, retired, notRetired } = await reshareRecoveryOperators(plan);
  for (const [url, count] of Object.entries(accepted)) console.log(`${url}: ${count} enrollments reshared`);
  for (const [url, count] of Object.entries(retired)) console.log(`${url}: retired, ${count} shares deleted`);
  for (const { url, reason } of notRetired)
    console.error(`${url}: NOT retired, it still holds its old shares (${reason}): retire it by hand`);
  if (notRetired.length > 0) process.exit(1);
} catch (e) {
  if (e instanceof ReshareError) fail(`reshare stopped: ${e.message} (${e.code})`, 1);
  fail(`reshare failed: ${(e as Error).message}`, 1);
}
