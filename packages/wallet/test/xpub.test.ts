/**
 * A threshold wallet's extended public key, read by libraries keyshard did not write: @scure/bip32
 * and ethers parse the xpub (tpub) the SDK exports, and the children they derive have, encoded by
 * bitcoinjs-lib and viem, exactly the addresses the SDK gives at the same paths — for a hybrid
 * ECDSA wallet, a hybrid Taproot one and a 2-of-2 wallet of two devices. `watchOnly` derives the
 * same ones, and so does `keyshard address --xpub`. Hardened paths and Ed25519 wallets have none.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BitcoinNetwork, watchOnly } from "@keyshard/chains";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { HDKey } from "@scure/bip32";
import { initEccLib, networks, payments } from "bitcoinjs-lib";
import { HDNodeWallet } from "ethers";
import * as ecc from "tiny-secp256k1";
import { publicKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { WalletError } from "../src/errors.js";
import { Wallet } from "../src/wallet.js";
import { BIN } from "./cli.js";

const PASSPHRASE = "correct horse battery staple";
const EMAIL = "watch@example.com";
const TPUB = { private: 0x04358394, public: 0x043587cf };
const PATHS = ["m/0/0", "m/0/5", "m/1/2147483647"];

initEccLib(ecc);

/** bitcoinjs-lib's networks by keyshard's names. */
const BITCOINJS = { mainnet: networks.bitcoin, testnet: networks.testnet, regtest: networks.regtest };

/** The addresses of `key` (33 bytes) as bitcoinjs-lib and viem encode them. */
function independentAddresses(key: Uint8Array, network: BitcoinNetwork) {
  const uncompressed = secp256k1.Point.fromBytes(key).toBytes(false);
  return {
    p2wpkh: payments.p2wpkh({ pubkey: key, network: BITCOINJS[network] }).address,
    p2tr: payments.p2tr({ internalPubkey: key.subarray(1), network: BITCOINJS[network] }).address,
    ethereum: publicKeyToAddress(`0x${bytesToHex(uncompressed)}`),
  };
}

/** The real `keyshard` bin with --json: its exit code and what it printed. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [BIN, "--json", ...args], { env: { ...process.env, ...env } }, (error, stdout) => {
      try {
        resolve({ code: error === null ? 0 : Number(error.code), json: JSON.parse(stdout) });
      } catch (e) {
        reject(new Error(`keyshard ${args.join(" ")} printed no JSON: ${stdout}`, { cause: e }));
      }
    }),
  );
}

async function refusal(work: () => unknown): Promise<WalletError> {
  try {
    await work();
  } catch (e) {
    expect(e).toBeInstanceOf(WalletError);
    return e as WalletError;
  }
  throw new Error("expected a WalletError");
}

describe("a threshold wallet's extended public key", () => {
  let provider: TestProvider;
  const homes: string[] = [];
  let phoneHome: string;
  let phone: Wallet;
  let laptop: Wallet;

  beforeAll(async () => {
    provider = await startTestProvider("pglite", { accountChangeDelayMs: 0 });
    const newHome = () => {
      const home = mkdtempSync(join(tmpdir(), "keyshard-xpub-"));
      homes.push(home);
      return home;
    };
    phoneHome = newHome();
    [phone, laptop] = await Promise.all([
      Wallet.init(phoneHome, PASSPHRASE, { name: "phone" }),
      Wallet.init(newHome(), PASSPHRASE, { name: "laptop" }),
    ]);
    await phone.register(provider.url, EMAIL);
    await phone.verify(await mailedCode(provider.mails, EMAIL, 1));
    await laptop.register(provider.url, EMAIL);
    await laptop.verify(await mailedCode(provider.mails, EMAIL, 2));
    await phone.approveDevice(laptop.deviceId);
    await phone.createWallet({ name: "hot" });
    await phone.createWallet({ name: "tap", scheme: "frost-taproot" });
    await phone.createWallet({ name: "sol", scheme: "frost-ed25519" });
    const joined = (async () => {
      for (let i = 0; i < 100; i++) {
        if ((await laptop.joinPendingWallets()).length > 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the laptop never joined the key generation");
    })();
    await phone.createWallet({ name: "pair", devices: [laptop.deviceId], n: 2 });
    await joined;
  }, 120_000);
  afterAll(async () => {
    await provider?.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  it("is a depth-0 xpub at the root, whose children @scure/bip32 and ethers derive to the SDK's addresses", () => {
    const xpub = phone.xpub("hot").xpub;
    expect(xpub).toMatch(/^xpub/);
    const root = HDKey.fromExtendedKey(xpub);
    expect([root.depth, root.parentFingerprint, root.index]).toEqual([0, 0, 0]);
    expect(bytesToHex(root.publicKey as Uint8Array)).toBe(phone.find("hot").publicKey);
    const ethersRoot = HDNodeWallet.fromExtendedKey(xpub);
    for (const path of PATHS) {
      const child = root.derive(path).publicKey as Uint8Array;
      const expected = independentAddresses(child, "mainnet");
      expect(phone.address("hot", "bitcoin", { path })).toBe(expected.p2wpkh);
      expect(phone.address("hot", "ethereum", { path })).toBe(expected.ethereum);
      expect(ethersRoot.derivePath(path.slice(2)).address).toBe(expected.ethereum);
      expect(watchOnly(xpub).address("bitcoin", path, { type: "p2wpkh" })).toBe(expected.p2wpkh);
      expect(watchOnly(xpub).address("ethereum", path, { algorithm: "ecdsa" })).toBe(expected.ethereum);
    }
  });

  it("below the root, names its depth, parent and child number as BIP32 does", () => {
    const root = HDKey.fromExtendedKey(phone.xpub("hot").xpub);
    const xpub = phone.xpub("hot", { path: "m/0" }).xpub;
    const node = HDKey.fromExtendedKey(xpub);
    expect([node.depth, node.parentFingerprint, node.index]).toEqual([1, root.fingerprint, 0]);
    expect(node.publicExtendedKey).toBe(root.derive("m/0").publicExtendedKey);
    const deeper = HDKey.fromExtendedKey(phone.xpub("hot", { path: "m/1/2147483647/3" }).xpub);
    expect([deeper.depth, deeper.parentFingerprint, deeper.index]).toEqual([
      3,
      root.derive("m/1/2147483647").fingerprint,
      3,
    ]);
    const expected = independentAddresses(node.derive("m/5").publicKey as Uint8Array, "mainnet");
    expect(phone.address("hot", "bitcoin", { path: "m/0/5" })).toBe(expected.p2wpkh);
    expect(watchOnly(xpub).address("bitcoin", "5", { type: "p2wpkh" })).toBe(expected.p2wpkh);
    expect(HDNodeWallet.fromExtendedKey(xpub).derivePath("5").address).toBe(expected.ethereum);
  });

  it("is a tpub on testnet and regtest, whose children have the SDK's testnet and regtest addresses", () => {
    const tpub = phone.xpub("hot", { network: "regtest" }).xpub;
    expect(tpub).toMatch(/^tpub/);
    expect(phone.xpub("hot", { network: "testnet" }).xpub).toBe(tpub);
    const root = HDKey.fromExtendedKey(tpub, TPUB);
    for (const network of ["testnet", "regtest"] as const)
      for (const path of PATHS) {
        const expected = independentAddresses(root.derive(path).publicKey as Uint8Array, network);
        expect(phone.address("hot", "bitcoin", { path, network })).toBe(expected.p2wpkh);
        expect(watchOnly(tpub).address("bitcoin", path, { type: "p2wpkh", network })).toBe(expected.p2wpkh);
      }
  });

  it("of a Taproot wallet gives its P2TR addresses (BIP86 from each child), and no Ethereum one", async () => {
    const exported = phone.xpub("tap");
    expect(exported).toEqual({ xpub: exported.xpub, algorithm: "bip340", chains: ["bitcoin"], bitcoinType: "p2tr" });
    const { xpub, algorithm } = exported;
    const root = HDKey.fromExtendedKey(xpub);
    for (const path of PATHS) {
      const expected = independentAddresses(root.derive(path).publicKey as Uint8Array, "mainnet");
      expect(phone.address("tap", "bitcoin", { path })).toBe(expected.p2tr);
      expect(watchOnly(xpub).address("bitcoin", path, { type: "p2tr" })).toBe(expected.p2tr);
      expect(watchOnly(xpub).address("bitcoin", path, { algorithm })).toBe(expected.p2tr);
      // The wallet signs BIP-340 only: the ECDSA address of its key is one it could not spend from.
      expect(() => watchOnly(xpub).address("ethereum", path, { algorithm })).toThrow(
        /bip340 key has no ethereum address/,
      );
    }
    expect((await refusal(() => phone.address("tap", "ethereum"))).message).toMatch(
      /frost-taproot key, which has no ethereum address/,
    );
    expect(phone.xpub("hot")).toMatchObject({
      algorithm: "ecdsa",
      chains: ["ethereum", "bitcoin"],
      bitcoinType: "p2wpkh",
    });
  });

  it("is the same on both devices of a 2-of-2 wallet, and gives the addresses both sign for", () => {
    const xpub = phone.xpub("pair", { path: "m/2" }).xpub;
    expect(laptop.xpub("pair", { path: "m/2" }).xpub).toBe(xpub);
    const node = HDKey.fromExtendedKey(xpub);
    const expected = independentAddresses(node.derive("m/9").publicKey as Uint8Array, "mainnet");
    for (const wallet of [phone, laptop]) {
      expect(wallet.address("pair", "bitcoin", { path: "m/2/9" })).toBe(expected.p2wpkh);
      expect(wallet.address("pair", "ethereum", { path: "m/2/9" })).toBe(expected.ethereum);
    }
  });

  it("refuses a hardened path, saying why a threshold wallet has no such child", async () => {
    const e = await refusal(() => phone.xpub("hot", { path: "m/84'/0'/0'" }));
    expect(e.code).toBe("usage");
    expect(e.details).toEqual({ parameter: "path" });
    expect(e.message).toMatch(/hardened step "84'" .* private key, which a threshold key never has whole/);
  });

  it("the SDK's addresses refuse a hardened path as the caller's mistake, naming `path`", async () => {
    for (const chain of ["ethereum", "bitcoin"] as const) {
      const e = await refusal(() => phone.address("hot", chain, { path: "m/0'" }));
      expect([e.code, e.details]).toEqual(["usage", { parameter: "path" }]);
      expect(e.message).toMatch(/^`path`: hardened step "0'"/);
    }
  });

  it("does not exist for an Ed25519 (Solana) wallet", async () => {
    const e = await refusal(() => phone.xpub("sol"));
    expect(e.code).toBe("usage");
    expect(e.message).toMatch(/frost-ed25519 key, which has no extended public key/);
  });

  it("refuses a path that is not text, a network other than Bitcoin's three, and a wallet this device does not have", async () => {
    const e = await refusal(() => phone.xpub("hot", { network: "signet" as BitcoinNetwork }));
    expect([e.code, e.details.parameter]).toEqual(["usage", "network"]);
    const path = await refusal(() => phone.xpub("hot", { path: 0 as unknown as string }));
    expect([path.code, path.details.parameter]).toEqual(["usage", "path"]);
    expect((await refusal(() => phone.xpub("nope"))).code).toBe("unknown-wallet");
  });

  it("keyshard xpub prints it, and keyshard address --xpub derives the SDK's addresses without the device", async () => {
    const phoneCli = (...args: string[]) => cli(["--home", phoneHome, ...args], { KEYSHARD_PASSPHRASE: PASSPHRASE });
    // A home with no keystore and no passphrase: the extended key is all a watcher has.
    const watcherCli = (...args: string[]) => cli(["--home", join(phoneHome, "absent"), "address", ...args]);
    const exported = await phoneCli("xpub", "--wallet", "tap", "--path", "m/0", "--network", "regtest");
    expect(exported).toEqual({
      code: 0,
      json: {
        wallet: "tap",
        path: "m/0",
        network: "regtest",
        xpub: phone.xpub("tap", { path: "m/0", network: "regtest" }).xpub,
        algorithm: "bip340",
        chains: ["bitcoin"],
        bitcoinType: "p2tr",
      },
    });
    const tpub = exported.json.xpub as string;
    expect(
      await watcherCli("--xpub", tpub, "--chain", "bitcoin", "--path", "7", "--type", "p2tr", "--network", "regtest"),
    ).toEqual({
      code: 0,
      json: { address: phone.address("tap", "bitcoin", { path: "m/0/7", network: "regtest" }) },
    });
    const tapEthereum = await watcherCli("--xpub", tpub, "--chain", "ethereum", "--algorithm", "bip340");
    expect([tapEthereum.code, tapEthereum.json.error]).toEqual([1, "chain-unsupported"]);
    expect(tapEthereum.json.message).toMatch(/bip340 key has no ethereum address/);
    const hot = await phoneCli("xpub", "--wallet", "hot", "--path", "m/0");
    expect(hot.json).toMatchObject({ algorithm: "ecdsa", chains: ["ethereum", "bitcoin"], bitcoinType: "p2wpkh" });
    expect(
      (
        await watcherCli(
          "--xpub",
          hot.json.xpub as string,
          "--chain",
          "ethereum",
          "--path",
          "7",
          "--algorithm",
          "ecdsa",
        )
      ).json,
    ).toEqual({ address: phone.address("hot", "ethereum", { path: "m/0/7" }) });
  }, 120_000);

  it("keyshard xpub and address --xpub say what is wrong in the command line's words", async () => {
    const hardened = await cli(["--home", phoneHome, "xpub", "--wallet", "hot", "--path", "m/0'"], {
      KEYSHARD_PASSPHRASE: PASSPHRASE,
    });
    expect(hardened.code).toBe(2);
    expect(hardened.json).toMatchObject({ error: "usage", parameter: "path", option: "--path" });
    expect(hardened.json.message).toMatch(/^--path: hardened step/);
    const tpub = phone.xpub("hot", { network: "testnet" }).xpub;
    const typo = `${tpub.slice(0, -1)}${tpub.endsWith("a") ? "b" : "a"}`;
    const watch = (...args: string[]) => cli(["--home", join(phoneHome, "absent"), "address", ...args]);
    expect((await watch("--xpub", typo, "--chain", "ethereum")).json.error).toBe("chain-malformed");
    expect((await watch("--xpub", tpub, "--chain", "bitcoin")).json.message).toMatch(/needs its type/);
    expect((await watch("--xpub", tpub, "--chain", "bitcoin", "--type", "p2pkh")).json.message).toBe(
      "--type is p2wpkh or p2tr",
    );
    expect((await watch("--xpub", tpub, "--wallet", "hot", "--chain", "bitcoin")).code).toBe(2);
    expect((await watch("--xpub", tpub, "--chain", "ethereum")).json.message).toMatch(/needs the key's algorithm/);
    expect((await watch("--xpub", tpub, "--chain", "ethereum", "--algorithm", "rsa")).json.message).toBe(
      "--algorithm is ecdsa or bip340",
    );
    const address = await cli(
      ["--home", phoneHome, "address", "--wallet", "hot", "--chain", "ethereum", "--path", "m/0'"],
      {
        KEYSHARD_PASSPHRASE: PASSPHRASE,
      },
    );
    expect(address.code).toBe(2);
    expect(address.json).toMatchObject({ error: "usage", parameter: "path", option: "--path" });
    expect(address.json.message).toMatch(/^--path: hardened step/);
  }, 120_000);
});
