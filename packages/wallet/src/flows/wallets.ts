/**
 * This device's wallets as it holds them: their state at the provider, their addresses on each
 * chain, and the provider's relay sessions they take part in.
 */
import { endpoints, type WalletList } from "@keyshard/api";
import { adapterOf, type BitcoinNetwork, type ChainName } from "@keyshard/chains";
import { SCHEME_NAMES, scheme } from "@keyshard/mpc";
import { type RelayWatch, watchRelay } from "@keyshard/transport";
import type { Device } from "../device/device.js";
import { isRevoked, WalletError } from "../errors.js";
import type { StoredWallet } from "../state.js";
import type { RelaySession, WalletInfo, WalletSummary } from "../types.js";
import { atPath } from "./paths.js";

/** A stored wallet as it may leave the package: without its shares. */
export const walletInfo = ({ share: _share, next, providerShare: _provider, ...wallet }: StoredWallet): WalletInfo => ({
  ...wallet,
  ...(next && { pendingEpoch: next.epoch }),
});

/**
 * The keystore's wallets with their state at the provider: "removed" once a reshare left this
 * device out, "revoked device" once the device was shut out (its shares are still here, and sign
 * nothing).
 */
export async function wallets(device: Device): Promise<WalletSummary[]> {
  let remote: WalletList | undefined;
  try {
    remote = await device.client.request(endpoints.wallets);
  } catch (e) {
    if (!isRevoked(e)) throw e;
  }
  const stateOf = (id: string) => {
    if (remote === undefined) return "revoked device";
    const r = remote.wallets.find((w) => w.id === id);
    if (r === undefined) return "unknown";
    return r.members !== null && !r.members.includes(device.deviceId) ? "removed" : r.state;
  };
  return device.state.wallets.map(({ share: _share, next: _next, providerShare: _provider, ...w }) => ({
    ...w,
    state: stateOf(w.id),
  }));
}

/** The wallet's address on `chain` (at `path` when given). */
export function address(
  device: Device,
  name: string,
  chain: ChainName,
  options: { path?: string; network?: BitcoinNetwork },
): string {
  const wallet = device.find(name);
  const adapter = adapterOf(chain);
  const signs = adapter.kinds.transaction ?? [];
  if (!signs.includes(scheme(wallet.scheme).algorithm)) {
    const fitting = SCHEME_NAMES.find((name) => signs.includes(scheme(name).algorithm));
    throw new WalletError(
      "usage",
      `wallet ${wallet.name} is a ${wallet.scheme} key, which has no ${chain} address: make a ${fitting} wallet for ${chain}`,
    );
  }
  return adapter.address(
    atPath(() => device.keyOf(wallet, options.path)),
    options.network,
  );
}

export const relaySessions = (device: Device): Promise<{ sessions: RelaySession[] }> =>
  device.client.request(endpoints.relaySessions);

export const watchRelaySessions = (device: Device, onNotice: (relayId: string) => void): Promise<RelayWatch> =>
  watchRelay(device.client.url, device.identity, onNotice);
