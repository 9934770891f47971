/** Questions to the person at the terminal: the passphrase (not echoed), lines, and whether to sign. */
import { createInterface } from "node:readline";
import { WalletError } from "../errors.js";

/** KEYSHARD_PASSPHRASE, or asked on the terminal without echo. */
export async function readPassphrase(prompt = "passphrase: "): Promise<string> {
  const fromEnv = process.env.KEYSHARD_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY)
    throw new WalletError("usage", "no passphrase: set KEYSHARD_PASSPHRASE or run in a terminal to be asked");
  const stdin = process.stdin;
  // Echo off before the prompt shows: what is typed once it shows is never printed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
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

/**
 * The passphrase of a new keystore: KEYSHARD_PASSPHRASE, or asked twice on the terminal, because
 * a mistyped one would lock the keystore for good. Two different answers make nothing.
 */
export async function readNewPassphrase(ask: (prompt: string) => Promise<string> = readPassphrase): Promise<string> {
  const fromEnv = process.env.KEYSHARD_PASSPHRASE;
  if (fromEnv !== undefined) return fromEnv;
  const first = await ask("new passphrase: ");
  if ((await ask("the same passphrase again: ")) !== first)
    throw new WalletError("usage", "the two passphrases differ; nothing was created: run keyshard init again");
  return first;
}

/**
 * "sign this? [y/N]" on stdin, a terminal or a pipe alike: a script that pipes into keyshard is
 * asked too, and only "y" or "yes" signs. A closed stdin is a refusal (a typed usage error,
 * exit 2), never a yes: whoever wants no question says so with --yes.
 */
export async function askToSign(): Promise<boolean> {
  let answer: string;
  try {
    answer = await askLine("sign this? [y/N] ");
  } catch (e) {
    throw new WalletError(
      "usage",
      'nothing was signed: "sign this?" got no answer (stdin is closed); answer y on stdin, or pass --yes to sign without being asked',
      {},
      { cause: e },
    );
  }
  return /^y(es)?$/i.test(answer);
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
