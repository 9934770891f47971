/**
 * Watch-only: a wallet's extended public key (`keyshard xpub`), and the addresses below one
 * (`keyshard address --xpub`), which need no device, keystore or passphrase.
 */
import type { BitcoinAddressType, WatchedAlgorithm } from "@keyshard/chains";
import { WalletError } from "../../errors.js";
import { type Command, type CommandContext, chainOf, need, networkOf, open } from "./options.js";

export const WATCH: Record<string, Command> = {
  xpub: {
    usage: "xpub --wallet N [--path m/0] [--network mainnet|testnet|regtest]",
    summary: "the wallet's extended public key, for watch-only addresses",
    help: `Prints the wallet's BIP32 extended public key: xpub, or tpub with --network testnet or regtest.
Whoever holds it derives every address below it (keyshard address --xpub, or any BIP32 library)
and can sign nothing; it still shows all of them, so give it only to what must watch them.
--path exports a node below the root (m/0); its steps must be non-hardened: a hardened child is
made from the private key, which a threshold wallet never has whole. Solana (Ed25519) wallets
have none. --json says what the key has addresses on: its algorithm (ecdsa for ecdsa2p and dkls23
wallets, bip340 for frost-taproot ones), the chains the wallet signs for (bitcoin and ethereum;
bitcoin only for bip340) and its Bitcoin address type (bitcoinType: p2wpkh, or p2tr for bip340).
example: keyshard xpub --wallet savings --path m/0`,
    async run(ctx) {
      const network = networkOf(ctx);
      const path = typeof ctx.values.path === "string" ? ctx.values.path : undefined;
      const name = need(ctx, "wallet", "NAME");
      const exported = (await open(ctx)).xpub(name, {
        ...(path !== undefined && { path }),
        ...(network && { network }),
      });
      return {
        human: exported.xpub,
        data: { wallet: name, path: path ?? "m", network: network ?? "mainnet", ...exported },
      };
    },
  },
};

/** `keyshard address --xpub`: an address below an extended public key, without opening the device. */
export async function watchedAddress(ctx: CommandContext, xpub: string): Promise<{ human: string; data: unknown }> {
  if (ctx.values.wallet !== undefined) throw new WalletError("usage", "give --wallet or --xpub, not both");
  const { BITCOIN_ADDRESS_TYPES, WATCHED_ALGORITHMS, watchOnly } = await import("@keyshard/chains");
  const chain = chainOf(ctx);
  const network = networkOf(ctx);
  const { type, algorithm } = ctx.values;
  if (type !== undefined && !(BITCOIN_ADDRESS_TYPES as readonly unknown[]).includes(type))
    throw new WalletError("usage", `--type is ${BITCOIN_ADDRESS_TYPES.join(" or ")}`);
  if (algorithm !== undefined && !(WATCHED_ALGORITHMS as readonly unknown[]).includes(algorithm))
    throw new WalletError("usage", `--algorithm is ${WATCHED_ALGORITHMS.join(" or ")}`);
  const path = typeof ctx.values.path === "string" ? ctx.values.path : "";
  const address = watchOnly(xpub).address(chain, path, {
    ...(type !== undefined && { type: type as BitcoinAddressType }),
    ...(algorithm !== undefined && { algorithm: algorithm as WatchedAlgorithm }),
    ...(network && { network }),
  });
  return { human: address, data: { address } };
}
