/**
 * `npm run bio:eval -- [--faces DIR] [--held-out NAMES] [--json] [--enroll K] [--rounds R] [--mean shipped|others]`:
 * enrollment and recovery over a folder of `person/*.png|jpg` pictures, each read as enrollment
 * and recovery read them (see src/evaluation.ts for the protocol), in the configuration users get:
 * the shipped population mean and the extractor's own threshold.
 *
 * The figure that counts is the held-out one: the people nothing was tuned on are enrolled, and
 * everyone in the folder tries to open their enrollments. By default they are `HELD_OUT` when the
 * folder holds them (the tests' copy of `shared/faces/people`), and otherwise everyone in the
 * folder, which is then a set the project never tuned on. The whole folder is measured as well.
 * `--mean others` centres each enrollment on the other people's mean instead of the shipped one.
 * With --json, one object: the held-out figures (genuine_accept, false_accept, genuine_trials,
 * impostor_trials, offline_guess_bits), the model and configuration, and the whole folder's
 * figures under `all`.
 */
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bch } from "@keyshard/recovery";
import { type EvaluationDetail, evaluate, HELD_OUT } from "../src/evaluation.js";
import { MAX_ERRORS } from "../src/extractor.js";
import { captureFace, POPULATION_MEAN, readImage } from "../src/index.js";

const faceApiVersion = (createRequire(import.meta.url)("@vladmandic/face-api/package.json") as { version: string })
  .version;
const MODEL = `face-api ${faceApiVersion} recognition net (ResNet-34, 128-d), each chip averaged with its mirror image`;

const { values } = parseArgs({
  options: {
    faces: { type: "string" },
    "held-out": { type: "string" },
    json: { type: "boolean" },
    enroll: { type: "string" },
    rounds: { type: "string" },
    mean: { type: "string" },
  },
});
const usage = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};
if (values.mean !== undefined && values.mean !== "others" && values.mean !== "shipped")
  usage(
    "--mean is shipped (the population mean keyshard ships, the default) or others (each person's leave-one-out mean)",
  );
// Without --faces: the copy of ../shared/faces/people kept with the tests.
const root = values.faces ?? new URL("../test/fixtures/faces/people", import.meta.url).pathname;
const enrollImages = values.enroll === undefined ? 3 : Number(values.enroll);
// With two held-out people the trials come from few pictures: 100 rounds of fresh enrollment
// randomness keep one run's genuine-accept figure within about half a point of the next.
const rounds = values.rounds === undefined ? 100 : Number(values.rounds);
if (!Number.isInteger(enrollImages) || enrollImages < 1 || !Number.isInteger(rounds) || rounds < 1)
  usage("--enroll (default 3) and --rounds (default 100) are whole numbers");

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
if (people.size < 2) usage(`${root} needs at least two people with two pictures each (person/*.png)`);

const heldOut =
  values["held-out"] !== undefined
    ? values["held-out"].split(",").filter((name) => name !== "")
    : HELD_OUT.every((name) => people.has(name))
      ? [...HELD_OUT]
      : [...people.keys()];
const missing = heldOut.filter((name) => !people.has(name));
if (heldOut.length === 0 || missing.length > 0) usage(`--held-out names people of ${root}: ${missing.join(", ")}`);

const mean = values.mean === "others" ? undefined : POPULATION_MEAN;
const measure = (enrolled: readonly string[]) =>
  evaluate(people, { enrollImages, rounds, enrolled, ...(mean !== undefined && { mean }) });
const summary = (result: EvaluationDetail) => ({
  genuine_accept: result.genuine_accept,
  false_accept: result.false_accept,
  genuine_trials: result.genuine_trials,
  impostor_trials: result.impostor_trials,
  offline_guess_bits: Number(result.offline_guess_bits.toFixed(1)),
});
const configuration = {
  mean: values.mean === "others" ? "each person's leave-one-out mean" : "shipped population mean",
  code: `BCH(${bch.BCH_N}, ${bch.BCH_K}), the ${bch.BCH_N} strongest of 128 rotated coordinates`,
  max_errors: MAX_ERRORS,
  enroll_pictures: enrollImages,
  rounds,
};
const heldOutResult = measure(heldOut);
const allResult = heldOut.length === people.size ? heldOutResult : measure([...people.keys()]);

if (values.json)
  process.stdout.write(
    `${JSON.stringify({ ...summary(heldOutResult), model: MODEL, configuration, held_out: heldOut, all: summary(allResult) })}\n`,
  );
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = (title: string, result: EvaluationDetail) => {
    const s = summary(result);
    return [
      title,
      `  genuine accept ${pct(s.genuine_accept)} of ${s.genuine_trials} (worst genuine: ${result.genuineErrors.reduce((a, b) => Math.max(a, b))} bits)`,
      `  false accept   ${pct(s.false_accept)} of ${s.impostor_trials} (closest impostor: ${result.impostorErrors.reduce((a, b) => Math.min(a, b))} bits)`,
      `  offline guessing without the OPRF: ${s.offline_guess_bits} bits (${result.degreesOfFreedom.toFixed(1)} independent bits)`,
    ];
  };
  process.stdout.write(
    [
      `model: ${MODEL}`,
      `configuration: ${configuration.mean}; ${configuration.code}; accepted within ${MAX_ERRORS} bits`,
      `${people.size} people in ${root}; each enrolled from every choice of ${enrollImages} picture(s), ${rounds} time(s) each`,
      ...lines(`held out (${heldOut.join(", ")}) against everyone in the folder:`, heldOutResult),
      ...(allResult === heldOutResult ? [] : lines("everyone in the folder:", allResult)),
    ]
      .join("\n")
      .concat("\n"),
  );
}
