/**
 * "Unlock this device": opens this browser's keystore with its passkey, or with its passphrase,
 * whichever it was made with.
 */
import { type FormEvent, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Screen } from "../components/screen.js";
import { type Engine, EngineCallError } from "../engine/client.js";
import { PASSPHRASE_MAX, type Session, type UnlockMethod } from "../engine/protocol.js";
import { passkeyOutput } from "../passkey.js";
import { keepStorage } from "../storage.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";

/** The engine's codes for an unlock value that does not open the keystore. */
const WRONG_UNLOCK = new Set(["wrong-passphrase", "wrong-key"]);

export function Unlock({
  engine,
  method,
  onUnlocked,
}: {
  engine: Engine;
  method: NonNullable<UnlockMethod>;
  onUnlocked(session: Session): void;
}) {
  const [passphrase, setPassphrase] = useState("");
  const { form, problems, show } = useProblems<"passphrase">();
  const action = useAction();

  /** A wrong passphrase marks its field, which takes the focus; the alert says what happened. */
  const markWrongPassphrase = (e: unknown) =>
    e instanceof EngineCallError && WRONG_UNLOCK.has(e.code) && show({ passphrase: true });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if ("passkey" in method) {
      const { credentialId, salt } = method.passkey;
      void action.run("Waiting for the passkey…", async (status) => {
        const output = await passkeyOutput(credentialId, salt);
        status("Opening the keystore…");
        const opening = engine.call("open", { unlock: { passkey: { credentialId, salt, output } } });
        // Posted to the engine (copied) as the call was made: this copy is of no more use.
        output.fill(0);
        const session = await opening;
        void keepStorage();
        onUnlocked(session);
      });
      return;
    }
    if (show(passphrase.length === 0 ? { passphrase: "Enter this device's passphrase." } : {})) {
      action.clearError();
      return;
    }
    void action.run(
      "Opening the keystore…",
      async () => {
        const session = await engine.call("open", { unlock: passphrase });
        void keepStorage();
        onUnlocked(session);
      },
      markWrongPassphrase,
    );
  }

  return (
    <Screen title="Unlock this device">
      <form onSubmit={submit} noValidate ref={form}>
        {"passkey" in method ? (
          <>
            <p>This device's keystore opens with its passkey.</p>
            <button type="submit" aria-disabled={action.busy !== null}>
              Unlock with passkey
            </button>
          </>
        ) : (
          <>
            <Field
              label="Passphrase"
              type="password"
              autoComplete="off"
              maxLength={PASSPHRASE_MAX}
              value={passphrase}
              onValue={setPassphrase}
              invalid={problems.passphrase}
            />
            <button type="submit" aria-disabled={action.busy !== null}>
              Unlock
            </button>
          </>
        )}
      </form>
      <p role="status" aria-live="polite" className="status">
        {action.busy}
      </p>
      <ErrorMessage error={action.error} ref={action.alert} />
    </Screen>
  );
}
