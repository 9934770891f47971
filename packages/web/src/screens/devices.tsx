/**
 * "Devices": the account's devices as the provider lists them (this one marked, each with when it
 * registered), letting in a device that registered with the account's email — after a confirmation
 * that shows its name, when it registered and its whole id, which the new device shows on its own
 * screen for the person to compare, and with the account's one-time code where the provider asks
 * for one — the account's security changes that still wait out their delay — a new device among
 * them — each cancellable from here, and revoking another device after a confirmation.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import { type AccountChangeEntry, type AccountDevice, fingerprint, shortId } from "../engine/calls/devices.js";
import type { Engine } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";
import { localDateTime, timeAgo } from "../when.js";

/** How often the "… ago" of the registration times is told again while the screen stays open. */
const CLOCK_TICK_MS = 15_000;

/** A device's state at the provider, in words. */
function stateText(state: string): string {
  switch (state) {
    case "active":
      return "active";
    case "unverified":
      return "registered; its emailed code not entered yet";
    case "awaiting-approval":
      return "waits for an active device to approve it";
    case "approved":
      return "approved; active once the account's waiting period ends";
    case "revoked":
      return "revoked: it can no longer use the account";
    default:
      return state;
  }
}

/** "this device", drawn apart from the names: a device may name itself so. */
const ThisDevice = () => <strong className="this-device">this device</strong>;

/** A device's self-chosen name, isolated from the text around it. */
const Named = ({ device }: { device: AccountDevice }) => <bdi>{device.name}</bdi>;

/** The time now, moved on every tick: the "… ago" of a screen left open does not go stale. */
function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    return () => clearInterval(tick);
  }, []);
  return now;
}

/** When a device registered: the local date and time, then how long before `now`. */
function Registered({ device, now }: { device: AccountDevice; now: number }) {
  return (
    <>
      <time dateTime={new Date(device.registeredMs).toISOString()}>{localDateTime(device.registeredMs)}</time> (
      {timeAgo(device.registeredMs, now)})
    </>
  );
}

/** Who asked for a change: its name and the start of its id, and the marker when it is this device. */
function AskedBy({ change }: { change: AccountChangeEntry }) {
  return (
    <>
      <bdi>{change.requestedBy}</bdi> <code className="device-id">{shortId(change.requestedById)}</code>
      {change.byThisDevice && (
        <>
          {" "}
          <ThisDevice />
        </>
      )}
    </>
  );
}

export function Devices({ engine }: { engine: Engine }) {
  const account = useQuery(() => engine.call("devices", {}), [engine]);
  const action = useAction();
  const [done, setDone] = useState<ReactNode>(null);
  /** The device whose approval is to be confirmed; `needsCode` once the provider asks for the account's code. */
  const [approving, setApproving] = useState<{ device: AccountDevice; needsCode: boolean } | null>(null);
  const [code, setCode] = useState("");
  const { form, problems, show } = useProblems<"code">();
  const [revoking, setRevoking] = useState<AccountDevice | null>(null);
  const now = useNow();
  const view = account.value;

  // The code is what the person must give next: the field takes the focus as it appears.
  useEffect(() => {
    if (approving?.needsCode === true) form.current?.querySelector("input")?.focus();
  }, [approving?.needsCode, form]);

  function approve(device: AccountDevice, totp: string | null) {
    setDone(null);
    void action.run(`Approving ${device.name}…`, async () => {
      const approved = await engine.call("approveDevice", { id: device.id, totp });
      if (approved.kind === "totp-required") {
        setApproving({ device, needsCode: true });
        return;
      }
      setApproving(null);
      setCode("");
      setDone(
        <>
          <Named device={device} /> is approved. It becomes active at {new Date(approved.effectiveMs).toLocaleString()},
          unless a device of the account cancels it before.
        </>,
      );
      account.reload();
    });
  }

  function approveWithCode(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (approving === null) return;
    const given = code.trim();
    if (show(TOTP_CODE.test(given) ? {} : { code: "Give the six digits your authenticator app shows." })) {
      action.clearError();
      return;
    }
    approve(approving.device, given);
  }

  function cancelChange(change: AccountChangeEntry) {
    setDone(null);
    void action.run("Cancelling the change…", async () => {
      await engine.call("cancelAccountChange", { id: change.id });
      setDone(<>Cancelled: {change.line}. It will not take effect.</>);
      account.reload();
    });
  }

  function revoke(device: AccountDevice) {
    setDone(null);
    void action.run(`Revoking ${device.name}…`, async () => {
      const revoked = await engine.call("revokeDevice", { id: device.id });
      setRevoking(null);
      const more = revoked.walletsNotShown > 0 ? ` And ${revoked.walletsNotShown} more not shown.` : "";
      setDone(
        <>
          <Named device={device} /> is revoked.
          {revoked.wallets.length > 0 && ` Shared wallets it was in: ${revoked.wallets.join("; ")}.${more}`}
        </>,
      );
      account.reload();
    });
  }

  if (approving !== null) {
    const { device, needsCode } = approving;
    return (
      <Screen key="approve" title="Approve this device?">
        <p>
          <Named device={device} /> registered with the account's email and waits to be let in. Once approved, and once
          the account's waiting period has passed, it can sign for the account's wallets and approve what other devices
          ask.
        </p>
        <p>
          It registered on <Registered device={device} now={now} />. If you did not set up a device of yours then, do
          not approve it.
        </p>
        <p>Its id:</p>
        <p>
          <code className="fingerprint">{fingerprint(device.id)}</code>
        </p>
        <p>
          Check that the other device shows this same id on its "Waiting for approval" screen. A name is chosen by the
          device itself: only the id tells two devices apart. If it differs, or you did not set up a new device, do not
          approve it.
        </p>
        {needsCode ? (
          <form onSubmit={approveWithCode} noValidate ref={form}>
            <p>The account has a one-time code (TOTP): the provider lets this device in only with it.</p>
            <TotpField
              label="One-time code (TOTP)"
              hint="The six digits your authenticator app shows for this account."
              value={code}
              onValue={setCode}
              invalid={problems.code}
            />
            <button type="submit" aria-disabled={action.busy !== null}>
              Approve with the code
            </button>
          </form>
        ) : (
          <button type="button" aria-disabled={action.busy !== null} onClick={() => approve(device, null)}>
            Approve this device
          </button>
        )}
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setApproving(null);
            setCode("");
            action.clearError();
          }}
        >
          Do not approve
        </button>
        <Progress label="Approving" status={action.busy} />
        <ErrorMessage error={action.error} ref={action.alert} />
      </Screen>
    );
  }

  if (revoking !== null)
    return (
      <Screen key="revoke" title={`Revoke ${revoking.name}?`}>
        <p>
          The provider will no longer answer this device (<code>{revoking.id}</code>): it cannot sign for the account's
          wallets or approve anything again. This cannot be undone; the device would have to be set up anew.
        </p>
        <div className="row">
          <button type="button" aria-disabled={action.busy !== null} onClick={() => revoke(revoking)}>
            Revoke {revoking.name}
          </button>
          <button type="button" className="secondary" onClick={() => setRevoking(null)}>
            Keep it
          </button>
        </div>
        <Progress label="Revoking" status={action.busy} />
        <ErrorMessage error={action.error} ref={action.alert} />
      </Screen>
    );

  const left = view === undefined ? 0 : view.notShown + view.unreadable;
  return (
    <Screen key="devices" title="Devices">
      {done !== null && (
        <p role="status" className="notice">
          {done}
        </p>
      )}
      {view === undefined && account.error === undefined && <p>Asking the provider for the account's devices…</p>}
      {view !== undefined && (
        <ul className="devices">
          {view.devices.map((device) => {
            const about = `device-${device.id}`;
            return (
              <li key={device.id}>
                <p id={about}>
                  <strong>
                    <Named device={device} />
                  </strong>
                  {device.thisDevice && (
                    <>
                      {" "}
                      <ThisDevice />
                    </>
                  )}
                  <span className="hint"> · {stateText(device.state)}</span>
                </p>
                <p className="hint">
                  Id <code className="device-id">{device.id}</code>
                </p>
                <p className="hint">
                  Registered on <Registered device={device} now={now} />
                </p>
                {device.state === "awaiting-approval" && (
                  <button
                    type="button"
                    aria-describedby={about}
                    onClick={() => {
                      setDone(null);
                      action.clearError();
                      setApproving({ device, needsCode: false });
                    }}
                  >
                    Approve {device.name}
                  </button>
                )}
                {!device.thisDevice && (device.state === "active" || device.state === "approved") && (
                  <button
                    type="button"
                    className="secondary"
                    aria-describedby={about}
                    onClick={() => setRevoking(device)}
                  >
                    Revoke {device.name}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}

      <h2>Waiting changes</h2>
      <p>
        A security change of the account (a new device, a new one-time code, …) takes effect only after a waiting
        period, so that a device in the wrong hands cannot make one unnoticed. Any active device can cancel it
        meanwhile.
      </p>
      {view !== undefined &&
        (view.changes.length === 0 ? (
          <p>No change is waiting.</p>
        ) : (
          <ul className="devices">
            {view.changes.map((change) => {
              const about = `change-${change.id}`;
              return (
                <li key={change.id}>
                  <p id={about}>{change.line}</p>
                  <p className="hint">
                    Asked for by <AskedBy change={change} />; takes effect at{" "}
                    {new Date(change.effectiveMs).toLocaleString()}.
                  </p>
                  <button
                    type="button"
                    className="secondary"
                    aria-describedby={about}
                    aria-disabled={action.busy !== null}
                    onClick={() => cancelChange(change)}
                  >
                    Cancel this change
                  </button>
                </li>
              );
            })}
          </ul>
        ))}
      {left > 0 && (
        <p className="notice">
          {left} more not shown: too many to list here, or not readable. Devices waiting for approval and new devices'
          changes are listed first.
        </p>
      )}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          setDone(null);
          account.reload();
        }}
      >
        Refresh
      </button>
      <Progress label="Working" status={action.busy} />
      <ErrorMessage error={action.error ?? account.error} ref={action.alert} />
    </Screen>
  );
}
