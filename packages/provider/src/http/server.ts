/**
 * The provider's HTTP server: Fastify with a TypeBox schema on every route (from `@keyshard/api`),
 * its plugins (JSON bodies, authentication, errors, metrics, logs, trial mode, /docs, the web wallet
 * at /app/, the operator console at /console/) and routes.
 * It serves requests only: the background jobs that keep the database tidy (`jobs.ts`) are started
 * by `startProvider`; whoever builds a server alone starts them with `startJobs`.
 */
import rateLimit from "@fastify/rate-limit";
import type { ProviderContext } from "../context.js";
import { type App, newApp } from "./app.js";
import { authPlugin } from "./plugins/auth.js";
import { docsPlugin } from "./plugins/docs.js";
import { errorsPlugin } from "./plugins/errors.js";
import { metricsPlugin } from "./plugins/metrics.js";
import { requestLogPlugin } from "./plugins/request-log.js";
import { trialPlugin } from "./plugins/trial.js";
import { webAppPlugin } from "./plugins/web-app.js";
import { accountRoutes } from "./routes/account.js";
import { accountChangeRoutes } from "./routes/account-changes.js";
import { backupRoutes } from "./routes/backups.js";
import { consoleRoutes } from "./routes/console.js";
import { devMailRoutes } from "./routes/dev-mail.js";
import { deviceRoutes } from "./routes/devices.js";
import { keyChangeRoutes } from "./routes/key-changes.js";
import { policyRoutes } from "./routes/policies.js";
import { recoveryRoutes } from "./routes/recovery.js";
import { relayRoutes } from "./routes/relay.js";
import { requestRoutes } from "./routes/requests.js";
import { walletRoutes } from "./routes/wallets.js";

export interface ServerOptions {
  /** A pino logger config, or false for none (tests). */
  logger?: boolean | Record<string, unknown>;
  /** The bearer token Prometheus scrapes /metrics with; without it, /metrics is not served. */
  metricsToken?: string;
  /** The operator console's bearer token; without it, /console and /console/api/* are not served. */
  consoleToken?: string;
  /** The web wallet's build served at /app/ (default `packages/web/dist` beside the provider's package). */
  webAppFolder?: string;
  /** Origins beyond https ones the web wallet's page may reach: chain nodes on the person's machine. */
  webAppConnectSources?: string[];
}

export async function buildServer(ctx: ProviderContext, options: ServerOptions = {}): Promise<App> {
  const app = newApp(options.logger);
  await docsPlugin(app);
  await app.register(rateLimit, { global: false });
  if (ctx.trial) trialPlugin(app);
  errorsPlugin(app);
  authPlugin(app, ctx);
  metricsPlugin(app, ctx, options.metricsToken);
  requestLogPlugin(app);

  app.get("/health", { schema: { hide: true } }, async () => ({ ok: true, database: ctx.db.kind }));
  webAppPlugin(app, options.webAppFolder, options.webAppConnectSources, {
    consolePage: options.consoleToken !== undefined,
  });
  consoleRoutes(app, ctx, options.consoleToken, options.metricsToken);
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
  return app;
}
