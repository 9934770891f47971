/**
 * Security parameters shared by the Paillier and ring-Pedersen proofs of CGGMP21 (eprint 2021/060,
 * §"Parameters for the ZK proofs"): ℓ bounds the secrets being proven (ℓ = |q| for secp256k1) and
 * ε is the statistical slack of the masks, so responses reveal nothing beyond 2^−(ε−ℓ)-ish.
 */

/** ℓ: bit bound of proven plaintexts, the size of the secp256k1 order. */
export const ELL = 256;
/** ε: extra mask bits; responses hide the witness up to statistical distance about 2^−(ε−ℓ). */
export const EPSILON = 512;
/**
 * m: repetitions of the proofs with a one-bit challenge (Πprm Fig. 17, Πmod Fig. 16), each halving a
 * cheater's chance. In keyshard's protocols these proofs are interactive — the prover's first
 * message is sent before the verifier's random seed enters the challenge — so there is no
 * grinding and the bound 2^−80 is statistical, as CGGMP21 intends. (Used purely with Fiat–Shamir,
 * a cheater could grind: 2^80 work.) A constant: nothing can lower it at run time.
 */
export const BINARY_CHALLENGE_REPETITIONS = 80;
