/**
 * The recovery operator's device routes answer web wallets of the origins it is configured with,
 * and only those: their answers and preflights name the asking origin (never `*`), other origins,
 * the administrator's reshare routes and the other routes get no CORS headers; Origin is added to
 * Vary, not put in its place; the setting takes origins only, as code passes them too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.js";
import { OperatorConfigError } from "../src/index.js";
import { walletOriginsPlugin } from "../src/recovery-operator/cors.js";
import { type RunningRecoveryOperator, startRecoveryOperator, walletOrigins } from "../src/recovery-operator/start.js";

const WALLET = "http://localhost:8080";
const OTHER = "https://evil.example";
const SECOND = "https://second.example";
const EVALUATIONS = "/v1/operator/enrollments/7b0f4a52-2b1e-4c1f-9a55-3f2d0c8a9e11/evaluations";

describe("recovery operator CORS for web wallets", () => {
  let dataDir: string;
  let operator: RunningRecoveryOperator;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "keyshard-operator-cors-"));
    operator = await startRecoveryOperator({
      dataDir,
      ticketKey: ed25519.getPublicKey(ed25519.utils.randomSecretKey()),
      // As code may pass them: with a trailing "/", and several in one entry.
      walletOrigins: [`${WALLET}/`, `https://wallet.example.com, ${SECOND}`],
    });
  });

  afterAll(async () => {
    await operator?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit & { origin?: string }) =>
    fetch(operator.url + path, {
      ...init,
      headers: {
        ...(init.origin !== undefined && { origin: init.origin }),
        ...(init.headers as Record<string, string>),
      },
    });
  const preflight = (path: string, origin: string, method = "POST") =>
    call(path, {
      method: "OPTIONS",
      origin,
      headers: { "access-control-request-method": method, "access-control-request-headers": "content-type" },
    });

  it("names a configured origin on a device route's answer, errors included, and no other origin", async () => {
    const info = await call("/v1/operator", { origin: WALLET });
    expect(info.status).toBe(200);
    expect(info.headers.get("access-control-allow-origin")).toBe(WALLET);
    expect(info.headers.get("access-control-allow-credentials")).toBeNull();
    expect(info.headers.get("vary")).toMatch(/Origin/);
    // A refused evaluation is read by the page too: it shows why.
    const refused = await call(EVALUATIONS, {
      method: "POST",
      origin: WALLET,
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("access-control-allow-origin")).toBe(WALLET);
    expect((await call("/v1/operator", { origin: SECOND })).headers.get("access-control-allow-origin")).toBe(SECOND);
    // An allowed origin on a route that is not a device's: the page may not read it.
    const health = await call("/health", { origin: WALLET });
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
    for (const origin of [OTHER, "null", undefined]) {
      const answer = await call("/v1/operator", { ...(origin !== undefined && { origin }) });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      expect(answer.headers.get("vary")).toMatch(/Origin/);
    }
  });

  it("answers a configured origin's preflight before a device's POST, and no other", async () => {
    for (const path of ["/v1/operator/enrollments", EVALUATIONS]) {
      const answer = await preflight(path, WALLET);
      expect(answer.status).toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBe(WALLET);
      expect(answer.headers.get("access-control-allow-methods")).toBe("POST");
      expect(answer.headers.get("access-control-allow-headers")).toBe("content-type");
      expect(Number(answer.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    }
    for (const answer of [
      await preflight(EVALUATIONS, OTHER),
      // A method the route does not take, and the administrator's reshare routes: not for pages.
      await preflight(EVALUATIONS, WALLET, "DELETE"),
      await preflight("/v1/operator/reshare/deal", WALLET),
    ]) {
      expect(answer.status).not.toBe(204);
      expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("adds Origin to what the reply varies by, keeping the rest", async () => {
    const app = Fastify() as unknown as App;
    app.addHook("onRequest", async (_request, reply) => {
      reply.header("vary", "Accept-Encoding");
    });
    walletOriginsPlugin(app, [WALLET]);
    app.get("/v1/operator", async () => ({}));
    const answer = await app.inject({ method: "GET", url: "/v1/operator", headers: { origin: WALLET } });
    expect(answer.headers["access-control-allow-origin"]).toBe(WALLET);
    expect(String(answer.headers.vary).split(/,\s*/)).toEqual(["Accept-Encoding", "Origin"]);
    await app.close();
  });

  it("takes origins only, https or loopback http", () => {
    expect(walletOrigins(" https://wallet.example.com, http://localhost:8080/ ")).toEqual([
      "https://wallet.example.com",
      WALLET,
    ]);
    for (const bad of [
      "*",
      "https://wallet.example.com/app",
      "http://wallet.example.com",
      "wallet.example.com",
      "https://u:p@x.example",
    ])
      expect(() => walletOrigins(bad), bad).toThrow(OperatorConfigError);
  });
});
