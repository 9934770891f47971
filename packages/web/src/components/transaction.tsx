/**
 * A transaction as the person sees it, wherever it is shown: what its bytes do, described by the
 * SDK (for a send before signing, and for another device's request before approving it), and its
 * receipt once it is sent. One view for both, so that an approval reads exactly as a send does.
 */
import type { Sent } from "../engine/calls/core.js";
import { shortId } from "../engine/calls/devices.js";
import type { DeviceRef, Review, WaitingFor } from "../engine/review.js";

/**
 * A device as a request names it: its self-chosen name isolated from the text around it, the
 * start of its id (two devices may choose one name), and "this device" drawn apart from the name,
 * so that a device named "this device" cannot pass for this one.
 */
export function DeviceName({ device }: { device: DeviceRef }) {
  return (
    <>
      <bdi>{device.name}</bdi> <code className="device-id">{shortId(device.id)}</code>
      {device.thisDevice && (
        <>
          {" "}
          <strong className="this-device">this device</strong>
        </>
      )}
    </>
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

/** What the transaction's bytes do, and what to read before confirming them. */
export function TransactionReview({ review }: { review: Review }) {
  return (
    <>
      <ReviewRows review={review} />
      {review.warnings.length > 0 && (
        <div className="notice">
          <h2>Read before confirming</h2>
          <ul>
            {review.warnings.map((w, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: two warnings may read alike; the order is the SDK's.
              <li key={i}>{w}</li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

/** A transaction sent: its hash and its receipt. */
export function SentReceipt({ outcome }: { outcome: Sent }) {
  const { transactionId, receipt, block, sentBefore } = outcome;
  return (
    <>
      <p>
        Transaction <code>{transactionId}</code>
      </p>
      {sentBefore && <p>This send was made before: the same transaction was found, and nothing new was signed.</p>}
      <p role="status">
        {receipt === "confirmed"
          ? `Confirmed in block ${block ?? "(the node did not say which)"}`
          : `Failed: the transaction was mined${block === null ? "" : ` in block ${block}`} but did not execute; only the fee was paid.`}
      </p>
    </>
  );
}

/** What a held request waits for, in words: one phrase per condition still open. */
export function waitingText(waiting: WaitingFor): string[] {
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
