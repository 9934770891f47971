/**
 * "Requests": the account's sends that a wallet's policy holds, refreshed every few seconds, each
 * with its wallet, chain, the device that asked and what it waits for. Another device's request
 * is reviewed exactly as a send is ("Review": what its bytes do, read by this device, never by the
 * provider nor as the other device typed it) and approving is confirming that review; "Reject"
 * denies it after a confirmation. This device's own request opens its live status, where it is
 * finished or cancelled. Below them, what other devices ask this one to co-sign in a wallet shared
 * among devices: reviewed the same way, and signed only once confirmed.
 */
import { type ReactNode, useState } from "react";
import { BackLink } from "../components/back-link.js";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { DeviceName, TransactionReview, waitingText } from "../components/transaction.js";
import type { RequestEntry } from "../engine/calls/requests.js";
import type { CosignInvitation, CosignOutcome } from "../engine/calls/shared-wallets.js";
import type { Engine } from "../engine/client.js";
import type { Review } from "../engine/review.js";
import { useAction } from "../use-action.js";
import { useConfirmation } from "../use-confirmation.js";
import { HeldRequest, usePolling } from "./held-request.js";

type Phase =
  | { step: "list" }
  /** Another device's held request to approve, or what it asks this device to co-sign. */
  | { step: "review"; review: Review; decided: boolean; kind: "approve" | "cosign" }
  | { step: "reject"; request: RequestEntry }
  | { step: "own"; request: RequestEntry };

/** A request in a few words: what, on which chain, from which wallet, who asked and when. */
function About({ request, id }: { request: RequestEntry; id?: string }) {
  const what = request.kind === "transaction" ? "A transaction" : `A ${request.kind} signature`;
  return (
    <p id={id}>
      {what} on {request.chain} from <bdi>{request.wallet}</bdi>, asked for by{" "}
      <DeviceName device={request.requestedBy} /> at {new Date(request.createdMs).toLocaleString()}.
    </p>
  );
}

/** What became of a co-signing, in a sentence. */
function cosignedText(outcome: CosignOutcome, invitation: CosignInvitation): ReactNode {
  switch (outcome.decision) {
    case "signed":
      return (
        <>
          Co-signed: <DeviceName device={invitation.requestedBy} /> has the signature of the wallet{" "}
          <bdi>{invitation.wallet}</bdi>.
        </>
      );
    case "not-chosen":
      return "Not needed: the device that asked signed with other devices, or stopped waiting. Nothing was signed here.";
    case "refused":
      return `Not co-signed: ${outcome.reason}. Nothing was signed here.`;
  }
}

/** What other devices ask this one to co-sign, each with a button to review it; nothing when none asks. */
function Cosignings({
  invitations,
  busy,
  onReview,
}: {
  invitations: readonly CosignInvitation[];
  busy: boolean;
  onReview(invitation: CosignInvitation): void;
}) {
  if (invitations.length === 0) return null;
  return (
    <section aria-labelledby="cosignings">
      <h2 id="cosignings">Asked to co-sign</h2>
      <p>Other devices ask this one to sign with them in a wallet you share. Review each one before you co-sign it.</p>
      <ul className="requests">
        {invitations.map((invitation) => {
          const about = `cosign-${invitation.id}`;
          return (
            <li key={invitation.id}>
              <p id={about}>
                <DeviceName device={invitation.requestedBy} /> asks to sign with the wallet{" "}
                <bdi>{invitation.wallet}</bdi>.
              </p>
              <button type="button" aria-describedby={about} aria-disabled={busy} onClick={() => onReview(invitation)}>
                Review
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function Requests({ engine }: { engine: Engine }) {
  const [phase, setPhase] = useState<Phase>({ step: "list" });
  const [done, setDone] = useState<ReactNode>(null);
  const action = useAction();
  const held = usePolling(() => engine.call("heldRequests", {}), phase.step === "list", [engine]);
  const cosigns = usePolling(() => engine.call("cosignInvitations", {}), phase.step === "list", [engine]);
  const confirmation = useConfirmation();

  const toList = (said: ReactNode) => {
    setDone(said);
    setPhase({ step: "list" });
  };

  /**
   * Runs an engine call that asks this screen to confirm a review of `kind` before it signs or
   * approves anything, then lists the requests again with what `call` says of how it ended.
   */
  function reviewed(
    kind: "approve" | "cosign",
    texts: { reading: string; after: string },
    call: (confirm: (review: Review) => Promise<boolean>) => Promise<ReactNode>,
  ) {
    setDone(null);
    void action.run(texts.reading, async (status) => {
      const confirm = confirmation.asking((shown) => setPhase({ step: "review", review: shown, decided: false, kind }));
      try {
        toList(await call((shown) => confirm(shown).finally(() => status(texts.after))));
      } catch (e) {
        confirmation.drop();
        setPhase({ step: "list" });
        throw e;
      }
    });
  }

  const review = (request: RequestEntry) =>
    reviewed(
      "approve",
      { reading: "Reading the request's bytes…", after: "Approving the request…" },
      async (confirm) => {
        const outcome = await engine.call("approveRequest", { requestId: request.requestId }, undefined, confirm);
        return outcome.kind === "approved" ? (
          <>
            Approved: <DeviceName device={outcome.request.requestedBy} /> can finish the send once it waits for nothing
            more.
          </>
        ) : (
          "Not approved: the request still waits."
        );
      },
    );

  const cosign = (invitation: CosignInvitation) =>
    reviewed(
      "cosign",
      { reading: "Reading what the other device asks to sign…", after: "Signing with the other device…" },
      async (confirm) =>
        cosignedText(await engine.call("cosign", { id: invitation.id }, undefined, confirm), invitation),
    );

  function decide(approved: boolean) {
    if (phase.step !== "review" || !confirmation.answer(approved)) return;
    setPhase({ ...phase, decided: true });
  }

  function reject(request: RequestEntry) {
    void action.run("Rejecting the request…", async () => {
      await engine.call("cancelRequest", { requestId: request.requestId });
      toList(
        <>
          Rejected: the request of <DeviceName device={request.requestedBy} /> is denied, and nothing is signed.
        </>,
      );
    });
  }

  switch (phase.step) {
    case "own":
      return (
        <HeldRequest
          engine={engine}
          requestId={phase.request.requestId}
          rule={phase.request.rule ?? "a rule"}
          waiting={phase.request.waitingFor ?? { totp: false, approvals: null, releaseMs: null }}
          back={<BackLink label="Back to the requests" onBack={() => toList(null)} />}
        />
      );
    case "review": {
      const cosigning = phase.kind === "cosign";
      return (
        <Screen key="review" title={cosigning ? "Co-sign this?" : "Approve this request?"}>
          {phase.review.request !== null && (
            <p>
              <DeviceName device={phase.review.request.requestedBy} />{" "}
              {cosigning ? "asks this device to sign this with it" : "asks to send this"} from the wallet{" "}
              <bdi>{phase.review.request.wallet}</bdi>.
            </p>
          )}
          <p>
            What follows is read by this device from the transaction itself, and it is all your{" "}
            {cosigning ? "signature" : "approval"} lets be signed. Check it with whoever asked.
          </p>
          <TransactionReview review={phase.review} />
          <div className="row">
            <button type="button" aria-disabled={phase.decided} onClick={() => decide(true)}>
              {cosigning ? "Co-sign" : "Approve"}
            </button>
            <button type="button" className="secondary" aria-disabled={phase.decided} onClick={() => decide(false)}>
              {cosigning ? "Do not co-sign" : "Do not approve"}
            </button>
          </div>
          <Progress label={cosigning ? "Co-signing" : "Approving"} status={phase.decided ? action.busy : null} />
        </Screen>
      );
    }
    case "reject":
      return (
        <Screen key="reject" title="Reject this request?">
          <About request={phase.request} />
          <p>Rejecting denies it for good: nothing of it is signed, and the device that asked must start again.</p>
          <div className="row">
            <button type="button" aria-disabled={action.busy !== null} onClick={() => reject(phase.request)}>
              Reject
            </button>
            <button type="button" className="secondary" onClick={() => toList(null)}>
              Keep it
            </button>
          </div>
          <Progress label="Rejecting" status={action.busy} />
          <ErrorMessage error={action.error} ref={action.alert} />
        </Screen>
      );
    case "list": {
      const list = held.value?.requests;
      const left = held.value === undefined ? 0 : held.value.notShown + held.value.unreadable;
      return (
        <Screen key="list" title="Requests">
          {done !== null && (
            <p role="status" className="notice">
              {done}
            </p>
          )}
          <p>
            Sends a wallet's policy holds until they are approved, or their time lock ends. This list keeps itself up to
            date.
          </p>
          {list === undefined && held.error === undefined && <p>Asking the provider for the held requests…</p>}
          {list !== undefined &&
            (list.length === 0 ? (
              <p>No request is held.</p>
            ) : (
              <ul className="requests">
                {list.map((request) => {
                  const waits = request.waitingFor === null ? [] : waitingText(request.waitingFor);
                  // Each row's buttons are described by its request: "Review" alone does not say which.
                  const about = `request-${request.requestId}`;
                  return (
                    <li key={request.requestId}>
                      <About request={request} id={about} />
                      <p className="hint">
                        {waits.length === 0 ? "It waits for nothing more." : `It waits for ${waits.join(", and ")}.`}
                      </p>
                      <p className="hint">
                        Request <code>{request.requestId}</code>
                      </p>
                      <div className="row">
                        {request.mine ? (
                          <button
                            type="button"
                            aria-describedby={about}
                            onClick={() => setPhase({ step: "own", request })}
                          >
                            Follow this send
                          </button>
                        ) : (
                          <>
                            <button
                              type="button"
                              aria-describedby={about}
                              aria-disabled={action.busy !== null}
                              onClick={() => review(request)}
                            >
                              Review
                            </button>
                            <button
                              type="button"
                              className="secondary"
                              aria-describedby={about}
                              onClick={() => setPhase({ step: "reject", request })}
                            >
                              Reject
                            </button>
                          </>
                        )}
                      </div>
                    </li>
                  );
                })}
              </ul>
            ))}
          {left > 0 && (
            <p className="notice">
              {left} more {left === 1 ? "request is" : "requests are"} not shown: too many to list here, or not
              readable. Other devices' requests are listed first.
            </p>
          )}
          <Cosignings invitations={cosigns.value?.invitations ?? []} busy={action.busy !== null} onReview={cosign} />
          <Progress label="Working on the request" status={action.busy} />
          <ErrorMessage error={action.error ?? held.error ?? cosigns.error} ref={action.alert} />
        </Screen>
      );
    }
  }
}
