/**
 * The embedded database: PGlite, PostgreSQL compiled to WebAssembly and run inside the provider's
 * process, spoken to in PostgreSQL's extended query protocol with prepared statements.
 *
 * PGlite's own `query` parses and plans every statement anew and makes six calls into
 * WebAssembly for it (parse, describe, bind, describe, execute, sync), and its bytea conversion
 * goes byte by byte. The provider runs the same few dozen statements all day: each is prepared
 * once, under a name, and later runs as a single call (bind, execute, sync), about half the time
 * of PGlite's path per statement. PGlite's type conversions are kept for every other type, so rows
 * read the same either way.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { PGlite } from "@electric-sql/pglite";
import { type Database, MAX_PREPARED, type Queryable, ROLLED_BACK } from "./queryable.js";

type PGliteModule = typeof import("@electric-sql/pglite");
type BackendMessage = Awaited<ReturnType<PGlite["execProtocol"]>>["messages"][number];

/**
 * PostgreSQL's default 128 MB of shared buffers would sit in PGlite's WebAssembly memory, inside
 * the provider's process; a provider's working set is a small fraction of that.
 */
const SETTINGS = ["-c", "shared_buffers=16MB"];
const CREATE = new URL("./pglite-create.mjs", import.meta.url);

export async function openPglite(dir: string | null): Promise<Database> {
  // Loaded only here: the module alone holds about 40 MB that a PostgreSQL provider does not need.
  const pglite = await import("@electric-sql/pglite");
  // initdb peaks near 900 MB, and WebAssembly memory once grown is never given back: a new
  // database folder is made by a short-lived process, so the server never carries that peak.
  if (dir !== null && !existsSync(join(dir, "PG_VERSION"))) {
    try {
      await promisify(execFile)(process.execPath, [fileURLToPath(CREATE), dir]);
    } catch (e) {
      throw new Error(`could not create the PGlite database in ${dir}: ${(e as { stderr?: string }).stderr ?? e}`);
    }
  }
  const client = new pglite.PGlite(dir ?? undefined, {
    startParams: [...pglite.PGlite.defaultStartParams, ...SETTINGS],
  });
  await client.waitReady;
  return new PgliteDatabase(pglite, client);
}

interface Prepared {
  name: string;
  /** The type of each parameter, as PostgreSQL inferred it. */
  parameterTypes: number[];
  /** The row description, for statements that return rows. */
  rows: BackendMessage | undefined;
}

class PgliteDatabase implements Database {
  readonly kind = "pglite";
  readonly #pglite: PGliteModule;
  readonly #client: PGlite;
  readonly #prepared = new Map<string, Prepared>();
  #names = 0;
  readonly #parsers: Record<number, (text: string) => unknown>;
  /** PGlite is one connection: a query outside a transaction waits for the transaction to end. */
  #connection: Promise<unknown> = Promise.resolve();

  constructor(pglite: PGliteModule, client: PGlite) {
    this.#pglite = pglite;
    this.#client = client;
    // The client's own conversions, array types included, with a faster one for bytea.
    this.#parsers = { ...client.parsers, [pglite.types.BYTEA]: parseBytea };
  }

  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.#exclusive(() => this.#run<T>(sql, params, true));
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      await this.#simple("BEGIN");
      // The transaction's statements go one at a time even when `work` does not wait for each
      // (PGlite reads a statement's results back from one shared place), and all have ended
      // before COMMIT or ROLLBACK.
      let statements: Promise<unknown> = Promise.resolve();
      const query = <R>(sql: string, params: unknown[] = []): Promise<R[]> => {
        const run = statements.then(() => this.#run<R>(sql, params, false));
        statements = run.catch(() => {});
        return run;
      };
      let result: T;
      try {
        result = await work({ query });
      } catch (e) {
        await statements;
        await this.#simple("ROLLBACK");
        throw e;
      }
      await statements;
      if ((await this.#simple("COMMIT")) !== "COMMIT") throw new Error(ROLLED_BACK);
      return result;
    });
  }

  close(): Promise<void> {
    return this.#exclusive(() => this.#client.close());
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#connection.then(work, work);
    this.#connection = run.catch(() => {});
    return run;
  }

  /** Runs a statement without parameters in the simple protocol; returns its command tag. */
  async #simple(sql: string): Promise<string | undefined> {
    const { messages } = await this.#client.execProtocol(this.#pglite.protocol.serialize.query(sql));
    const done = messages.find((m) => m.name === "commandComplete") as { text: string } | undefined;
    return done?.text;
  }

  async #run<T>(sql: string, params: unknown[], outsideTransaction: boolean): Promise<T[]> {
    const { serialize } = this.#pglite.protocol;
    const statement = this.#prepared.get(sql) ?? (await this.#prepare(sql));
    const values = params.map((value, i) => this.#serialize(value, statement.parameterTypes[i]));
    const { messages } = await this.#client.execProtocol(
      Buffer.concat([
        ...(statement.name === "" ? [serialize.parse({ text: sql })] : []),
        serialize.bind({ statement: statement.name, values }),
        serialize.execute({}),
        serialize.sync(),
      ]),
      { syncToFs: outsideTransaction },
    );
    const results = statement.rows === undefined ? messages : [statement.rows, ...messages];
    return this.#pglite.parse.parseResults(results, this.#parsers)[0]?.rows as T[];
  }

  #serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    if (type === this.#pglite.types.BYTEA) {
      if (!(value instanceof Uint8Array)) throw new TypeError("a bytea parameter must be a Uint8Array");
      return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}`;
    }
    const serializer = type === undefined ? undefined : this.#client.serializers[type];
    return serializer === undefined ? String(value) : serializer(value);
  }

  /** Parses and describes a statement; it is kept under a name unless there are too many already. */
  async #prepare(sql: string): Promise<Prepared> {
    const { serialize } = this.#pglite.protocol;
    const name = this.#prepared.size < MAX_PREPARED ? `s${this.#names++}` : "";
    const { messages } = await this.#client.execProtocol(
      Buffer.concat([serialize.parse({ name, text: sql }), serialize.describe({ type: "S", name }), serialize.sync()]),
      { syncToFs: false },
    );
    const prepared: Prepared = {
      name,
      parameterTypes: this.#pglite.parse.parseDescribeStatementResults(messages),
      rows: messages.find((m) => m.name === "rowDescription"),
    };
    if (name !== "") this.#prepared.set(sql, prepared);
    return prepared;
  }
}

/** bytea arrives in PostgreSQL's hex output format, `\x` and two digits a byte. */
function parseBytea(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.slice(2), "hex"));
}
