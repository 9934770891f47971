/**
 * The keystore in a folder (Node): `keystore.json` in the device's home, mode 0600. A write never
 * leaves a half-written file: the new text goes to a temporary file that is fsynced and then
 * renamed over the old one; the first keystore is linked into place instead, which fails rather
 * than replace one made meanwhile. Read-modify-write cycles hold a lock file, so a cosigner and a
 * command on the same home do not lose each other's changes.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { KeystoreError, type KeystoreStorage, keystoreExists } from "./keystore.js";

const FILE = "keystore.json";
const LOCK = "keystore.lock";
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 120_000;

/** Writes `data` to `path` so that a crash leaves either the old file or the new one. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  placeAtomic(path, data, mode, (temp) => renameSync(temp, path));
}

/** `data` written and fsynced to a temporary file beside `path`, `place` putting it there, the folder then fsynced. */
function placeAtomic(path: string, data: string | Uint8Array, mode: number, place: (temp: string) => void): void {
  const temp = `${path}.${process.pid}.${bytesToHex(crypto.getRandomValues(new Uint8Array(4)))}.tmp`;
  const fd = openSync(temp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? utf8ToBytes(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    place(temp);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  const dir = openSync(join(path, ".."), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The keystore in the folder `home`, made (mode 0700) when the first keystore is stored there. */
export function fileKeystore(home: string): KeystoreStorage {
  const path = join(home, FILE);
  return {
    where: home,

    async read() {
      try {
        return readFileSync(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },

    async create(text) {
      mkdirSync(home, { recursive: true, mode: 0o700 });
      // Linked into place, not renamed: a link fails (EEXIST) rather than replace a keystore made
      // meanwhile, so of two processes creating at once one fails, and neither sees half a file.
      placeAtomic(path, text, 0o600, (temp) => {
        try {
          linkSync(temp, path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EEXIST") throw keystoreExists(home);
          throw e;
        }
        // Linked, the temporary name is one too many; on failure `placeAtomic` removes it.
        rmSync(temp);
      });
    },

    async write(text) {
      writeFileAtomic(path, text);
    },

    async lock() {
      const lockPath = join(home, LOCK);
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (;;) {
        try {
          closeSync(openSync(lockPath, "wx", 0o600));
          return () => rmSync(lockPath, { force: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
          try {
            if (Date.now() - statSync(lockPath).mtimeMs > LOCK_STALE_MS) rmSync(lockPath, { force: true });
          } catch {
            // Gone meanwhile: try again.
          }
          if (Date.now() > deadline)
            throw new KeystoreError("locked", `another keyshard process holds ${lockPath}; try again when it is done`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}
