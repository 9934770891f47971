/**
 * Signed requests to the provider, as HTTP Message Signatures (RFC 9421) over a Content-Digest
 * (RFC 9530). Every request carries one signature, by the device's Ed25519 identity key, whose
 * covered components are exactly `REQUIRED_COMPONENTS` and whose parameters are exactly
 * `created`, `nonce`, `keyid` (the device id) and `alg` ("ed25519"): so a captured request can be
 * neither altered (method, path, query and body are covered) nor replayed (a nonce is spent once,
 * `created` bounds how long it must be remembered).
 *
 * Only the Structured Field forms these headers use are parsed (RFC 8941: a one-member
 * dictionary whose value is an inner list of strings or a byte sequence, with integer or string
 * parameters); anything else is refused rather than interpreted. The same code builds the
 * signature base for the signer and the verifier, so the two cannot disagree.
 */
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { CANONICAL_BASE64 } from "./base64.js";
import { signEd25519, verifyEd25519 } from "./ed25519.js";
import { type DeviceIdentity, deviceId } from "./identity.js";

/** The request headers that carry a signature (lower case, as Node presents them). */
export const REQUEST_HEADERS = {
  signatureInput: "signature-input",
  signature: "signature",
  contentDigest: "content-digest",
} as const;

/** The label of the one signature a client sends. */
export const SIGNATURE_LABEL = "sig1";
/** What every signature must cover: no fewer, no more, in any order. */
export const REQUIRED_COMPONENTS = ["@method", "@path", "@query", "content-digest"] as const;
/** The signature parameters, in the order a signer here writes them; every one is required. */
export const SIGNATURE_PARAMETERS = ["created", "nonce", "keyid", "alg"] as const;
export const SIGNATURE_ALGORITHM = "ed25519";

/** A signature for a request refused before any key is looked at: missing, malformed or not covering enough. */
export class RequestSignatureError extends Error {
  override readonly name = "RequestSignatureError";
}

export interface SignatureParameters {
  /** When the request was signed, in Unix seconds. */
  created: number;
  /** 16 random bytes in lower-case hex, never used before by this device. */
  nonce: string;
  /** The signing device's id. */
  keyid: string;
  alg: typeof SIGNATURE_ALGORITHM;
}

/** A request as the signature sees it. */
export interface SignedRequestTarget {
  method: string;
  /** Path and query exactly as sent, e.g. "/v1/wallets?limit=10". */
  target: string;
  /** The Content-Digest header's value, exactly as sent. */
  contentDigest: string;
}

const HEX_16 = /^[0-9a-f]{32}$/;
/** RFC 9421 §2.5's derived-component-value, `*( VCHAR / SP )`: the characters 0x20 to 0x7e. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A Structured Field bare item of the kinds these headers use: string, integer, byte sequence. */
export type BareItem = string | number | Uint8Array;

/** The RFC 9530 Content-Digest of a body: its SHA-256, base64 in a byte sequence. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=${serializeBareItem(sha256(body))}`;
}

const serializeString = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

const serializeBareItem = (v: BareItem) =>
  typeof v === "number" ? String(v) : typeof v === "string" ? serializeString(v) : `:${base64.encode(v)}:`;

/** The `@signature-params` value: the components and parameters, in the order the signer gave them. */
function serializeSignatureParams(
  components: readonly string[],
  params: readonly (readonly [string, BareItem])[],
): string {
  return `(${components.map(serializeString).join(" ")})${params.map(([k, v]) => `;${k}=${serializeBareItem(v)}`).join("")}`;
}

function componentValues(request: SignedRequestTarget): Record<(typeof REQUIRED_COMPONENTS)[number], string> {
  const at = request.target.indexOf("?");
  const path = at === -1 ? request.target : request.target.slice(0, at);
  return {
    "@method": request.method.toUpperCase(),
    "@path": path,
    // RFC 9421 §2.2.7: with no query, the component is the lone "?".
    "@query": at === -1 ? "?" : request.target.slice(at),
    "content-digest": request.contentDigest.trim(),
  };
}

/**
 * The RFC 9421 signature base of `request` for a signature covering `components` with `params`,
 * both in the order the signer listed them.
 */
export function signatureBase(
  request: SignedRequestTarget,
  components: readonly string[],
  params: readonly (readonly [string, BareItem])[],
): Uint8Array {
  const values = componentValues(request);
  const lines = components.map((name) => {
    const value = Object.hasOwn(values, name) ? values[name as keyof typeof values] : undefined;
    if (value === undefined) throw new RequestSignatureError(`component ${name} is not one this API signs`);
    // RFC 9421 §2.5 builds the base of visible ASCII and spaces only and fails otherwise: a byte
    // sequence has one spelling only if the text does, and a line break in one component's value
    // would pose as another line of the base.
    if (!PRINTABLE_ASCII.test(value))
      throw new RequestSignatureError(`component ${name} may hold only printable ASCII characters`);
    return `${serializeString(name)}: ${value}`;
  });
  lines.push(`"@signature-params": ${serializeSignatureParams(components, params)}`);
  return utf8ToBytes(lines.join("\n"));
}

/** Headers that authenticate one request as `identity`'s. */
export function signRequest(
  identity: DeviceIdentity,
  request: { method: string; path: string; body: Uint8Array; now?: number },
): Record<string, string> {
  const params: [string, BareItem][] = [
    ["created", Math.floor((request.now ?? Date.now()) / 1000)],
    ["nonce", bytesToHex(crypto.getRandomValues(new Uint8Array(16)))],
    ["keyid", deviceId(identity.publicKey)],
    ["alg", SIGNATURE_ALGORITHM],
  ];
  const digest = contentDigest(request.body);
  const target = { method: request.method, target: request.path, contentDigest: digest };
  const base = signatureBase(target, REQUIRED_COMPONENTS, params);
  return {
    [REQUEST_HEADERS.signatureInput]: `${SIGNATURE_LABEL}=${serializeSignatureParams(REQUIRED_COMPONENTS, params)}`,
    [REQUEST_HEADERS.signature]: `${SIGNATURE_LABEL}=${serializeBareItem(signEd25519(base, identity.secretKey))}`,
    [REQUEST_HEADERS.contentDigest]: digest,
  };
}

// ── the strict Structured Field subset (RFC 8941) ─────────────────────────────────────────────

interface Member {
  label: string;
  /** An inner list's strings, or a single item. */
  value: string[] | BareItem;
  params: [string, BareItem][];
}

class Reader {
  private at = 0;
  constructor(
    private readonly text: string,
    private readonly header: string,
  ) {}

  fail(): never {
    throw new RequestSignatureError(`malformed ${this.header} header`);
  }

  private peek = () => this.text[this.at];

  private expect(char: string): void {
    if (this.text[this.at] !== char) this.fail();
    this.at++;
  }

  private spaces(): void {
    while (this.peek() === " ") this.at++;
  }

  private key(): string {
    const match = /^[a-z*][a-z0-9_\-.*]*/.exec(this.text.slice(this.at));
    if (match === null) this.fail();
    this.at += match[0].length;
    return match[0];
  }

  private string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const char = this.text[this.at++];
      if (char === undefined) this.fail();
      if (char === '"') return out;
      if (char === "\\") {
        const escaped = this.text[this.at++];
        if (escaped !== '"' && escaped !== "\\") this.fail();
        out += escaped;
      } else if (char < " " || char > "~") this.fail();
      else out += char;
    }
  }

  private bareItem(): BareItem {
    const char = this.peek();
    if (char === '"') return this.string();
    if (char === ":") {
      const end = this.text.indexOf(":", this.at + 1);
      if (end === -1) this.fail();
      const encoded = this.text.slice(this.at + 1, end);
      if (!CANONICAL_BASE64.test(encoded)) this.fail();
      this.at = end + 1;
      return base64.decode(encoded);
    }
    const match = /^-?[0-9]{1,15}(?![0-9.])/.exec(this.text.slice(this.at));
    if (match === null) this.fail();
    this.at += match[0].length;
    return Number(match[0]);
  }

  private parameters(): [string, BareItem][] {
    const params: [string, BareItem][] = [];
    while (this.peek() === ";") {
      this.at++;
      this.spaces();
      const key = this.key();
      this.expect("=");
      params.push([key, this.bareItem()]);
    }
    return params;
  }

  /** The field as a dictionary of exactly one member, the whole text consumed. */
  onlyMember(): Member {
    this.spaces();
    const label = this.key();
    this.expect("=");
    let value: Member["value"];
    if (this.peek() === "(") {
      this.at++;
      const items: string[] = [];
      for (;;) {
        this.spaces();
        if (this.peek() === ")") break;
        if (items.length > 0 && this.text[this.at - 1] !== " ") this.fail();
        items.push(this.string());
        // A parameter on a component (";sf", ";req", …) selects a form this API does not sign.
        if (this.peek() === ";") this.fail();
      }
      this.at++;
      value = items;
    } else value = this.bareItem();
    const params = this.parameters();
    this.spaces();
    if (this.at !== this.text.length) {
      if (this.peek() === ",") throw new RequestSignatureError(`${this.header} must carry exactly one member`);
      this.fail();
    }
    return { label, value, params };
  }
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  if (typeof value !== "string" || value.length === 0 || value.length > 256)
    throw new RequestSignatureError(`missing or malformed ${name} header`);
  return value;
}

/** A request's signature, read and checked for form, with the base it claims to sign. */
export interface ReceivedSignature {
  params: SignatureParameters;
  signature: Uint8Array;
  base: Uint8Array;
}

/**
 * Reads a request's signature headers; throws `RequestSignatureError` unless there is exactly one
 * signature, labelled alike in both headers, covering exactly `REQUIRED_COMPONENTS` with exactly
 * `SIGNATURE_PARAMETERS`, and unless the Content-Digest is the body's. The signature itself is
 * checked by `verifyRequestSignature`, once the caller has found the key `params.keyid` names.
 */
export function readRequestSignature(request: {
  method: string;
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}): ReceivedSignature {
  const input = new Reader(
    headerValue(request.headers, REQUEST_HEADERS.signatureInput),
    REQUEST_HEADERS.signatureInput,
  ).onlyMember();
  const signed = new Reader(headerValue(request.headers, REQUEST_HEADERS.signature), REQUEST_HEADERS.signature);
  const signature = signed.onlyMember();
  if (signature.label !== input.label)
    throw new RequestSignatureError("signature and signature-input name different signatures");
  if (!(signature.value instanceof Uint8Array) || signature.params.length > 0 || signature.value.length !== 64)
    throw new RequestSignatureError("signature must be one 64-byte Ed25519 signature");

  // Here and for the parameters below: as many as required, every required one among them, so none twice.
  const components = input.value;
  if (
    !Array.isArray(components) ||
    components.length !== REQUIRED_COMPONENTS.length ||
    !REQUIRED_COMPONENTS.every((c) => components.includes(c))
  )
    throw new RequestSignatureError(`the signature must cover exactly ${REQUIRED_COMPONENTS.join(", ")}`);
  const params = Object.fromEntries(input.params);
  if (
    input.params.length !== SIGNATURE_PARAMETERS.length ||
    !SIGNATURE_PARAMETERS.every((p) => Object.hasOwn(params, p))
  )
    throw new RequestSignatureError(`the signature parameters must be exactly ${SIGNATURE_PARAMETERS.join(", ")}`);
  const { created, nonce, keyid, alg } = params;
  if (typeof created !== "number" || created < 0) throw new RequestSignatureError("created must be Unix seconds");
  if (typeof nonce !== "string" || !HEX_16.test(nonce))
    throw new RequestSignatureError("nonce must be 16 bytes in hex");
  if (typeof keyid !== "string" || !HEX_16.test(keyid))
    throw new RequestSignatureError("keyid must be a device id, 16 bytes in hex");
  if (alg !== SIGNATURE_ALGORITHM) throw new RequestSignatureError(`alg must be ${SIGNATURE_ALGORITHM}`);

  const digestHeader = headerValue(request.headers, REQUEST_HEADERS.contentDigest);
  const digest = new Reader(digestHeader, REQUEST_HEADERS.contentDigest).onlyMember();
  if (digest.label !== "sha-256" || !(digest.value instanceof Uint8Array) || digest.params.length > 0)
    throw new RequestSignatureError("content-digest must be one sha-256 digest");
  if (!equalBytes(digest.value, sha256(request.body)))
    throw new RequestSignatureError("content-digest does not match the body");

  const signatureParams: SignatureParameters = { created, nonce, keyid, alg };
  const target = { method: request.method, target: request.target, contentDigest: digestHeader };
  return {
    params: signatureParams,
    signature: signature.value,
    base: signatureBase(target, components, input.params),
  };
}

/** Whether `received` was signed by `publicKey`. */
export function verifyRequestSignature(publicKey: Uint8Array, received: ReceivedSignature): boolean {
  return verifyEd25519(received.signature, received.base, publicKey);
}
