/**
 * The database layer on PGlite (spoken to through prepared statements, `store/pglite.ts`) and on
 * PostgreSQL: values come back as they went in, a failed statement undoes its transaction and
 * leaves the connection usable, and a transaction's handle ends with it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/store/database.js";
import { type Database, ROLLED_BACK } from "../src/store/queryable.js";
import { type DatabaseKind, freshPostgres } from "./harness.js";

describe.each<DatabaseKind>(["pglite", "postgres"])("database on %s", (kind) => {
  let db: Database;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const postgres = kind === "postgres" ? await freshPostgres() : undefined;
    drop = postgres?.drop;
    db = await openDatabase(postgres ? { postgresUrl: postgres.url } : { pgliteDir: null });
    await db.query("CREATE TABLE things (id text PRIMARY KEY, n bigint, blob bytea, tags text[], ok boolean)");
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it("returns bytes, numbers, arrays, booleans and nulls as they were stored", async () => {
    const blob = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256);
    await db.query("INSERT INTO things VALUES ($1, $2, $3, $4, $5)", ["a", 2 ** 40, blob, ["x", "y,z"], true]);
    await db.query("INSERT INTO things VALUES ($1, $2, $3, $4, $5)", ["b", null, Buffer.from([0, 255]), null, false]);
    await db.query("INSERT INTO things VALUES ($1, $2, $3, $4, $5)", ["c", 0, new Uint8Array(0), [], null]);
    const rows = await db.query<{
      id: string;
      n: unknown;
      blob: Uint8Array;
      tags: string[] | null;
      ok: boolean | null;
    }>("SELECT * FROM things ORDER BY id");
    expect(rows.map((r) => [r.id, Number(r.n), [...new Uint8Array(r.blob)], r.tags, r.ok])).toEqual([
      ["a", 2 ** 40, [...blob], ["x", "y,z"], true],
      ["b", 0, [0, 255], null, false],
      ["c", 0, [], [], null],
    ]);
    expect(rows[1]?.n).toBeNull();
    const tagged = await db.query<{ id: string }>("SELECT id FROM things WHERE id = ANY($1::text[]) ORDER BY id", [
      ["c", "a", "nope"],
    ]);
    expect(tagged.map((r) => r.id)).toEqual(["a", "c"]);
  });

  it("a failed statement throws and the same statement runs again afterwards", async () => {
    const insert = "INSERT INTO things (id, n) VALUES ($1, $2)";
    await db.query(insert, ["dup", 1]);
    await expect(db.query(insert, ["dup", 2])).rejects.toThrow(/duplicate key/);
    await db.query(insert, ["dup2", 3]);
    await expect(db.query("SELECT nope FROM things")).rejects.toThrow(/nope/);
    const [dup2] = await db.query<{ n: unknown }>("SELECT n FROM things WHERE id = $1", ["dup2"]);
    expect(Number(dup2?.n)).toBe(3);
  });

  it("a transaction keeps all of its writes or none", async () => {
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO things (id) VALUES ($1)", ["kept1"]);
      await tx.query("INSERT INTO things (id) VALUES ($1)", ["kept2"]);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO things (id) VALUES ($1)", ["lost"]);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    // A failure that the work catches still undoes the transaction, and says so.
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO things (id) VALUES ($1)", ["lost too"]);
        await tx.query("INSERT INTO things (id) VALUES ($1)", ["kept1"]).catch(() => {});
        return "done";
      }),
    ).rejects.toThrow(ROLLED_BACK);
    const ids = await db.query<{ id: string }>("SELECT id FROM things WHERE id LIKE 'kept%' OR id LIKE 'lost%'");
    expect(ids.map((r) => r.id).sort()).toEqual(["kept1", "kept2"]);
  });

  it("a transaction whose first statement fails keeps nothing, and the connections serve on", async () => {
    for (let i = 0; i < 12; i++) {
      await expect(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO things (id) VALUES ($1)", ["kept1"]);
          await tx.query("INSERT INTO things (id) VALUES ($1)", [`never${i}`]);
        }),
      ).rejects.toThrow(/duplicate key/);
      await expect(db.transaction((tx) => tx.query("SELECT nope FROM things"))).rejects.toThrow(/nope/);
    }
    expect(await db.query("SELECT id FROM things WHERE id LIKE 'never%'")).toEqual([]);
    const [row] = await db.transaction((tx) => tx.query<{ n: number }>("SELECT 1 + 1 AS n"));
    expect(row?.n).toBe(2);
    expect(await db.transaction(async () => "no statements")).toBe("no statements");
  });

  it("statements a transaction does not wait for one by one still get their own results", async () => {
    const results = await db.transaction((tx) =>
      Promise.all(
        Array.from({ length: 8 }, (_, i) => tx.query<{ v: number }>(`SELECT $1::int AS v, ${i} AS i`, [i * 10])),
      ),
    );
    expect(results).toEqual(Array.from({ length: 8 }, (_, i) => [{ v: i * 10, i }]));
  });

  it("a transaction's handle refuses work once the transaction has ended", async () => {
    let handle: { query(sql: string): Promise<unknown> } | undefined;
    await db.transaction(async (tx) => {
      handle = tx;
    });
    await expect(Promise.resolve().then(() => handle?.query("SELECT 1"))).rejects.toThrow();
  });

  it("a statement with parameters is prepared once on its connection, and kept there", async () => {
    const sql = "SELECT n FROM things WHERE id = $1";
    const prepared = await db.transaction(async (tx) => {
      await tx.query(sql, ["dup2"]);
      await tx.query(sql, ["kept1"]);
      return tx.query<{ count: unknown }>("SELECT count(*) AS count FROM pg_prepared_statements WHERE statement = $1", [
        sql,
      ]);
    });
    expect(Number(prepared[0]?.count)).toBe(1);
  });

  it("runs many more distinct statements than it keeps prepared", async () => {
    const results = [];
    for (let i = 0; i < 600; i++) results.push(await db.query<{ v: number }>(`SELECT $1::int + ${i} AS v`, [1]));
    expect(results.map((r) => r[0]?.v)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
  });
});

describe("database on pglite, one connection", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ pgliteDir: null });
    await db.query("CREATE TABLE things (id text PRIMARY KEY)");
  });
  afterAll(async () => {
    await db?.close();
  });

  it("a query made while a transaction is open waits for it and sees what it committed", async () => {
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const transaction = db.transaction(async (tx) => {
      await tx.query("INSERT INTO things (id) VALUES ($1)", ["during"]);
      await held;
    });
    await new Promise((r) => setTimeout(r, 20));
    const read = db.query<{ n: number }>("SELECT count(*)::int AS n FROM things");
    release();
    await transaction;
    expect(await read).toEqual([{ n: 1 }]);
  });

  it("refuses a bytea parameter that is not bytes", async () => {
    await expect(db.query("SELECT $1::bytea AS b", ["\\x00"])).rejects.toThrow(TypeError);
  });
});
