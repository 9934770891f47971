/**
 * The Ethereum node (RPC URL) this browser reads balances and sends transactions through: a
 * setting, not a secret, kept in localStorage. An address with credentials in it is refused
 * (`rpcUrlProblem`), so none is ever stored; a stored value that is not a node's address any
 * more (edited by hand) counts as none.
 */
import { useCallback, useState } from "react";
import { rpcUrlProblem } from "./engine/protocol.js";

const STORAGE_KEY = "keyshard.rpc.ethereum";

function storedRpcUrl(): string | null {
  try {
    const url = localStorage.getItem(STORAGE_KEY);
    return url !== null && rpcUrlProblem(url) === undefined ? url : null;
  } catch {
    // Storage the browser denies (a private window's policy) is a setting not made yet.
    return null;
  }
}

export interface RpcSetting {
  /** The node's address; null until one is set. */
  url: string | null;
  /** Keeps `url` (checked by the caller with `rpcUrlProblem`); throws when the browser will not store it. */
  save(url: string): void;
}

export function useEthereumRpc(): RpcSetting {
  const [url, setUrl] = useState(storedRpcUrl);
  const save = useCallback((next: string) => {
    if (rpcUrlProblem(next) !== undefined) throw new Error("This is not a node's http or https address.");
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch (e) {
      throw new Error("This browser did not keep the setting: allow the site to store data, then try again.", {
        cause: e,
      });
    }
    setUrl(next);
  }, []);
  return { url, save };
}
