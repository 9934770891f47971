/**
 * Requests the schemas refuse get messages in plain words — the field, where it is, what it must
 * be — with the `invalid-request` code a program switches on, and never the validator's own text
 * ("params/id must match format \"uuid\""). Sent over HTTP to the provider's real process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProviderProcess, spawnProvider, TestDevice } from "./harness.js";

const SCHEMA_TEXT = /must match|params\/|body\/|querystring\/|\/[a-z]+ must|format "|NOT have/;

const BAD: [method: string, path: string, body: unknown, message: string][] = [
  ["GET", "/v1/sign-requests/not-a-request", undefined, "the sign request id in the path is not a valid id"],
  ["POST", "/v1/sign-requests/12345/cancel", undefined, "the sign request id in the path is not a valid id"],
  ["POST", "/v1/wallets/savings/policy", { policy: [], totp: "123456" }, "the wallet id in the path is not a valid id"],
  ["POST", "/v1/devices/xyz/approve", {}, "the device id in the path must be 32 hex digits (0-9, a-f)"],
  ["POST", "/v1/devices/verify", { code: "12" }, "code must be 6 digits"],
  ["POST", "/v1/devices/verify", { code: 123456 }, "code must be text"],
  [
    "POST",
    "/v1/devices/verify",
    { code: "123456", admin: true },
    'the request body has a field it does not take: "admin"',
  ],
  ["POST", "/v1/devices/verify", {}, "code is missing"],
  ["POST", "/v1/devices/verify", [], "the request body must be a JSON object"],
  [
    "POST",
    "/v1/devices",
    { identityKey: "00".repeat(32), email: "no-at-sign", name: "x" },
    "email must be an email address",
  ],
  [
    "POST",
    "/v1/devices",
    { identityKey: "00".repeat(32), email: "a@b.example", name: "" },
    "name must be at least 1 characters",
  ],
  [
    "POST",
    "/v1/devices",
    { identityKey: "abc", email: "a@b.example", name: "x" },
    "identityKey must be 64 hex digits (0-9, a-f)",
  ],
  ["GET", "/v1/sign-requests?status=lost", undefined, "status in the query must be one of"],
];

describe("request errors in the user's terms", () => {
  let provider: ProviderProcess;
  beforeAll(async () => {
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: "" });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it.each(BAD)("%s %s", async (method, path, body, message) => {
    const reply = await new TestDevice(provider.url).request(method, path, body);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe("invalid-request");
    expect(reply.body.message).toContain(message);
    expect(reply.body.message).not.toMatch(SCHEMA_TEXT);
  });
});
