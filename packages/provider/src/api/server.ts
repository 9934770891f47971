/**
 * The provider's HTTP server: Fastify with a JSON schema on every route, OpenAPI at /docs,
 * Prometheus metrics at /metrics, rate limits on the routes that send or check codes, and one
 * error handler that turns anything a client can send into a 4xx.
 */
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { TRIAL_HEADER } from "@keyshard/transport";
import Fastify, { type FastifyError, type FastifyInstance, LogController } from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { sweepDueChanges } from "../account/guarded-changes.js";
import { TRIAL_NOTICE } from "../delays.js";
import { sweepHeirNotices } from "../recovery/heirs.js";
import { expireRelayParties } from "../relay/provider-party.js";
import { expireIdleSessions } from "../sessions/driver.js";
import { forgetExpiredNonces } from "./auth.js";
import type { ProviderContext } from "./context.js";
import { badRequest, HttpError, schemaErrorText } from "./errors.js";
import { accountRoutes } from "./routes/account.js";
import { accountChangeRoutes } from "./routes/account-changes.js";
import { backupRoutes } from "./routes/backups.js";
import { devMailRoutes } from "./routes/dev-mail.js";
import { deviceRoutes } from "./routes/devices.js";
import { keyChangeRoutes } from "./routes/key-changes.js";
import { policyRoutes } from "./routes/policies.js";
import { recoveryRoutes } from "./routes/recovery.js";
import { relayRoutes } from "./routes/relay.js";
import { requestRoutes } from "./routes/requests.js";
import { walletRoutes } from "./routes/wallets.js";

/** Largest request body; larger ones get 413 before anything reads them. */
export const BODY_LIMIT = 1 << 20;

/** PostgreSQL's SQLSTATE for a unique constraint violated, as PGlite reports it too. */
const UNIQUE_VIOLATION = "23505";

/**
 * A JSON.parse reviver refusing NUL in any string or key of a body: PostgreSQL text cannot
 * hold it, so it would otherwise fail as the server's error wherever such a string is stored.
 */
function refuseNul(key: string, value: unknown): unknown {
  if (key.includes("\0") || (typeof value === "string" && value.includes("\0")))
    throw badRequest("a string of the body contains a NUL character");
  return value;
}

/**
 * A request's log level. Successful reads and relay traffic are what waiting devices repeat all day
 * (a cosigner, a wallet following its request): debug, so that a provider at rest logs nothing.
 * Changes, refusals and failures are worth a line; a refused signature or device, a warning.
 */
function requestLogLevel(method: string, route: string, status: number): "debug" | "info" | "warn" | "error" {
  if (status >= 500) return "error";
  if (status === 401 || status === 403) return "warn";
  if (status >= 400) return "info";
  return method === "GET" || method === "HEAD" || route.startsWith("/v1/relay") ? "debug" : "info";
}

/** Reply fields that say when something waited out takes effect. */
const DELAY_FIELDS = /"(effectiveMs|effectiveAt|readyAt|releaseMs|availableAt|coolingOff\w*)":/;

/**
 * In trial mode every reply carries the trial header, and a JSON reply that says when a delay
 * ends also says, in its body, that the delays are shortened: whoever reads only the body of
 * "takes effect at …" must not take it for a production delay.
 */
function markTrial(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header(TRIAL_HEADER, TRIAL_NOTICE);
    if (!request.url.startsWith("/v1/") || typeof payload !== "string" || !DELAY_FIELDS.test(payload)) return payload;
    const body = JSON.parse(payload) as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return payload;
    return JSON.stringify({ ...body, trial: TRIAL_NOTICE });
  });
}

export interface ServerOptions {
  /** A pino logger config, or false for none (tests). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildServer(ctx: ProviderContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request, at a level by what it was: see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  });

  // JSON only. Request signatures cover the exact body bytes, so the raw body is kept next to the parsed one.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    (request as typeof request & { rawBody?: Buffer }).rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8"), refuseNul));
    } catch (e) {
      done(e instanceof HttpError ? e : badRequest("body is not valid JSON"), undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "keyshard provider",
        version: "1",
        description: "The Security Provider's API. Every /v1 request is signed by a device identity key.",
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(rateLimit, { global: false });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const latency = new Histogram({
    name: "keyshard_http_request_seconds",
    help: "HTTP request latency by route and status",
    labelNames: ["method", "route", "status"],
    registers: [metrics],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const shares = ctx.shares;
  new Counter({
    name: "keyshard_ecdsa2p_sign_runs_total",
    help: "The provider's ecdsa2p signing runs, by whether their precomputation was made ahead on a worker thread",
    labelNames: ["precomputed"],
    registers: [metrics],
    collect() {
      this.reset();
      this.inc({ precomputed: "ahead" }, shares.handedOut.ahead);
      this.inc({ precomputed: "in-run" }, shares.handedOut.none);
    },
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const status = reply.statusCode;
    latency.observe({ method: request.method, route, status: String(status) }, reply.elapsedTime / 1000);
    request.log[requestLogLevel(request.method, route, status)](
      { method: request.method, path: request.url.split("?")[0], status, ms: Math.round(reply.elapsedTime) },
      "request",
    );
  });

  if (ctx.trial) markTrial(app);

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) return reply.code(error.status).send({ error: error.code, message: error.message });
    if (error.validation)
      return reply
        .code(400)
        .send({ error: "invalid-request", message: schemaErrorText(error, request.routeOptions.url) });
    // Two requests racing for one name or id: the database kept the first, the second conflicts.
    if (error.code === UNIQUE_VIOLATION)
      return reply.code(409).send({ error: "conflict", message: "it exists already (made by a concurrent request)" });
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return reply.code(status).send({ error: error.code ?? "client-error", message: error.message });
    request.log.error({ err: { message: error.message, stack: error.stack } }, "request failed");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: "not-found", message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );

  app.get("/health", { schema: { hide: true } }, async () => ({ ok: true, database: ctx.db.kind }));
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
  deviceRoutes(app, ctx);
  devMailRoutes(app, ctx);
  accountRoutes(app, ctx);
  accountChangeRoutes(app, ctx);
  walletRoutes(app, ctx);
  keyChangeRoutes(app, ctx);
  backupRoutes(app, ctx);
  recoveryRoutes(app, ctx);
  requestRoutes(app, ctx);
  policyRoutes(app, ctx);
  await relayRoutes(app, ctx);

  const sweep = setInterval(() => void forgetExpiredNonces(ctx).catch(() => {}), 60_000);
  sweep.unref();
  const heirs = setInterval(
    () =>
      void sweepHeirNotices(ctx).catch((e) =>
        app.log.error({ err: { message: (e as Error).message } }, "heir notices failed"),
      ),
    10 * 60_000,
  );
  heirs.unref();
  // Due account changes are applied by their account's next request; this covers idle accounts.
  const changes = setInterval(
    () =>
      void sweepDueChanges(ctx).catch((e) =>
        app.log.error({ err: { message: (e as Error).message } }, "applying due account changes failed"),
      ),
    60_000,
  );
  changes.unref();
  const abandoned = setInterval(
    () =>
      void Promise.all([expireIdleSessions(ctx), expireRelayParties(ctx)]).catch((e) =>
        app.log.error({ err: { message: (e as Error).message } }, "expiring abandoned runs failed"),
      ),
    5 * 60_000,
  );
  abandoned.unref();
  app.addHook("onClose", async () => {
    clearInterval(sweep);
    clearInterval(heirs);
    clearInterval(changes);
    clearInterval(abandoned);
  });
  return app;
}
