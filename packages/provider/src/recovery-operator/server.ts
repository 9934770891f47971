/**
 * The recovery operator's HTTP server: the provider's JSON body handling, typed errors and request
 * log, with only /health, /docs (the OpenAPI description of the operator's routes) and
 * /v1/operator/*, the device routes readable by the web wallet origins it is configured with.
 * The provider's routes are not served: an operator holds none of its state.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { type App, newApp } from "../http/app.js";
import { errorsPlugin } from "../http/plugins/errors.js";
import { requestLogPlugin } from "../http/plugins/request-log.js";
import type { OperatorContext } from "./context.js";
import { walletOriginsPlugin } from "./cors.js";
import { operatorRoutes } from "./routes.js";

export async function buildOperatorServer(
  ctx: OperatorContext,
  options: { logger?: boolean | Record<string, unknown> } = {},
): Promise<App> {
  const app = newApp(options.logger);
  await app.register(swagger, {
    openapi: {
      info: {
        title: "keyshard recovery operator",
        version: "1",
        description:
          "A recovery operator holds one share of each face enrollment's OPRF key. Devices register and use it with a ticket signed by the provider; the reshare operations take the operator's admin bearer token.",
      },
      components: {
        securitySchemes: {
          adminToken: { type: "http", scheme: "bearer", description: "KEYSHARD_OPERATOR_ADMIN_TOKEN" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  errorsPlugin(app);
  requestLogPlugin(app);
  walletOriginsPlugin(app, ctx.walletOrigins);

  app.get("/health", { schema: { hide: true } }, async () => ({ ok: true, database: ctx.db.kind }));
  operatorRoutes(app, ctx);
  return app;
}
