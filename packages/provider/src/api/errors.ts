/**
 * Errors a client can cause, with their HTTP status. Anything else is the server's fault (500)
 * and is logged without request bodies, so no secret a client sent can reach a log.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, "invalid-request", message);
export const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);
export const forbidden = (message: string) => new HttpError(403, "forbidden", message);
export const notFound = (message: string) => new HttpError(404, "not-found", message);
export const conflict = (message: string) => new HttpError(409, "conflict", message);

/** The JSON body of every error response. */
export const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
  required: ["error", "message"],
} as const;

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

/** The message for a request its route's schema refused (Fastify stops at the first violation). */
export function schemaErrorText(
  error: { validation?: SchemaViolation[]; validationContext?: string },
  routeUrl: string | undefined,
): string {
  const [first] = error.validation ?? [];
  if (first === undefined) return "the request is not valid";
  return validationMessage(first, error.validationContext ?? "body", idNoun(routeUrl));
}
