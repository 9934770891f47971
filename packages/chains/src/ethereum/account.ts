/**
 * A viem custom account backed by any keyshard ECDSA signer, so that viem (and the dApp tooling
 * built on it) signs through the quorum without knowing it.
 */
import { bytesToHex, type Hex, hexToBytes, type LocalAccount, serializeTransaction } from "viem";
import { toAccount } from "viem/accounts";
import type { EcdsaSigner } from "../signer.js";
import { ethereumAddress } from "./address.js";
import { signPersonalMessage, signTypedData } from "./message.js";
import { signEthereumTransaction } from "./transaction.js";

export function keyshardAccount(signer: EcdsaSigner): LocalAccount {
  return toAccount({
    address: ethereumAddress(signer.publicKey),
    signMessage: ({ message }) => signPersonalMessage(message, signer),
    signTypedData: (typedData) => signTypedData(typedData as Parameters<typeof signTypedData>[0], signer),
    async signTransaction(transaction, options) {
      // A chain's own serializer (viem/chains) may add fields; the result must still be a
      // transaction keyshard's strict parser accepts, or it is refused.
      const serializer = options?.serializer ?? serializeTransaction;
      const unsigned = (await serializer(transaction)) as Hex;
      return bytesToHex(await signEthereumTransaction(hexToBytes(unsigned), signer));
    },
  });
}
