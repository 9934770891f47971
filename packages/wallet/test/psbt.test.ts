/**
 * PSBTs other wallets make, through `keyshard psbt sign` with a real provider: bitcoinjs-lib
 * builds a PSBT with another wallet's input, an input of a keyshard wallet, and unknown and
 * proprietary key-value pairs in its global map, inputs and outputs. keyshard signs its input
 * only and hands the PSBT back in base64 with every other pair byte for byte; bitcoinjs-lib adds
 * the other signature, finalizes and extracts, and bitcore-lib's interpreter accepts every input.
 * A PSBT all of whose inputs are the wallet's is finalized by default; a PSBT that is not read
 * strictly, or whose segwit v0 input lacks its previous transaction, is refused saying why.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { initEccLib, networks, Psbt, type Signer } from "bitcoinjs-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitcoinAddressScript, p2wpkhOutput } from "../../chains/src/index.js";
import { bitcoreVerdicts, funding } from "../../chains/test/bitcore.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { Wallet } from "../src/wallet.js";
import { BIN, type Device, firstDevice, PASSPHRASE } from "./cli.js";

const NETWORK = networks.regtest;
/** The other wallet: a key bitcoinjs-lib signs with. */
const FOREIGN_KEY = secp256k1.utils.randomSecretKey();
const FOREIGN = p2wpkhOutput(secp256k1.getPublicKey(FOREIGN_KEY), "regtest");
const foreignSigner: Signer = {
  publicKey: secp256k1.getPublicKey(FOREIGN_KEY),
  sign: (hash) => secp256k1.sign(hash, FOREIGN_KEY, { prehash: false }),
};
const BOB = p2wpkhOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()), "regtest").address;

/** A proprietary key (0xfc): identifier "acme", subtype 1, then key data. */
const proprietary = (data: number) => Uint8Array.of(0xfc, 4, 0x61, 0x63, 0x6d, 0x65, 1, data);
const UNKNOWN = {
  global: [
    { key: Uint8Array.of(0xf0, 1, 2), value: Uint8Array.of(0xaa, 0xbb) },
    { key: proprietary(0), value: Uint8Array.of(7, 7, 7) },
  ],
  input: (i: number) => [
    { key: Uint8Array.of(0xf1, i), value: Uint8Array.of(0xc0, i) },
    { key: proprietary(0x10 + i), value: Uint8Array.of(8, i) },
  ],
  output: [
    { key: Uint8Array.of(0xf2), value: new Uint8Array(0) },
    { key: proprietary(0x20), value: Uint8Array.of(9) },
  ],
};

/** Every unknown or proprietary pair of each map of a PSBT, as "key=value" hex. */
function extraPairs(psbt: Psbt) {
  const pairs = (list: { key: Uint8Array; value: Uint8Array }[] | undefined) =>
    (list ?? []).map((kv) => `${hex.encode(kv.key)}=${hex.encode(kv.value)}`).sort();
  return {
    global: pairs(psbt.data.globalMap.unknownKeyVals),
    inputs: psbt.data.inputs.map((i) => pairs(i.unknownKeyVals)),
    outputs: psbt.data.outputs.map((o) => pairs(o.unknownKeyVals)),
  };
}

interface Spent {
  script: Uint8Array;
  amount: bigint;
}

/**
 * A PSBT of bitcoinjs-lib's spending `inputs` (each proven by its previous transaction unless
 * `witnessOnly`), paying Bob and the rest less 2 000 sat back to the first input's script.
 */
function bitcoinjsPsbt(inputs: (Spent & { witnessOnly?: boolean })[]): Psbt {
  const psbt = new Psbt({ network: NETWORK });
  for (const input of inputs) {
    const { utxo, previous } = funding(input.script, input.amount);
    psbt.addInput({
      hash: utxo.txid,
      index: 0,
      witnessUtxo: { script: input.script, value: input.amount },
      ...(!input.witnessOnly && { nonWitnessUtxo: previous }),
    });
  }
  const total = inputs.reduce((s, i) => s + i.amount, 0n);
  psbt.addOutput({ address: BOB, value: 30_000n });
  psbt.addOutput({ script: (inputs[0] as Spent).script, value: total - 30_000n - 2_000n });
  for (const kv of UNKNOWN.global) psbt.addUnknownKeyValToGlobal(kv);
  inputs.forEach((_, i) => {
    for (const kv of UNKNOWN.input(i)) psbt.addUnknownKeyValToInput(i, kv);
  });
  for (const kv of UNKNOWN.output) psbt.addUnknownKeyValToOutput(0, kv);
  return psbt;
}

/** What bitcoinjs-lib asks of an ECC library for Taproot inputs, from @noble/curves. */
const { Point } = secp256k1;
const xOnly = (bytes: Uint8Array) => schnorr.utils.lift_x(BigInt(`0x${hex.encode(bytes)}`));
initEccLib({
  isXOnlyPoint(bytes) {
    try {
      return bytes.length === 32 && xOnly(bytes) !== undefined;
    } catch {
      return false;
    }
  },
  xOnlyPointAddTweak(bytes, tweak) {
    const t = BigInt(`0x${hex.encode(tweak)}`);
    if (t >= Point.Fn.ORDER) return null;
    const sum = xOnly(bytes).add(Point.BASE.multiplyUnsafe(t));
    if (sum.equals(Point.ZERO)) return null;
    const compressed = sum.toBytes(true);
    return { parity: compressed[0] === 3 ? 1 : 0, xOnlyPubkey: compressed.slice(1) };
  },
});

const validSignature = (pubkey: Uint8Array, digest: Uint8Array, signature: Uint8Array) =>
  signature.length === 64 && pubkey.length === 32
    ? schnorr.verify(signature, digest, pubkey)
    : secp256k1.verify(signature, digest, pubkey, { prehash: false });

/** Runs the command line with `input` on its stdin. */
function runWithStdin(device: Device, args: string[], input: string): Promise<{ code: number; stdout: string }> {
  const child = spawn(process.execPath, [BIN, "--home", device.home, ...args], {
    env: { ...process.env, KEYSHARD_PASSPHRASE: PASSPHRASE },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout })));
}

describe("keyshard psbt sign (regtest)", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let phone: Device;
  let ours: Spent;
  const file = (name: string) => join(phone.home, name);
  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url, KEYSHARD_TRIAL: "1" });
    phone = await firstDevice(provider.url, mailbox.mails, "erin@example.com");
    writeFileSync(
      file("policy.json"),
      JSON.stringify([{ name: "transfers", when: { action: ["transfer"] }, decision: "allow" }]),
    );
    await phone.ok(["wallet", "create", "--name", "btc", "--policy", file("policy.json")]);
    const { address } = await phone.ok(["address", "--wallet", "btc", "--chain", "bitcoin", "--network", "regtest"]);
    ours = { script: bitcoinAddressScript(String(address), "regtest"), amount: 50_000n };
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    phone?.remove();
  });

  const psbtSign = (...args: string[]) =>
    phone.ok(["psbt", "sign", ...args, "--wallet", "btc", "--network", "regtest"]);

  it("signs its input of a bitcoinjs-lib PSBT partially; bitcoinjs-lib adds the other, and the transaction verifies", async () => {
    const foreign = { script: FOREIGN.script, amount: 60_000n };
    const original = bitcoinjsPsbt([foreign, ours]);
    writeFileSync(file("mixed.psbt"), `${original.toBase64()}\n`);
    const reply = await psbtSign(file("mixed.psbt"), "--partial", "--out", file("mixed-signed.psbt"));
    expect(reply).toMatchObject({ finalized: false, signedInputs: [1], out: file("mixed-signed.psbt") });
    expect(reply.transaction).toBeUndefined();
    const written = readFileSync(file("mixed-signed.psbt"), "utf8");
    expect(written).toBe(`${(reply.psbt as { base64: string }).base64}\n`);
    const { hex: signedHex } = reply.psbt as { hex: string };
    expect(hex.encode(Buffer.from(written.trim(), "base64"))).toBe(signedHex);
    const signed = Psbt.fromBase64(written.trim(), { network: NETWORK });

    // Our input: a partial signature, not finalized.
    const input = signed.data.inputs[1];
    expect(input?.partialSig).toHaveLength(1);
    expect(input?.finalScriptWitness).toBeUndefined();
    expect(signed.validateSignaturesOfInput(1, validSignature)).toBe(true);
    // That pair is the only change: every other byte, unknown and proprietary pairs, their order
    // and the other wallet's input, is as bitcoinjs-lib wrote it.
    const { pubkey, signature } = (input?.partialSig ?? [])[0] as { pubkey: Uint8Array; signature: Uint8Array };
    const pair = hex.encode(Uint8Array.of(34, 0x02, ...pubkey, signature.length, ...signature));
    expect(signedHex.split(pair)).toHaveLength(2);
    expect(signedHex.replace(pair, "")).toBe(original.toHex());
    expect(extraPairs(signed)).toEqual(extraPairs(original));
    expect(extraPairs(signed).inputs[1]).toHaveLength(2);
    expect(signed.data.inputs[0]).toEqual(original.data.inputs[0]);

    signed.signInput(0, foreignSigner);
    expect(signed.validateSignaturesOfInput(0, validSignature)).toBe(true);
    signed.finalizeAllInputs();
    const tx = signed.extractTransaction();
    expect(bitcoreVerdicts(tx.toBuffer(), [foreign, ours])).toEqual([true, true]);
  });

  it("will not finalize a PSBT whose other inputs are not final: it says to sign partially", async () => {
    writeFileSync(file("mixed.hex"), bitcoinjsPsbt([{ script: FOREIGN.script, amount: 60_000n }, ours]).toHex());
    const refused = await phone.run([
      ...["psbt", "sign", file("mixed.hex"), "--wallet", "btc", "--network", "regtest", "--yes", "--json"],
    ]);
    expect(refused.code).toBe(2);
    expect(refused.json).toMatchObject({ error: "usage", parameter: "finalize", option: "--partial", input: 0 });
    expect(refused.json.message).toMatch(/input 0 belongs to another wallet.*\(--partial\)/);
  });

  it("finalizes a PSBT of its own inputs by default: the transaction verifies and the PSBT keeps its pairs", async () => {
    const original = bitcoinjsPsbt([ours]);
    // Binary in, upper-case hex in: the same PSBT.
    writeFileSync(file("own.bin"), original.toBuffer());
    const reply = await psbtSign(file("own.bin"));
    expect(reply).toMatchObject({ finalized: true, signedInputs: [0] });
    const raw = hex.decode(String(reply.transaction));
    expect(bitcoreVerdicts(raw, [ours])).toEqual([true]);
    const final = Psbt.fromBase64((reply.psbt as { base64: string }).base64, { network: NETWORK });
    expect(final.data.inputs[0]?.finalScriptWitness).toBeDefined();
    expect(extraPairs(final)).toEqual(extraPairs(original));
    expect(final.extractTransaction().getId()).toBe(reply.transactionId);

    writeFileSync(file("own.hex"), original.toHex().toUpperCase());
    expect(await psbtSign(file("own.hex"))).toMatchObject({ finalized: true, signedInputs: [0] });
  });

  it("reads the PSBT from stdin with --yes, and not without", async () => {
    const base64 = bitcoinjsPsbt([ours]).toBase64();
    const args = ["psbt", "sign", "-", "--wallet", "btc", "--network", "regtest", "--json"];
    const piped = await runWithStdin(phone, [...args, "--yes"], base64);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ finalized: true, signedInputs: [0] });
    const unasked = await runWithStdin(phone, args, base64);
    expect(unasked.code).toBe(2);
    expect(JSON.parse(unasked.stdout).message).toMatch(/no stdin to confirm on: give --yes/);
  });

  it("refuses a PSBT that is not canonical base64 or hex, or not a PSBT, before anything is signed", async () => {
    const base64 = bitcoinjsPsbt([ours]).toBase64();
    for (const [text, message] of [
      [`${base64.slice(0, 30)}\n${base64.slice(30)}`, /canonical base64/],
      [base64.replace(/=+$/, "").slice(0, -1), /canonical base64/],
      [`${base64.slice(0, 12)}-${base64.slice(13)}`, /canonical base64/],
      [Buffer.from("a transaction").toString("hex"), /hex given is not a PSBT/],
    ] as const) {
      writeFileSync(file("bad.psbt"), text);
      const refused = await phone.run(["psbt", "sign", file("bad.psbt"), "--wallet", "btc", "--json", "--yes"]);
      expect(refused.code).toBe(2);
      expect(refused.json).toMatchObject({ error: "usage", parameter: "psbt" });
      expect(refused.json.message).toMatch(message);
    }
  });

  it("refuses its segwit v0 input given with only its witnessUtxo, saying why and what to add", async () => {
    writeFileSync(file("witness-only.psbt"), bitcoinjsPsbt([{ ...ours, witnessOnly: true }]).toBase64());
    const refused = await phone.run([
      ...["psbt", "sign", file("witness-only.psbt"), "--wallet", "btc", "--network", "regtest", "--json", "--yes"],
    ]);
    expect(refused.code).toBe(1);
    expect(refused.json.error).toBe("chain-unsupported");
    expect(refused.json.message).toMatch(/only its witnessUtxo.*BIP143.*hide a fee.*nonWitnessUtxo/);
  });

  it("the SDK takes base64 where it takes hex, returns both, and checks `finalize`", async () => {
    const wallet = await Wallet.open(phone.home, PASSPHRASE);
    const original = bitcoinjsPsbt([{ script: FOREIGN.script, amount: 60_000n }, ours]);
    const outcome = await wallet.signPsbt("btc", { psbt: original.toBase64(), network: "regtest", finalize: false });
    expect(outcome).toMatchObject({ finalized: false, signedInputs: [1] });
    expect(outcome.psbt.hex).toBe(hex.encode(Buffer.from(outcome.psbt.base64, "base64")));
    expect(Psbt.fromHex(outcome.psbt.hex).data.inputs[1]?.partialSig).toHaveLength(1);
    // A PSBT of its own inputs, which "no" (truthy) would have finalized.
    await expect(
      wallet.signPsbt("btc", { psbt: bitcoinjsPsbt([ours]).toBase64(), network: "regtest", finalize: "no" as never }),
    ).rejects.toMatchObject({
      code: "usage",
      message: "`finalize` is true or false",
      details: { parameter: "finalize" },
    });
    // A sign request's payload, too: the signatures for a base64 PSBT are those of its hex.
    const { signatures } = await wallet.sign("btc", {
      chain: "bitcoin",
      network: "regtest",
      payload: bitcoinjsPsbt([ours]).toBase64(),
    });
    expect(signatures).toHaveLength(1);
    await expect(
      wallet.sign("btc", { chain: "bitcoin", network: "regtest", payload: `${original.toBase64()}A` }),
    ).rejects.toMatchObject({ code: "usage", details: { parameter: "payload" } });
  });

  it("a held PSBT signed with `finalize: false` is resumed unfinalized, for the other signer to finish", async () => {
    writeFileSync(
      file("slow.json"),
      JSON.stringify([{ name: "cooling", when: { chain: ["bitcoin"] }, decision: "delay", delaySeconds: 2 }]),
    );
    await phone.ok(["wallet", "create", "--name", "slow", "--policy", file("slow.json")]);
    const { address } = await phone.ok(["address", "--wallet", "slow", "--chain", "bitcoin", "--network", "regtest"]);
    const slow = { script: bitcoinAddressScript(String(address), "regtest"), amount: 40_000n };
    const foreign = { script: FOREIGN.script, amount: 60_000n };
    const original = bitcoinjsPsbt([foreign, slow]);
    const wallet = await Wallet.open(phone.home, PASSPHRASE);
    const held = await wallet.signPsbt("slow", { psbt: original.toBase64(), network: "regtest", finalize: false }).then(
      () => expect.unreachable("signed at once"),
      (e: { code: string; details: { requestId: string } }) => e,
    );
    expect(held.code).toBe("held");
    await new Promise((r) => setTimeout(r, 3_000));
    const outcome = await wallet.resume(held.details.requestId);
    expect(outcome).toMatchObject({ requestId: held.details.requestId, finalized: false });
    const signed = Psbt.fromBase64(outcome.signed, { network: NETWORK });
    expect(signed.data.inputs[1]?.partialSig).toHaveLength(1);
    expect(signed.data.inputs[1]?.finalScriptWitness).toBeUndefined();
    expect(signed.data.inputs[0]).toEqual(original.data.inputs[0]);
    signed.signInput(0, foreignSigner);
    signed.finalizeAllInputs();
    expect(bitcoreVerdicts(signed.extractTransaction().toBuffer(), [foreign, slow])).toEqual([true, true]);
  });

  it("a Taproot wallet adds tap_key_sig to its input; bitcoinjs-lib finishes the PSBT", async () => {
    await phone.ok(["wallet", "create", "--name", "tap", "--scheme", "frost-taproot", "--policy", file("policy.json")]);
    const { address } = await phone.ok(["address", "--wallet", "tap", "--chain", "bitcoin", "--network", "regtest"]);
    const tap = { script: bitcoinAddressScript(String(address), "regtest"), amount: 70_000n, witnessOnly: true };
    const foreign = { script: FOREIGN.script, amount: 60_000n };
    const original = bitcoinjsPsbt([foreign, tap]);
    writeFileSync(file("tap.psbt"), original.toBase64());
    const reply = await phone.ok([
      ...["psbt", "sign", file("tap.psbt"), "--wallet", "tap", "--network", "regtest", "--partial"],
    ]);
    expect(reply).toMatchObject({ finalized: false, signedInputs: [1] });
    const signed = Psbt.fromBase64((reply.psbt as { base64: string }).base64, { network: NETWORK });
    const { tapKeySig, tapInternalKey, partialSig } = signed.data.inputs[1] ?? {};
    expect(tapKeySig).toHaveLength(64);
    expect(partialSig).toBeUndefined();
    expect(signed.validateSignaturesOfInput(1, validSignature)).toBe(true);
    // tap_key_sig and the internal key the PSBT lacked are the only change.
    const added = [
      Uint8Array.of(1, 0x13, 64, ...(tapKeySig as Uint8Array)),
      Uint8Array.of(1, 0x17, 32, ...(tapInternalKey as Uint8Array)),
    ];
    expect(
      added.reduce(
        (h, pair) => h.replace(hex.encode(pair), ""),
        String(reply.psbt && (reply.psbt as { hex: string }).hex),
      ),
    ).toBe(original.toHex());
    expect(extraPairs(signed)).toEqual(extraPairs(original));
    expect(signed.data.inputs[0]).toEqual(original.data.inputs[0]);

    signed.signInput(0, foreignSigner);
    signed.finalizeAllInputs();
    const tx = signed.extractTransaction();
    expect(bitcoreVerdicts(tx.toBuffer(), [foreign, tap])).toEqual([true, true]);
  });
});
