/** What can go wrong with faces and their helper data: one typed error, never the face itself. */
export type BiometricErrorCode = "bad-image" | "no-face" | "bad-helper" | "no-match" | "models";

export class BiometricError extends Error {
  override readonly name = "BiometricError";
  constructor(
    readonly code: BiometricErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
