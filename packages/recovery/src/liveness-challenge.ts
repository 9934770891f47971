/**
 * Liveness challenges: what the provider asks a recovering device to show on camera — an
 * expression other than neutral, or a head turn — drawn at random so a photo prepared beforehand
 * does not answer it. Checking frames against a challenge needs the face models and is
 * `@keyshard/biometric`'s; drawing, reading and describing one needs none, so the provider does
 * it from here.
 */
import { randomBytes } from "@noble/hashes/utils.js";

/** The expressions face-api's expression net tells apart. */
export const EXPRESSIONS = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"] as const;
export type Expression = (typeof EXPRESSIONS)[number];

export type Challenge = { kind: "expression"; expression: Expression } | { kind: "turn"; direction: "left" | "right" };

/** A value that is not a challenge of this list. */
export class ChallengeError extends Error {
  override readonly name = "ChallengeError";
}

/** Every challenge there is: the expressions other than neutral, and both turns. */
export const CHALLENGES: readonly Challenge[] = [
  ...EXPRESSIONS.filter((e) => e !== "neutral").map((expression) => ({ kind: "expression" as const, expression })),
  { kind: "turn", direction: "left" },
  { kind: "turn", direction: "right" },
];

/** A challenge drawn uniformly from `CHALLENGES` with bytes from `random`. */
export function newChallenge(random: (n: number) => Uint8Array = randomBytes): Challenge {
  // Bytes past the last whole multiple of the count are redrawn, so every challenge is as likely.
  const limit = 256 - (256 % CHALLENGES.length);
  for (;;) {
    const byte = random(1)[0];
    // A source that yields nothing would otherwise be redrawn forever.
    if (byte === undefined) throw new RangeError("the random source returned no byte");
    if (byte < limit) return CHALLENGES[byte % CHALLENGES.length] as Challenge;
  }
}

/** The challenge `value` is, as this device knows it; `ChallengeError` for anything else. */
export function parseChallenge(value: unknown): Challenge {
  const found = CHALLENGES.find((c) => JSON.stringify(c) === JSON.stringify(value));
  if (found === undefined) throw new ChallengeError("not a liveness challenge this device knows");
  return found;
}

/** The challenge in words, for the person in front of the camera. */
export const describeChallenge = (c: Challenge) =>
  c.kind === "expression" ? `look ${c.expression}` : `turn your head to the ${c.direction} of the picture`;
