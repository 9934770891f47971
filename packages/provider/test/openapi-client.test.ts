/**
 * A client generated from the provider's OpenAPI document alone authenticates: types made by
 * openapi-typescript from the served document, calls through openapi-fetch, and requests signed by
 * an independent HTTP Message Signatures implementation (http-message-signatures) told only what
 * the document's security scheme says. Altered, replayed and under-covering requests are refused
 * with the statuses the scheme names, and the document's security requirements are exactly the
 * routes the provider authenticates.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDeviceIdentity } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { httpbis } from "http-message-signatures";
import createClient, { type Middleware } from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/index.js";
import { mailedCode, startTestProvider, type TestProvider } from "./harness.js";

interface SecurityScheme {
  type: string;
  in: string;
  name: string;
  "x-http-message-signature": {
    label: string;
    coveredComponents: string[];
    parameters: string[];
    algorithm: string;
    contentDigest: { algorithm: string };
  };
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
}
interface Document {
  components: { securitySchemes: Record<string, SecurityScheme> };
  paths: Record<string, Record<string, Operation>>;
}

let provider: TestProvider;
let doc: Document;

beforeAll(async () => {
  provider = await startTestProvider("pglite");
  doc = (await (await fetch(`${provider.url}/docs/json`)).json()) as Document;
});
afterAll(async () => {
  await provider?.stop();
});

/** The one security scheme the document defines, and what it says a signature is. */
function documentedScheme(): { name: string; scheme: SecurityScheme } {
  const entries = Object.entries(doc.components.securitySchemes);
  expect(entries).toHaveLength(1);
  const [name, scheme] = entries[0] as [string, SecurityScheme];
  return { name, scheme };
}

/** Whether the document asks for the scheme on the operation `schemaPath` + `method`. */
function operationIsSigned(schemaPath: string, method: string): boolean {
  const operation = doc.paths[schemaPath]?.[method.toLowerCase()];
  if (operation === undefined) throw new Error(`${method} ${schemaPath} is not in the document`);
  const { name } = documentedScheme();
  return (operation.security ?? []).some((requirement) => name in requirement);
}

interface SignOptions {
  /** Components to cover instead of the document's (a client that covers too little). */
  components?: string[];
}

/** Signs `request` as the document's scheme says, with the library; the device id is the keyid. */
async function signAsDocumented(
  request: Request,
  identity: { publicKey: Uint8Array; secretKey: Uint8Array },
  options: SignOptions = {},
): Promise<Request> {
  const { scheme } = documentedScheme();
  const rules = scheme["x-http-message-signature"];
  expect(rules.algorithm).toBe("ed25519");
  expect(rules.contentDigest.algorithm).toBe("sha-256");
  const body = new Uint8Array(await request.clone().arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  headers["content-digest"] = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
  const keyid = createHash("sha256").update(identity.publicKey).digest().subarray(0, 16).toString("hex");
  const signed = await httpbis.signMessage(
    {
      key: {
        id: keyid,
        alg: rules.algorithm,
        sign: async (data) => Buffer.from(ed25519.sign(data, identity.secretKey)),
      },
      name: rules.label,
      fields: options.components ?? rules.coveredComponents,
      params: rules.parameters,
      paramValues: { nonce: createHash("sha256").update(crypto.randomUUID()).digest("hex").slice(0, 32) },
    },
    { method: request.method, url: request.url, headers },
  );
  return new Request(request.url, {
    method: request.method,
    headers: signed.headers as Record<string, string>,
    ...(body.length > 0 && { body }),
  });
}

/** An openapi-fetch client whose middleware signs the operations the document marks signed. */
function documentClient(identity: { publicKey: Uint8Array; secretKey: Uint8Array }) {
  const client = createClient({ baseUrl: provider.url });
  const signer: Middleware = {
    async onRequest({ request, schemaPath }) {
      return operationIsSigned(schemaPath, request.method) ? signAsDocumented(request, identity) : undefined;
    },
  };
  client.use(signer);
  return client;
}

describe("a client generated from the OpenAPI document", () => {
  it("generates types that an openapi-fetch client compiles against", async () => {
    const types = astToString(await openapiTS(doc as never));
    expect(types).toContain('"/v1/devices/self"');
    const dir = mkdtempSync(join(tmpdir(), "keyshard-openapi-"));
    try {
      writeFileSync(join(dir, "api.d.ts"), types);
      writeFileSync(
        join(dir, "use.ts"),
        [
          'import createClient from "openapi-fetch";',
          'import type { paths } from "./api";',
          'const client = createClient<paths>({ baseUrl: "http://localhost" });',
          "export async function self(): Promise<string | undefined> {",
          '  const { data } = await client.GET("/v1/devices/self");',
          "  return data?.deviceId;",
          "}",
          "export async function policy(id: string) {",
          '  return client.POST("/v1/wallets/{id}/policy", {',
          "    params: { path: { id } },",
          '    body: { totp: "123456", policy: [{ name: "cap", when: {}, decision: "allow" }] },',
          "  });",
          "}",
          "export async function notAnOperation() {",
          "  // @ts-expect-error: the document has no such path",
          '  return client.GET("/v1/nowhere");',
          "}",
          "export async function untypedPolicy(id: string) {",
          '  return client.POST("/v1/wallets/{id}/policy", {',
          "    params: { path: { id } },",
          "    // @ts-expect-error: a policy is a list of rules, not any object",
          '    body: { totp: "123456", policy: { anything: true } },',
          "  });",
          "}",
        ].join("\n"),
      );
      const require = createRequire(import.meta.url);
      const program = ts.createProgram([join(dir, "use.ts")], {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        paths: { "openapi-fetch": [require.resolve("openapi-fetch").replace(/index\.[cm]?js$/, "index.d.mts")] },
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("registers, verifies and reads its device through the document's operations, signed as the scheme says", async () => {
    const identity = newDeviceIdentity();
    const client = documentClient(identity);
    const email = "openapi@example.com";
    const registered = await client.POST(
      "/v1/devices" as never,
      {
        body: { identityKey: Buffer.from(identity.publicKey).toString("hex"), email, name: "generated" },
      } as never,
    );
    expect(registered.response.status).toBe(201);
    const verified = await client.POST(
      "/v1/devices/verify" as never,
      {
        body: { code: await mailedCode(provider.mails, email) },
      } as never,
    );
    expect(verified.response.status).toBe(200);
    const self = await client.GET("/v1/devices/self" as never);
    expect(self.response.status).toBe(200);
    expect(self.data).toMatchObject({ state: "active" });
    const requests = await client.GET("/v1/sign-requests" as never, { params: { query: { status: "held" } } } as never);
    expect(requests.response.status).toBe(200);
  });

  describe("refusals, with the statuses the scheme documents", () => {
    let identity: { publicKey: Uint8Array; secretKey: Uint8Array };

    beforeAll(async () => {
      identity = newDeviceIdentity();
      const client = documentClient(identity);
      const email = "refusals@example.com";
      await client.POST(
        "/v1/devices" as never,
        {
          body: { identityKey: Buffer.from(identity.publicKey).toString("hex"), email, name: "generated" },
        } as never,
      );
      const verified = await client.POST(
        "/v1/devices/verify" as never,
        {
          body: { code: await mailedCode(provider.mails, email) },
        } as never,
      );
      expect(verified.response.status).toBe(200);
    });

    const refusal = async (response: Response) => ({ status: response.status, body: await response.json() });

    it("a replayed request", async () => {
      const signed = await signAsDocumented(new Request(`${provider.url}/v1/account`), identity);
      expect((await fetch(signed.clone())).status).toBe(200);
      expect(await refusal(await fetch(signed))).toEqual({
        status: 401,
        body: { error: "unauthorized", message: "request was replayed" },
      });
    });

    it("a changed query", async () => {
      const signed = await signAsDocumented(new Request(`${provider.url}/v1/sign-requests?status=held`), identity);
      const moved = new Request(`${provider.url}/v1/sign-requests?status=signed`, { headers: signed.headers });
      expect(await refusal(await fetch(moved))).toEqual({
        status: 401,
        body: { error: "unauthorized", message: "request signature does not verify" },
      });
    });

    it("a changed body, with its digest left or recomputed", async () => {
      const post = (body: unknown, headers?: Headers) =>
        new Request(`${provider.url}/v1/totp`, {
          method: "POST",
          headers: headers ?? { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const signed = await signAsDocumented(post({}), identity);
      const changed = post({ code: "123456" }, signed.headers);
      expect(await refusal(await fetch(changed))).toEqual({
        status: 401,
        body: { error: "unauthorized", message: "content-digest does not match the body" },
      });
      const redigested = new Headers(signed.headers);
      const bytes = Buffer.from(JSON.stringify({ code: "123456" }));
      redigested.set("content-digest", `sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`);
      expect(await refusal(await fetch(post({ code: "123456" }, redigested)))).toEqual({
        status: 401,
        body: { error: "unauthorized", message: "request signature does not verify" },
      });
    });

    it("a signature that covers fewer components than the scheme lists, however genuine", async () => {
      const { scheme } = documentedScheme();
      const all = scheme["x-http-message-signature"].coveredComponents;
      for (const left of all) {
        const signed = await signAsDocumented(new Request(`${provider.url}/v1/account`), identity, {
          components: all.filter((c) => c !== left),
        });
        expect(await refusal(await fetch(signed)), left).toEqual({
          status: 401,
          body: { error: "unauthorized", message: expect.stringMatching(/^the signature must cover exactly /) },
        });
      }
    });

    it("a registration signed by another key than the one it registers", async () => {
      const registering = newDeviceIdentity();
      const request = new Request(`${provider.url}/v1/devices`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          identityKey: Buffer.from(registering.publicKey).toString("hex"),
          email: "someone-else@example.com",
          name: "x",
        }),
      });
      expect(await refusal(await fetch(await signAsDocumented(request, identity)))).toEqual({
        status: 401,
        body: {
          error: "unauthorized",
          message: "the signature's keyid is not the device id of the key the request brings",
        },
      });
    });

    it("an unsigned request to a signed operation", async () => {
      expect(await refusal(await fetch(`${provider.url}/v1/account`))).toEqual({
        status: 401,
        body: { error: "unauthorized", message: "missing or malformed signature-input header" },
      });
    });
  });
});

describe("the document's security requirements", () => {
  it("are exactly the routes the provider authenticates (and registration, signed by the key it registers)", async () => {
    const app = await buildServer(provider.context);
    const configs = new Map<string, { auth?: unknown; selfSigned?: unknown }>();
    app.addHook("onRequest", async (request, reply) => {
      configs.set(`${request.method} ${request.routeOptions.url}`, request.routeOptions.config);
      return reply.code(204).send();
    });
    try {
      const signed: string[] = [];
      const unsigned: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths))
        for (const [method, operation] of Object.entries(methods)) {
          const url = path.replace(/\{(\w+)\}/g, "1");
          await app.inject({ method: method.toUpperCase() as "GET", url });
          const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
          const config = configs.get(key);
          expect(config, key).toBeDefined();
          const checked = config?.auth !== undefined || config?.selfSigned !== undefined;
          expect(operationIsSigned(path, method), key).toBe(checked);
          (checked ? signed : unsigned).push(operation.operationId);
        }
      // The relay's socket is signed in its first frame, which a browser can send, not on its upgrade.
      expect(unsigned.sort()).toEqual(["cancelAccountChangeByToken", "faceRecoveryOperators", "relaySocket"]);
      expect(signed).toEqual(expect.arrayContaining(["registerDevice", "deviceSelf"]));
      const socket = doc.paths["/v1/relay/ws"]?.get as unknown as {
        "x-websocket": { authentication: string; clientFrames: object; serverFrames: object };
      };
      expect(socket["x-websocket"].authentication).toMatch(/^the upgrade carries no signature: the first frame is/);
      expect(Object.keys(socket["x-websocket"].clientFrames)).toEqual(["authenticate", "watch", "subscribe", "send"]);
      expect(Object.keys(socket["x-websocket"].serverFrames)).toEqual(
        expect.arrayContaining(["authenticated", "watching", "subscribed", "stored", "envelopes", "notice", "error"]),
      );
    } finally {
      await app.close();
    }
  });
});
