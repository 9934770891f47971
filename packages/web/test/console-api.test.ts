/**
 * The console page's calls to /console/api, with the browser's fetch replaced: the token goes in
 * the Authorization header and nowhere else, a refused token is told as such (whatever page a
 * proxy answers with), replies are read strictly (an unknown field, a wrong type: refused, not
 * shown) while a text that is merely long is cut, and an account id that is not one never becomes
 * part of a path.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsoleApiError, consoleApi, LONG_TEXT_KEPT } from "../src/console/api.js";
import { ProtocolError } from "../src/engine/readers.js";

const TOKEN = "console-token-0123456789abcdef0123";
const ACCOUNT = "4342729c-773f-45db-9cef-f54d433d26ac";

const VERDICT = { accountId: ACCOUNT, ok: false, length: 5, firstBroken: 2 };

let calls: { url: string; init: RequestInit | undefined }[];
/** What the provider answers: `body` as JSON, or `page` as it is. */
let answer: { status: number; body?: unknown; page?: string };
const realFetch = globalThis.fetch;

beforeEach(() => {
  calls = [];
  answer = { status: 200, body: VERDICT };
  globalThis.fetch = async (url, init) => {
    calls.push({ url: String(url), init });
    return new Response(answer.page ?? JSON.stringify(answer.body), { status: answer.status });
  };
});

afterEach(() => {
  globalThis.fetch = realFetch;
});

describe("the console's API calls", () => {
  it("send the token as a bearer token only, and read the reply", async () => {
    expect(await consoleApi.verifyAudit(TOKEN, ACCOUNT)).toEqual(VERDICT);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.url).toBe(`/console/api/accounts/${ACCOUNT}/audit/verify`);
    expect(call?.init?.headers).toMatchObject({ authorization: `Bearer ${TOKEN}` });
    expect(call?.init?.credentials).toBe("omit");
    expect(call?.url).not.toContain(TOKEN);
  });

  it("say a refused token is refused", async () => {
    answer = { status: 401, body: { error: "unauthorized", message: "needs the token" } };
    const refused = consoleApi.overview(TOKEN);
    await expect(refused).rejects.toBeInstanceOf(ConsoleApiError);
    await expect(refused).rejects.toThrow(/refused the token/);
  });

  it("say a refused token is refused when a proxy answers with its own page", async () => {
    answer = { status: 401, page: "<html><body>401 Authorization Required</body></html>" };
    await expect(consoleApi.overview(TOKEN)).rejects.toThrow(/refused the token/);
  });

  it("say a provider error is one when its answer is a page, not the provider's error body", async () => {
    answer = { status: 502, page: "<html><body>502 Bad Gateway</body></html>" };
    const failed = consoleApi.overview(TOKEN);
    await expect(failed).rejects.toMatchObject({ name: "ConsoleApiError", status: 502 });
    await expect(failed).rejects.toThrow(/HTTP 502.*provider error/);
    answer = { status: 503, body: { error: "unavailable", message: "the database is starting" } };
    await expect(consoleApi.overview(TOKEN)).rejects.toThrow("the database is starting");
  });

  it("cut a long text instead of refusing the reply it is in", async () => {
    const details = `{"policy":"${"x".repeat(200_000)}"}`;
    answer = {
      status: 200,
      body: {
        accountId: ACCOUNT,
        limit: 200,
        total: 1,
        entries: [
          {
            seq: 1,
            atMs: 1,
            actor: "device",
            action: "policy.change-requested",
            details,
            detailsLength: details.length,
            hash: "ab",
          },
        ],
      },
    };
    const audit = await consoleApi.audit(TOKEN, ACCOUNT);
    expect(audit.entries[0]?.details).toBe(details.slice(0, LONG_TEXT_KEPT));
    expect(audit.entries[0]?.detailsLength).toBe(details.length);
  });

  it.each([
    ["a field it does not know", { ...VERDICT, extra: "x" }],
    ["a count that is not a whole number", { ...VERDICT, length: 2.5 }],
    ["a text that is a number", { ...VERDICT, accountId: 7 }],
    ["a missing field", { accountId: ACCOUNT, length: 5 }],
  ])("refuse a reply with %s", async (_case, body) => {
    answer = { status: 200, body };
    await expect(consoleApi.verifyAudit(TOKEN, ACCOUNT)).rejects.toBeInstanceOf(ProtocolError);
  });

  it("refuse counts by state that are not whole numbers", async () => {
    answer = {
      status: 200,
      body: {
        version: "0.1.0",
        trial: false,
        startedAtMs: 1,
        uptimeSeconds: 1,
        database: { kind: "pglite", reachable: true },
        counts: { accounts: 1, devices: { active: "1" }, wallets: {}, requests: {} },
        signRuns: { precomputedAhead: 0, precomputedInRun: 0 },
      },
    };
    await expect(consoleApi.overview(TOKEN)).rejects.toBeInstanceOf(ProtocolError);
  });

  it("never put an account id that is not one into a path", async () => {
    for (const id of ["../overview", `${ACCOUNT}/../../held-requests`, ""])
      await expect(consoleApi.audit(TOKEN, id)).rejects.toThrow(/not an account id/);
    expect(calls).toEqual([]);
  });
});
