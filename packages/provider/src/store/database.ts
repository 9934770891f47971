/**
 * The provider's database: embedded PGlite (`pglite.ts`; a data folder, or memory for tests) by default,
 * PostgreSQL when a connection string is given. Both run the same SQL from `migrations/`;
 * everything above this file sees only `Database` (`queryable.ts`).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { openPglite } from "./pglite.js";
import { type Database, MAX_PREPARED, type Queryable, ROLLED_BACK } from "./queryable.js";

export type DatabaseLocation = { postgresUrl: string } | { pgliteDir: string | null };

export async function openDatabase(location: DatabaseLocation): Promise<Database> {
  const db = guarded("postgresUrl" in location ? postgres(location.postgresUrl) : await openPglite(location.pgliteDir));
  await migrate(db);
  return db;
}

/**
 * Refuses the database handle inside one of its own transactions: on PGlite (one connection)
 * that would wait for the transaction forever, on PostgreSQL it would quietly run outside it.
 * Refuses a transaction's handle once the transaction has ended: its connection may by then be
 * another transaction's.
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
      return db.transaction(async (tx) => {
        let open = true;
        const handle: Queryable = {
          async query(sql, params) {
            if (!open) throw new Error("the transaction has ended");
            return tx.query(sql, params);
          },
        };
        try {
          return await inTransaction.run(true, () => work(handle));
        } finally {
          open = false;
        }
      });
    },
    close: () => db.close(),
  };
}

function postgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection that the server drops (restart, failover) must not end the process.
  pool.on("error", () => {});
  // A named statement is parsed and planned once per connection, not on every call. Only statements
  // with parameters are named: the rest (migrations' DDL among them) keep the simple protocol.
  const names = new Map<string, string>();
  const nameOf = (sql: string, params: unknown[]) => {
    if (params.length === 0) return undefined;
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED) names.set(sql, (name = `k${names.size}`));
    return name;
  };
  const run = (q: pg.Pool | pg.PoolClient) => ({
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return (await q.query({ name: nameOf(sql, params), text: sql, values: params })).rows as T[];
    },
  });
  return {
    kind: "postgres",
    ...run(pool),
    async transaction(work) {
      const client = await pool.connect();
      const queries = run(client);
      let begun = false;
      const handle: Queryable = {
        query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
          if (begun) return queries.query<T>(sql, params);
          begun = true;
          return beginWith<T>(client, { name: nameOf(sql, params), text: sql, values: params });
        },
      };
      try {
        const result = await work(handle);
        // A statement that failed inside the transaction turns COMMIT into a rollback.
        if (begun && (await client.query("COMMIT")).command !== "COMMIT") throw new Error(ROLLED_BACK);
        return result;
      } catch (e) {
        if (begun) await client.query("ROLLBACK").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * A transaction's first statement with BEGIN in front of it, in one round trip: the extended
 * protocol's Parse, Bind and Execute of BEGIN go out in the same write as the statement's own
 * messages and its Sync. The statement's result is the last of the two.
 */
function beginWith<T>(client: pg.PoolClient, config: pg.QueryConfig): Promise<T[]> {
  return new Promise((resolve, reject) => {
    // Extended even without parameters: the simple protocol would end the pipeline after BEGIN.
    const extended = { ...config, queryMode: "extended" } as pg.QueryConfig;
    const query = new BeginningQuery(extended, (error: Error | undefined, results: unknown) => {
      if (error) return reject(error);
      const all = results as pg.QueryResult | pg.QueryResult[];
      resolve((Array.isArray(all) ? (all.at(-1) as pg.QueryResult) : all).rows as T[]);
    });
    client.query(query);
  });
}

type Connection = { parse(m: { text: string }): void; bind(m: object): void; execute(m: object): void };

/**
 * pg's own query, with BEGIN's messages written ahead of its own. It overrides `prepare`, the step
 * that writes a query's extended-protocol messages (as pg-cursor builds on it too); the database
 * tests fail if a pg release changes that.
 */
class BeginningQuery extends pg.Query {
  prepare(connection: Connection): void {
    connection.parse({ text: "BEGIN" });
    connection.bind({});
    connection.execute({});
    (pg.Query.prototype as unknown as { prepare(c: Connection): void }).prepare.call(this, connection);
  }
}

// In the package's root, two folders above this module in `src/store/` and `dist/store/` alike, and
// above `npm start`'s bundle in `dist/bundle/`.
const MIGRATIONS = new URL("../../migrations/", import.meta.url);

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
