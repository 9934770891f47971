/**
 * `npm run bench:recovery`: one face recovery round as a device makes it, over HTTP on localhost,
 * against three recovery operator processes (`npm start` with KEYSHARD_ROLE=recovery-operator, a
 * PGlite database each) and a provider in this process: a ticket from the provider, the face
 * secret blinded, the three operators asked at once, their proofs verified, two answers combined,
 * the OPRF output finalized and the recovery key unwrapped. The provider runs here because its
 * ticket route allows one client address ten requests a minute; it is cheap next to the operators.
 * Prints one JSON line: p50 and p95 of `RUNS` sequential rounds after a warm-up round. The script
 * builds the bundle the operator processes run first.
 */

import { createWallet, startTestProvider } from "../test/harness.js";
import { enrollFace, RecoveryCluster, recoverFace, verifiedDevice } from "../test/operator-processes.js";
import { timeSequential } from "./timing.js";

const RUNS = 30;
const OPERATORS = 3;
const THRESHOLD = 2;

// Every round is a counted guess at the provider and at each operator: room for all of them.
const attemptsPerDay = RUNS + 1;
const cluster = await RecoveryCluster.start(
  Array.from({ length: OPERATORS }, () => ({ attemptsPerDay })),
  THRESHOLD,
  { providerProcess: false },
);
try {
  const provider = await startTestProvider("pglite", {
    masterKeyHex: cluster.providerMasterKeyHex,
    faceAttemptsPerDay: attemptsPerDay,
    accountChangeDelayMs: 0,
    recoveryOperators: cluster.operators.map((o) => ({ url: o.url, key: o.key })),
    recoveryThreshold: THRESHOLD,
  });
  try {
    const email = "bench@example.com";
    const device = await verifiedDevice(provider.url, provider.mails, email, 1);
    const enrolled = await enrollFace(device, await createWallet(device, "bench", "frost-ed25519"));
    const round = async () => {
      const got = await recoverFace(device, enrolled, enrolled.secret);
      if (got.recovery === null || got.bad.length > 0) throw new Error(`a round failed: ${JSON.stringify(got.bad)}`);
    };
    await round();
    const measured = await timeSequential(RUNS, round);
    console.log(
      JSON.stringify({
        bench: "face.recovery-round",
        operators: OPERATORS,
        threshold: THRESHOLD,
        runs: RUNS,
        ...measured,
      }),
    );
  } finally {
    await provider.stop();
  }
} finally {
  await cluster.stop();
}
