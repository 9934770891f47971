/**
 * The operator console's API, `/console/api/*`: read-only GETs across every account, each behind
 * the console's bearer token (`KEYSHARD_CONSOLE_TOKEN`), checked before anything of the request is
 * read. Without a token configured these routes do not exist. They are the operator's, not a
 * device's, so the API description at /docs leaves them out.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UuidParams } from "@keyshard/api";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, FastifySchema } from "fastify";
import type { Static, TSchema } from "typebox";
import {
  type ConsoleProcess,
  consoleAccounts,
  consoleAudit,
  consoleAuditVerdict,
  consoleHeldRequests,
  consoleOverview,
  consolePolicies,
  consoleRecovery,
} from "../../console/console.js";
import {
  ConsoleAccounts,
  ConsoleAudit,
  ConsoleAuditVerdict,
  ConsoleHeldRequests,
  ConsoleOverview,
  ConsolePolicies,
  ConsoleRecovery,
} from "../../console/schemas.js";
import type { ProviderContext } from "../../context.js";
import type { App } from "../app.js";
import { type BearerDoor, BearerTokenFormError, checkBearerTokenForm, requireBearerToken } from "../bearer-token.js";
import { providerPackageFolder } from "../plugins/web-app.js";

const CONSOLE_API_PREFIX = "/console/api/";

/**
 * Refuses a console token an operator's browser could not send or that is too short to be a
 * random one, and one that is also the metrics token: whoever scrapes /metrics (a monitoring
 * system and everyone with its configuration) must not open the console, which shows every
 * account. The message never holds the token.
 */
export function checkConsoleToken(token: string, metricsToken: string | undefined): void {
  checkBearerTokenForm(token, "KEYSHARD_CONSOLE_TOKEN");
  if (token === metricsToken)
    throw new BearerTokenFormError(
      "KEYSHARD_CONSOLE_TOKEN must not be KEYSHARD_METRICS_TOKEN: whoever scrapes /metrics would open the console",
    );
}

const CONSOLE_DOOR: BearerDoor = {
  realm: "console",
  refusal: "the console needs the bearer token the provider was started with (KEYSHARD_CONSOLE_TOKEN)",
};

function providerVersion(): string {
  const manifest = JSON.parse(readFileSync(join(providerPackageFolder(), "package.json"), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/** `token`: the operator's bearer token; without it, no console route is registered. `metricsToken`: the scraper's, which it must not be. */
export function consoleRoutes(
  app: App,
  ctx: ProviderContext,
  token: string | undefined,
  metricsToken: string | undefined,
): void {
  if (token === undefined) return;
  checkConsoleToken(token, metricsToken);
  const started: ConsoleProcess = { version: providerVersion(), startedAtMs: ctx.now() };
  // onRequest runs before the parameters are validated: without the token, nothing of the request is looked at.
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) =>
    requireBearerToken(request, reply, token, CONSOLE_DOOR);

  // The reply's type was checked against the schema's where `handler` was given (as `route` does);
  // the schema is handed over as a plain one, so Fastify does not infer the reply's type again.
  function get<R extends TSchema>(
    path: string,
    reply: R,
    handler: (log: FastifyBaseLogger) => Promise<Static<R>>,
  ): void {
    const schema: FastifySchema = { hide: true, response: { 200: reply } };
    app.route({
      method: "GET",
      url: `${CONSOLE_API_PREFIX}${path}`,
      onRequest,
      schema,
      handler: (request) => handler(request.log),
    });
  }
  function getForAccount<R extends TSchema>(
    path: string,
    reply: R,
    handler: (accountId: string) => Promise<Static<R>>,
  ): void {
    const schema: FastifySchema = { hide: true, params: UuidParams, response: { 200: reply } };
    app.route<{ Params: UuidParams }>({
      method: "GET",
      url: `${CONSOLE_API_PREFIX}${path}`,
      onRequest,
      schema,
      handler: (request) => handler(request.params.id),
    });
  }

  get("overview", ConsoleOverview, (log) => consoleOverview(ctx, started, log));
  get("accounts", ConsoleAccounts, () => consoleAccounts(ctx));
  get("held-requests", ConsoleHeldRequests, () => consoleHeldRequests(ctx));
  getForAccount("accounts/:id/audit", ConsoleAudit, (id) => consoleAudit(ctx, id));
  getForAccount("accounts/:id/audit/verify", ConsoleAuditVerdict, (id) => consoleAuditVerdict(ctx, id));
  get("recovery", ConsoleRecovery, () => consoleRecovery(ctx));
  get("policies", ConsolePolicies, () => consolePolicies(ctx));
}
