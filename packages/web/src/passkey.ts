/**
 * The passkey that unlocks this browser's keystore: WebAuthn's PRF extension turns a salt into 32
 * secret bytes that only the passkey's authenticator can give, after the person's verification
 * (fingerprint, face, PIN). The engine derives the keystore's key from them.
 *
 * WebAuthn runs on the page (workers have no access to it). No server checks these ceremonies —
 * the output is used as key material here, not as a login — so the challenges are random bytes
 * nobody verifies. The PRF output goes to the engine once and is kept nowhere.
 */
import { BASE64URL } from "./engine/protocol.js";

const PRF_BYTES = 32;
const TIMEOUT_MS = 120_000;

export type PasskeyErrorCode = "unsupported" | "no-prf" | "cancelled" | "failed";

export class PasskeyError extends Error {
  override readonly name = "PasskeyError";
  constructor(
    readonly code: PasskeyErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A new passkey and its PRF output for a new random salt: what `Wallet.init` takes to make a passkey keystore. */
export interface NewPasskey {
  credentialId: string;
  salt: Uint8Array;
  output: Uint8Array;
}

const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length));

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!BASE64URL.test(text)) throw new PasskeyError("failed", "The stored passkey id is damaged.");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Whether the passkey is being made (onboarding, where a passphrase can replace it) or used to
 * unlock a keystore sealed under it (where nothing else opens it).
 */
type Ceremony = "create" | "unlock";

/** What the person can do instead, said after a refusal: only onboarding has another way. */
const instead = (ceremony: Ceremony) =>
  ceremony === "create"
    ? " Use a passphrase instead."
    : " This device's keystore opens only with its passkey: update the browser or turn its passkeys on, then try again.";

function ensureSupported(ceremony: Ceremony): void {
  // Checked first: browsers hide WebAuthn from insecure pages, which would read as "no passkeys".
  if (!isSecureContext)
    throw new PasskeyError(
      "unsupported",
      "Passkeys work only on a secure page: open the app over https, or at localhost.",
    );
  if (typeof PublicKeyCredential === "undefined" || navigator.credentials === undefined)
    throw new PasskeyError("unsupported", `This browser cannot use passkeys.${instead(ceremony)}`);
}

/** The error a WebAuthn call failed with, in words the person can act on. */
function ceremonyError(e: unknown, ceremony: Ceremony): PasskeyError {
  if (e instanceof PasskeyError) return e;
  const doing = ceremony === "create" ? "created" : "used";
  if (e instanceof DOMException && e.name === "NotAllowedError")
    return new PasskeyError(
      "cancelled",
      ceremony === "create"
        ? "The passkey was not created: it was cancelled or timed out. Try again, or use a passphrase instead."
        : "The passkey did not answer: it was cancelled or timed out, or this browser's authenticator does not hold this device's passkey. Try again.",
      { cause: e },
    );
  if (e instanceof DOMException && e.name === "SecurityError")
    return new PasskeyError(
      "unsupported",
      `The passkey was not ${doing}: this address cannot have passkeys (open the app at a domain name over https, or at localhost).${ceremony === "create" ? instead(ceremony) : ""}`,
      { cause: e },
    );
  return new PasskeyError("failed", `The passkey was not ${doing}: ${e instanceof Error ? e.message : String(e)}.`, {
    cause: e,
  });
}

const noPrf = (ceremony: Ceremony) =>
  new PasskeyError(
    "no-prf",
    ceremony === "create"
      ? "This browser's passkeys cannot make the secret that protects the keystore (the PRF extension). Use a passphrase instead."
      : "The passkey did not give the secret that opens the keystore (the PRF extension). Try again with the authenticator this device was set up with.",
  );

/** The PRF output for the salt asked for, when the authenticator gave it. */
function prfOutput(credential: PublicKeyCredential, ceremony: Ceremony): Uint8Array | undefined {
  const first = credential.getClientExtensionResults().prf?.results?.first;
  if (first === undefined) return undefined;
  const output = ArrayBuffer.isView(first)
    ? new Uint8Array(first.buffer, first.byteOffset, first.byteLength).slice()
    : new Uint8Array(first.slice(0));
  if (output.length !== PRF_BYTES) throw noPrf(ceremony);
  return output;
}

async function evaluatePrf(credentialId: string, salt: Uint8Array, ceremony: Ceremony): Promise<Uint8Array> {
  try {
    const credential = await navigator.credentials.get({
      publicKey: {
        challenge: randomBytes(32),
        rpId: location.hostname,
        allowCredentials: [{ type: "public-key", id: fromBase64url(credentialId) }],
        userVerification: "required",
        timeout: TIMEOUT_MS,
        extensions: { prf: { eval: { first: new Uint8Array(salt) } } },
      },
    });
    if (!(credential instanceof PublicKeyCredential)) throw new PasskeyError("failed", "No passkey was given.");
    const output = prfOutput(credential, ceremony);
    if (output === undefined) throw noPrf(ceremony);
    return output;
  } catch (e) {
    throw ceremonyError(e, ceremony);
  }
}

/** The passkey's PRF output for `salt`, after the person's verification: what unlocks the keystore. */
export async function passkeyOutput(credentialId: string, salt: Uint8Array): Promise<Uint8Array> {
  ensureSupported("unlock");
  return evaluatePrf(credentialId, salt, "unlock");
}

/** WebAuthn's newer calls, which this TypeScript's DOM types do not have yet. */
interface WebAuthnSignals {
  signalUnknownCredential?(options: { rpId: string; credentialId: string }): Promise<void>;
}

/** Tells the passkey's provider that a passkey this app made is of no use (its set-up failed), so it can drop it. */
export function forgetPasskey(credentialId: string): void {
  const signals = PublicKeyCredential as unknown as WebAuthnSignals;
  signals.signalUnknownCredential?.({ rpId: location.hostname, credentialId }).catch(() => {
    // A passkey left over is only clutter in the person's list of passkeys.
  });
}

/**
 * Makes a passkey for this device and gets its PRF output for a new random salt. Authenticators
 * that evaluate the PRF only when a passkey is used, not when it is made, are asked once more.
 */
export async function createPasskey(deviceName: string): Promise<NewPasskey> {
  ensureSupported("create");
  const capabilities = await PublicKeyCredential.getClientCapabilities?.().catch(() => undefined);
  if (capabilities?.["extension:prf"] === false) throw noPrf("create");
  const salt = randomBytes(32);
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "keyshard wallet" },
        user: { id: randomBytes(16), name: deviceName, displayName: deviceName },
        challenge: randomBytes(32),
        pubKeyCredParams: [
          { type: "public-key", alg: -7 },
          { type: "public-key", alg: -8 },
          { type: "public-key", alg: -257 },
        ],
        authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
        timeout: TIMEOUT_MS,
        extensions: { prf: { eval: { first: salt } } },
      },
    });
  } catch (e) {
    throw ceremonyError(e, "create");
  }
  if (!(credential instanceof PublicKeyCredential)) throw new PasskeyError("failed", "No passkey was created.");
  const credentialId = base64url(new Uint8Array(credential.rawId));
  try {
    if (credential.getClientExtensionResults().prf?.enabled !== true) throw noPrf("create");
    const output = prfOutput(credential, "create") ?? (await evaluatePrf(credentialId, salt, "create"));
    return { credentialId, salt, output };
  } catch (e) {
    forgetPasskey(credentialId);
    throw e;
  }
}
