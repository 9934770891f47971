/**
 * "Backup of <wallet>": a hybrid wallet's backup by request. The provider releases its share,
 * sealed to a key of this device, once the account's backup delay has passed (any device of the
 * account may cancel meanwhile); downloaded, the share is checked and kept here, and the wallet
 * signs on this device alone — the provider then no longer co-signs it or applies its policy, which
 * the screen says before the download.
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { BackLink } from "../components/back-link.js";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import type { BackupStanding } from "../engine/calls/policies.js";
import type { Engine } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";

function standingText(backup: BackupStanding, now: number): string {
  const at = backup.readyMs === null ? "" : new Date(backup.readyMs).toLocaleString();
  switch (backup.status) {
    case "none":
      return "No backup of this wallet was asked for.";
    case "waiting":
      return backup.readyMs !== null && backup.readyMs <= now
        ? `The backup can be downloaded now (since ${at}).`
        : `A backup was asked for: it can be downloaded from ${at}. Any device of the account may cancel it until then.`;
    case "cancelled":
      return "The last backup asked for was cancelled: the provider keeps its share.";
    case "released":
      return "The backup was downloaded: this device holds the whole key, and the provider no longer co-signs this wallet.";
  }
}

export function Backup({ engine, name, onBack }: { engine: Engine; name: string; onBack(): void }) {
  const backup = useQuery(() => engine.call("backupStatus", { name }), [engine, name]);
  const [shown, setShown] = useState<BackupStanding | undefined>();
  const [totp, setTotp] = useState("");
  const [downloading, setDownloading] = useState(false);
  // The button pressed gives way to the warning: the keyboard and screen reader go on from its heading.
  const warningHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (downloading) warningHeading.current?.focus();
  }, [downloading]);
  const { form, problems, show } = useProblems<"totp">();
  const action = useAction();
  const standing = shown ?? backup.value;
  const now = Date.now();

  /** Runs `call` and shows the backup as it then stands. */
  const change = (status: string, call: () => Promise<BackupStanding>) =>
    action.run(status, async () => {
      setShown(await call());
      setDownloading(false);
    });

  function request(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const given = totp.trim();
    if (
      show(given === "" || TOTP_CODE.test(given) ? {} : { totp: "Give the six digits your authenticator app shows." })
    ) {
      action.clearError();
      return;
    }
    void change("Asking the provider for the backup…", async () => {
      const asked = await engine.call("backupRequest", { name, totp: given === "" ? null : given });
      setTotp("");
      return asked;
    });
  }

  const canAsk = standing?.status === "none" || standing?.status === "cancelled";
  const ready = standing?.status === "waiting" && standing.readyMs !== null && standing.readyMs <= now;

  return (
    <Screen title={`Backup of ${name}`}>
      <BackLink label="Back to the wallet" onBack={onBack} />
      <p>
        A backup gives this device the provider's share of the wallet, so that it can sign without the provider. It is
        released only after the account's backup delay, and the account is mailed when it is asked for.
      </p>
      <p role="status">
        {standing === undefined
          ? backup.error === undefined && "Reading where the wallet's backup stands…"
          : standingText(standing, now)}
      </p>

      {canAsk && (
        <form onSubmit={request} noValidate ref={form}>
          <TotpField
            label="One-time code (TOTP)"
            hint="Where the account has a TOTP in force: the six digits its app shows now. Otherwise leave it empty."
            value={totp}
            onValue={setTotp}
            invalid={problems.totp}
          />
          <button type="submit" aria-disabled={action.busy !== null}>
            Ask for a backup
          </button>
        </form>
      )}
      {standing?.status === "waiting" && (
        <div className="row">
          {!ready && (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setShown(undefined);
                backup.reload();
              }}
            >
              Check again
            </button>
          )}
          {ready && !downloading && (
            <button type="button" onClick={() => setDownloading(true)}>
              Download the backup
            </button>
          )}
          <button
            type="button"
            className="secondary"
            onClick={() => void change("Cancelling the backup…", () => engine.call("backupCancel", { name }))}
          >
            Cancel the backup
          </button>
        </div>
      )}
      {downloading && (
        <div className="notice">
          <h2 ref={warningHeading} tabIndex={-1}>
            Before downloading
          </h2>
          <p>
            Once downloaded, the provider deletes its share: it no longer co-signs this wallet or applies its policy to
            it, and this device alone can sign. Keep this device's storage safe.
          </p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                void change("Downloading and checking the share…", () => engine.call("backupDownload", { name }))
              }
            >
              Download and keep it here
            </button>
            <button type="button" className="secondary" onClick={() => setDownloading(false)}>
              Not now
            </button>
          </div>
        </div>
      )}
      <Progress label="Working" status={action.busy} />
      <ErrorMessage error={action.error ?? backup.error} ref={action.alert} />
    </Screen>
  );
}
