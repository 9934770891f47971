/**
 * The contract of the relay: sessions among an account's devices through which they exchange
 * sealed envelopes, over HTTP or the WebSocket at /v1/relay/ws.
 */
import { type Static, Type } from "typebox";
import { FreeObject, Hex } from "./common.js";

/** Envelopes one post (or one WebSocket frame) may carry. */
export const MAX_ENVELOPES = 64;

export const RelaySession = Type.Object({
  relayId: Type.String(),
  sid: Type.String(),
  purpose: Type.String(),
  participants: Type.Array(Type.String()),
  createdBy: Type.String(),
  expiresMs: Type.Integer(),
});
export type RelaySession = Static<typeof RelaySession>;

/** Opens a session among active devices of the account, in party order as given. */
export const RelaySessionRequest = Type.Object(
  {
    participants: Type.Array(Hex(16), { minItems: 2, maxItems: 16 }),
    purpose: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type RelaySessionRequest = Static<typeof RelaySessionRequest>;

export const RelaySessionList = Type.Object({ sessions: Type.Array(RelaySession) });
export type RelaySessionList = Static<typeof RelaySessionList>;

export const EnvelopePost = Type.Object(
  { envelopes: Type.Array(FreeObject, { maxItems: MAX_ENVELOPES }) },
  { additionalProperties: false },
);
export type EnvelopePost = Static<typeof EnvelopePost>;

export const EnvelopesStored = Type.Object({ stored: Type.Integer() });
export type EnvelopesStored = Static<typeof EnvelopesStored>;

/** Envelopes after the one whose id is `after` (none: from the start). */
export const EnvelopeQuery = Type.Object(
  { after: Type.Optional(Type.String({ pattern: "^[0-9]{1,15}$" })) },
  { additionalProperties: false },
);
export type EnvelopeQuery = Static<typeof EnvelopeQuery>;

export const EnvelopeList = Type.Object({ envelopes: Type.Array(FreeObject) });
export type EnvelopeList = Static<typeof EnvelopeList>;
