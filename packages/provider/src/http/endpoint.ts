/**
 * A route registered from its entry in the API contract's endpoint table (`@keyshard/api`): the
 * method, path and schemas come from there, the route file gives its configuration (auth, rate
 * limit), its documentation and its handler, whose reply is sent with the endpoint's status. Its
 * name in the table is its OpenAPI operationId, the name a generated client gives its method.
 */
import {
  type BodyOf,
  type Endpoint,
  ErrorBody,
  endpoints,
  type ParamsOf,
  type QueryOf,
  type ReplyOf,
} from "@keyshard/api";
import type { FastifyContextConfig, FastifyRequest } from "fastify";
import type { App } from "./app.js";

export interface RouteOptions {
  config?: FastifyContextConfig;
  summary: string;
  description?: string;
}

/** A request to `E`, its input already checked against the endpoint's schemas. */
export type EndpointRequest<E extends Endpoint> = FastifyRequest<{
  Params: ParamsOf<E>;
  Querystring: QueryOf<E>;
  Body: BodyOf<E>;
}>;

const NAME_OF = new Map<Endpoint, string>(Object.entries(endpoints).map(([name, endpoint]) => [endpoint, name]));

export function route<E extends Endpoint>(
  app: App,
  endpoint: E,
  options: RouteOptions,
  handler: (request: EndpointRequest<E>) => ReplyOf<E> | Promise<ReplyOf<E>>,
): void {
  const { method, path, params, querystring, body, status, reply } = endpoint;
  const operationId = NAME_OF.get(endpoint);
  if (operationId === undefined) throw new Error(`${method} ${path} is not an endpoint of the API contract's table`);
  app.route({
    method,
    url: path,
    ...(options.config && { config: options.config }),
    schema: {
      operationId,
      summary: options.summary,
      ...(options.description !== undefined && { description: options.description }),
      ...(params && { params }),
      ...(querystring && { querystring }),
      ...(body && { body }),
      response: { ...(reply && { [status]: reply }), "4xx": ErrorBody },
    },
    // Fastify checked the input against these same schemas, so the request has their types; the
    // reply's type was checked against the endpoint's where `handler` was given.
    handler: async (request, res) => {
      res.code(status);
      return (await handler(request as EndpointRequest<E>)) as never;
    },
  });
}
