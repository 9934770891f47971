/**
 * The forms a PSBT travels in between wallets: binary, base64 (BIP174's text form, what most
 * wallets export) and hex. Reading is strict so that one string can mean one PSBT only: canonical
 * base64 (padded, no stray bits, no whitespace or URL-safe letters) or whole-byte hex, and the
 * bytes must open with the PSBT magic. Hex may be in either case: a PSBT in hex starts
 * `70736274ff` and one in base64 starts `cHNidP8`, so neither can be taken for the other.
 */
import { base64, hex } from "@scure/base";
import { ChainError } from "../errors.js";

/** "psbt" and the 0xff separator (BIP174). */
const MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff);
/** A base64 PSBT: the magic's base64 and then base64 letters, as the API's schema matches it. */
export const PSBT_BASE64_PATTERN = "^cHNidP8[A-Za-z0-9+/]*={0,2}$";
/** Whole bytes of hex, either case. */
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = new RegExp(PSBT_BASE64_PATTERN);

type PsbtForm = "binary" | "base64" | "hex";

export interface PsbtText {
  base64: string;
  /** Lower-case. */
  hex: string;
}

export const hasPsbtMagic = (bytes: Uint8Array): boolean =>
  bytes.length > MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);

/** Whether `text` is written as a base64 PSBT (whether it decodes is `decodePsbt`'s to say). */
export const isBase64Psbt = (text: string): boolean => BASE64.test(text);

/**
 * The bytes of a PSBT given as bytes, base64 or hex. Throws `ChainError("malformed")` saying which
 * form was expected and what is wrong with it.
 */
export function decodePsbt(value: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  let form: PsbtForm;
  if (value instanceof Uint8Array) {
    bytes = value;
    form = "binary";
  } else if (typeof value !== "string") {
    throw new ChainError("malformed", "a PSBT is bytes, or a string of base64 or hex");
  } else if (HEX.test(value)) {
    bytes = hex.decode(value.toLowerCase());
    form = "hex";
  } else {
    try {
      bytes = base64.decode(value);
    } catch (e) {
      throw new ChainError(
        "malformed",
        "a PSBT string is whole-byte hex or canonical base64 (A-Z a-z 0-9 + /, padded with =, nothing else)",
        { cause: e },
      );
    }
    form = "base64";
  }
  if (!hasPsbtMagic(bytes))
    throw new ChainError(
      "malformed",
      `the ${form} given is not a PSBT: it does not start with the PSBT magic (psbt 0xff)`,
    );
  return bytes;
}

export const encodePsbt = (bytes: Uint8Array): PsbtText => ({ base64: base64.encode(bytes), hex: hex.encode(bytes) });
