/**
 * What the operator console's tests look at: an account whose wallet's policy holds every
 * request for another device's approval, and one such request held.
 */
import { buildSolTransfer, solanaAddress } from "@keyshard/chains";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { activeDevice, createWallet, type TestDevice, type TestProvider } from "./harness.js";

/** The bearer token test providers open their console with. */
export const CONSOLE_TOKEN = "test-console-token-0123456789abcdef";

export const HOLDING_RULE = "two-eyes";

export interface HeldRequest {
  owner: TestDevice;
  accountId: string;
  walletId: string;
  requestId: string;
}

/** A new Solana address nobody holds the key of. */
export const randomSolanaAddress = () => solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));

/** A new account under `email` (its device named "phone"), a wallet `walletName`, and a transfer from it held for one approval. */
export async function accountWithHeldRequest(
  provider: TestProvider,
  email: string,
  walletName: string,
): Promise<HeldRequest> {
  const owner = await activeDevice(provider, email);
  const wallet = await createWallet(owner, walletName, "frost-ed25519", [
    { name: HOLDING_RULE, when: {}, decision: "require-approvals", approvals: 1 },
  ]);
  const transfer = buildSolTransfer({
    from: solanaAddress(hexToBytes(wallet.publicKey)),
    to: randomSolanaAddress(),
    lamports: 7n,
    recentBlockhash: randomSolanaAddress(),
  });
  const asked = await owner.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
    chain: "solana",
    payload: Buffer.from(transfer).toString("hex"),
  });
  if (asked.status !== 201 || asked.body.status !== "held")
    throw new Error(`the request was not held: ${JSON.stringify(asked.body)}`);
  const account = await owner.request("GET", "/v1/account");
  return {
    owner,
    accountId: account.body.id as string,
    walletId: wallet.walletId,
    requestId: asked.body.requestId as string,
  };
}

/** Edits the details of entry `seq` of the account's audit chain in the database, as someone with its access could. */
export async function tamperWithAudit(provider: TestProvider, accountId: string, seq: number): Promise<void> {
  await provider.context.db.query(`UPDATE audit_log SET details = '{"edited":true}' WHERE chain = $1 AND seq = $2`, [
    accountId,
    seq,
  ]);
}
