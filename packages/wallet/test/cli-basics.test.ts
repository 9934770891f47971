/**
 * The command line itself, before any provider: the help a person reads, the version, what an
 * unknown command says, the passphrase asked twice at a real terminal, a start-up that reads the
 * command line alone, and the bin building it when the build is missing or out of date.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS, helpOf } from "../src/cli/commands/index.js";
import { BIN, Device, PASSPHRASE } from "./cli.js";

const wallet = fileURLToPath(new URL("..", import.meta.url));
const { version } = JSON.parse(readFileSync(join(wallet, "package.json"), "utf8")) as { version: string };

/** The bin at a pseudo-terminal (util-linux `script`), typing each reply once its prompt shows. */
function atTerminal(home: string, args: string[], replies: { prompt: RegExp; reply: string }[]) {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.KEYSHARD_PASSPHRASE;
  const command = [process.execPath, BIN, "--home", home, ...args].map((word) => `'${word}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let answered = 0;
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    const next = replies[answered];
    if (next?.prompt.test(screen)) {
      answered++;
      child.stdin.write(`${next.reply}\r`);
    }
  });
  return new Promise<{ code: number; screen: string }>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? -1, screen })),
  );
}

describe("the keyshard command line", () => {
  const device = new Device();
  afterAll(() => device.remove());

  it("--help lists every command on stdout and exits 0", async () => {
    const run = await device.run(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^usage: keyshard <command>/);
    for (const name of Object.keys(COMMANDS)) expect(run.stdout).toContain(`\n  ${name}`);
    expect(run.stdout).toContain("keyshard <command> --help");
  });

  it("each command's --help, and help COMMAND, print its synopsis, what it does and an example on stdout", async () => {
    for (const name of ["send", "wallet create", "init", "changes cancel"]) {
      const asked = await device.run([...name.split(" "), "--help"]);
      expect(asked.code, name).toBe(0);
      expect(asked.stderr).toBe("");
      expect(asked.stdout).toBe(helpOf(COMMANDS[name] as (typeof COMMANDS)[string]));
      expect(asked.stdout).toContain(`usage: keyshard ${name}`);
      expect(await device.run(["help", ...name.split(" ")])).toMatchObject({ code: 0, stdout: asked.stdout });
    }
  });

  it("every command has a synopsis that starts with its name, a summary and an example", () => {
    for (const [name, command] of Object.entries(COMMANDS)) {
      expect(command.usage.startsWith(`${name}`), name).toBe(true);
      expect(command.summary.length, name).toBeGreaterThan(0);
      expect(command.summary, name).not.toContain("\n");
      expect(command.help, name).toMatch(/examples?: keyshard /);
    }
  });

  it("an unknown command is named, with the command list on stderr, exit 2", async () => {
    for (const [args, named] of [
      [["frobnicate"], "frobnicate"],
      [["wallet", "frob"], "wallet frob"],
      [["frobnicate", "--help"], "frobnicate"],
      [["help", "frobnicate"], "frobnicate"],
    ] as const) {
      const run = await device.run([...args]);
      expect(run.code, named).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`keyshard: unknown command ${named}\n`);
      expect(run.stderr).toContain("usage: keyshard <command>");
    }
    // No command at all is a usage mistake too, unless help was asked for.
    expect(await device.run([])).toMatchObject({ code: 2, stdout: "" });
  });

  it("the first word of several commands lists them: on stdout with --help, else on stderr with exit 2", async () => {
    const asked = await device.run(["backup", "--help"]);
    expect(asked).toMatchObject({ code: 0, stderr: "" });
    for (const step of ["request", "status", "cancel", "download"])
      expect(asked.stdout).toContain(`\n  backup ${step} `);
    const bare = await device.run(["wallet"]);
    expect(bare).toMatchObject({ code: 2, stdout: "" });
    expect(bare.stderr).toMatch(/^keyshard wallet is one of:\n\n {2}wallet create /);
    expect(await device.run(["help"])).toMatchObject({ code: 0, stdout: (await device.run(["--help"])).stdout });
  });

  it("--version prints the package's version on stdout", async () => {
    expect(await device.run(["--version"])).toMatchObject({ code: 0, stdout: `keyshard ${version}\n`, stderr: "" });
  });

  it("--help and --version read the command line alone, not the SDK, the engines or the chains", async () => {
    const folder = mkdtempSync(join(tmpdir(), "keyshard-loads-"));
    const built = join(wallet, "dist");
    const builtBytes = (urls: string[]) =>
      urls
        .map((url) => fileURLToPath(url))
        .filter((path) => path.startsWith(built))
        .reduce((sum, path) => sum + statSync(path).size, 0);
    const loadedBy = async (args: string[]) => {
      const log = join(folder, `${args.join("-")}.txt`);
      const fixture = fileURLToPath(new URL("fixtures/record-loads.mjs", import.meta.url));
      await device.run(args, { KEYSHARD_TEST_LOADS: log, NODE_OPTIONS: `--import=${fixture}` });
      return builtBytes(readFileSync(log, "utf8").trim().split("\n"));
    };
    try {
      // What a command that opens the device reads: the SDK, the engines, the chains.
      const full = await loadedBy(["wallet", "list"]);
      for (const args of [["--version"], ["--help"], ["send", "--help"]])
        expect(await loadedBy(args), args.join(" ")).toBeLessThan(full / 10);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("init at a terminal", () => {
  it("asks the passphrase twice and makes nothing when the two differ", async () => {
    const device = new Device();
    try {
      const differ = await atTerminal(
        device.home,
        ["init"],
        [
          { prompt: /new passphrase: $/, reply: PASSPHRASE },
          { prompt: /again: $/, reply: `${PASSPHRASE}!` },
        ],
      );
      expect(differ.code).toBe(2);
      expect(differ.screen).toContain("the two passphrases differ; nothing was created");
      expect(differ.screen).not.toContain(PASSPHRASE);
      expect(readdirSync(device.home)).toEqual([]);

      const same = await atTerminal(
        device.home,
        ["init"],
        [
          { prompt: /new passphrase: $/, reply: PASSPHRASE },
          { prompt: /again: $/, reply: PASSPHRASE },
        ],
      );
      expect(same.code).toBe(0);
      expect(same.screen).toMatch(/device \S+ created in/);
      // The keystore opens with that passphrase (and goes on to ask for a provider), not another.
      expect((await device.run(["wallet", "list"])).stderr).toMatch(/no provider yet/);
      expect((await device.run(["wallet", "list"], { KEYSHARD_PASSPHRASE: `${PASSPHRASE}!` })).stderr).toMatch(
        /passphrase/,
      );
    } finally {
      device.remove();
    }
  });
});

describe("the bin", () => {
  // A copy of this package beside links to the packages and libraries it is built from, so the
  // build it makes is its own and the one the other tests run stays untouched.
  const root = mkdtempSync(join(tmpdir(), "keyshard-bin-"));
  const copy = join(root, "packages", "wallet");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("builds the command line when the build is missing or older than the sources", async () => {
    for (const part of ["bin", "src", "build.mjs", "package.json"])
      cpSync(join(wallet, part), join(copy, part), { recursive: true });
    for (const name of readdirSync(join(wallet, "..")))
      if (name !== "wallet") symlinkSync(join(wallet, "..", name), join(root, "packages", name));
    symlinkSync(join(wallet, "..", "..", "node_modules"), join(root, "node_modules"));
    const bundle = join(copy, "dist", "keyshard.mjs");
    const versionOf = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [join(copy, "bin", "keyshard.js"), "--version"]);
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("close", () => resolve(out));
      });

    expect(existsSync(bundle)).toBe(false);
    expect(await versionOf()).toBe(`keyshard ${version}\n`);
    const first = statSync(bundle).mtimeMs;

    // Up to date: run as it is.
    expect(await versionOf()).toBe(`keyshard ${version}\n`);
    expect(statSync(bundle).mtimeMs).toBe(first);

    // A source edited after the build: built again first.
    const later = new Date(first + 5_000);
    utimesSync(join(copy, "src", "cli", "main.ts"), later, later);
    expect(await versionOf()).toBe(`keyshard ${version}\n`);
    expect(statSync(bundle).mtimeMs).toBeGreaterThan(first);
  });
});
