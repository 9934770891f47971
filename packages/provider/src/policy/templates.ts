/**
 * Policy templates: the policies the provider offers a new wallet. The built-in "standard" one is
 * the default policy; the operator adds their own in a JSON file (`KEYSHARD_POLICY_TEMPLATES`),
 * read and checked whole at the start, so that a template no wallet could take refuses the start
 * instead of a creation later. A wallet gets a copy of its template's rules: editing the file
 * changes no wallet made before.
 */
import { readFileSync } from "node:fs";
import {
  POLICY_TEMPLATE_DESCRIPTION_MAX,
  POLICY_TEMPLATE_ID,
  POLICY_TEMPLATE_NAME_MAX,
  type Policy,
  type PolicyTemplate,
  type WalletCreate,
} from "@keyshard/api";
import { invalid, ProviderError } from "../errors.js";
import { DEFAULT_POLICY, parsePolicy } from "./policy.js";

/** The most templates a provider offers, its built-in one included: a list a device can show whole. */
export const MAX_POLICY_TEMPLATES = 32;

/** The template of the default policy, which every provider offers first. */
export const STANDARD_TEMPLATE: PolicyTemplate = {
  id: "standard",
  name: "Standard",
  description: "Plain and token transfers are signed; anything else (approvals, contract calls, messages) is refused.",
  rules: DEFAULT_POLICY,
};

/** A templates file the provider cannot use: its message says which file and which template, never the rules' values. */
export class PolicyTemplatesError extends Error {
  override readonly name = "PolicyTemplatesError";
}

const TEMPLATE_FIELDS = ["id", "name", "description", "rules"];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** One line of text: a control character (a line break, a terminal escape) would change how a device shows it. */
const CONTROL = /\p{Cc}/u;

function oneLine(value: unknown, max: number, min: number, what: string): string {
  if (typeof value !== "string" || value.length < min || value.length > max || CONTROL.test(value))
    throw new PolicyTemplatesError(`${what} is not one line of ${min} to ${max} characters`);
  return value;
}

/** One template of the file, `at` its place in the list counted from 1. */
function templateOf(value: unknown, at: number): PolicyTemplate {
  if (!isObject(value)) throw new PolicyTemplatesError(`template ${at} is not an object`);
  const id = value.id;
  if (typeof id !== "string" || !POLICY_TEMPLATE_ID.test(id))
    throw new PolicyTemplatesError(
      `template ${at}'s id is not 1 to 40 lower-case letters, digits and hyphens (${POLICY_TEMPLATE_ID.source})`,
    );
  const named = `template "${id}"`;
  const unknown = Object.keys(value).filter((field) => !TEMPLATE_FIELDS.includes(field));
  if (unknown.length > 0)
    throw new PolicyTemplatesError(
      `${named} has fields a template does not have: ${unknown.map((f) => JSON.stringify(f.slice(0, 40))).join(", ")} (it has ${TEMPLATE_FIELDS.join(", ")})`,
    );
  const name = oneLine(value.name, POLICY_TEMPLATE_NAME_MAX, 1, `${named}'s name`);
  const description = oneLine(value.description, POLICY_TEMPLATE_DESCRIPTION_MAX, 0, `${named}'s description`);
  let rules: Policy;
  try {
    rules = parsePolicy(value.rules);
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    throw new PolicyTemplatesError(`${named}'s rules are refused: ${e.message}`, { cause: e });
  }
  return { id, name, description, rules };
}

/**
 * The templates of a file's text: `{ "templates": [ { "id", "name", "description", "rules" } ] }`,
 * nothing else, each id once and none the built-in one's. Throws `PolicyTemplatesError`.
 */
export function parsePolicyTemplates(text: string): PolicyTemplate[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PolicyTemplatesError(`it is not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isObject(value) || !Array.isArray(value.templates) || Object.keys(value).length !== 1)
    throw new PolicyTemplatesError('it is not an object with one field, "templates", a list');
  if (value.templates.length > MAX_POLICY_TEMPLATES - 1)
    throw new PolicyTemplatesError(
      `it lists ${value.templates.length} templates: at most ${MAX_POLICY_TEMPLATES - 1} beside the built-in "${STANDARD_TEMPLATE.id}"`,
    );
  const templates = value.templates.map((t, i) => templateOf(t, i + 1));
  const ids = new Set([STANDARD_TEMPLATE.id]);
  for (const { id } of templates) {
    if (ids.has(id))
      throw new PolicyTemplatesError(
        id === STANDARD_TEMPLATE.id
          ? `template "${id}" has the built-in template's id`
          : `two templates have the id "${id}"`,
      );
    ids.add(id);
  }
  return templates;
}

/** The templates a provider offers: the built-in one, then those of `file` (a path), if given. */
export function loadPolicyTemplates(file: string | undefined): PolicyTemplate[] {
  if (file === undefined) return [STANDARD_TEMPLATE];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new PolicyTemplatesError(
      `the policy templates file ${JSON.stringify(file)} cannot be read${typeof code === "string" ? ` (${code})` : ""}`,
      { cause: e },
    );
  }
  try {
    return [STANDARD_TEMPLATE, ...parsePolicyTemplates(text)];
  } catch (e) {
    if (!(e instanceof PolicyTemplatesError)) throw e;
    throw new PolicyTemplatesError(`the policy templates file ${JSON.stringify(file)}: ${e.message}`, { cause: e });
  }
}

/**
 * The policy a new wallet gets: the one its creator gives, or a copy of the template it names, or
 * the default. Both at once, or a template the provider does not offer, is refused.
 */
export function newWalletPolicy(templates: readonly PolicyTemplate[], body: WalletCreate): Policy {
  if (body.policy !== undefined && body.policyTemplate !== undefined)
    throw invalid("give a policy or a policy template, not both");
  if (body.policy !== undefined) return parsePolicy(body.policy);
  if (body.policyTemplate === undefined) return DEFAULT_POLICY;
  const template = templates.find((t) => t.id === body.policyTemplate);
  if (template === undefined) throw invalid(`this provider has no policy template "${body.policyTemplate}"`);
  return template.rules;
}
