/**
 * What the browser bundle test builds and runs: a 2-of-2 DKLs23 key generation and one joint
 * signature, through the package's public entry, with only the platform's `crypto` for
 * randomness. It leaves the public key, the message hash and the signature where the test reads
 * them.
 */
import { compactSignature, dkls23, runLocal } from "../src/index.js";

const keygenSid = crypto.getRandomValues(new Uint8Array(32));
const shares = runLocal([0, 1].map((index) => dkls23.keygen({ sid: keygenSid, index, n: 2, t: 2 })));
const messageHash = crypto.getRandomValues(new Uint8Array(32));
const signSid = crypto.getRandomValues(new Uint8Array(32));
const [signature] = runLocal(
  shares.map((share) => dkls23.sign(share, { sid: signSid, messageHash, signers: [0, 1] })),
  { indices: [0, 1] },
);
if (signature === undefined) throw new Error("the signing run returned no signature");
(globalThis as { signed?: unknown }).signed = {
  publicKey: dkls23.publicKey(shares[0] as (typeof shares)[number]),
  messageHash,
  signature: compactSignature(signature),
};
