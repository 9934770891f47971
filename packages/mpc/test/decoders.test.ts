/**
 * Decoder fuzzing: random bytes and randomly mutated valid encodings, fed to every decoder of
 * local data (shares, saved states, pre-signatures) and to every protocol round as messages.
 * Each must either decode or throw a ProtocolAbort — never another error, never a hang.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DklsShare, dkls23, type Presignature } from "../src/dkls23/index.js";
import { FrostShare, frost } from "../src/frost/index.js";
import { type Msg, type Party, ProtocolAbort } from "../src/session/party.js";
import { asAnotherProcess } from "../src/session/round-party.js";
import { runLocal } from "../src/session/run-local.js";
import { newSid } from "./helpers.js";

const TRIALS = 60;

function mutate(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, Math.max(0, bytes.length - Math.floor(Math.random() * 3)));
  for (let k = 0; k < 1 + Math.floor(Math.random() * 4); k++) {
    const pos = Math.floor(Math.random() * Math.max(1, out.length));
    if (out.length) out[pos] = crypto.getRandomValues(new Uint8Array(1))[0] as number;
  }
  return out;
}

/** Runs `decode` on random and mutated inputs: a result or a ProtocolAbort, nothing else. */
function fuzz(valid: Uint8Array, decode: (bytes: Uint8Array) => unknown): void {
  const inputs = [
    new Uint8Array(0),
    ...Array.from({ length: TRIALS / 2 }, () =>
      crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 300))),
    ),
    ...Array.from({ length: TRIALS / 2 }, () => mutate(valid)),
  ];
  for (const input of inputs) {
    try {
      decode(input);
    } catch (e) {
      expect(e, (e as Error).stack).toBeInstanceOf(ProtocolAbort);
    }
  }
}

/** Feeds random and mutated payloads to a party waiting for round `from`'s messages. */
function fuzzRound(makeParty: () => Party<unknown>, valid: Msg[]): void {
  for (let k = 0; k < TRIALS / 2; k++) {
    const msgs = valid.map((m) => ({
      ...m,
      payload: k % 2 ? mutate(m.payload) : crypto.getRandomValues(new Uint8Array(64)),
    }));
    // Each trial is a party of its own in the same session, as only another process could run.
    asAnotherProcess(() => {
      try {
        makeParty().handle(msgs);
      } catch (e) {
        expect(e, (e as Error).stack).toBeInstanceOf(ProtocolAbort);
      }
    });
  }
}

describe("decoders refuse garbage with a ProtocolAbort", () => {
  let frostShares: FrostShare[];
  let dklsShares: DklsShare[];
  beforeAll(() => {
    const sid = newSid();
    frostShares = runLocal([0, 1].map((index) => frost.secp256k1tr.keygen({ sid, index, n: 2, t: 2 })));
    const sid2 = newSid();
    dklsShares = runLocal([0, 1].map((index) => dkls23.keygen({ sid: sid2, index, n: 2, t: 2 })));
  });

  it("stored shares", () => {
    fuzz((frostShares[0] as FrostShare).toBytes(), FrostShare.fromBytes);
    fuzz((dklsShares[0] as DklsShare).toBytes(), DklsShare.fromBytes);
  });

  it("saved states and pre-signatures", () => {
    const sid = newSid();
    const signers = [0, 1];
    const message = new Uint8Array(32);
    const fs = frost.secp256k1tr.sign(frostShares[0] as FrostShare, { sid, message, signers });
    fs.start();
    fuzz(fs.save(), (b) => frost.secp256k1tr.restoreSign(frostShares[0] as FrostShare, b));
    const ds = dkls23.sign(dklsShares[0] as DklsShare, { sid, messageHash: message, signers });
    ds.start();
    fuzz(ds.save(), (b) => dkls23.restoreSign(dklsShares[0] as DklsShare, b));
    const kg = dkls23.keygen({ sid, index: 0, n: 2, t: 2 });
    kg.start();
    fuzz(kg.save(), (b) => dkls23.restoreKeygen(b));
    const presignSid = newSid();
    const pres = runLocal(dklsShares.map((s) => dkls23.presign(s, { sid: presignSid, signers })));
    fuzz(dkls23.presignatureToBytes(pres[0] as Presignature), dkls23.presignatureFromBytes);
  });

  it("protocol messages, at the first round of each protocol", () => {
    const sid = newSid();
    const signers = [0, 1];
    const message = new Uint8Array(32);
    const signRound1 = frost.secp256k1tr.sign(frostShares[1] as FrostShare, { sid, message, signers }).start();
    fuzzRound(() => {
      const p = frost.secp256k1tr.sign(frostShares[0] as FrostShare, { sid, message, signers });
      p.start();
      return p;
    }, signRound1);
    const dklsRound1 = dkls23.sign(dklsShares[1] as DklsShare, { sid, messageHash: message, signers }).start();
    fuzzRound(() => {
      // A fresh copy each time: garbage that fails the OT-extension check bans the sender.
      const copy = DklsShare.fromBytes((dklsShares[0] as DklsShare).toBytes());
      const p = dkls23.sign(copy, { sid, messageHash: message, signers });
      p.start();
      return p;
    }, dklsRound1);
  });
});
