/**
 * The `keyshard` command line as a subprocess (its real bin), one home folder per device, against
 * a real provider process with an SMTP mailbox.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Mail, mailedCode } from "../../provider/test/harness.js";

export const BIN = new URL("../bin/keyshard.js", import.meta.url).pathname;
export const PASSPHRASE = "correct horse battery staple";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, for --json runs. */
  json: Record<string, unknown>;
}

/** A running `keyshard` (cosigner run): its output so far and a way to stop it. */
export interface Background {
  output(): string;
  stop(): Promise<number>;
  /** Its exit code, once it exits by itself. */
  exited: Promise<number>;
}

export class Device {
  readonly home = mkdtempSync(join(tmpdir(), "keyshard-home-"));
  constructor(readonly env: Record<string, string> = {}) {}

  private spawn(args: string[], env: Record<string, string>, stdin: "ignore" | "pipe" = "ignore") {
    return spawn(process.execPath, [BIN, "--home", this.home, ...args], {
      env: { ...process.env, KEYSHARD_PASSPHRASE: PASSPHRASE, ...this.env, ...env },
      stdio: [stdin, "pipe", "pipe"],
    });
  }

  /**
   * Runs with stdin open: each time stderr shows a prompt of `answers` (in order), its reply is
   * typed in, as a person at the terminal would.
   */
  runAnswering(args: string[], answers: { prompt: RegExp; reply: () => Promise<string> }[]): Promise<Run> {
    return this.run(args, {}, answers);
  }

  run(
    args: string[],
    env: Record<string, string> = {},
    answers: { prompt: RegExp; reply: () => Promise<string> }[] = [],
  ): Promise<Run> {
    const child = this.spawn(args, env, answers.length > 0 ? "pipe" : "ignore");
    let stdout = "";
    let stderr = "";
    let asked = 0;
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const next = answers[asked];
      if (next?.prompt.test(stderr)) {
        asked++;
        void next.reply().then((line) => child.stdin?.write(`${line}\n`));
      }
    });
    return new Promise((resolve) =>
      child.on("close", (code) => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
        } catch {
          // Not a --json run.
        }
        resolve({ code: code ?? -1, stdout, stderr, json });
      }),
    );
  }

  /**
   * Runs as a script does — `--yes`: sign without being asked — and insists on exit code 0;
   * returns the JSON reply.
   */
  async ok(args: string[]): Promise<Record<string, unknown>> {
    const run = await this.run([...args, "--json", "--yes"]);
    if (run.code !== 0) throw new Error(`keyshard ${args.join(" ")} exited ${run.code}: ${run.stdout} ${run.stderr}`);
    return run.json;
  }

  background(args: string[]): Background {
    const child = this.spawn(args, {});
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    return {
      output: () => output,
      exited: new Promise((resolve) => child.once("exit", (code) => resolve(code ?? -1))),
      stop: () =>
        new Promise((resolve) => {
          // Once stopped, a killed process has a signal and no exit code: it will not exit again.
          if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? -1);
          child.once("exit", (code) => resolve(code ?? -1));
          child.kill("SIGTERM");
        }),
    };
  }

  remove(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** init → register → verify with the mailed code: the account's first (active) device. */
export async function firstDevice(url: string, mails: Mail[], email: string): Promise<Device> {
  const device = new Device();
  await device.ok(["init", "--name", "phone"]);
  await device.ok(["register", "--provider", url, "--email", email]);
  await device.ok(["verify", await mailedCode(mails, email)]);
  return device;
}

/** Another device of the account: registered, verified, approved by `first`. */
export async function nextDevice(
  url: string,
  mails: Mail[],
  email: string,
  first: Device,
  name: string,
): Promise<{ device: Device; id: string }> {
  const device = new Device();
  const { deviceId } = await device.ok(["init", "--name", name]);
  const codesBefore = mails.filter((m) => m.to === email && /code is/.test(m.text.replace(/=\r?\n/g, ""))).length;
  await device.ok(["register", "--provider", url, "--email", email]);
  await device.ok(["verify", await mailedCode(mails, email, codesBefore + 1)]);
  await first.ok(["devices", "approve", deviceId as string]);
  return { device, id: deviceId as string };
}
