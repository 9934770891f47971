/** Questions to the person at the terminal: the passphrase (not echoed) and yes/no. */
import { createInterface } from "node:readline";
import { WalletError } from "../errors.js";

/** KEYSHARD_PASSPHRASE, or asked on the terminal without echo. */
export async function readPassphrase(prompt = "passphrase: "): Promise<string> {
  const fromEnv = process.env.KEYSHARD_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY)
    throw new WalletError("usage", "no passphrase: set KEYSHARD_PASSPHRASE or run in a terminal to be asked");
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          done();
          return resolve(text);
        }
        if (char === "\u0003") {
          done();
          return reject(new WalletError("usage", "cancelled"));
        }
        text = char === "\u007f" ? text.slice(0, -1) : text + char;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

export async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** One line from stdin (a terminal or a pipe), after `question` on stderr. */
export async function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write(question);
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.once("line", resolve);
    rl.once("close", () => resolve(undefined));
  });
  rl.close();
  if (answer === undefined) throw new WalletError("usage", "no answer: stdin was closed");
  return answer.trim();
}
