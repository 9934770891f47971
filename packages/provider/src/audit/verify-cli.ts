/**
 * `npm run audit:verify`: recomputes every audit chain in the provider's database (the same
 * DATABASE_URL / KEYSHARD_DATA_DIR as `npm start`) and names the first broken link of each.
 * Exit code 0 when all chains hold, 1 when one does not, 2 when the database cannot be read.
 */
import { join } from "node:path";
import { auditChainNames } from "../store/audit.js";
import { openDatabase } from "../store/database.js";
import { verifyAudit } from "./log.js";

const env = process.env;
try {
  const db = await openDatabase(
    env.DATABASE_URL
      ? { postgresUrl: env.DATABASE_URL }
      : { pgliteDir: join(env.KEYSHARD_DATA_DIR ?? "./data", "pglite") },
  );
  const chains = await auditChainNames(db);
  let broken = 0;
  for (const chain of chains) {
    const verdict = await verifyAudit(db, chain);
    if (verdict.ok) console.log(`ok      ${chain}  ${verdict.length} entries, head ${verdict.head}`);
    else {
      broken++;
      console.log(`BROKEN  ${chain}  first broken link at entry ${verdict.firstBroken} of ${verdict.length}`);
    }
  }
  await db.close();
  console.log(
    broken === 0 ? `all ${chains.length} audit chains hold` : `${broken} of ${chains.length} audit chains are broken`,
  );
  process.exit(broken === 0 ? 0 : 1);
} catch (e) {
  console.error(`cannot read the audit log: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
