/** JSON-schema pieces several routes share. */

/** An object whose content the handler reads strictly itself (policies, typed data, descriptions). */
export const freeObject = { type: "object", additionalProperties: true } as const;

/** Route parameters `{ id }` where the id is a UUID. */
export const uuidParams = {
  type: "object",
  properties: { id: { type: "string", format: "uuid" } },
  required: ["id"],
} as const;
