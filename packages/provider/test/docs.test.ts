/**
 * The OpenAPI document's signature scheme is worded from the provider's own constants: with
 * another request window, its text and its machine-readable part both state that window.
 */
import Fastify from "fastify";
import { expect, it, vi } from "vitest";
import type { App } from "../src/http/app.js";
import { docsPlugin } from "../src/http/plugins/docs.js";

vi.mock("../src/http/plugins/auth.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../src/http/plugins/auth.js")>()),
  REQUEST_WINDOW_MS: 90_000,
}));

it("states the request window the provider enforces", async () => {
  const app = Fastify();
  try {
    await docsPlugin(app as unknown as App);
    await app.ready();
    const scheme = (
      app.swagger() as unknown as {
        components: {
          securitySchemes: {
            deviceSignature: { description: string; "x-http-message-signature": { createdToleranceSeconds: number } };
          };
        };
      }
    ).components.securitySchemes.deviceSignature;
    expect(scheme.description).toContain("refused more than 90 s away from the provider's clock");
    expect(scheme["x-http-message-signature"].createdToleranceSeconds).toBe(90);
  } finally {
    await app.close();
  }
});
