/**
 * How refusals reach a client: the status of each kind of domain refusal, the errors only the
 * HTTP layer raises (a request that is not signed right, a body that is not JSON), and schema
 * violations put in words. Anything else is the server's fault (500) and is logged without request
 * bodies, so no secret a client sent can reach a log.
 */
import { isDeepStrictEqual } from "node:util";
import { Policy, policyViolationText, UUID_FORM } from "@keyshard/api";
import { type ErrorKind, ProviderError } from "../errors.js";

/** A refusal of the HTTP layer itself, with its status. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const unauthorized = (message: string, options?: ErrorOptions) =>
  new HttpError(401, "unauthorized", message, options);

/** The status of each kind of domain refusal. */
const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  aborted: 422,
  limited: 429,
};

/** A refusal's status and body, or undefined for an error that is not a refusal (the server's fault). */
export function refusal(e: unknown): { status: number; code: string; message: string } | undefined {
  if (e instanceof ProviderError) return { status: STATUS_OF_KIND[e.kind], code: e.code, message: e.message };
  if (e instanceof HttpError) return { status: e.status, code: e.code, message: e.message };
  return undefined;
}

/** One schema violation as Fastify reports it (ajv's error object). */
interface SchemaViolation {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a JSON object",
  null: "null",
};

/** What a pattern of our schemas asks for, in words; the schema's own regex means nothing to a person. */
function patternWords(pattern: string): string {
  if (pattern === UUID_FORM.source) return "is not a valid id";
  const hex = /^\^\[0-9a-f\]\{(\d+)\}\$$/.exec(pattern);
  if (hex) return `must be ${hex[1]} hex digits (0-9, a-f)`;
  if (pattern === "^([0-9a-f]{2})+$") return "must be hex digits (0-9, a-f), two per byte";
  if (/^\^\[0-9\]\{(\d+)\}\$$/.test(pattern)) return `must be ${/\{(\d+)\}/.exec(pattern)?.[1]} digits`;
  if (pattern.startsWith("^[0-9]") || pattern.startsWith("^[1-9]")) return "must be a whole number written in digits";
  if (pattern.startsWith("^m(")) return "must be a derivation path like m/0/1";
  if (pattern.includes("@")) return "must be an email address";
  return "is not in the form it should be";
}

/**
 * The field a violation is about, in words: path parameters and query fields say where they are
 * (`noun` names what the route's `:id` identifies), body fields go by their names, list entries
 * by their place counted from 1.
 */
function fieldWords(context: string, path: string[], noun: string): string {
  if (context === "params")
    return path[0] === "id" ? `the ${noun} id in the path` : `the ${path.join(" ")} in the path`;
  if (context === "querystring") return path.length === 0 ? "the query" : `${path.join(" ")} in the query`;
  if (path.length === 0) return "the request body";
  return path.map((p) => (/^[0-9]+$/.test(p) ? `entry ${Number(p) + 1}` : p)).join(" ");
}

/** What a route's `:id` identifies, from its URL: "/v1/sign-requests/:id" → "sign request". */
function idNoun(routeUrl: string | undefined): string {
  const segments = (routeUrl ?? "").split("/");
  const before = segments[segments.indexOf(":id") - 1] ?? "";
  return before.replace(/ies$/, "y").replace(/s$/, "").replaceAll("-", " ") || "resource";
}

/**
 * A schema violation as a client's message: the field in plain words and what it must be, never
 * the schema's own text ("params/id must match format \"uuid\""), which speaks of JSON pointers
 * and regexes. Names a client sent are quoted cut short: they are echoed, not trusted.
 */
function validationMessage(violation: SchemaViolation, context: string, noun: string): string {
  const path = violation.instancePath.split("/").slice(1);
  const p = violation.params;
  const quoted = (v: unknown) => JSON.stringify(String(v).slice(0, 64));
  switch (violation.keyword) {
    case "required":
      return `${fieldWords(context, [...path, String(p.missingProperty)], noun)} is missing`;
    case "additionalProperties":
      return `${fieldWords(context, path, noun)} has a field it does not take: ${quoted(p.additionalProperty)}`;
    case "type": {
      const types = (Array.isArray(p.type) ? p.type : [p.type]).map((t) => TYPE_WORDS[String(t)] ?? String(t));
      return `${fieldWords(context, path, noun)} must be ${types.join(" or ")}`;
    }
    case "format":
      return `${fieldWords(context, path, noun)} is not a valid ${p.format === "uuid" ? "id" : String(p.format)}`;
    case "pattern":
      return `${fieldWords(context, path, noun)} ${patternWords(String(p.pattern))}`;
    case "enum":
      return `${fieldWords(context, path, noun)} must be one of ${(p.allowedValues as unknown[]).join(", ")}`;
    case "minLength":
    case "maxLength":
      return `${fieldWords(context, path, noun)} must be ${violation.keyword === "minLength" ? "at least" : "at most"} ${String(p.limit)} characters`;
    case "minimum":
    case "maximum":
      return `${fieldWords(context, path, noun)} must be ${violation.keyword === "minimum" ? "at least" : "at most"} ${String(p.limit)}`;
    case "minItems":
    case "maxItems":
      return `${fieldWords(context, path, noun)} must have ${violation.keyword === "minItems" ? "at least" : "at most"} ${String(p.limit)} entries`;
    case "maxProperties":
      return `${fieldWords(context, path, noun)} has more than ${String(p.limit)} fields`;
    default:
      return `${fieldWords(context, path, noun)} is not valid`;
  }
}

/** The route a request was for, as Fastify keeps it: its URL pattern and its schemas. */
interface RouteOfRequest {
  url?: string | undefined;
  schema?: { body?: unknown } | undefined;
}

/**
 * Whether the route's body carries a policy document at `/policy`: its `policy` property is the
 * API's `Policy` schema. `Type.Optional` marks a copy of the schema it is given, so it is known by
 * its content; a field that is only named `policy` is worded like any other.
 */
function bodyCarriesPolicy(route: RouteOfRequest): boolean {
  const property = (route.schema?.body as { properties?: Record<string, unknown> } | undefined)?.properties?.policy;
  return property !== undefined && isDeepStrictEqual(property, Policy);
}

/** The message for a request its route's schema refused (Fastify stops at the first violation). */
export function schemaErrorText(
  error: { validation?: SchemaViolation[]; validationContext?: string },
  route: RouteOfRequest,
  body: unknown,
): string {
  const [first] = error.validation ?? [];
  if (first === undefined) return "the request is not valid";
  const context = error.validationContext ?? "body";
  const inPolicy = first.instancePath === "/policy" || first.instancePath.startsWith("/policy/");
  // A policy's refusal names its rule and field, in the words the policy's own check uses.
  if (context === "body" && inPolicy && bodyCarriesPolicy(route))
    return policyViolationText(
      { ...first, instancePath: first.instancePath.slice("/policy".length) },
      (body as { policy?: unknown } | null)?.policy,
    );
  return validationMessage(first, context, idNoun(route.url));
}
