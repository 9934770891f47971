/**
 * The provider's reading of a sign request goes through the chain adapters the devices use: its
 * messages to sign are the adapter's digests, byte for byte, for every kind; what it keeps and
 * shows of each kind is unchanged; refusals keep their codes, and typed data bound to another
 * chain than the request's is refused here exactly as on the device.
 */
import { adapterOf, parseSigningRequest, type SigningRequest } from "@keyshard/chains";
import { bitcoinKeys, runLocal, type SchemeName, type Share, scheme } from "@keyshard/mpc";
import { bytesToHex } from "@noble/hashes/utils.js";
import { beforeAll, describe, expect, it } from "vitest";
import { MAIL_TYPED_DATA } from "../../chains/test/fixtures/typed-data.js";
import { ProviderError } from "../src/errors.js";
import { parseSignRequest, readSignRequest } from "../src/requests/read.js";

const text = (s: string) => bytesToHex(new TextEncoder().encode(s));

function keygen(name: SchemeName): Share {
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const [share] = runLocal([scheme(name).keygen(sid, 0), scheme(name).keygen(sid, 1)]);
  return share as Share;
}

const refusal = (read: () => unknown): ProviderError => {
  try {
    read();
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("readSignRequest", () => {
  let ecdsa: Share;
  let taproot: Share;
  beforeAll(() => {
    ecdsa = keygen("dkls23");
    taproot = keygen("frost-taproot");
  });

  const adapterDigests = (name: SchemeName, share: Share, request: SigningRequest) =>
    adapterOf(request.chain).digests(request, {
      algorithm: scheme(name).algorithm,
      publicKey: scheme(name).publicKey(share, request.path),
      bitcoin: bitcoinKeys(name, share, request.path),
    });

  it("signs what the adapter digests, and keeps and shows each kind as before", () => {
    const message: SigningRequest = { kind: "message", chain: "ethereum", payload: text("hi"), path: "m/1" };
    const read = readSignRequest("dkls23", ecdsa, message);
    expect(read.toSign).toEqual(adapterDigests("dkls23", ecdsa, message));
    expect(read.facts).toEqual({ kind: "message", chain: "ethereum" });
    expect(read.summary).toMatchObject({ kind: "message", chain: "ethereum", shown: "hi", bytes: message.payload });
    expect(bytesToHex(read.payload)).toBe(message.payload);

    const typed: SigningRequest = { kind: "typed-data", chain: "ethereum", typedData: MAIL_TYPED_DATA, chainId: 1 };
    const readTyped = readSignRequest("dkls23", ecdsa, typed);
    expect(readTyped.toSign).toEqual(adapterDigests("dkls23", ecdsa, typed));
    expect(readTyped.summary).toMatchObject({ kind: "typed-data", chain: "ethereum", primaryType: "Mail" });
    expect(new TextDecoder().decode(readTyped.payload)).toBe(JSON.stringify(MAIL_TYPED_DATA));

    const hash: SigningRequest = { kind: "raw-hash", chain: "solana", payload: "cd".repeat(32) };
    const readHash = readSignRequest("dkls23", ecdsa, hash);
    expect(readHash.toSign).toEqual([{ message: new Uint8Array(32).fill(0xcd) }]);
    expect(readHash.summary).toEqual({ kind: "raw-hash", chain: "solana", hash: hash.payload });

    const bip322: SigningRequest = { kind: "message", chain: "bitcoin", payload: text("hi"), network: "regtest" };
    const readBip322 = readSignRequest("frost-taproot", taproot, bip322);
    expect(readBip322.toSign).toEqual(adapterDigests("frost-taproot", taproot, bip322));
    expect(readBip322.summary).toMatchObject({ chain: "bitcoin", address: expect.stringMatching(/^bcrt1p/) });
  });

  it("refuses typed data for another chain than the request's, and keeps refusals' codes", () => {
    const wrongChain = refusal(() =>
      readSignRequest("dkls23", ecdsa, {
        kind: "typed-data",
        chain: "ethereum",
        typedData: MAIL_TYPED_DATA,
        chainId: 5,
      }),
    );
    expect(wrongChain).toMatchObject({ kind: "invalid", code: "transaction-wrong-network" });
    for (const request of [
      { kind: "typed-data", chain: "ethereum" },
      { kind: "raw-hash", chain: "ethereum", payload: "ab" },
      { kind: "message", chain: "solana", payload: "00" },
      { chain: "ethereum", payload: "02c0" },
      { chain: "bitcoin", payload: "70736274ff" },
      { chain: "solana", payload: "00" },
    ] as SigningRequest[])
      expect(refusal(() => readSignRequest("dkls23", ecdsa, request))).toMatchObject({ code: "invalid-request" });
    expect(
      refusal(() => readSignRequest("dkls23", ecdsa, { chain: "ethereum", payload: "02c0", chainId: 1 })),
    ).toMatchObject({
      code: "transaction-malformed",
    });
  });

  it("reads a body's request with the devices' parser, and what it refuses is the client's mistake, in its words", () => {
    const typed = { kind: "typed-data", chain: "ethereum", typedData: MAIL_TYPED_DATA, chainId: 1 };
    expect(parseSignRequest(typed)).toEqual(parseSigningRequest(typed));
    const parserWords = (body: unknown) => {
      try {
        parseSigningRequest(body);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    for (const body of [
      null,
      { chain: "ethereum", totp: "123456" },
      { chain: "dogecoin" },
      { chain: "solana", payload: "AB" },
    ])
      expect(refusal(() => parseSignRequest(body))).toMatchObject({
        kind: "invalid",
        code: "invalid-request",
        message: parserWords(body),
      });
  });
});
