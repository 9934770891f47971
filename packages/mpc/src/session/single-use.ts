/**
 * A process-wide record of values that may be used once (signing nonces, multiplication
 * sessions): a saved state restored twice in one process is refused even when the caller decodes
 * the share afresh for every request. Bounded (oldest entries go first); the lasting guarantee is
 * storage consuming each saved state once (see Party.save).
 */
import { bytesToHex } from "@noble/hashes/utils.js";

export class SingleUse {
  private readonly used = new Set<string>();

  constructor(private readonly limit = 1 << 16) {}

  /** Records `value`; false if it was recorded before. */
  claim(value: Uint8Array): boolean {
    const key = bytesToHex(value);
    if (this.used.has(key)) return false;
    if (this.used.size >= this.limit) this.used.delete(this.used.values().next().value as string);
    this.used.add(key);
    return true;
  }
}
