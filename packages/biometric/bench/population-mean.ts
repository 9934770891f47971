/**
 * Prints the population mean keyshard ships (`src/population-mean.ts`): the mean of the people
 * tuned on — the seven of the expression pictures and the people of `people` outside
 * `HELD_OUT` — each person's pictures averaged first, so that every person weighs the same. The
 * held-out people are left out, so that `bio:eval` measures them as it would measure a user.
 *
 *   npx tsx --conditions=keyshard-source packages/biometric/bench/population-mean.ts > packages/biometric/src/population-mean.ts
 */
import { EMBEDDING_SIZE } from "@keyshard/recovery";
import { populationMean, tuningPictures } from "../src/evaluation.js";

const people = tuningPictures(new URL("../test/fixtures/faces", import.meta.url).pathname);
const mean = await populationMean(people);
const rows: string[] = [];
for (let i = 0; i < EMBEDDING_SIZE; i += 8)
  rows.push(`  ${Array.from(mean.slice(i, i + 8), (v) => v.toFixed(6)).join(", ")},`);
process.stdout.write(`/**
 * The population mean every enrollment is centred on before it is binarized: made by
 * \`bench/population-mean.ts\` from the ${people.length} people tuned on (the expression pictures and
 * the people of \`shared/faces/people\` outside \`HELD_OUT\`), each person weighing the same.
 */
export const POPULATION_MEAN = Float32Array.from([
${rows.join("\n")}
]);
`);
process.exit(0);
