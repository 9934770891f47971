/**
 * The data folder lock in one process: refused while held (by this process or a running one),
 * released on release, a stale lock taken over, a stale lock another start is taking over left
 * to it.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirLockedError, LOCK_FILE, lockDataDir } from "../src/store/data-lock.js";

describe("data folder lock", () => {
  let dir: string;
  let lockFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keyshard-lock-"));
    lockFile = join(dir, LOCK_FILE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  /** The pid of a process that has exited. */
  const exitedPid = () => spawnSync(process.execPath, ["-e", ""]).pid;

  it("is exclusive until released, and leaves no file behind", () => {
    const lock = lockDataDir(dir);
    expect(readFileSync(lockFile, "utf8").split("\n")[0]).toBe(String(process.pid));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
    lockDataDir(dir).release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it("refuses a lock held by a running process, naming it", () => {
    writeFileSync(lockFile, `${process.ppid}\n${"cd".repeat(16)}\n`);
    expect(() => lockDataDir(dir)).toThrow(`is in use by another provider (process ${process.ppid}; lock file`);
    expect(readFileSync(lockFile, "utf8").split("\n")[0]).toBe(String(process.ppid));
  });

  it("takes over a lock whose process has exited, or is unreadable", () => {
    writeFileSync(lockFile, `${exitedPid()}\n${"ab".repeat(16)}\n`);
    lockDataDir(dir).release();
    writeFileSync(lockFile, "");
    lockDataDir(dir).release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it("leaves a stale lock to a running start that claimed it", () => {
    const token = "ef".repeat(16);
    writeFileSync(lockFile, `${exitedPid()}\n${token}\n`);
    writeFileSync(`${lockFile}.${token}.claim`, `${process.ppid}\n`);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    expect(readFileSync(lockFile, "utf8")).toContain(token);
    // The claimant died: nothing is removed, the message says what to remove.
    writeFileSync(`${lockFile}.${token}.claim`, `${exitedPid()}\n`);
    expect(() => lockDataDir(dir)).toThrow(`remove ${lockFile} and ${lockFile}.${token}.claim`);
    expect(readFileSync(lockFile, "utf8")).toContain(token);
  });

  it("of processes racing for a free or a stale lock, exactly one wins", async () => {
    const module = fileURLToPath(new URL("../src/store/data-lock.ts", import.meta.url));
    // Each takes the lock or not, says which, and holds it until its stdin closes.
    const script = `const { lockDataDir } = await import(${JSON.stringify(module)});
      try { lockDataDir(${JSON.stringify(dir)}); console.log("won"); } catch (e) { console.log("lost: " + e.message); }
      process.stdin.resume();`;
    for (const stale of [false, true]) {
      if (stale) writeFileSync(lockFile, `${exitedPid()}\n${"ab".repeat(16)}\n`);
      const racers = Array.from({ length: 6 }, () =>
        spawn(
          process.execPath,
          ["--conditions=keyshard-source", "--import", "tsx", "--input-type=module", "-e", script],
          {
            stdio: ["pipe", "pipe", "inherit"],
          },
        ),
      );
      const said = await Promise.all(racers.map(async (child) => String((await once(child.stdout, "data"))[0]).trim()));
      for (const child of racers) child.stdin.end();
      await Promise.all(racers.map((child) => once(child, "exit")));
      expect(
        said.filter((line) => line === "won"),
        said.join("\n"),
      ).toHaveLength(1);
      expect(said.filter((line) => line.startsWith("lost: "))).toHaveLength(5);
      rmSync(lockFile, { force: true });
    }
  });
});
