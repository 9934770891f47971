/**
 * A schema violation is put in a policy's words only on a body that carries a policy document —
 * one whose `policy` is the API's `Policy` schema — and not on a body with a field that is merely
 * named `policy`. Sent through Fastify with the provider's error plugin, so the route's schema is
 * the one Fastify keeps.
 */
import { PolicyChangeRequest, WalletCreate } from "@keyshard/api";
import Fastify from "fastify";
import { Type } from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.js";
import { errorsPlugin } from "../src/http/plugins/errors.js";

const BAD_POLICY = [{ name: "big", when: { maxAmount: 5 }, decision: "allow" }];
const POLICY_WORDS = 'rule 1 ("big"): maxAmount is a whole number of base units, as a string';

describe("policy wording by the route's schema", () => {
  let app: App;
  beforeAll(async () => {
    app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } } });
    errorsPlugin(app);
    const ok = async () => ({});
    app.post("/wallets", { schema: { body: WalletCreate } }, ok);
    app.post("/policy", { schema: { body: PolicyChangeRequest } }, ok);
    app.post("/notes", { schema: { body: Type.Object({ policy: Type.String() }) } }, ok);
    app.post("/labels", { schema: { body: Type.Object({ policy: Type.Object({ name: Type.String() }) }) } }, ok);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  const refusal = async (url: string, payload: unknown) => {
    const reply = await app.inject({ method: "POST", url, payload: payload as object });
    expect(reply.statusCode).toBe(400);
    return reply.json() as { error: string; message: string };
  };

  it("words a violation inside a policy document as the policy's own check does", async () => {
    expect(await refusal("/wallets", { name: "w", scheme: "ecdsa2p", policy: BAD_POLICY })).toEqual({
      error: "invalid-request",
      message: POLICY_WORDS,
    });
    expect(await refusal("/policy", { policy: BAD_POLICY, totp: "123456" })).toEqual({
      error: "invalid-request",
      message: POLICY_WORDS,
    });
    expect((await refusal("/policy", { policy: {}, totp: "123456" })).message).toMatch(/^a policy is a list/);
  });

  it("words a field only named policy like any other field", async () => {
    expect(await refusal("/notes", { policy: 5 })).toEqual({
      error: "invalid-request",
      message: "policy must be text",
    });
    expect((await refusal("/labels", { policy: { name: 1 } })).message).toBe("policy name must be text");
  });
});
