/**
 * "Check your email": the device proves the account's email with the code the provider mailed;
 * the account's first device is active at once.
 */
import { type FormEvent, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Screen } from "../components/screen.js";
import type { Engine } from "../engine/client.js";
import { CODE_DIGITS, type Session } from "../engine/protocol.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";

export function CheckEmail({ engine, onVerified }: { engine: Engine; onVerified(session: Session): void }) {
  const [code, setCode] = useState("");
  const [sent, setSent] = useState(false);
  const { form, problems, show } = useProblems<"code">();
  const action = useAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const digits = code.replace(/\s/g, "");
    const wellFormed = digits.length === CODE_DIGITS && /^[0-9]+$/.test(digits);
    if (show(wellFormed ? {} : { code: `The code is the ${CODE_DIGITS} digits in the mail.` })) {
      action.clearError();
      return;
    }
    void action.run("Checking the code…", async () => onVerified(await engine.call("verify", { code: digits })));
  }

  return (
    <Screen title="Check your email">
      <p>The provider mailed a code to the account's address. Enter it to finish setting up this device.</p>
      <form onSubmit={submit} noValidate ref={form}>
        <Field
          label="Code"
          inputMode="numeric"
          autoComplete="one-time-code"
          // One more than the digits: a space may part them, as some mail apps show the code.
          maxLength={CODE_DIGITS + 1}
          value={code}
          onValue={setCode}
          invalid={problems.code}
        />
        <button type="submit" aria-disabled={action.busy !== null}>
          Verify
        </button>
      </form>
      <p className="hint">No mail, or the code expired? The provider mails one code per 10 minutes.</p>
      <button
        type="button"
        className="secondary"
        aria-disabled={action.busy !== null}
        onClick={() =>
          void action.run("Asking for a new code…", async () => {
            await engine.call("resendCode", {});
            setSent(true);
          })
        }
      >
        Send a new code
      </button>
      <p role="status" aria-live="polite" className="status">
        {action.busy ?? (sent ? "A new code is on its way." : "")}
      </p>
      <ErrorMessage error={action.error} ref={action.alert} />
    </Screen>
  );
}
