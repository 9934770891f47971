/**
 * What every role started from a data folder opens first, in this order: the folder's exclusive
 * lock (one process per folder, also on PostgreSQL: the master key file is there), the master key,
 * and the database checked against that key. Whatever fails closes what was opened before it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type DataDirLock, lockDataDir } from "./store/data-lock.js";
import { openDatabase } from "./store/database.js";
import { checkMasterKey, loadMasterKey, type MasterKey } from "./store/master-key.js";
import type { Database } from "./store/queryable.js";

export interface DataDirSettings {
  /** Holds the PGlite database (unless `databaseUrl`) and the master key file (unless `masterKeyHex`). */
  dataDir: string;
  databaseUrl?: string | undefined;
  masterKeyHex?: string | undefined;
}

export interface OpenedDataDir {
  lock: DataDirLock;
  key: MasterKey;
  db: Database;
  /** Set when this start created the master key file. */
  createdKeyFile?: string;
}

/**
 * Opens the folder's lock, master key and database, and hands them to `start`; if `start` fails,
 * the database is closed and the lock released. Once `start` returned, closing them is its result's.
 */
export async function withDataDir<T>(
  settings: DataDirSettings,
  start: (opened: OpenedDataDir) => Promise<T>,
): Promise<T> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(settings.dataDir);
  try {
    const { key, createdFile } = loadMasterKey(settings.masterKeyHex, join(settings.dataDir, "master.key"));
    const db = await openDatabase(
      settings.databaseUrl ? { postgresUrl: settings.databaseUrl } : { pgliteDir: join(settings.dataDir, "pglite") },
    );
    try {
      await checkMasterKey(db, key);
      return await start({ lock, key, db, ...(createdFile && { createdKeyFile: createdFile }) });
    } catch (e) {
      await db.close();
      throw e;
    }
  } catch (e) {
    lock.release();
    throw e;
  }
}
