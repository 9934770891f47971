/**
 * The Fastify instance every plugin and route is given (schemas are TypeBox, and types follow from
 * them), made the same way for the provider and the recovery operator.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import { BODY_LIMIT, jsonBodyPlugin } from "./plugins/json-body.js";

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Fastify as every keyshard server runs it (the provider and the recovery operator): bodies
 * checked against their schemas exactly as sent, strict JSON bodies.
 */
export function newApp(logger: boolean | Record<string, unknown> = false): App {
  const app = Fastify({
    logger,
    // One line per request, at a level by what it was: see `plugins/request-log.ts`.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  jsonBodyPlugin(app);
  return app;
}
