/**
 * "Send": ETH, or an ERC-20 token, from one wallet through the Ethereum node set on the wallet
 * screen. The engine builds the transaction and, before anything is signed, asks this screen to
 * show what its bytes do ("Check the transaction", the SDK's own description, never the form's
 * inputs echoed back); then the outcome: sent with its receipt, cancelled, or held by the
 * wallet's policy, followed live until it can be finished (`held-request.tsx`).
 */
import { type FormEvent, useState } from "react";
import { flushSync } from "react-dom";
import { BackLink } from "../components/back-link.js";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { SentReceipt, TransactionReview } from "../components/transaction.js";
import { AMOUNT_MAX, type Held, RECIPIENT_MAX, type Sent, TOKEN_ADDRESS } from "../engine/calls/core.js";
import type { Engine } from "../engine/client.js";
import type { Review } from "../engine/review.js";
import { useEthereumRpc } from "../rpc-setting.js";
import { useAction } from "../use-action.js";
import { useConfirmation } from "../use-confirmation.js";
import { useProblems } from "../use-problems.js";
import { HeldRequest } from "./held-request.js";

type Phase =
  | { step: "form"; cancelled: boolean }
  | { step: "review"; review: Review }
  | { step: "sending" }
  | { step: "sent"; outcome: Sent }
  | { step: "held"; outcome: Held };

export function Send({ engine, name, onBack }: { engine: Engine; name: string; onBack(): void }) {
  const rpc = useEthereumRpc();
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const [token, setToken] = useState("");
  const [phase, setPhase] = useState<Phase>({ step: "form", cancelled: false });
  const { form, problems, show } = useProblems<"to" | "amount" | "token">();
  const action = useAction();
  const confirmation = useConfirmation();

  function decide(confirmed: boolean) {
    if (!confirmation.answer(confirmed)) return;
    setPhase(confirmed ? { step: "sending" } : { step: "form", cancelled: true });
  }

  function review(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (rpc.url === null || action.busy !== null) return;
    const node = rpc.url;
    const recipient = to.trim();
    const value = amount.trim();
    const contract = token.trim();
    const found = {
      ...((recipient.length === 0 || recipient.length > RECIPIENT_MAX) && { to: "Give the address to send to." }),
      ...((value.length === 0 || value.length > AMOUNT_MAX) && {
        amount: 'Give the amount, e.g. "0.25" (ETH, or the token\'s units with a token contract).',
      }),
      ...(contract !== "" &&
        !TOKEN_ADDRESS.test(contract) && {
          token: "Give the token's contract address (0x and 40 hexadecimal digits), or leave it empty to send ETH.",
        }),
    };
    if (show(found)) {
      action.clearError();
      return;
    }
    setPhase({ step: "form", cancelled: false });
    void action.run("Preparing the transaction…", async (status) => {
      const confirm = confirmation.asking((shown) => setPhase({ step: "review", review: shown }));
      try {
        const outcome = await engine.call(
          "send",
          { name, to: recipient, amount: value, token: contract === "" ? null : contract, rpc: node },
          status,
          confirm,
        );
        if (outcome.kind === "sent") setPhase({ step: "sent", outcome });
        else if (outcome.kind === "held") setPhase({ step: "held", outcome });
        else setPhase({ step: "form", cancelled: true });
      } catch (e) {
        // Back on the form, where the alert says what went wrong.
        confirmation.drop();
        flushSync(() => setPhase({ step: "form", cancelled: false }));
        throw e;
      }
    });
  }

  switch (phase.step) {
    case "review":
      return (
        <Screen key="review" title="Check the transaction">
          <p>
            Only what follows is signed: it is read from the transaction itself. Check the address and the amount
            against where they came from.
          </p>
          <TransactionReview review={phase.review} />
          <div className="row">
            <button type="button" onClick={() => decide(true)}>
              Confirm
            </button>
            <button type="button" className="secondary" onClick={() => decide(false)}>
              Cancel
            </button>
          </div>
        </Screen>
      );
    case "sending":
      return (
        <Screen key="sending" title="Sending">
          <p>Signing with the provider, then sending the transaction to the node and waiting for its receipt.</p>
          <Progress label="Sending" status={action.busy} />
        </Screen>
      );
    case "sent":
      return (
        <Screen key="sent" title="Sent">
          <SentReceipt outcome={phase.outcome} />
          <BackLink label="Back to the wallet" onBack={onBack} />
        </Screen>
      );
    case "held":
      return (
        <HeldRequest
          engine={engine}
          requestId={phase.outcome.requestId}
          rule={phase.outcome.rule}
          waiting={phase.outcome.waitingFor}
          back={<BackLink label="Back to the wallet" onBack={onBack} />}
        />
      );
    case "form":
      return (
        <Screen key="form" title="Send">
          <BackLink label="Back to the wallet" onBack={onBack} />
          {rpc.url === null ? (
            <p>Set the Ethereum node (RPC URL) on the wallet's screen first.</p>
          ) : (
            <>
              <p>
                From the wallet {name}, on Ethereum through the node at {new URL(rpc.url).origin}.
              </p>
              {phase.cancelled && (
                <p role="status" className="notice">
                  Nothing was sent: the transaction was cancelled before it was signed.
                </p>
              )}
              <form onSubmit={review} noValidate ref={form}>
                <Field
                  label="Recipient"
                  autoComplete="off"
                  spellCheck={false}
                  maxLength={RECIPIENT_MAX}
                  value={to}
                  onValue={setTo}
                  invalid={problems.to}
                />
                <Field
                  label="Amount"
                  hint="In ETH (e.g. 0.25), or in the token's units with a token contract."
                  autoComplete="off"
                  inputMode="decimal"
                  maxLength={AMOUNT_MAX}
                  value={amount}
                  onValue={setAmount}
                  invalid={problems.amount}
                />
                <Field
                  label="Token contract"
                  hint="Optional: an ERC-20 token's contract address. Leave it empty to send ETH."
                  autoComplete="off"
                  spellCheck={false}
                  maxLength={42}
                  value={token}
                  onValue={setToken}
                  invalid={problems.token}
                />
                <button type="submit" aria-disabled={action.busy !== null}>
                  Review
                </button>
              </form>
              <Progress label="Preparing the transaction" status={action.busy} />
              <ErrorMessage error={action.error} ref={action.alert} />
            </>
          )}
        </Screen>
      );
  }
}
