/**
 * `npm run demo` (and `npm start` until the provider exists): two parties in one process create
 * a key that neither holds, derive an Ethereum and a Bitcoin address from it, sign a message
 * jointly and verify it with an independent verifier; then three devices do the same with DKLs23
 * (ECDSA) and with FROST for Solana (Ed25519) and Bitcoin Taproot, any two of them signing.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { base58, bech32, bech32m } from "@scure/base";
import {
  compactSignature,
  type DklsShare,
  dkls23,
  type Ecdsa2pShare,
  ecdsa2p,
  type FrostShare,
  frost,
  runLocal,
  type Signature,
} from "../src/index.js";

function step<T>(title: string, fn: () => T): T {
  const t = performance.now();
  const out = fn();
  console.log(`✓ ${title} (${(performance.now() - t).toFixed(0)} ms)`);
  return out;
}

function ethereumAddress(compressed: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
  const hex = bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
  const hash = bytesToHex(keccak_256(utf8ToBytes(hex)));
  return `0x${[...hex].map((c, i) => (Number.parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c)).join("")}`;
}

function bitcoinAddress(compressed: Uint8Array): string {
  const program = ripemd160(sha256(compressed));
  return bech32.encode("bc", [0, ...bech32.toWords(program)]);
}

function personalSignHash(message: string): Uint8Array {
  const body = utf8ToBytes(message);
  return keccak_256(new Uint8Array([...utf8ToBytes(`\x19Ethereum Signed Message:\n${body.length}`), ...body]));
}

console.log("keyshard demo: two-party ECDSA (hybrid layout: wallet device = party 0, provider = party 1)\n");
const sid = () => crypto.getRandomValues(new Uint8Array(32));

const keygenSid = sid();
const shares = step("distributed key generation (Paillier-2048, Πmod, Πprm, Πfac, Πlog*)", () =>
  runLocal([ecdsa2p.keygen({ sid: keygenSid, index: 0 }), ecdsa2p.keygen({ sid: keygenSid, index: 1 })]),
) as [Ecdsa2pShare, Ecdsa2pShare];
const root = ecdsa2p.publicKey(shares[0]);
console.log(`  joint public key  ${bytesToHex(root)}  (no party holds its private key)\n`);

const ethPath = "m/0/0";
const eth = ethereumAddress(ecdsa2p.publicKey(shares[0], ethPath));
const btc = bitcoinAddress(ecdsa2p.publicKey(shares[0], "m/0/1"));
console.log(`  Ethereum address  ${eth}   (${ethPath})`);
console.log(`  Bitcoin address   ${btc}   (m/0/1, P2WPKH)\n`);

const message = "keyshard: no private key ever exists";
const hash = personalSignHash(message);
const signSid = sid();
const [signature] = step(`joint signature of the EIP-191 message "${message}"`, () =>
  runLocal(shares.map((s) => ecdsa2p.sign(s, { sid: signSid, messageHash: hash, path: ethPath }))),
) as [Signature];
console.log(`  signature         ${bytesToHex(compactSignature(signature))} (v = ${27 + signature.recovery})`);

const recovered = step("independent verification with @noble/curves (recover the signer)", () =>
  new secp256k1.Signature(signature.r, signature.s, signature.recovery).recoverPublicKey(hash).toBytes(true),
);
const signer = ethereumAddress(recovered);
console.log(`  recovered signer  ${signer}  ${signer === eth ? "= the wallet's address" : "MISMATCH"}`);
if (signer !== eth) process.exit(1);

console.log("\nt-of-n ECDSA (DKLs23, over oblivious transfer): three devices, any two sign\n");
const dklsSid = sid();
const devices = step("distributed key generation, 2-of-3, with pairwise base OTs", () =>
  runLocal([0, 1, 2].map((index) => dkls23.keygen({ sid: dklsSid, index, n: 3, t: 2 }))),
) as DklsShare[];
const dklsAddress = ethereumAddress(dkls23.publicKey(devices[0] as DklsShare, ethPath));
console.log(`  Ethereum address  ${dklsAddress}   (${ethPath})`);
const dklsSignSid = sid();
const [dklsSignature] = step("devices 1 and 2 sign the same message", () =>
  runLocal(
    [1, 2].map((i) =>
      dkls23.sign(devices[i] as DklsShare, { sid: dklsSignSid, messageHash: hash, signers: [1, 2], path: ethPath }),
    ),
    { indices: [1, 2] },
  ),
) as [Signature];
const dklsSigner = ethereumAddress(
  new secp256k1.Signature(dklsSignature.r, dklsSignature.s, dklsSignature.recovery)
    .recoverPublicKey(hash)
    .toBytes(true),
);
console.log(`  recovered signer  ${dklsSigner}  ${dklsSigner === dklsAddress ? "= the wallet's address" : "MISMATCH"}`);
if (dklsSigner !== dklsAddress) process.exit(1);

console.log("\nthreshold Schnorr (FROST, RFC 9591): three devices, any two sign\n");
for (const [name, engine] of [
  ["ed25519", frost.ed25519],
  ["secp256k1tr", frost.secp256k1tr],
] as const) {
  const frostSid = sid();
  const devices = step(`${name}: distributed key generation, 2-of-3`, () =>
    runLocal([0, 1, 2].map((index) => engine.keygen({ sid: frostSid, index, n: 3, t: 2 }))),
  );
  const key = engine.publicKey(devices[0] as FrostShare);
  const address = name === "ed25519" ? base58.encode(key) : bech32m.encode("bc", [1, ...bech32m.toWords(key)]);
  console.log(`  ${name === "ed25519" ? "Solana address   " : "Taproot address  "} ${address}`);
  const text = utf8ToBytes(message);
  const signers = [0, 2];
  const signingSid = sid();
  const [schnorrSignature] = step("devices 0 and 2 sign", () =>
    runLocal(
      signers.map((i) => engine.sign(devices[i] as FrostShare, { sid: signingSid, message: text, signers })),
      { indices: signers },
    ),
  ) as [Uint8Array];
  const valid =
    name === "ed25519" ? ed25519.verify(schnorrSignature, text, key) : schnorr.verify(schnorrSignature, text, key);
  console.log(
    `  ${valid ? "verifies" : "DOES NOT VERIFY"} with @noble/curves (${name === "ed25519" ? "Ed25519" : "BIP340"})`,
  );
  if (!valid) process.exit(1);
}
