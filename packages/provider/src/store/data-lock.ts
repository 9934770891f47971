/**
 * The exclusive lock a provider takes on its data folder, so two providers never run on the same
 * PGlite files and master key file. The lock is the file `provider.lock`, made atomically with
 * `link` from a complete temporary file (never seen half-written), holding the owner's pid and a
 * token unique to this acquisition. It is released on close; a lock whose pid is not running
 * (its provider was killed) is stale and is taken over. Only the holder of a claim on a stale
 * lock's token — a file made with O_EXCL — may remove that lock, and only after checking it still
 * holds that token, so two starts that find the same stale lock cannot both win: whoever removes
 * it, the next owner is whoever's `link` succeeds.
 */
import { closeSync, linkSync, openSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";

export const LOCK_FILE = "provider.lock";

export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
}

export interface DataDirLock {
  /** Removes the lock file, if it is still this lock's. */
  release(): void;
}

/** Lock files this process holds, by path: a second start in the same process is refused too. */
const held = new Set<string>();

/** Whether the process `pid` runs (EPERM: it runs under another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Takes the lock on `dataDir` (which exists), or throws DataDirLockedError naming its holder. */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = realpathSync(dataDir);
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new DataDirLockedError(`the data folder ${dir} is in use by this process`);
  const content = `${process.pid}\n${bytesToHex(randomBytes(16))}\n`;
  const temporary = `${path}.${process.pid}.${bytesToHex(randomBytes(8))}`;
  writeFileSync(temporary, content, { mode: 0o600, flag: "wx" });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temporary, path);
        break;
      } catch (e) {
        if (errorCode(e) !== "EEXIST") throw e;
      }
      const found = readOrUndefined(path);
      if (found === undefined) continue;
      const pid = Number(found.split("\n")[0]);
      // The same pid as ours is a provider that ran before this one (a container restarted).
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && running(pid))
        throw new DataDirLockedError(
          `the data folder ${dir} is in use by another provider (process ${pid}; lock file ${path})`,
        );
      if (attempt >= 10) throw new DataDirLockedError(`could not take the stale lock ${path}`);
      takeOverStale(path, found);
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  held.add(path);
  return {
    release() {
      if (!held.delete(path)) return;
      if (readOrUndefined(path) === content) unlinkSync(path);
    },
  };
}

/** Removes the stale lock `path` if it still holds `stale`, under a claim on that lock's token. */
function takeOverStale(path: string, stale: string): void {
  const token = stale.split("\n")[1] ?? "";
  const claim = `${path}.${/^[0-9a-f]{32}$/.test(token) ? token : "unreadable"}.claim`;
  try {
    const fd = openSync(claim, "wx", 0o600);
    try {
      writeFileSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (errorCode(e) !== "EEXIST") throw e;
    const claimant = Number(readOrUndefined(claim)?.split("\n")[0]);
    if (Number.isSafeInteger(claimant) && claimant > 0 && claimant !== process.pid && running(claimant)) return;
    // A start that died while taking this stale lock over.
    throw new DataDirLockedError(
      `the takeover of the stale lock ${path} was interrupted: if no provider runs on this folder, remove ${path} and ${claim}`,
    );
  }
  try {
    // Nobody else can remove this lock while the claim is ours, so the check holds until the unlink.
    if (readOrUndefined(path) === stale) unlinkSync(path);
  } finally {
    rmSync(claim, { force: true });
  }
}
