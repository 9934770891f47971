/** JSON-schema pieces several routes share. */

/** An object whose content the handler reads strictly itself (policies, typed data, descriptions). */
export const freeObject = { type: "object", additionalProperties: true } as const;

/** Route parameters `{ id }` where the id is a UUID. */
export const uuidParams = {
  type: "object",
  properties: { id: { type: "string", format: "uuid" } },
  required: ["id"],
} as const;

/** A two-party session's reply: the provider's messages of one round, and the result once done. */
export const sessionSchema = {
  type: "object",
  properties: {
    sessionId: { type: "string" },
    sid: { type: "string" },
    round: { type: "integer" },
    messages: { type: "array", items: freeObject },
    done: { type: "boolean" },
    publicKey: { type: "string" },
    signature: { type: "string" },
  },
} as const;
