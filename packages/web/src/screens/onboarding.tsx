/**
 * "Set up this device": makes this browser's keystore (unlocked by a new passkey, or a passphrase)
 * and registers the device with the provider under the account's email, which mails a code.
 * A device made before whose registration did not go through is only registered.
 */
import { type FormEvent, useState } from "react";
import { flushSync } from "react-dom";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Screen } from "../components/screen.js";
import type { Engine } from "../engine/client.js";
import { EMAIL_MAX, PASSPHRASE_MAX, PASSPHRASE_MIN, type Session, type Unlock, URL_MAX } from "../engine/protocol.js";
import { NAME_MAX } from "../engine/readers.js";
import { createPasskey, forgetPasskey, PasskeyError } from "../passkey.js";
import { keepStorage } from "../storage.js";
import { useAction } from "../use-action.js";
import { type Problems, useProblems } from "../use-problems.js";

type FieldName = "url" | "email" | "name" | "passphrase" | "repeat";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * What is wrong with the provider's address, if anything. The page's content security policy
 * lets it reach its own origin only (a provider serving the app allows itself): another origin
 * would fail later with a browser error, so it is refused here in words.
 */
function providerUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "Give the provider's address, such as https://wallet.example.com.";
  }
  if (text.length > URL_MAX) return `The address is longer than ${URL_MAX} characters.`;
  if (url.username !== "" || url.password !== "")
    return "Give the provider's address without a user name or password in it.";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname)))
    return "The provider's address starts with https:// (http:// is for localhost only).";
  if (url.origin !== location.origin)
    return `This app reaches only the provider it is served by: ${location.origin}. Open the app from your provider's address instead.`;
  return undefined;
}

export function Onboarding({
  engine,
  device,
  onRegistered,
  onRecoverWithFace,
}: {
  engine: Engine;
  /** This browser's device when it exists already (not registered yet); null to make it. */
  device: Session | null;
  onRegistered(session: Session): void;
  /** Offers to set this device up to recover the account's wallets with the person's face instead. */
  onRecoverWithFace?: () => void;
}) {
  const [providerUrl, setProviderUrl] = useState(location.origin);
  const [email, setEmail] = useState("");
  const [deviceName, setDeviceName] = useState("");
  const [usePassphrase, setUsePassphrase] = useState(false);
  const [passphrase, setPassphrase] = useState("");
  const [repeated, setRepeated] = useState("");
  const [made, setMade] = useState(device);
  const { form, problems, show } = useProblems<FieldName>();
  const action = useAction();

  function check(): Problems<FieldName> {
    const found: Problems<FieldName> = {};
    const url = providerUrlProblem(providerUrl.trim());
    if (url !== undefined) found.url = url;
    const address = email.trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(address) || address.length > EMAIL_MAX)
      found.email = "Give the account's email address.";
    if (made === null) {
      const name = deviceName.trim();
      if (name.length === 0 || name.length > NAME_MAX)
        found.name = `Name this device (up to ${NAME_MAX} characters), e.g. "Laptop browser".`;
      if (usePassphrase) {
        if (passphrase.length < PASSPHRASE_MIN || passphrase.length > PASSPHRASE_MAX)
          found.passphrase = `The passphrase needs ${PASSPHRASE_MIN} to ${PASSPHRASE_MAX} characters.`;
        else if (repeated !== passphrase) found.repeat = "The two passphrases differ: type the same one twice.";
      }
    }
    return found;
  }

  /** A browser whose passkeys cannot protect the keystore: the passphrase is the way left. */
  function offerPassphrase(e: unknown): boolean {
    if (!(e instanceof PasskeyError) || (e.code !== "no-prf" && e.code !== "unsupported")) return false;
    flushSync(() => setUsePassphrase(true));
    const field = form.current?.querySelector<HTMLInputElement>("input[type=password]");
    field?.focus();
    return field != null;
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (action.busy !== null) return;
    if (show(check())) {
      action.clearError();
      return;
    }
    void action.run(
      "Setting up this device…",
      async (status) => {
        let session = made;
        if (session === null) {
          const name = deviceName.trim();
          let unlock: Unlock = passphrase;
          if (!usePassphrase) {
            status("Waiting for the passkey…");
            unlock = { passkey: await createPasskey(name) };
          }
          status("Making this device's keystore…");
          const making = engine.call("init", { unlock, name });
          // Posted to the engine (copied) as the call was made: this copy is of no more use.
          if (typeof unlock !== "string") unlock.passkey.output.fill(0);
          try {
            session = await making;
          } catch (e) {
            // No keystore is sealed under the new passkey: it would only clutter the person's list.
            if (typeof unlock !== "string") forgetPasskey(unlock.passkey.credentialId);
            throw e;
          }
          setPassphrase("");
          setRepeated("");
          setMade(session);
          void keepStorage();
        }
        status("Registering with the provider…");
        onRegistered(await engine.call("register", { url: providerUrl.trim(), email: email.trim() }));
      },
      offerPassphrase,
    );
  }

  return (
    <Screen title="Set up this device">
      <p>
        {made === null
          ? "This browser becomes one of your devices: it keeps its share of each wallet's key, encrypted."
          : "This browser's device is made: register it with your provider."}
      </p>
      <form onSubmit={submit} noValidate ref={form}>
        <Field
          label="Provider URL"
          type="url"
          autoComplete="url"
          maxLength={URL_MAX}
          value={providerUrl}
          onValue={setProviderUrl}
          invalid={problems.url}
        />
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          maxLength={EMAIL_MAX}
          hint="The provider mails a code to it."
          value={email}
          onValue={setEmail}
          invalid={problems.email}
        />
        {made === null && (
          <>
            <Field
              label="Device name"
              autoComplete="off"
              maxLength={NAME_MAX}
              hint="How your other devices and the provider name this browser."
              value={deviceName}
              onValue={setDeviceName}
              invalid={problems.name}
            />
            <div className="check">
              <input
                id="use-passphrase"
                type="checkbox"
                checked={usePassphrase}
                onChange={(event) => setUsePassphrase(event.target.checked)}
              />
              <label htmlFor="use-passphrase">Use a passphrase instead of a passkey</label>
            </div>
            {usePassphrase ? (
              <>
                <Field
                  label="Passphrase"
                  type="password"
                  autoComplete="off"
                  maxLength={PASSPHRASE_MAX}
                  hint={`At least ${PASSPHRASE_MIN} characters. It cannot be recovered: keep it safe, and do not let this browser save it.`}
                  value={passphrase}
                  onValue={setPassphrase}
                  invalid={problems.passphrase}
                />
                <Field
                  label="Repeat passphrase"
                  type="password"
                  autoComplete="off"
                  maxLength={PASSPHRASE_MAX}
                  value={repeated}
                  onValue={setRepeated}
                  invalid={problems.repeat}
                />
              </>
            ) : (
              <p className="hint">A passkey of this device (fingerprint, face or PIN) will unlock the keystore.</p>
            )}
          </>
        )}
        <button type="submit" aria-disabled={action.busy !== null}>
          Continue
        </button>
      </form>
      <p role="status" aria-live="polite" className="status">
        {action.busy}
      </p>
      <ErrorMessage error={action.error} ref={action.alert} />
      {onRecoverWithFace !== undefined && (
        <>
          <h2>Lost your devices?</h2>
          <p>If you enrolled your face, this browser can get your wallets back with it.</p>
          <button type="button" className="secondary" onClick={onRecoverWithFace}>
            Recover with my face
          </button>
        </>
      )}
    </Screen>
  );
}
