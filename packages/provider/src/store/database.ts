/**
 * The provider's database: embedded PGlite (a data folder, or memory for tests) by default,
 * PostgreSQL when a connection string is given. Both run the same SQL from `migrations/`;
 * everything above this file sees only `Database`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction; an exception rolls it back. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: "pglite" | "postgres";
}

export type DatabaseLocation = { postgresUrl: string } | { pgliteDir: string | null };

export async function openDatabase(location: DatabaseLocation): Promise<Database> {
  const db = guarded("postgresUrl" in location ? postgres(location.postgresUrl) : await pglite(location.pgliteDir));
  await migrate(db);
  return db;
}

/**
 * Refuses the database handle inside one of its own transactions: on PGlite (one connection)
 * that would wait for the transaction forever, on PostgreSQL it would quietly run outside it.
 */
function guarded(db: Database): Database {
  const inTransaction = new AsyncLocalStorage<true>();
  const check = () => {
    if (inTransaction.getStore())
      throw new Error("use the transaction's handle inside a transaction, not the database");
  };
  return {
    kind: db.kind,
    query(sql, params) {
      check();
      return db.query(sql, params);
    },
    transaction(work) {
      check();
      return db.transaction((tx) => inTransaction.run(true, () => work(tx)));
    },
    close: () => db.close(),
  };
}

/**
 * PostgreSQL's default 128 MB of shared buffers would sit in PGlite's WebAssembly memory, inside
 * the provider's process; a provider's working set is a small fraction of that.
 */
const PGLITE_SETTINGS = ["-c", "shared_buffers=16MB"];
const PGLITE_CREATE = new URL("./pglite-create.mjs", import.meta.url);

async function pglite(dir: string | null): Promise<Database> {
  // Loaded only here: the module alone holds about 40 MB that a PostgreSQL provider does not need.
  const { PGlite } = await import("@electric-sql/pglite");
  // initdb peaks near 900 MB, and WebAssembly memory once grown is never given back: a new
  // database folder is made by a short-lived process, so the server never carries that peak.
  if (dir !== null && !existsSync(join(dir, "PG_VERSION"))) {
    try {
      await promisify(execFile)(process.execPath, [fileURLToPath(PGLITE_CREATE), dir]);
    } catch (e) {
      throw new Error(`could not create the PGlite database in ${dir}: ${(e as { stderr?: string }).stderr ?? e}`);
    }
  }
  const client = new PGlite(dir ?? undefined, { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] });
  await client.waitReady;
  const run = (q: Pick<PGlite, "query">) => ({
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return (await q.query<T>(sql, params)).rows;
    },
  });
  return {
    kind: "pglite",
    ...run(client),
    transaction: (work) => client.transaction((tx) => work(run(tx))),
    close: () => client.close(),
  };
}

function postgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection that the server drops (restart, failover) must not end the process.
  pool.on("error", () => {});
  const run = (q: pg.Pool | pg.PoolClient) => ({
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return (await q.query(sql, params)).rows as T[];
    },
  });
  return {
    kind: "postgres",
    ...run(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(run(client));
        await client.query("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

// Beside the package's sources, or copied beside the bundle that `build.mjs` makes of them.
const MIGRATIONS = new URL(import.meta.url.endsWith(".ts") ? "../../migrations/" : "./migrations/", import.meta.url);

/**
 * Applies every `migrations/NNN_name.sql` not yet recorded, each in its own transaction, under an
 * advisory lock so that replicas starting together on one PostgreSQL do not race.
 */
async function migrate(db: Database): Promise<void> {
  const files = readdirSync(MIGRATIONS)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(7163)");
    await tx.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const applied = new Set(
      (await tx.query<{ name: string }>("SELECT name FROM schema_migrations")).map((r) => r.name),
    );
    for (const file of files) {
      if (applied.has(file)) continue;
      for (const statement of splitStatements(readFileSync(new URL(file, MIGRATIONS), "utf8")))
        await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (name) VALUES ($1)", [file]);
    }
  });
}

/** Migrations are plain DDL: statements end with `;` at the end of a line. */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}
