/**
 * `npm run bio:eval -- --faces DIR [--json] [--enroll K] [--rounds R] [--mean others|shipped]`: enrollment
 * and recovery over a folder of `person/*.png|jpg` pictures, each read as enrollment and recovery
 * read them (see src/evaluation.ts for the protocol). `--mean shipped` centres every enrollment on
 * the population mean keyshard ships instead of the other people's mean. Prints the rates, and with
 * --json one object: genuine_accept, false_accept, genuine_trials, impostor_trials,
 * offline_guess_bits.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluate } from "../src/evaluation.js";
import { MAX_ERRORS } from "../src/extractor.js";
import { captureFace, POPULATION_MEAN, readImage } from "../src/index.js";

const { values } = parseArgs({
  options: {
    faces: { type: "string" },
    json: { type: "boolean" },
    enroll: { type: "string" },
    rounds: { type: "string" },
    mean: { type: "string" },
  },
});
if (values.mean !== undefined && values.mean !== "others" && values.mean !== "shipped") {
  process.stderr.write("--mean is others (each person's leave-one-out mean, the default) or shipped\n");
  process.exit(2);
}
// Without --faces: the copy of ../shared/faces/people kept with the tests.
const root = values.faces ?? new URL("../test/fixtures/faces/people", import.meta.url).pathname;
const enrollImages = values.enroll === undefined ? 3 : Number(values.enroll);
const rounds = values.rounds === undefined ? 10 : Number(values.rounds);
if (!Number.isInteger(enrollImages) || enrollImages < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write("--enroll (default 3) and --rounds (default 10) are whole numbers\n");
  process.exit(2);
}

const people = new Map<string, Float32Array[]>();
for (const person of readdirSync(root).sort()) {
  const folder = join(root, person);
  if (!statSync(folder).isDirectory()) continue;
  const files = readdirSync(folder)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort();
  if (files.length < 2) continue;
  const embeddings: Float32Array[] = [];
  for (const f of files) embeddings.push((await captureFace([readImage(join(folder, f))])).embedding);
  people.set(person, embeddings);
}
if (people.size < 2) {
  process.stderr.write(`${root} needs at least two people with two pictures each (person/*.png)\n`);
  process.exit(2);
}

const result = evaluate(people, { enrollImages, rounds, ...(values.mean === "shipped" && { mean: POPULATION_MEAN }) });
const summary = {
  genuine_accept: result.genuine_accept,
  false_accept: result.false_accept,
  genuine_trials: result.genuine_trials,
  impostor_trials: result.impostor_trials,
  offline_guess_bits: Number(result.offline_guess_bits.toFixed(1)),
};
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const worst = Math.max(...result.genuineErrors);
  const closest = Math.min(...result.impostorErrors);
  process.stdout.write(
    [
      `${people.size} people, enrolled from every choice of ${enrollImages} picture(s), ${rounds} time(s) each; accepted within ${MAX_ERRORS} of 63 bits`,
      `genuine accept ${pct(summary.genuine_accept)} of ${summary.genuine_trials} (worst genuine: ${worst} bits)`,
      `false accept   ${pct(summary.false_accept)} of ${summary.impostor_trials} (closest impostor: ${closest} bits)`,
      `offline guessing without the OPRF: ${summary.offline_guess_bits} bits (${result.degreesOfFreedom.toFixed(1)} independent bits)`,
    ]
      .join("\n")
      .concat("\n"),
  );
}
