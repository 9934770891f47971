/**
 * The README's walkthrough, run as written: the commands between its `<!-- walkthrough -->`
 * markers, in a shell, against the provider started with the first block's settings (as
 * `npm start` runs it, no SMTP: the codes come from its output) and anvil for the second block.
 * What the README says a reader fills in is filled in here the same way: the real addresses of
 * the provider and anvil, the value an earlier command printed for each word in capitals, `y`
 * where a command asks. A walkthrough that stops working fails here, at the line that broke.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider } from "../../provider/test/harness.js";
import { BIN } from "./cli.js";

const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");

/** The `sh` blocks between the markers, each as its commands: continuations joined, comments and blank lines left out. */
function walkthrough(): string[][] {
  const section = README.split("<!-- walkthrough")[1]?.split("<!-- /walkthrough -->")[0];
  if (section === undefined) throw new Error("the README has no <!-- walkthrough --> … <!-- /walkthrough --> section");
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, block]) =>
    (block as string)
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
      .filter((line) => line.length > 0),
  );
}

interface Ran {
  line: string;
  code: number;
  stdout: string;
  stderr: string;
}

describe("the README walkthrough", () => {
  const folder = mkdtempSync(join(tmpdir(), "keyshard-readme-"));
  let provider: ProviderProcess | undefined;
  let anvil: Anvil | undefined;
  afterAll(async () => {
    await provider?.stop();
    await anvil?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it("runs as written: a hybrid wallet sends on anvil, a Solana address, a second device, a 2-of-3 wallet", async () => {
    const [start, node, ...devices] = walkthrough();
    const settings = /^((?:[A-Z_]+=\S+\s+)*)npm start$/.exec(start?.join("\n") ?? "");
    expect(settings, "the first block starts the provider: [SETTING=VALUE …] npm start").not.toBeNull();
    expect(node, "the second block starts anvil").toEqual(["npx anvil"]);
    const env = Object.fromEntries(
      (settings?.[1] ?? "")
        .trim()
        .split(/\s+/)
        .map((pair) => pair.split("=") as [string, string]),
    );
    // The log at info, as when KEYSHARD_LOG is unset: the harness keeps it off by default.
    provider = await spawnProvider({ ...env, KEYSHARD_LOG: "info", KEYSHARD_SMTP_URL: "" });
    anvil = await startAnvil();
    const { url } = provider;
    const rpc = anvil.url;

    const shellEnv: Record<string, string> = { ...(process.env as Record<string, string>) };
    delete shellEnv.KEYSHARD_PASSPHRASE;
    delete shellEnv.KEYSHARD_HOME;
    /** What earlier commands printed: the capitals' values. */
    const printed: Record<string, string> = {};
    const fill = (line: string) =>
      line
        .replaceAll("npx keyshard", `'${process.execPath}' '${BIN}'`)
        .replaceAll("http://127.0.0.1:8080", url)
        .replaceAll("http://127.0.0.1:8545", rpc)
        .replace(/\bCODE\b/g, () => {
          const codes = [...(provider as ProviderProcess).output().matchAll(/verification code is (\d{6})/g)];
          const code = codes.at(-1)?.[1];
          if (code === undefined) throw new Error(`no code in the provider's output for: ${line}`);
          return code;
        })
        .replace(/\b[A-Z][A-Z_]*[A-Z]\b/g, (word) => printed[word] ?? word);

    const run = (line: string): { child: ChildProcess; done: Promise<Ran> } => {
      const child = spawn("sh", ["-c", fill(line)], { cwd: folder, env: shellEnv, stdio: ["pipe", "pipe", "pipe"] });
      child.stdin?.end("y\n");
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      return {
        child,
        done: new Promise((resolve) =>
          child.on("close", (code) => resolve({ line, code: code ?? -1, stdout, stderr })),
        ),
      };
    };
    const ok = (ran: Ran) => expect(ran.code, `${ran.line}\n${ran.stdout}${ran.stderr}`).toBe(0);

    const ran: Ran[] = [];
    let background: Promise<Ran>[] = [];
    for (const line of devices.flat()) {
      const exported = /^export ([A-Z_]+)='?([^']*)'?$/.exec(line);
      if (exported) {
        shellEnv[exported[1] as string] = exported[2] as string;
        continue;
      }
      if (line === "wait") {
        const finished = await Promise.all(background);
        for (const done of finished) ok(done);
        ran.push(...finished);
        background = [];
        continue;
      }
      const inBackground = /\s&$/.test(line);
      const { done } = run(inBackground ? line.replace(/\s&$/, "") : line);
      if (inBackground) {
        background.push(done);
        continue;
      }
      const result = await done;
      ok(result);
      ran.push(result);
      // What the README names in capitals: a device's id after its init, the address last printed.
      const home = /--home (\S+)/.exec(line)?.[1];
      const id = /device ([0-9a-f]+) created/.exec(result.stdout)?.[1];
      if (home && id) printed[`${home.toUpperCase()}_ID`] = id;
      if (/ address --wallet /.test(line)) printed.ADDRESS = result.stdout.trim();
    }
    expect(background, "a command started with & and never waited for").toEqual([]);

    const outputOf = (pattern: RegExp) => ran.find((r) => pattern.test(r.line))?.stdout ?? "";
    expect(outputOf(/ send --wallet main /)).toMatch(/receipt status 1/);
    expect(outputOf(/--wallet sol --chain solana/).trim()).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(outputOf(/wallet join/)).toMatch(/joined team/);
    expect(outputOf(/--wallet team --chain ethereum/).trim()).toMatch(/^0x[0-9a-fA-F]{40}$/);
  }, 600_000);
});
