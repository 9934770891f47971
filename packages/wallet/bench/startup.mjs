// `npm run bench:cli`: how long the `keyshard` command line takes to answer when it needs no
// network — the wall time of a whole process, as a person at a terminal waits for it — beside a
// bare `node` for the floor. One JSON line per command: p50 and p95 over RUNS runs after a warm-up.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/keyshard.js", import.meta.url));
const RUNS = 15;
const home = mkdtempSync(join(tmpdir(), "keyshard-bench-"));

const commands = {
  "node -e 0 (floor)": ["-e", "0"],
  "keyshard --version": [BIN, "--version"],
  "keyshard --help": [BIN, "--help"],
  "keyshard send --help": [BIN, "send", "--help"],
  // Reads the keystore and loads the SDK: the start of every command that signs.
  "keyshard wallet list (no provider yet)": [BIN, "--home", home, "wallet", "list"],
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

try {
  const init = spawnSync(process.execPath, [BIN, "--home", home, "init"], {
    env: { ...process.env, KEYSHARD_PASSPHRASE: "benchmark passphrase" },
  });
  if (init.status !== 0) throw new Error(`keyshard init failed: ${init.stderr}`);
  for (const [name, args] of Object.entries(commands)) {
    const times = [];
    for (let i = 0; i <= RUNS; i++) {
      const start = process.hrtime.bigint();
      spawnSync(process.execPath, args, { env: { ...process.env, KEYSHARD_PASSPHRASE: "benchmark passphrase" } });
      if (i > 0) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const ms = (v) => Math.round(v * 10) / 10;
    console.log(
      JSON.stringify({ name, runs: RUNS, p50: ms(percentile(times, 0.5)), p95: ms(percentile(times, 0.95)) }),
    );
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
