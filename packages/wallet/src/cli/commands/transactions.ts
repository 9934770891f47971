/** Moving funds and signing: send, sign-message, and the sign requests waiting for devices or a delay. */
import type { TransactionDescription } from "@keyshard/chains";
import { WalletError } from "../../errors.js";
import type { MessageRequestDescription } from "../../requests.js";
import type { RequestSummary } from "../../types.js";
import { confirmOrStop, describeForPeople, outcomeText } from "./display.js";
import { messageForPeople, requestForPeople } from "./message-view.js";
import { arg, type Command, chainOf, integer, need, networkOf, open, readJson, totpOf } from "./options.js";

/** Request bodies hold bigints and bytes; `--json` prints them as the SDK's plain JSON. */
const plainJson = async (value: unknown) => (await import("../../requests.js")).plainJson(value);

/** What a listed request moves, as the provider decoded it ("0.5 ETH to 0x…, "), amounts in coins. */
function movesOf(request: RequestSummary): string {
  const transfers =
    (request.description as { transfers?: { text: string; to: string }[] } | undefined)?.transfers ?? [];
  return transfers.map((t) => `${t.text} to ${t.to}, `).join("");
}

export const TRANSACTIONS: Record<string, Command> = {
  send: {
    usage: `send --wallet N --chain ethereum|bitcoin|solana --to ADDRESS --amount X [--rpc URL] [--totp CODE]
     [--path m/0/i] [--wait SECONDS for cosigners] [--wait-receipt SECONDS, Ethereum, default 30]
     ethereum: [--gas LIMIT, else the node's estimate + 20 %; without --rpc, 21000]
     ethereum: [--token CONTRACT: send that ERC-20 token, --amount in its units; needs --rpc]
     without --rpc, signed only: ethereum --chain-id ID --nonce N; solana --blockhash HASH
     bitcoin: [--network N] [--coins FILE of {txid, vout, hex}, else found by --rpc (Bitcoin Core)] [--fee-rate SAT/VB]`,
    summary: "send coins or ERC-20 tokens: shown, confirmed, co-signed, broadcast",
    help: `--amount is in coins (0.5 is 0.5 ETH, BTC or SOL), or in base units said so: "21000 wei",
"1500 sat", "5000 lamports".
Builds the transfer, shows what it does and asks before signing (--yes skips the question),
signs it with the wallet's other parties under the provider's policy, and broadcasts it via
--rpc. A transfer the policy holds exits 3 with the request's id (keyshard requests).
--wait waits that many seconds for cosigners to approve.
With --rpc the node gives the chain id, the nonce, the fees and the balance, and a transfer the
balance cannot pay with its fee is refused before anything is signed. An Ethereum transfer's gas
limit is the node's estimate plus 20 % (a plain transfer's 21000 stays exact), so a contract
wallet that does work when paid gets the gas it needs; one the node says would fail (the
contract refuses ETH) is refused before signing. Without --rpc the transaction is only signed
(Ethereum then needs --chain-id and --nonce, and its gas limit is 21000, enough for an address
without code only: give --gas to pay a contract; Solana --blockhash, Bitcoin --coins; the
balance is not checked) and printed for you to broadcast.
--token CONTRACT (Ethereum) sends that ERC-20 token instead of ETH: --amount is in the token's
units ("12.5", "12.5 USDC", or "12500000 base units"), with the decimals its contract's
decimals() answers through --rpc, never assumed; more decimals than it has is refused. Before
anything is signed the token balance (balanceOf) must cover the amount and the ETH balance the
most the fee can be; the gas is estimated as for ETH, and a transfer the token would refuse
(paused, blocked) is refused. The screen shows the token, the recipient and the amount; a token
on no list keyshard trusts is said to be so, its symbol being only what the contract says.
Each sent transaction is kept on this device: when a send fails after signing (the node was
unreachable, no receipt within --wait-receipt), running the same send again (same wallet,
chain, recipient and amount) broadcasts that same transaction again, or reports it mined; a
new one is signed only once it can never be mined. Follow one with keyshard tx status.
examples: keyshard send --wallet savings --chain ethereum --to 0xAb… --amount 0.25 --rpc http://127.0.0.1:8545
          keyshard send --wallet savings --chain ethereum --token 0xA0b8… --to 0xAb… --amount 12.5 --rpc URL`,
    async run(ctx) {
      const wallet = await open(ctx);
      const chain = chainOf(ctx);
      const outcome = await wallet.send({
        wallet: need(ctx, "wallet", "NAME"),
        chain,
        to: need(ctx, "to", "ADDRESS"),
        amount: need(ctx, "amount", "AMOUNT"),
        ...(typeof ctx.values.token === "string" && { token: ctx.values.token }),
        ...(typeof ctx.values.rpc === "string" && { rpc: ctx.values.rpc }),
        ...(typeof ctx.values.totp === "string" && { totp: ctx.values.totp }),
        ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
        ...(typeof ctx.values.blockhash === "string" && { blockhash: ctx.values.blockhash }),
        ...(integer(ctx, "chain-id") !== undefined && { chainId: integer(ctx, "chain-id") }),
        ...(integer(ctx, "nonce") !== undefined && { nonce: integer(ctx, "nonce") }),
        ...(integer(ctx, "gas") !== undefined && { gas: integer(ctx, "gas") }),
        ...(integer(ctx, "wait") !== undefined && { waitMs: (integer(ctx, "wait") as number) * 1000 }),
        ...(integer(ctx, "wait-receipt") !== undefined && {
          receiptWaitMs: (integer(ctx, "wait-receipt") as number) * 1000,
        }),
        ...(networkOf(ctx) && { network: networkOf(ctx) }),
        ...(integer(ctx, "fee-rate") !== undefined && { feeRate: integer(ctx, "fee-rate") }),
        ...(typeof ctx.values.coins === "string" && { coins: readJson(ctx.values.coins, "coins file") }),
        confirm: (description) => confirmOrStop(ctx, describeForPeople(description)),
      });
      return { human: outcomeText(outcome), data: outcome };
    },
  },

  "sign-message": {
    usage: `sign-message --wallet N (--message TEXT | --typed-data FILE) [--totp CODE]
             [--chain bitcoin [--network N]: BIP322, for the wallet's Bitcoin address]`,
    summary: "sign a message or EIP-712 typed data",
    help: `Signs a message (EIP-191 on Ethereum; BIP322 with --chain bitcoin, for the wallet's Bitcoin
address) or EIP-712 typed data from a JSON FILE, with the wallet's other parties under the
provider's policy. First shows what it says — typed data decoded: domain, type, every field,
token approvals (Permit, Permit2) named with spender, amount and deadline — and asks
"sign this? [y/N]" on stdin, a terminal or a pipe; --yes signs without asking. Without --yes
and with stdin closed nothing is signed (exit 2).
example: keyshard sign-message --wallet savings --message "I own this address"`,
    async run(ctx) {
      const typedDataFile = ctx.values["typed-data"];
      const message = ctx.values.message;
      if ((typedDataFile === undefined) === (message === undefined))
        throw new WalletError("usage", "give either --message TEXT or --typed-data FILE");
      const chain = ctx.values.chain === undefined ? "ethereum" : chainOf(ctx);
      if (chain === "solana") throw new WalletError("usage", "sign-message signs Ethereum and Bitcoin messages");
      const network = networkOf(ctx);
      const outcome = await (await open(ctx)).signMessage(need(ctx, "wallet", "NAME"), {
        chain,
        ...(network && { network }),
        ...(typeof message === "string" && { message: new TextEncoder().encode(message) }),
        ...(typeof typedDataFile === "string" && {
          typedData: readJson(typedDataFile, "typed data file") as Record<string, unknown>,
        }),
        ...(typeof ctx.values.totp === "string" && { totp: ctx.values.totp }),
        ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
        confirm: (description) => confirmOrStop(ctx, messageForPeople(description)),
      });
      return { human: outcome.address ? `${outcome.address}\n${outcome.signed}` : outcome.signed, data: outcome };
    },
  },

  requests: {
    usage: "requests [--status S]",
    summary: "the account's sign requests",
    help: `Lists the account's sign requests: id, status, chain, the policy rule that held it and whose
approval it waits for. --status shows only those in one status (e.g. held).
example: keyshard requests --status held`,
    async run(ctx) {
      const { requests } = await (await open(ctx)).requests(ctx.values.status as string | undefined);
      // Imported here, not at the top, as it brings the chains: `--help` has no use for them.
      const { ruleLabel } = await import("../../policy-units.js");
      return {
        human:
          requests.length === 0
            ? "no sign requests"
            : requests
                .map(
                  (r) =>
                    `${r.requestId}  ${String(r.status).padEnd(9)} ${r.chain} ${movesOf(r)}${r.rule ? ruleLabel(r.ruleNumber ?? null, r.rule) : ""} ${r.waitingFor ? JSON.stringify(r.waitingFor) : ""}`,
                )
                .join("\n"),
        data: await plainJson({ requests }),
      };
    },
  },

  approve: {
    usage: "approve ID",
    summary: "approve a held sign request, after seeing what it does",
    help: `Shows what a held request does — a transaction, a message or typed data, decoded here from
its bytes — and asks "sign this? [y/N]" on stdin (--yes approves without asking; a closed stdin
approves nothing, exit 2); once you confirm, approves it from this device.
example: keyshard approve 7c9e…`,
    async run(ctx) {
      const reply = await (await open(ctx)).approve(arg(ctx, 0, "the request ID"), async (detail) =>
        confirmOrStop(
          ctx,
          detail.description
            ? requestForPeople(detail.description as TransactionDescription | MessageRequestDescription)
            : `request ${String(detail.kind)}`,
        ),
      );
      return { human: `approved; the request is ${String(reply.status)}`, data: await plainJson(reply) };
    },
  },

  deny: {
    usage: "deny ID",
    summary: "refuse a held sign request",
    help: `Refuses a held request: it is never signed.
example: keyshard deny 7c9e…`,
    async run(ctx) {
      const reply = await (await open(ctx)).cancel(arg(ctx, 0, "the request ID"));
      return { human: `denied; the request is ${String(reply.status)}`, data: reply };
    },
  },

  cancel: {
    usage: "cancel ID",
    summary: "withdraw your own sign request",
    help: `Withdraws a request that has not been signed yet.
example: keyshard cancel 7c9e…`,
    async run(ctx) {
      const reply = await (await open(ctx)).cancel(arg(ctx, 0, "the request ID"));
      return { human: `the request is ${String(reply.status)}`, data: reply };
    },
  },

  "tx status": {
    usage: "tx status --wallet N --chain C ID [--rpc URL]",
    summary: "what became of a transaction this device sent",
    help: `Asks the node the transaction went to (or --rpc URL) what became of it, by its
transaction id or its sign request's id: confirmed or failed (with its block; Solana: slot),
pending (waiting in the node), unknown (not known to the node but still valid: the same send
again broadcasts it; a Bitcoin node without -txindex knows mined transactions only this way),
replaced (another transaction took its nonce) or expired (its blockhash is too old): these two
will never be mined, and the same send again signs a new one.
example: keyshard tx status --wallet savings --chain ethereum 0x5e1f…`,
    async run(ctx) {
      const status = await (await open(ctx)).transactionStatus({
        wallet: need(ctx, "wallet", "NAME"),
        chain: chainOf(ctx),
        id: arg(ctx, 0, "the transaction id or request id"),
        ...(typeof ctx.values.rpc === "string" && { rpc: ctx.values.rpc }),
      });
      return {
        human: `${status.transactionId}  ${status.state}${status.block === undefined ? "" : ` in block ${status.block}`}`,
        data: status,
      };
    },
  },

  resume: {
    usage: "resume ID [--totp CODE]",
    summary: "sign and broadcast a request once it is approved",
    help: `Finishes a request that was held and is now approved or past its delay: signs it and
broadcasts it. --totp gives the account's TOTP code to a request held for one.
example: keyshard resume 7c9e… --totp 123456`,
    async run(ctx) {
      const totp = totpOf(ctx);
      const outcome = await (await open(ctx)).resume(arg(ctx, 0, "the request ID"), totp === undefined ? {} : { totp });
      return { human: outcomeText(outcome), data: outcome };
    },
  },
};
