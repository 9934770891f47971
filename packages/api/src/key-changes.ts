/** The contract of key changes: a wallet's refresh, or a t-of-n wallet's reshare, and each new share's confirmation. */
import { type Static, Type } from "typebox";
import { FreeObject, Hex, SessionReply, Uuid } from "./common.js";

/** Nothing: refresh. For a t-of-n wallet, other device members (party order) or another threshold: reshare. */
export const KeyChangeRequest = Type.Object(
  {
    devices: Type.Optional(Type.Array(Hex(16), { minItems: 1, maxItems: 15 })),
    threshold: Type.Optional(Type.Integer({ minimum: 2, maximum: 16 })),
  },
  { additionalProperties: false },
);
export type KeyChangeRequest = Static<typeof KeyChangeRequest>;

/** The change's first session round (hybrid), or its relay session with the old and new members (t-of-n). */
export const KeyChangeStarted = Type.Object({
  epoch: Type.Integer(),
  kind: Type.String(),
  session: Type.Optional(SessionReply),
  relayId: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  threshold: Type.Optional(Type.Integer()),
  members: Type.Optional(Type.Array(FreeObject)),
  previous: Type.Optional(Type.Array(FreeObject)),
});
export type KeyChangeStarted = Static<typeof KeyChangeStarted>;

export const KeyChangeParams = Type.Object({
  id: Uuid,
  epoch: Type.String({ pattern: "^[1-9][0-9]{0,8}$" }),
});
export type KeyChangeParams = Static<typeof KeyChangeParams>;

export const KeyChangeConfirmed = Type.Object({
  epoch: Type.Integer(),
  committed: Type.Boolean(),
});
export type KeyChangeConfirmed = Static<typeof KeyChangeConfirmed>;
