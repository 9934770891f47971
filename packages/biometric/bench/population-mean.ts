/**
 * Prints the population mean keyshard ships (`src/population-mean.ts`): the mean embedding of
 * the seven people of the expression pictures, none of whom is in the `people` set that
 * `bio:eval` and the tests enroll — so the shipped mean is made of people who are not its users.
 *
 *   npx tsx --conditions=keyshard-source packages/biometric/bench/population-mean.ts > packages/biometric/src/population-mean.ts
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { captureFace } from "../src/capture.js";
import { readImage } from "../src/image.js";

const folder = new URL("../test/fixtures/faces/expressions", import.meta.url).pathname;
const embeddings: Float32Array[] = [];
for (const file of readdirSync(folder)
  .filter((f) => f.endsWith(".jpg"))
  .sort())
  embeddings.push((await captureFace([readImage(join(folder, file))])).embedding);
const mean = Array.from(
  { length: 128 },
  (_, i) => embeddings.reduce((s, e) => s + (e[i] as number), 0) / embeddings.length,
);
const rows: string[] = [];
for (let i = 0; i < mean.length; i += 8)
  rows.push(
    `  ${mean
      .slice(i, i + 8)
      .map((v) => v.toFixed(6))
      .join(", ")},`,
  );
process.stdout.write(`/**
 * The population mean every enrollment is centred on before it is binarized: made by
 * \`bench/population-mean.ts\` from the seven people of the expression pictures, who are not
 * among the people the tests and \`bio:eval\` enroll.
 */
export const POPULATION_MEAN = Float32Array.from([
${rows.join("\n")}
]);
`);
process.exit(0);
