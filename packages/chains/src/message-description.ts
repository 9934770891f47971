/**
 * What an off-chain message says, for the screen before it is signed: EIP-191 `personal_sign`
 * and BIP322 messages alike. Bytes that are readable text are shown as text; anything else as
 * hex with a warning, since a person cannot know what unreadable bytes commit them to.
 */
import { bytesToHex } from "@noble/hashes/utils.js";

export interface MessageDescription {
  kind: "message";
  chain: "ethereum" | "bitcoin";
  /** "text" when the bytes are printable UTF-8, else "hex". */
  encoding: "text" | "hex";
  /** The text (characters a terminal would act on written as `\u{…}`) or `0x…` hex. */
  shown: string;
  /** Length of the signed bytes. */
  length: number;
  warnings: string[];
}

/**
 * Control characters could move the cursor or erase a line, and bidirectional overrides could
 * reorder what is read, so a text could show other words than it holds; each is written out.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const HIDING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** In a one-line value, a line break could pass for the start of the next field. */
const ONE_LINE = new RegExp(`[\n\t]|${HIDING.source}`, "gu");

/** `text` on one line, every character that could change how it or what follows reads written as `\u{…}`. */
export function oneLineText(text: string): string {
  return text.replace(ONE_LINE, (c) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
}

export function describeMessage(chain: MessageDescription["chain"], bytes: Uint8Array): MessageDescription {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  const base = { kind: "message" as const, chain, length: bytes.length };
  if (text !== undefined && !HIDING.test(text))
    return { ...base, encoding: "text", shown: text, warnings: bytes.length === 0 ? ["the message is empty"] : [] };
  const warnings = [
    text === undefined
      ? "the message is not readable text: shown as hex; sign it only if you know what these bytes are"
      : "the message holds control or direction characters that could hide what it says: shown as hex",
  ];
  if (bytes.length === 32)
    warnings.push("32 bytes that are no text: likely the hash of something else, which signing would approve unseen");
  return { ...base, encoding: "hex", shown: `0x${bytesToHex(bytes)}`, warnings };
}
