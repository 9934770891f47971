/**
 * The recovery operator's HTTP API, `/v1/operator/*`: its keys, an enrolling device's share, a
 * recovering device's evaluation (both authorized by the provider's ticket, not by a device
 * signature), and the reshare routes (deal, accept, retire) an administrator drives with a bearer
 * token, served only when the operator is configured for a reshare. Every body is
 * checked against its schema here — no field it does not name, hex of the exact size — before a
 * handler reads it.
 */
import { ErrorBody, Hex, Uuid, UuidParams } from "@keyshard/api";
import { MAX_TICKET_PAYLOAD_BYTES } from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type Static, type TSchema, Type } from "typebox";
import type { App } from "../http/app.js";
import { type BearerDoor, requireBearerToken } from "../http/bearer-token.js";
import type { OperatorContext } from "./context.js";
import {
  acceptShares,
  dealShares,
  type EnrollmentDealing,
  evaluateShare,
  registerShare,
  retireShares,
} from "./service.js";

const MAX_INDEX = 255;
/** Enrollments one reshare moves: the accept body carries every helper's dealing of each. */
const RESHARE_BODY_LIMIT = 64 << 20;

const strict = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

const Index = Type.Integer({ minimum: 1, maximum: MAX_INDEX });
const Threshold = Type.Integer({ minimum: 2, maximum: MAX_INDEX });
const Point = Hex(32);
/** A sealed box of a 32-byte scalar: version, ephemeral key, ciphertext and tag. */
const SealedScalar = Hex(1 + 32 + 32 + 16);
const Indices = Type.Array(Index, { minItems: 2, maxItems: MAX_INDEX });
const Commitments = Type.Array(Point, { minItems: 2, maxItems: MAX_INDEX });

/** The provider's ticket as it signed it; `readTicket` decodes the payload strictly. */
const SignedTicket = strict({
  payload: Type.String({ pattern: "^([0-9a-f]{2})+$", maxLength: 2 * MAX_TICKET_PAYLOAD_BYTES }),
  signature: Hex(64),
});

const OperatorInfo = strict({
  name: Type.String(),
  key: Hex(32),
  ticketKey: Hex(32),
  attemptsPerDay: Type.Integer(),
});

const RegisterShareBody = strict({
  ticket: SignedTicket,
  index: Index,
  threshold: Threshold,
  commitments: Commitments,
  sealedShare: SealedScalar,
});
const RegisteredShare = strict({ enrollment: Type.String(), index: Type.Integer(), publicShare: Point });

const EvaluationBody = strict({ ticket: SignedTicket, blinded: Point });
const Evaluation = strict({
  index: Type.Integer(),
  evaluated: Point,
  proof: Hex(64),
  commitments: Type.Array(Point),
  attemptsLeft: Type.Integer(),
});

const DealBody = strict({
  helpers: Indices,
  threshold: Threshold,
  recipients: Type.Array(strict({ index: Index, key: Hex(32) }), { minItems: 2, maxItems: MAX_INDEX }),
});
const EnrollmentDealingSchema = strict({
  enrollment: Uuid,
  email: Type.String({ maxLength: 320 }),
  account: Type.String({ maxLength: 128 }),
  oldCommitments: Commitments,
  commitments: Commitments,
  boxes: Type.Array(strict({ index: Index, box: SealedScalar }), { maxItems: MAX_INDEX }),
});
const Dealing = strict({ index: Type.Integer(), dealings: Type.Array(EnrollmentDealingSchema) });
const AcceptBody = strict({
  index: Index,
  helpers: Indices,
  threshold: Threshold,
  dealings: Type.Array(strict({ from: Index, enrollments: Type.Array(EnrollmentDealingSchema) }), {
    minItems: 2,
    maxItems: MAX_INDEX,
  }),
});
const Accepted = strict({ accepted: Type.Integer() });
export const Retired = strict({ retired: Type.Integer() });

type DealingWire = Static<typeof EnrollmentDealingSchema>;

const points = (hex: readonly string[]) => hex.map((h) => hexToBytes(h));

const dealingFromWire = (d: DealingWire): EnrollmentDealing => ({
  ...d,
  oldCommitments: points(d.oldCommitments),
  commitments: points(d.commitments),
  boxes: d.boxes.map((b) => ({ index: b.index, box: hexToBytes(b.box) })),
});

const dealingToWire = (d: EnrollmentDealing): DealingWire => ({
  ...d,
  oldCommitments: d.oldCommitments.map(bytesToHex),
  commitments: d.commitments.map(bytesToHex),
  boxes: d.boxes.map((b) => ({ index: b.index, box: bytesToHex(b.box) })),
});

const replies = (status: number, reply: TSchema) => ({ [status]: reply, "4xx": ErrorBody });

const ADMIN_DOOR: BearerDoor = {
  realm: "operator-admin",
  refusal: "the reshare routes need the operator's admin bearer token (KEYSHARD_OPERATOR_ADMIN_TOKEN)",
};

export function operatorRoutes(app: App, ctx: OperatorContext): void {
  app.get(
    "/v1/operator",
    {
      schema: {
        operationId: "operatorInfo",
        summary:
          "The operator's name, its X25519 key (devices seal shares to it), the provider ticket key it trusts, and its limit",
        response: replies(200, OperatorInfo),
      },
    },
    async () => ({
      name: ctx.name,
      key: bytesToHex(ctx.keys.publicKey),
      ticketKey: bytesToHex(ctx.ticketKey),
      attemptsPerDay: ctx.attemptsPerDay,
    }),
  );

  app.post(
    "/v1/operator/enrollments",
    {
      schema: {
        operationId: "operatorRegisterShare",
        summary: "Takes this operator's share of a new face enrollment's OPRF key",
        description:
          "The ticket is the provider's, for purpose enroll, unexpired. sealedShare is the 32-byte share sealed to this operator's key under the context `keyshard oprf share of enrollment <id> for operator <index>`; it must lie on the Feldman commitments. An enrollment registers once (409 after).",
        body: RegisterShareBody,
        response: replies(201, RegisteredShare),
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof RegisterShareBody>;
      const registered = await registerShare(ctx, {
        ticket: body.ticket,
        index: body.index,
        threshold: body.threshold,
        commitments: points(body.commitments),
        sealedShare: hexToBytes(body.sealedShare),
      });
      reply.code(201);
      return { ...registered, publicShare: bytesToHex(registered.publicShare) };
    },
  );

  app.post(
    "/v1/operator/enrollments/:id/evaluations",
    {
      schema: {
        operationId: "operatorEvaluate",
        summary: "One face guess: this operator's share evaluated on a blinded input, with its DLEQ proof",
        description: `The ticket is the provider's, for purpose recover and this enrollment, unexpired. Every evaluation is counted and mailed to the account; over the operator's limit in 24 hours the answer is 429 too-many-attempts (also counted and mailed). proof is c ‖ s of RFC 9497's DLEQ proof that the evaluation used the share whose public key the commitments give.`,
        params: UuidParams,
        body: EvaluationBody,
        response: replies(200, Evaluation),
      },
    },
    async (request) => {
      const body = request.body as Static<typeof EvaluationBody>;
      const { id } = request.params as UuidParams;
      const evaluation = await evaluateShare(ctx, id, { ticket: body.ticket, blinded: hexToBytes(body.blinded) });
      return {
        index: evaluation.index,
        evaluated: bytesToHex(evaluation.evaluated),
        proof: bytesToHex(evaluation.proof),
        commitments: evaluation.commitments.map(bytesToHex),
        attemptsLeft: evaluation.attemptsLeft,
      };
    },
  );

  const adminToken = ctx.adminToken;
  // Without a token, or without a reshare its administrator allows, the reshare routes do not exist.
  if (adminToken === undefined || ctx.reshareTo === undefined) return;
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply) =>
    requireBearerToken(request, reply, adminToken, ADMIN_DOOR);
  app.post(
    "/v1/operator/reshare/deal",
    {
      // Before the body is read: without the token, nothing of it is parsed.
      onRequest: requireAdmin,
      schema: {
        operationId: "operatorReshareDeal",
        summary: "Deals this operator's share of every enrollment it holds afresh to the recipients (admin)",
        description:
          "The recipients must be exactly the operators (indices and keys) of this operator's KEYSHARD_OPERATOR_RESHARE_TO (403 otherwise); a key that is not a usable X25519 key is refused (400). Every dealing is written to the audit log.",
        security: [{ adminToken: [] }],
        body: DealBody,
        response: replies(200, Dealing),
      },
    },
    async (request) => {
      const body = request.body as Static<typeof DealBody>;
      const dealt = await dealShares(ctx, {
        helpers: body.helpers,
        threshold: body.threshold,
        recipients: body.recipients.map((r) => ({ index: r.index, key: hexToBytes(r.key) })),
      });
      return { index: dealt.index, dealings: dealt.dealings.map(dealingToWire) };
    },
  );

  app.post(
    "/v1/operator/reshare/accept",
    {
      onRequest: requireAdmin,
      bodyLimit: RESHARE_BODY_LIMIT,
      schema: {
        operationId: "operatorReshareAccept",
        summary: "Installs this operator's new share of every enrollment in the helpers' dealings, or none (admin)",
        description:
          "index must be this operator's own in its KEYSHARD_OPERATOR_RESHARE_TO (403 otherwise). Every dealing is verified first (subshare against its dealer's commitments, the dealer's constant term against the old commitments); a dealing that does not verify is refused as bad-dealing naming its dealer, and nothing is installed.",
        security: [{ adminToken: [] }],
        body: AcceptBody,
        response: replies(200, Accepted),
      },
    },
    async (request) => {
      const body = request.body as Static<typeof AcceptBody>;
      return acceptShares(ctx, {
        index: body.index,
        helpers: body.helpers,
        threshold: body.threshold,
        dealings: body.dealings.map((d) => ({ from: d.from, enrollments: d.enrollments.map(dealingFromWire) })),
      });
    },
  );

  app.post(
    "/v1/operator/reshare/retire",
    {
      onRequest: requireAdmin,
      schema: {
        operationId: "operatorReshareRetire",
        summary: "Deletes this operator's share of every enrollment, after a reshare to a set it is not in (admin)",
        description:
          "Refused (409) while this operator's own key is in its KEYSHARD_OPERATOR_RESHARE_TO. Every deleted share is written to the audit log; the enrollments then answer 404 here.",
        security: [{ adminToken: [] }],
        body: strict({}),
        response: replies(200, Retired),
      },
    },
    async () => retireShares(ctx),
  );
}
