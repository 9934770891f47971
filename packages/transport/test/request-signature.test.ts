import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { deviceId, newDeviceIdentity } from "../src/identity.js";
import {
  contentDigest,
  RequestSignatureError,
  readRequestSignature,
  signatureBase,
  signRequest,
  verifyRequestSignature,
} from "../src/request-signature.js";

const identity = newDeviceIdentity();
const body = utf8ToBytes('{"a":1}');

function signed(headers: Record<string, string> = {}, request = { method: "POST", target: "/v1/x?y=1", body }) {
  const own = signRequest(identity, { method: request.method, path: request.target, body: request.body });
  return { ...request, headers: { ...own, ...headers } };
}

describe("request signatures (RFC 9421)", () => {
  it("computes the RFC 9530 Content-Digest", () => {
    // The example of RFC 9530 §2.
    expect(contentDigest(utf8ToBytes('{"hello": "world"}'))).toBe(
      "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
    );
  });

  it("builds the signature base line by line, @query with its '?' and a lone '?' without one", () => {
    const params = [
      ["created", 1700000000],
      ["nonce", "0".repeat(32)],
      ["keyid", "a".repeat(32)],
      ["alg", "ed25519"],
    ] as const;
    const digest = contentDigest(new Uint8Array());
    const base = (target: string) =>
      new TextDecoder().decode(
        signatureBase(
          { method: "get", target, contentDigest: digest },
          ["@method", "@path", "@query", "content-digest"],
          params,
        ),
      );
    expect(base("/v1/wallets?limit=10")).toBe(
      [
        '"@method": GET',
        '"@path": /v1/wallets',
        '"@query": ?limit=10',
        `"content-digest": ${digest}`,
        `"@signature-params": ("@method" "@path" "@query" "content-digest");created=1700000000;nonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="ed25519"`,
      ].join("\n"),
    );
    expect(base("/v1/wallets")).toContain('"@query": ?\n');
  });

  it("reads back what it signs, and the signature verifies against the device's key only", () => {
    const received = readRequestSignature(signed());
    expect(received.params).toMatchObject({ keyid: deviceId(identity.publicKey), alg: "ed25519" });
    expect(received.params.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(verifyRequestSignature(identity.publicKey, received)).toBe(true);
    expect(verifyRequestSignature(newDeviceIdentity().publicKey, received)).toBe(false);
  });

  it("binds the method, the path, the query and the body", () => {
    const original = signed();
    for (const changed of [
      { ...original, method: "PUT" },
      { ...original, target: "/v1/z?y=1" },
      { ...original, target: "/v1/x?y=2" },
      { ...original, target: "/v1/x" },
    ])
      expect(verifyRequestSignature(identity.publicKey, readRequestSignature(changed))).toBe(false);
    expect(() => readRequestSignature({ ...original, body: utf8ToBytes('{"a":2}') })).toThrow(
      "content-digest does not match the body",
    );
  });

  it("keeps the signer's order of components and parameters in the base it verifies", () => {
    const request = signed();
    const input = request.headers["signature-input"] as string;
    const reordered = input.replace(
      /\("@method" "@path" "@query" "content-digest"\);created=(\d+);nonce="(\w+)";keyid="(\w+)";alg="ed25519"/,
      '("content-digest" "@query" "@path" "@method");alg="ed25519";keyid="$3";nonce="$2";created=$1',
    );
    expect(reordered).not.toBe(input);
    const received = readRequestSignature({
      ...request,
      headers: { ...request.headers, "signature-input": reordered },
    });
    expect(new TextDecoder().decode(received.base)).toMatch(/^"content-digest": .*\n"@query": \?y=1\n/);
    // Its own signature was over the other order: it no longer verifies.
    expect(verifyRequestSignature(identity.publicKey, received)).toBe(false);
  });

  it("refuses to sign or to read a component that is not printable ASCII (RFC 9421 §2.5)", () => {
    for (const path of ["/v1/caf\u00e9", "/v1/x?q=\u20ac", "/v1/x\ty", "/v1/x\u007f"]) {
      expect(() => signRequest(identity, { method: "GET", path, body })).toThrow(RequestSignatureError);
      expect(() => readRequestSignature({ ...signed(), target: path })).toThrow(
        /^component @(path|query) may hold only printable ASCII characters$/,
      );
    }
  });

  /** A Signature-Input of `signed()`'s form with `components` and `params` in place of its own. */
  const input = (
    components: string,
    params = `created=1;nonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="ed25519"`,
  ) => `sig1=(${components});${params}`;
  const COMPONENTS = '"@method" "@path" "@query" "content-digest"';

  const refused: [string, Record<string, string>, string | RegExp][] = [
    ["no signature-input", { "signature-input": "" }, "missing or malformed signature-input header"],
    ["two signatures", { signature: "sig1=:AA==:, sig2=:AA==:" }, "signature must carry exactly one member"],
    [
      "two signature inputs",
      { "signature-input": `${input(COMPONENTS)}, sig2=(${COMPONENTS});created=1` },
      "signature-input must carry exactly one member",
    ],
    [
      "an upper-case label in signature-input",
      { "signature-input": `SIG1=(${COMPONENTS});created=1` },
      "malformed signature-input header",
    ],
    ["an upper-case label in signature", { signature: `SIG1=:${"A".repeat(86)}==:` }, "malformed signature header"],
    [
      "an upper-case component name",
      { "signature-input": input('"@method" "@path" "@query" "Content-Digest"') },
      /^the signature must cover exactly/,
    ],
    [
      "components not separated by a space",
      { "signature-input": input('"@method" "@path""@query" "content-digest"') },
      "malformed signature-input header",
    ],
    [
      "components separated by a tab",
      { "signature-input": input('"@method"\t"@path" "@query" "content-digest"') },
      "malformed signature-input header",
    ],
    [
      "a tab before a parameter",
      {
        "signature-input": input(
          COMPONENTS,
          `created=1;\tnonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="ed25519"`,
        ),
      },
      "malformed signature-input header",
    ],
    [
      "a parameter twice",
      { "signature-input": input(COMPONENTS, `created=1;created=1;keyid="${"a".repeat(32)}";alg="ed25519"`) },
      /^the signature parameters must be exactly/,
    ],
    ["labels that differ", { signature: `sig2=:${"A".repeat(86)}==:` }, /name different signatures/],
    ["a short signature", { signature: `sig1=:${"A".repeat(84)}:` }, /one 64-byte Ed25519 signature/],
    ["a signature that is not base64", { signature: `sig1=:${"!".repeat(86)}==:` }, "malformed signature header"],
    // Bits set past the last byte: another spelling of the same bytes, which a signer never writes.
    [
      "a signature in base64 that is not the one spelling of its bytes",
      { signature: `sig1=:${"A".repeat(85)}B==:` },
      "malformed signature header",
    ],
    [
      "fewer components",
      {
        "signature-input": input('"@method" "@path" "content-digest"'),
      },
      /^the signature must cover exactly/,
    ],
    [
      "a component twice",
      {
        "signature-input": input('"@method" "@path" "@path" "content-digest"'),
      },
      /^the signature must cover exactly/,
    ],
    [
      "a component with a parameter",
      {
        "signature-input": input('"@method" "@path" "@query" "content-digest";sf'),
      },
      "malformed signature-input header",
    ],
    [
      "a missing parameter",
      {
        "signature-input": input(COMPONENTS, `created=1;keyid="${"a".repeat(32)}";alg="ed25519"`),
      },
      /^the signature parameters must be exactly/,
    ],
    [
      "an extra parameter",
      {
        "signature-input": input(
          COMPONENTS,
          `created=1;expires=2;nonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="ed25519"`,
        ),
      },
      /^the signature parameters must be exactly/,
    ],
    [
      "another algorithm",
      {
        "signature-input": input(
          COMPONENTS,
          `created=1;nonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="hmac-sha256"`,
        ),
      },
      "alg must be ed25519",
    ],
    [
      "a short nonce",
      {
        "signature-input": input(COMPONENTS, `created=1;nonce="00";keyid="${"a".repeat(32)}";alg="ed25519"`),
      },
      "nonce must be 16 bytes in hex",
    ],
    [
      "created as a string",
      {
        "signature-input": input(
          COMPONENTS,
          `created="1";nonce="${"0".repeat(32)}";keyid="${"a".repeat(32)}";alg="ed25519"`,
        ),
      },
      "created must be Unix seconds",
    ],
    ["trailing garbage", { "signature-input": 'sig1=("@method");created=1 x' }, "malformed signature-input header"],
    [
      "a digest by another algorithm",
      { "content-digest": `sha-512=:${Buffer.from(sha256(body)).toString("base64")}:` },
      "content-digest must be one sha-256 digest",
    ],
  ];
  it.each(refused)("refuses %s", (_, headers, message) => {
    const attempt = () => readRequestSignature(signed(headers));
    expect(attempt).toThrow(RequestSignatureError);
    expect(attempt).toThrow(message);
  });
});
