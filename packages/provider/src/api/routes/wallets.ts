/**
 * Hybrid wallets and what they sign. The provider decodes every transaction itself, evaluates the
 * wallet's policy on that description, records the decision in the audit chain, and starts its
 * half of the signing session only when the policy allows it.
 */
import { randomUUID } from "node:crypto";
import {
  ChainError,
  describeEthereum,
  describeSolana,
  ethereumSigningDigest,
  solanaAddress,
  type TransactionDescription,
} from "@keyshard/chains";
import { type Party, parsePath } from "@keyshard/mpc";
import { PROVIDER, SCHEME_NAMES, type SchemeName, scheme } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/log.js";
import { canonicalJson } from "../../canonical-json.js";
import { DEFAULT_POLICY, evaluatePolicy, type Policy, parsePolicy } from "../../policy/policy.js";
import { advanceSession, startSession } from "../../sessions/driver.js";
import { authenticate } from "../auth.js";
import type { ProviderContext } from "../context.js";
import { badRequest, conflict, errorSchema, HttpError, notFound } from "../errors.js";

const free = { type: "object", additionalProperties: true } as const;
const sessionSchema = {
  type: "object",
  properties: {
    sessionId: { type: "string" },
    sid: { type: "string" },
    round: { type: "integer" },
    messages: { type: "array", items: free },
    done: { type: "boolean" },
    publicKey: { type: "string" },
    signature: { type: "string" },
  },
} as const;
const HEX = "^([0-9a-f]{2})+$";
const PATH = "^m(/[0-9]{1,10}){0,8}$";

interface WalletRow {
  id: string;
  scheme: SchemeName;
  state: string;
  public_key: Uint8Array | null;
  share: Uint8Array | null;
  policy: string;
}

/** The provider's own reading of what the bytes do, for the chain the wallet's scheme signs on. */
function describe(
  wallet: WalletRow,
  request: { chain: string; transaction: string; chainId?: number; path?: string },
): { description: TransactionDescription; message: Uint8Array } {
  const bytes = hexToBytes(request.transaction);
  if (request.path !== undefined) {
    if (wallet.scheme === "frost-ed25519") throw badRequest("Ed25519 wallets have no derivation paths");
    try {
      parsePath(request.path);
    } catch (e) {
      throw badRequest(e instanceof Error ? e.message : "bad path");
    }
  }
  try {
    if (request.chain === "ethereum" && wallet.scheme === "ecdsa2p") {
      if (request.chainId === undefined) throw badRequest("an Ethereum request needs chainId");
      return {
        description: describeEthereum(bytes, { chainId: request.chainId }),
        message: ethereumSigningDigest(bytes),
      };
    }
    if (request.chain === "solana" && wallet.scheme === "frost-ed25519") {
      const signer = solanaAddress(new Uint8Array(wallet.public_key as Uint8Array));
      return { description: describeSolana(bytes, { signer }), message: bytes };
    }
  } catch (e) {
    if (e instanceof ChainError) throw new HttpError(400, `transaction-${e.code}`, e.message);
    throw e;
  }
  throw badRequest(`a ${wallet.scheme} wallet does not sign ${request.chain} transactions here`);
}

export function walletRoutes(app: FastifyInstance, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets",
    {
      schema: {
        summary: "Create a hybrid 2-of-2 wallet: starts the key generation session",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["name", "scheme"],
          properties: {
            name: { type: "string", minLength: 1, maxLength: 64 },
            scheme: { type: "string", enum: [...SCHEME_NAMES] },
            policy: { type: "array", maxItems: 100, items: free },
          },
        },
        response: {
          201: { type: "object", properties: { walletId: { type: "string" }, session: sessionSchema } },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const body = request.body as { name: string; scheme: SchemeName; policy?: unknown };
      const policy: Policy = body.policy === undefined ? DEFAULT_POLICY : parsePolicy(body.policy);
      const walletId = randomUUID();
      const sid = crypto.getRandomValues(new Uint8Array(32));
      const party = scheme(body.scheme).keygen(sid, PROVIDER);
      const session = await ctx.db.transaction(async (tx) => {
        const taken = await tx.query("SELECT 1 FROM wallets WHERE account_id = $1 AND name = $2", [
          device.accountId,
          body.name,
        ]);
        if (taken.length > 0) throw conflict(`a wallet named ${body.name} exists`);
        await tx.query(
          "INSERT INTO wallets (id, account_id, name, scheme, state, policy, created_ms) VALUES ($1, $2, $3, $4, 'creating', $5, $6)",
          [walletId, device.accountId, body.name, body.scheme, canonicalJson(policy), ctx.now()],
        );
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: "wallet.requested",
          details: { wallet: walletId, name: body.name, scheme: body.scheme, policy },
        });
        return startSession(
          ctx,
          tx,
          { id: randomUUID(), accountId: device.accountId, walletId, kind: "keygen", sid },
          party,
        );
      });
      ctx.parties.put(session.sessionId, 0, party);
      return reply.code(201).send({ walletId, session: { ...session, sid: Buffer.from(sid).toString("hex") } });
    },
  );

  app.get(
    "/v1/wallets",
    { schema: { summary: "The account's wallets", response: { "4xx": errorSchema } } },
    async (request) => {
      const device = await authenticate(ctx, request);
      const rows = await ctx.db.query<{
        id: string;
        name: string;
        scheme: string;
        state: string;
        public_key: Uint8Array | null;
      }>("SELECT id, name, scheme, state, public_key FROM wallets WHERE account_id = $1 ORDER BY created_ms", [
        device.accountId,
      ]);
      return {
        wallets: rows.map((w) => ({
          id: w.id,
          name: w.name,
          scheme: w.scheme,
          state: w.state,
          publicKey: w.public_key === null ? null : Buffer.from(w.public_key).toString("hex"),
        })),
      };
    },
  );

  app.post(
    "/v1/sessions/:id/round",
    {
      schema: {
        summary: "Send the device's messages of one round; get the provider's",
        params: { type: "object", properties: { id: { type: "string", format: "uuid" } }, required: ["id"] },
        body: {
          type: "object",
          additionalProperties: false,
          required: ["round", "messages"],
          properties: {
            round: { type: "integer", minimum: 0, maximum: 100 },
            messages: { type: "array", maxItems: 16, items: free },
          },
        },
        response: { 200: sessionSchema, "4xx": errorSchema },
      },
    },
    async (request) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { round: number; messages: unknown[] };
      const raw = (request as typeof request & { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
      return advanceSession(ctx, {
        sessionId: id,
        accountId: device.accountId,
        actor: device.id,
        round: body.round,
        messages: body.messages,
        rawBody: new Uint8Array(raw),
      });
    },
  );

  app.post(
    "/v1/wallets/:id/sign-requests",
    {
      schema: {
        summary: "Ask the provider to co-sign a transaction; it decides by the wallet's policy",
        params: { type: "object", properties: { id: { type: "string", format: "uuid" } }, required: ["id"] },
        body: {
          type: "object",
          additionalProperties: false,
          required: ["chain", "transaction"],
          properties: {
            chain: { type: "string", enum: ["ethereum", "solana"] },
            transaction: { type: "string", pattern: HEX, maxLength: 262144 },
            chainId: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            path: { type: "string", pattern: PATH },
          },
        },
        response: {
          201: {
            type: "object",
            properties: {
              requestId: { type: "string" },
              status: { type: "string" },
              rule: { type: ["string", "null"] },
              description: free,
              session: sessionSchema,
            },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const device = await authenticate(ctx, request);
      const { id } = request.params as { id: string };
      const body = request.body as { chain: string; transaction: string; chainId?: number; path?: string };
      const [wallet] = await ctx.db.query<WalletRow>(
        "SELECT id, scheme, state, public_key, share, policy FROM wallets WHERE id = $1 AND account_id = $2",
        [id, device.accountId],
      );
      if (wallet === undefined) throw notFound("no such wallet in this account");
      if (wallet.state !== "active") throw conflict(`wallet is ${wallet.state}`);
      const { description, message } = describe(wallet, body);
      const { decision, rule } = evaluatePolicy(JSON.parse(wallet.policy) as Policy, description);
      const requestId = randomUUID();
      const summary = JSON.parse(canonicalJson(description)) as Record<string, unknown>;
      const sid = crypto.getRandomValues(new Uint8Array(32));
      let party: Party<unknown> | undefined;
      const session = await ctx.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO sign_requests (id, wallet_id, account_id, device_id, chain, payload, message, path, description, decision, rule, status, created_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            requestId,
            id,
            device.accountId,
            device.id,
            body.chain,
            hexToBytes(body.transaction),
            message,
            body.path ?? null,
            canonicalJson(description),
            decision,
            rule,
            decision === "allow" ? "signing" : "denied",
            ctx.now(),
          ],
        );
        await appendAudit(tx, {
          chain: device.accountId,
          atMs: ctx.now(),
          actor: device.id,
          action: `request.${decision === "allow" ? "allowed" : "denied"}`,
          details: { request: requestId, wallet: id, rule, description: summary },
        });
        if (decision !== "allow") return undefined;
        const share = ctx.shares.get(id, wallet.scheme, new Uint8Array(wallet.share as Uint8Array));
        const precomputed = ctx.shares.takePrecomputation(id);
        party = scheme(wallet.scheme).sign(share, {
          sid,
          message,
          ...(body.path && { path: body.path }),
          ...(precomputed !== undefined && { precomputed }),
        });
        return startSession(
          ctx,
          tx,
          { id: randomUUID(), accountId: device.accountId, walletId: id, kind: "sign", signRequestId: requestId, sid },
          party,
        );
      });
      if (session !== undefined && party !== undefined) ctx.parties.put(session.sessionId, 0, party);
      return reply.code(201).send({
        requestId,
        status: decision === "allow" ? "signing" : "denied",
        rule,
        description: summary,
        ...(session && { session: { ...session, sid: Buffer.from(sid).toString("hex") } }),
      });
    },
  );
}
