/**
 * The keystore in a folder: encrypted at rest (no secret in the file), the passphrase checked,
 * damage and tampering reported as such, mode 0600, keystores of earlier versions opened, and
 * writes that a kill -9 cannot leave half done.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Keystore } from "../src/keystore.js";
import { keystoreFailure } from "./thrown.js";

const homes: string[] = [];
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), "keyshard-keystore-"));
  homes.push(home);
  return home;
};
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const SECRET = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
/** A keystore holding `{ secret: SECRET }` under "a long passphrase", as version 0.1.0 wrote it. */
const WRITTEN_BY_0_1_0 = `{
  "keyshard": "keystore",
  "version": 1,
  "kdf": {
    "name": "scrypt",
    "N": 131072,
    "r": 8,
    "p": 1,
    "salt": "d12423239858d202070f426df7cb76c4"
  },
  "cipher": "xchacha20-poly1305",
  "nonce": "84a29bdaddba975baf2826ff3415d7d067b1c3ca2bae398a",
  "ciphertext": "p95Ambo/JwEtCKBUnFgzbfEmO/1tmyTMYTS2rmyU1jbaLoWiJDDygTgF7wRjsM7886rgidvbhNJS0yXEH/teZcMkb8G3Dj723Xay5nyAe52hb8SM02zwpnv5BJUC"
}
`;

describe("keystore", () => {
  it("keeps its content encrypted, mode 0600, and opens only with the passphrase", async () => {
    const home = newHome();
    await Keystore.create(home, "a long passphrase", { secret: SECRET });
    const file = join(home, "keystore.json");
    expect(readFileSync(file, "utf8")).not.toContain(SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await Keystore.open<{ secret: string }>(home, "a long passphrase")).content.secret).toBe(SECRET);
    expect((await keystoreFailure(Keystore.open(home, "another passphrase"))).code).toBe("wrong-passphrase");
    expect((await keystoreFailure(Keystore.create(home, "a long passphrase", {}))).code).toBe("exists");
    expect((await keystoreFailure(Keystore.open(newHome(), "a long passphrase"))).code).toBe("missing");
    await expect(Keystore.create(newHome(), "short", {})).rejects.toThrow(RangeError);
  });

  it("reports a damaged file, an altered ciphertext and an altered header, without their content", async () => {
    const home = newHome();
    await Keystore.create(home, "a long passphrase", { secret: SECRET });
    const file = join(home, "keystore.json");
    const good = readFileSync(file, "utf8");
    const parsed = JSON.parse(good);

    writeFileSync(file, good.slice(0, good.length / 2));
    expect((await keystoreFailure(Keystore.open(home, "a long passphrase"))).code).toBe("corrupted");

    const ct = Buffer.from(parsed.ciphertext, "base64");
    ct[5] = (ct[5] as number) ^ 1;
    writeFileSync(file, JSON.stringify({ ...parsed, ciphertext: ct.toString("base64") }));
    const altered = await keystoreFailure(Keystore.open(home, "a long passphrase"));
    expect(altered.code).toBe("wrong-passphrase");
    expect(altered.message).toContain("altered");

    writeFileSync(file, JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, N: 2 ** 15 } }));
    expect((await keystoreFailure(Keystore.open(home, "a long passphrase"))).code).toBe("wrong-passphrase");
    writeFileSync(file, JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, N: 2 ** 30 } }));
    expect((await keystoreFailure(Keystore.open(home, "a long passphrase"))).code).toBe("corrupted");
  });

  it("opens a keystore written before passkeys, and writes it again in the same format", async () => {
    const home = newHome();
    const file = join(home, "keystore.json");
    writeFileSync(file, WRITTEN_BY_0_1_0, { mode: 0o600 });
    expect(await Keystore.unlockMethod(home)).toEqual({ passphrase: true });
    const { store, content } = await Keystore.open<{ secret: string; more?: boolean }>(home, "a long passphrase");
    expect(content.secret).toBe(SECRET);
    await store.update((c) => {
      c.more = true;
    });
    const before = JSON.parse(WRITTEN_BY_0_1_0);
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after.kdf).toEqual(before.kdf);
    expect(after.nonce).not.toBe(before.nonce);
    expect((await Keystore.open<{ more: boolean }>(home, "a long passphrase")).content.more).toBe(true);
  });

  it("updates under a lock: concurrent updates lose nothing", async () => {
    const home = newHome();
    const store = await Keystore.create(home, "a long passphrase", { items: [] as number[] });
    await Promise.all([1, 2, 3].map((i) => store.update((c) => void c.items.push(i))));
    expect((await store.read()).items.sort()).toEqual([1, 2, 3]);
  });

  it("a write killed at any moment leaves the old content or the new, never a mix", async () => {
    const home = newHome();
    const file = join(home, "state");
    writeFileSync(file, "original");
    const fixture = new URL("./fixtures/keep-writing.ts", import.meta.url).pathname;
    for (let round = 0; round < 4; round++) {
      // The kill comes at a random moment after the child's first write begins (its temporary
      // file appears), not at a fixed time after the spawn, which a busy machine may spend
      // starting the child before it writes anything.
      const watcher = watch(home);
      const child = spawn(process.execPath, ["--conditions=keyshard-source", "--import", "tsx", fixture, file], {
        stdio: "ignore",
      });
      await new Promise<void>((resolve, reject) => {
        watcher.once("change", () => resolve());
        child.once("exit", (code) => reject(new Error(`the writer exited (${code}) before writing`)));
      }).finally(() => watcher.close());
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const text = readFileSync(file, "utf8");
      if (text !== "original") {
        const n = Number(text.slice(0, 12));
        expect(text.length).toBe(12 + 40_000_000 + String(n).length);
        expect(text.endsWith(String(n))).toBe(true);
      }
    }
    // Temporary files of killed writes may remain beside it; the file itself is whole.
    expect(readdirSync(home).filter((f) => f === "state")).toEqual(["state"]);
  });
});
