/**
 * The contract of sign requests: what a device asks the provider to co-sign (the request itself
 * is described in `@keyshard/chains`), the provider's view of a request, and the answers a held
 * request waits for (approvals, a TOTP code).
 */
import {
  BITCOIN_NETWORKS,
  type BitcoinNetwork,
  CHAIN_NAMES,
  type ChainName,
  MAX_PAYLOAD_HEX,
  MAX_TYPED_DATA_PROPERTIES,
  PATH_PATTERN,
  REQUEST_KINDS,
  REQUEST_PAYLOAD_PATTERN,
  type RequestKind,
} from "@keyshard/chains";
import { MAX_OPENINGS } from "@keyshard/transport";
import { type Static, Type } from "typebox";
import { FreeObject, Hex, Nullable, StringEnum, TotpCode } from "./common.js";

export const REQUEST_STATUSES = ["denied", "held", "signing", "signed", "failed", "cancelled"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Hybrid wallets: the device's first round of one signature's session, under a sid it drew. */
export const DeviceOpening = Type.Object(
  { sid: Hex(32), messages: Type.Array(FreeObject, { maxItems: 16 }) },
  { additionalProperties: false },
);
export type DeviceOpening = Static<typeof DeviceOpening>;

export const SignRequestCreate = Type.Object(
  {
    kind: Type.Optional(StringEnum<RequestKind>(REQUEST_KINDS)),
    chain: StringEnum<ChainName>(CHAIN_NAMES),
    // Lower-case hex, or a Bitcoin transaction's PSBT in base64 (BIP174's text form), made hex by the parser.
    payload: Type.Optional(Type.String({ pattern: REQUEST_PAYLOAD_PATTERN, maxLength: MAX_PAYLOAD_HEX })),
    typedData: Type.Optional(
      Type.Unsafe<Record<string, unknown>>({
        type: "object",
        additionalProperties: true,
        maxProperties: MAX_TYPED_DATA_PROPERTIES,
      }),
    ),
    chainId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    network: Type.Optional(StringEnum<BitcoinNetwork>(BITCOIN_NETWORKS)),
    path: Type.Optional(Type.String({ pattern: PATH_PATTERN })),
    totp: Type.Optional(TotpCode),
    signers: Type.Optional(Type.Array(Hex(16), { minItems: 1, maxItems: 15 })),
    // The key epoch the device signs with: after a refresh or reshare, a stale share is refused
    // here instead of failing (and, for ecdsa2p, locking) in the middle of a run.
    epoch: Type.Optional(Type.Integer({ minimum: 0 })),
    // The first round of each signature's session, in the request's message order. If the request
    // is signed at once, the provider answers those rounds in its reply (one request fewer); if it
    // is held, they are unused.
    sessions: Type.Optional(Type.Array(DeviceOpening, { minItems: 1, maxItems: MAX_OPENINGS })),
  },
  { additionalProperties: false },
);
export type SignRequestCreate = Static<typeof SignRequestCreate>;

/** What a held request waits for: the account's TOTP code, approvals, a delay's end. */
export const WaitingFor = Type.Object({
  totp: Type.Optional(Type.Boolean()),
  approvals: Type.Optional(Type.Object({ needed: Type.Integer(), have: Type.Integer() })),
  releaseMs: Type.Optional(Type.Integer()),
});
export type WaitingFor = Static<typeof WaitingFor>;

/** A sign request as the provider shows it; the bytes, approvals and signatures only when read alone. */
export const SignRequest = Type.Object({
  requestId: Type.String(),
  walletId: Type.String(),
  deviceId: Type.String(),
  kind: Type.String(),
  chain: Type.String(),
  status: Type.String(),
  rule: Nullable<string>("string"),
  ruleNumber: Nullable<number>("integer"),
  /** The provider's reading of the bytes: for orientation, never trusted by a device. */
  description: FreeObject,
  /** Only while the request is held. */
  waitingFor: Type.Optional(WaitingFor),
  payload: Type.Optional(Type.String()),
  path: Type.Optional(Nullable<string>("string")),
  /** An approval by a device revoked since is listed, marked: it no longer counts. */
  approvals: Type.Optional(
    Type.Array(Type.Object({ deviceId: Type.String(), atMs: Type.Integer(), revoked: Type.Optional(Type.Boolean()) })),
  ),
  signatures: Type.Optional(
    Type.Array(
      Type.Object({
        index: Type.Integer(),
        input: Type.Optional(Type.Integer()),
        signature: Nullable<string>("string"),
      }),
    ),
  ),
  /** When the provider started signing at once: its first round of each two-party session, or the relay runs. */
  sessions: Type.Optional(Type.Array(FreeObject)),
  relays: Type.Optional(Type.Array(FreeObject)),
  createdMs: Type.Integer(),
});
export type SignRequest = Static<typeof SignRequest>;

export const SignRequestQuery = Type.Object(
  { status: Type.Optional(StringEnum<RequestStatus>(REQUEST_STATUSES)) },
  { additionalProperties: false },
);
export type SignRequestQuery = Static<typeof SignRequestQuery>;

export const SignRequestList = Type.Object({ requests: Type.Array(SignRequest) });
export type SignRequestList = Static<typeof SignRequestList>;

/** Another device's approval: its signature over the request id and bytes. */
export const ApprovalBody = Type.Object({ signature: Hex(64) }, { additionalProperties: false });
export type ApprovalBody = Static<typeof ApprovalBody>;
