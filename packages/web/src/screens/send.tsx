/**
 * "Send": ETH, or an ERC-20 token, from one wallet through the Ethereum node set on the wallet
 * screen. The engine builds the transaction and, before anything is signed, asks this screen to
 * show what its bytes do ("Check the transaction", the SDK's own description, never the form's
 * inputs echoed back); then the outcome: sent with its receipt, cancelled, or held by the
 * wallet's policy.
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import type { Engine } from "../engine/client.js";
import {
  AMOUNT_MAX,
  RECIPIENT_MAX,
  type Review,
  type SendOutcome,
  TOKEN_ADDRESS,
  type WaitingFor,
} from "../engine/protocol.js";
import { useEthereumRpc } from "../rpc-setting.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";

type Phase =
  | { step: "form"; cancelled: boolean }
  | { step: "review"; review: Review }
  | { step: "sending" }
  | { step: "sent"; outcome: Extract<SendOutcome, { kind: "sent" }> }
  | { step: "held"; outcome: Extract<SendOutcome, { kind: "held" }> };

function BackLink({ onBack }: { onBack(): void }) {
  return (
    <nav>
      <a
        href={import.meta.env.BASE_URL}
        onClick={(event) => {
          event.preventDefault();
          onBack();
        }}
      >
        Back to the wallet
      </a>
    </nav>
  );
}

/** "eip155:1" as people know it. */
function networkName(network: string): string {
  const chainId = network.slice("eip155:".length);
  return chainId === "1" ? "Ethereum mainnet (chain 1)" : `chain ${chainId}`;
}

function ReviewRows({ review }: { review: Review }) {
  return (
    <dl className="review">
      {review.transfers.map((t, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the rows are the description's, in its order, never reordered.
        <div key={`transfer-${i}`} className="review-group">
          <div>
            <dt>To</dt>
            <dd>
              <code>{t.to}</code>
            </dd>
          </div>
          <div>
            <dt>Amount</dt>
            <dd>{t.amount}</dd>
          </div>
          {t.from !== null && (
            <div>
              <dt>Taken from</dt>
              <dd>
                <code>{t.from}</code>
              </dd>
            </div>
          )}
        </div>
      ))}
      {review.approvals.map((a, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: as above.
        <div key={`approval-${i}`} className="review-group">
          <div>
            <dt>Allows</dt>
            <dd>
              <code>{a.spender}</code>
            </dd>
          </div>
          <div>
            <dt>To take</dt>
            <dd>{a.unlimited ? "every token of this kind the wallet holds" : a.amount}</dd>
          </div>
        </div>
      ))}
      {review.calls.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: as above.
        <div key={`call-${i}`}>
          <dt>Contract call</dt>
          <dd>
            {c.name ?? `unknown function ${c.selector}`} on <code>{c.contract}</code>
          </dd>
        </div>
      ))}
      <div>
        <dt>Fee</dt>
        <dd>at most {review.fee}</dd>
      </div>
      <div>
        <dt>Network</dt>
        <dd>{networkName(review.network)}</dd>
      </div>
    </dl>
  );
}

/** What a held send waits for, in words. */
function waitingText(waiting: WaitingFor): string[] {
  const parts: string[] = [];
  if (waiting.approvals !== null)
    parts.push(
      `approvals from the account's other devices (${waiting.approvals.have} of ${waiting.approvals.needed} given)`,
    );
  if (waiting.totp) parts.push("the account's one-time code (TOTP)");
  if (waiting.releaseMs !== null)
    parts.push(`the end of its time lock, at ${new Date(waiting.releaseMs).toLocaleString()}`);
  return parts;
}

export function Send({ engine, name, onBack }: { engine: Engine; name: string; onBack(): void }) {
  const rpc = useEthereumRpc();
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const [token, setToken] = useState("");
  const [phase, setPhase] = useState<Phase>({ step: "form", cancelled: false });
  const { form, problems, show } = useProblems<"to" | "amount" | "token">();
  const action = useAction();
  /** Answers the engine's question about the transaction under review. */
  const answer = useRef<((confirmed: boolean) => void) | undefined>(undefined);

  // Leaving while a review waits is a "no": the engine must not be left waiting with the transaction.
  useEffect(() => () => answer.current?.(false), []);

  function decide(confirmed: boolean) {
    const settle = answer.current;
    answer.current = undefined;
    setPhase(confirmed ? { step: "sending" } : { step: "form", cancelled: true });
    settle?.(confirmed);
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
      const confirm = (shown: Review) =>
        new Promise<boolean>((resolve) => {
          answer.current = resolve;
          setPhase({ step: "review", review: shown });
        });
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
        answer.current = undefined;
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
          <ReviewRows review={phase.review} />
          {phase.review.warnings.length > 0 && (
            <div className="notice">
              <h2>Read before confirming</h2>
              <ul>
                {phase.review.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          )}
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
    case "sent": {
      const { transactionId, receipt, block, sentBefore } = phase.outcome;
      return (
        <Screen key="sent" title="Sent">
          <p>
            Transaction <code>{transactionId}</code>
          </p>
          {sentBefore && <p>This send was made before: the same transaction was found, and nothing new was signed.</p>}
          <p role="status">
            {receipt === "confirmed"
              ? `Confirmed in block ${block ?? "(the node did not say which)"}`
              : `Failed: the transaction was mined${block === null ? "" : ` in block ${block}`} but did not execute; only the fee was paid.`}
          </p>
          <BackLink onBack={onBack} />
        </Screen>
      );
    }
    case "held": {
      const { requestId, rule, waitingFor } = phase.outcome;
      const waits = waitingText(waitingFor);
      return (
        <Screen key="held" title="Waiting">
          <p>
            The wallet's policy ({rule}) holds this send. It waits for{" "}
            {waits.length === 0 ? "what the policy asks for" : waits.join(", and ")}; nothing is signed before.
          </p>
          <p>
            Request <code>{requestId}</code>
          </p>
          <BackLink onBack={onBack} />
        </Screen>
      );
    }
    case "form":
      return (
        <Screen key="form" title="Send">
          <BackLink onBack={onBack} />
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
