/**
 * bitcore-lib, an independent Bitcoin implementation, as the judge of keyshard's spends: its
 * script interpreter with Bitcoin Core's standard flags checks every input of a transaction.
 */
import { hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import bitcore from "bitcore-lib";
import type { SpendableOutput } from "../src/index.js";

const I = bitcore.Script.Interpreter;
/**
 * Bitcoin Core's STANDARD_SCRIPT_VERIFY_FLAGS as far as bitcore implements them, less CLEANSTACK:
 * bitcore applies that check to the stack left by the (empty) scriptSig of a native witness
 * spend and so fails every one. Witness scripts still must leave a clean stack, which is a
 * consensus rule bitcore checks inside its witness-program verification.
 */
const STANDARD_FLAGS = [
  "P2SH",
  "STRICTENC",
  "DERSIG",
  "LOW_S",
  "NULLDUMMY",
  "MINIMALDATA",
  "DISCOURAGE_UPGRADABLE_NOPS",
  "CHECKLOCKTIMEVERIFY",
  "CHECKSEQUENCEVERIFY",
  "WITNESS",
  "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM",
  "MINIMALIF",
  "NULLFAIL",
  "WITNESS_PUBKEYTYPE",
  "CONST_SCRIPTCODE",
  "TAPROOT",
].reduce((flags, name) => flags | (I[`SCRIPT_VERIFY_${name}`] as number), 0);

/** bitcore's verdict on every input of a raw transaction, given the outputs it spends. */
export function bitcoreVerdicts(
  raw: Uint8Array,
  spent: readonly { script: Uint8Array; amount: bigint }[],
): (string | true)[] {
  const tx = new bitcore.Transaction(hex.encode(raw));
  tx.inputs.forEach((input, i) => {
    const prev = spent[i] as { script: Uint8Array; amount: bigint };
    input.output = new bitcore.Transaction.Output({
      script: bitcore.Script.fromBuffer(Buffer.from(prev.script)),
      satoshis: Number(prev.amount),
    });
  });
  return tx.inputs.map((input, i) => {
    const interpreter = new I();
    const prev = spent[i] as { script: Uint8Array; amount: bigint };
    const ok = interpreter.verify(
      input.script,
      bitcore.Script.fromBuffer(Buffer.from(prev.script)),
      tx,
      i,
      STANDARD_FLAGS,
      input.getWitnesses(),
      Number(prev.amount),
    );
    return ok || interpreter.errstr;
  });
}

/** A transaction paying `amount` to `script`, standing in for the coins the wallet received. */
export function funding(script: Uint8Array, amount: bigint, vout = 0): { utxo: SpendableOutput; previous: Uint8Array } {
  const tx = new Transaction({ allowUnknownInputs: true });
  tx.addInput({ txid: crypto.getRandomValues(new Uint8Array(32)), index: 0 });
  for (let i = 0; i < vout; i++) tx.addOutput({ script, amount: 1000n + BigInt(i) });
  tx.addOutput({ script, amount });
  return {
    utxo: { txid: tx.id, vout, amount, script, previousTransaction: tx.unsignedTx },
    previous: tx.unsignedTx,
  };
}
