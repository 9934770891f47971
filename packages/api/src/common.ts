/**
 * Pieces of the provider's API contract that many resources share: ids in the path, the error
 * body, hex strings of a fixed size, free-form objects whose content the provider checks itself,
 * and the reply of a two-party session round.
 */
import { type Static, Type } from "typebox";

/** An object whose content the handler reads strictly itself (policies, typed data, descriptions). */
export const FreeObject = Type.Unsafe<object>({ type: "object", additionalProperties: true });
export type FreeObject = Static<typeof FreeObject>;

/** Lower-case hex of exactly `bytes` bytes. */
export const Hex = (bytes: number) => Type.String({ pattern: `^[0-9a-f]{${2 * bytes}}$` });

/** A string of one of `values`, written `{ type: "string", enum }` (Type.Enum would leave out the type). */
export const StringEnum = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: "string", enum: [...values] });

/** A field of a type or null, written `{ type: [type, "null"] }`. */
export const Nullable = <T>(type: "string" | "integer") => Type.Unsafe<T | null>({ type: [type, "null"] });

/** A TOTP code: six digits. */
export const TotpCode = Type.String({ pattern: "^[0-9]{6}$" });

/** A body that is a TOTP code alone. */
export const TotpBody = Type.Object({ code: TotpCode }, { additionalProperties: false });
export type TotpBody = Static<typeof TotpBody>;

/**
 * A UUID as the provider gives them out. The pattern as well as the format: the format also takes
 * a `urn:uuid:` prefix, which the database refuses as a uuid (a 500 for a client's mistake), and
 * capitals, which no id the provider gives out has.
 */
export const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const Uuid = Type.String({ format: "uuid", pattern: UUID_FORM.source });

/** Route parameters `{ id }` where the id is a UUID. */
export const UuidParams = Type.Object({ id: Uuid });
export type UuidParams = Static<typeof UuidParams>;

/** The JSON body of every error response. */
export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

/** The public key a device's key generation, refresh or reshare produced (32 or 33 bytes). */
export const KeyConfirmation = Type.Object(
  { publicKey: Type.String({ pattern: "^([0-9a-f]{2}){32,33}$" }) },
  { additionalProperties: false },
);
export type KeyConfirmation = Static<typeof KeyConfirmation>;

/** A two-party session's reply: the provider's messages of one round, and the result once done. */
export const SessionReply = Type.Object({
  sessionId: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  round: Type.Optional(Type.Integer()),
  messages: Type.Optional(Type.Array(FreeObject)),
  done: Type.Optional(Type.Boolean()),
  publicKey: Type.Optional(Type.String()),
  signature: Type.Optional(Type.String()),
});
export type SessionReply = Static<typeof SessionReply>;
