/**
 * One error handler that turns anything a client can send into a 4xx with a body
 * `{ error, message }`, and anything else into a logged 500 that says nothing of the request.
 */
import type { FastifyError } from "fastify";
import type { App } from "../app.js";
import { refusal, schemaErrorText } from "../errors.js";

/** PostgreSQL's SQLSTATE for a unique constraint violated, as PGlite reports it too. */
const UNIQUE_VIOLATION = "23505";

export function errorsPlugin(app: App): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const refused = refusal(error);
    if (refused !== undefined)
      return reply.code(refused.status).send({ error: refused.code, message: refused.message });
    if (error.validation)
      return reply
        .code(400)
        .send({ error: "invalid-request", message: schemaErrorText(error, request.routeOptions, request.body) });
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
}
