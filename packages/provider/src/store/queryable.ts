/**
 * What the provider's code sees of its database, whichever it is: statements, transactions, and
 * the limits both implementations (`database.ts` for PostgreSQL, `pglite.ts`) keep alike.
 */

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction; an exception rolls it back. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: "pglite" | "postgres";
}

/** Thrown by `transaction` when a statement failed inside it and was caught: nothing it did was kept. */
export const ROLLED_BACK = "the transaction was rolled back";

/**
 * Statement texts prepared under a name on a connection (PostgreSQL's or PGlite's). The provider's
 * are fixed texts, far fewer than this; any beyond it run unnamed.
 */
export const MAX_PREPARED = 512;
