/**
 * What a browser bundle has in place of @keyshard/biometric (the package's `#biometric` under the
 * "browser" condition): its face capture reads image files and loads its models from the file
 * system, so in a browser every face step fails, saying so, as missing face models would.
 */
export class BiometricError extends Error {
  override readonly name = "BiometricError";
  readonly code = "models";
}

const unavailable = (): never => {
  throw new BiometricError(
    "face recovery runs in the keyshard command line only: this version has no face models in a browser",
  );
};

export const captureFace = unavailable;
export const checkLiveness = unavailable;
export const describeChallenge = unavailable;
export const enrollFace = unavailable;
export const parseChallenge = unavailable;
export const parseHelperData = unavailable;
export const readFrames = unavailable;
export const reproduceFace = unavailable;
