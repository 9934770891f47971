/**
 * Liveness: the provider picks a random challenge (drawn by `@keyshard/recovery`) — an expression
 * from face-api's expression model, or a head turn read from the landmarks — and the device checks
 * it here, on the frames it recovers from. A photo prepared beforehand shows one expression and
 * one pose, so each challenge asks for a change: an expression, a frame without it (another
 * expression, or neutral) and a frame with it; a head turn, a frame facing the camera and a
 * turned one.
 *
 * This runs on the recovering device, so it stops someone holding a picture of the user, not
 * someone who rewrites the client: what guards the key against that one is the OPRF's rate
 * limit, the notice to the old device and the provider's cooling-off period.
 */
import type { Challenge } from "@keyshard/recovery";
import { type DetectedFace, topExpression, yaw } from "./faces.js";

/** How sure the expression model must be. */
const EXPRESSION_CONFIDENCE = 0.6;
/** |yaw| at least this is a turned head; at most `FRONTAL`, a face to the camera. */
const TURNED = 0.4;
const FRONTAL = 0.2;

/** Whether the frames' faces answer the challenge; the reason when they do not. */
export function checkLiveness(faces: readonly DetectedFace[], challenge: Challenge): { live: boolean; reason: string } {
  if (faces.length === 0) return { live: false, reason: "no frames" };
  if (challenge.kind === "expression") {
    const asked = challenge.expression;
    const shown = faces.some((f) => topExpression(f) === asked && f.expressions[asked] >= EXPRESSION_CONFIDENCE);
    const other = faces.some((f) => topExpression(f) !== asked);
    if (shown && other) return { live: true, reason: `${asked} shown, and another expression` };
    return {
      live: false,
      reason: `the face must look otherwise and then ${asked} (seen: ${faces.map(topExpression).join(", ")})`,
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
