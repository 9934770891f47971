/** The OpenAPI description at /docs, generated from the routes' schemas. */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { App } from "../app.js";

export async function docsPlugin(app: App): Promise<void> {
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
}
