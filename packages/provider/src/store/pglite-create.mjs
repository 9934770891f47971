// `node pglite-create.mjs DIR`: creates a PGlite database (initdb) in DIR and exits, so that
// initdb's memory peak ends with this process (see `database.ts`).
import { PGlite } from "@electric-sql/pglite";

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: pglite-create.mjs DIR");
  process.exit(2);
}
const db = await PGlite.create(dir);
await db.close();
