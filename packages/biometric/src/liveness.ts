/**
 * Liveness: the provider picks a random challenge — an expression from face-api's expression
 * model, or a head turn read from the landmarks — and the device checks it on the frames it
 * recovers from. A photo prepared beforehand shows one expression and one pose: it fails any
 * other expression, and a head turn asks for a frame facing the camera and a turned one.
 *
 * This runs on the recovering device, so it stops someone holding a picture of the user, not
 * someone who rewrites the client: what guards the key against that one is the OPRF's rate
 * limit, the notice to the old device and the provider's cooling-off period.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { BiometricError } from "./errors.js";
import { type DetectedFace, EXPRESSIONS, type Expression, topExpression, yaw } from "./faces.js";

export type Challenge = { kind: "expression"; expression: Expression } | { kind: "turn"; direction: "left" | "right" };

/** How sure the expression model must be. */
const EXPRESSION_CONFIDENCE = 0.6;
/** |yaw| at least this is a turned head; at most `FRONTAL`, a face to the camera. */
const TURNED = 0.4;
const FRONTAL = 0.2;

/** Every challenge there is: the expressions other than neutral, and both turns. */
export const CHALLENGES: readonly Challenge[] = [
  ...EXPRESSIONS.filter((e) => e !== "neutral").map((expression) => ({ kind: "expression" as const, expression })),
  { kind: "turn", direction: "left" },
  { kind: "turn", direction: "right" },
];

export function newChallenge(random: (n: number) => Uint8Array = randomBytes): Challenge {
  // Bytes past the last whole multiple of the count are redrawn, so every challenge is as likely.
  const limit = 256 - (256 % CHALLENGES.length);
  for (;;) {
    const byte = random(1)[0] as number;
    if (byte < limit) return CHALLENGES[byte % CHALLENGES.length] as Challenge;
  }
}

export function parseChallenge(value: unknown): Challenge {
  const found = CHALLENGES.find((c) => JSON.stringify(c) === JSON.stringify(value));
  if (found === undefined) throw new BiometricError("bad-helper", "not a liveness challenge this device knows");
  return found;
}

export const describeChallenge = (c: Challenge) =>
  c.kind === "expression" ? `look ${c.expression}` : `turn your head to the ${c.direction} of the picture`;

/** Whether the frames' faces answer the challenge; the reason when they do not. */
export function checkLiveness(faces: readonly DetectedFace[], challenge: Challenge): { live: boolean; reason: string } {
  if (faces.length === 0) return { live: false, reason: "no frames" };
  if (challenge.kind === "expression") {
    const shown = faces.some(
      (f) => topExpression(f) === challenge.expression && f.expressions[challenge.expression] >= EXPRESSION_CONFIDENCE,
    );
    return shown
      ? { live: true, reason: `${challenge.expression} shown` }
      : {
          live: false,
          reason: `no frame looks ${challenge.expression} (seen: ${faces.map(topExpression).join(", ")})`,
        };
  }
  const yaws = faces.map(yaw);
  const turned = yaws.some((y) => (challenge.direction === "left" ? y <= -TURNED : y >= TURNED));
  const frontal = yaws.some((y) => Math.abs(y) <= FRONTAL);
  if (turned && frontal) return { live: true, reason: `turned ${challenge.direction} from facing the camera` };
  return {
    live: false,
    reason: `the head must face the camera and then turn ${challenge.direction} (yaw seen: ${yaws.map((y) => y.toFixed(2)).join(", ")})`,
  };
}
