/**
 * /metrics answers only scrapers with the operator's bearer token, refuses everyone else with the
 * usual error body and nothing of the metrics, and is not there at all on a provider started
 * without a token; a token too weak to keep out a guess refuses the start.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProvider } from "../src/index.js";
import { METRICS_TOKEN, scrapeMetrics, startTestProvider, type TestProvider } from "./harness.js";

const scrape = (url: string, authorization?: string) =>
  fetch(`${url}/metrics`, { ...(authorization !== undefined && { headers: { authorization } }) });

describe("/metrics behind a bearer token", () => {
  let provider: TestProvider;

  beforeAll(async () => {
    provider = await startTestProvider("pglite");
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("serves the metrics to the right token, whatever the scheme's case", async () => {
    const metrics = await scrapeMetrics(provider.url);
    expect(metrics).toContain("keyshard_ecdsa2p_sign_runs_total");
    expect(metrics).toContain("nodejs_heap_size_used_bytes");
    const lowercase = await scrape(provider.url, `bearer ${METRICS_TOKEN}`);
    expect(lowercase.status).toBe(200);
    expect(lowercase.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await lowercase.text()).toContain("keyshard_http_request_seconds");
  });

  it.each([
    ["no Authorization header", undefined],
    ["an empty bearer token", "Bearer "],
    ["a wrong token of the same length", `Bearer ${METRICS_TOKEN.slice(0, -1)}x`],
    ["the token cut short", `Bearer ${METRICS_TOKEN.slice(0, -1)}`],
    ["the token with more after it", `Bearer ${METRICS_TOKEN}x`],
    ["the token without the Bearer scheme", METRICS_TOKEN],
    ["the token as Basic credentials", `Basic ${Buffer.from(`prometheus:${METRICS_TOKEN}`).toString("base64")}`],
  ])("refuses %s with 401 and the error body, nothing of the metrics", async (_case, authorization) => {
    const response = await scrape(provider.url, authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: "unauthorized", message: expect.any(String) });
    expect(text).not.toContain("keyshard_");
    expect(text).not.toContain(METRICS_TOKEN);
  });
});

describe("/metrics without a token configured", () => {
  let provider: TestProvider;

  beforeAll(async () => {
    provider = await startTestProvider("pglite", { metricsToken: null });
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("is not served: the same 404 as a route that does not exist, token or not", async () => {
    for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}`]) {
      const response = await scrape(provider.url, authorization);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "not-found", message: "no route GET /metrics" });
    }
    expect((await fetch(`${provider.url}/health`)).status).toBe(200);
  });
});

describe("a metrics token that keeps no one out", () => {
  it.each([
    ["short", "too-short-0123456789"],
    ["with a space", "a token with spaces 0123456789abcdef"],
    ["with a quote", 'token"0123456789abcdef0123456789abcdef'],
  ])("refuses the start (%s) before anything is created, without the token in the message", async (_case, token) => {
    const dataDir = join(tmpdir(), `keyshard-metrics-${crypto.randomUUID()}`);
    const started = startProvider({ dataDir, metricsToken: token, trial: true });
    await expect(started).rejects.toThrow(/^KEYSHARD_METRICS_TOKEN must be at least 32 characters/);
    await expect(started).rejects.not.toThrow(token);
    expect(existsSync(dataDir)).toBe(false);
  });
});
