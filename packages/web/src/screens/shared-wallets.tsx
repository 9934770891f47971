/**
 * Wallets shared with other devices of the account (t-of-n), on the Wallets screen: the key
 * generations that wait for this device, each with its parties and how many must sign, joined
 * with one button; and the form that makes one with chosen devices, whose key generation waits
 * until each of them has joined from its own screen.
 */
import { type FormEvent, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { PolicyTemplateField } from "../components/policy-template-field.js";
import { Progress } from "../components/progress.js";
import { DeviceName } from "../components/transaction.js";
import { WalletNameField, walletNameProblem } from "../components/wallet-name.js";
import { shortId } from "../engine/calls/devices.js";
import type { WaitingWallet } from "../engine/calls/shared-wallets.js";
import type { Engine } from "../engine/client.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";
import { usePolling } from "./held-request.js";

/** "2 of 3" and who the parties are, as a sentence. */
function Parties({ wallet }: { wallet: WaitingWallet }) {
  const parties = wallet.devices.length + (wallet.provider ? 1 : 0);
  return (
    <p>
      <bdi>{wallet.name}</bdi>: any {wallet.threshold} of {parties} sign together —{" "}
      {wallet.devices.map((device, i) => (
        <span key={device.id}>
          {i > 0 && ", "}
          <DeviceName device={device} />
        </span>
      ))}
      {wallet.provider && ", and the provider"}. Asked for by <DeviceName device={wallet.requestedBy} />.
    </p>
  );
}

/** The key generations that wait for this device, kept up to date while shown; nothing when none waits. */
export function WaitingWallets({ engine, onJoined }: { engine: Engine; onJoined(name: string): void }) {
  const waiting = usePolling(() => engine.call("waitingWallets", {}), true, [engine]);
  const action = useAction();
  const list = waiting.value?.wallets ?? [];
  if (list.length === 0 && action.busy === null && action.error === undefined && waiting.error === undefined)
    return null;

  function join(wallet: WaitingWallet) {
    void action.run("Joining…", async (status) => {
      // The parties as shown: the engine joins only if the provider still lists exactly these.
      const shown = {
        walletId: wallet.walletId,
        devices: wallet.devices.map((d) => d.id),
        provider: wallet.provider,
        threshold: wallet.threshold,
      };
      onJoined((await engine.call("joinWallet", shown, status)).name);
    });
  }

  return (
    <section aria-labelledby="waiting-wallets">
      <h2 id="waiting-wallets">Waiting for this device</h2>
      <p>
        Another device of the account is making a wallet with this one. Join only a wallet you asked for: this device
        then holds a share of its key.
      </p>
      <ul className="wallets">
        {list.map((wallet) => (
          <li key={wallet.walletId}>
            <Parties wallet={wallet} />
            <button type="button" aria-disabled={action.busy !== null} onClick={() => join(wallet)}>
              Join {wallet.name}
            </button>
          </li>
        ))}
      </ul>
      <Progress label="Making the key with the other devices" status={action.busy} />
      <ErrorMessage error={action.error ?? waiting.error} ref={action.alert} />
    </section>
  );
}

/** The form of a wallet shared with other devices: which devices, whether the provider too, how many sign. */
export function NewSharedWallet({
  engine,
  taken,
  onMade,
}: {
  engine: Engine;
  /** The names of this device's wallets: a new one needs another. */
  taken: readonly string[];
  onMade(name: string): void;
}) {
  const account = useQuery(() => engine.call("devices", {}), [engine]);
  const others = account.value?.devices.filter((d) => !d.thisDevice && d.state === "active") ?? [];
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<readonly string[]>([]);
  const [provider, setProvider] = useState(true);
  const [threshold, setThreshold] = useState(2);
  const [policyTemplate, setPolicyTemplate] = useState<string | null>(null);
  const { form, problems, show } = useProblems<"name" | "devices">();
  const action = useAction();
  const parties = chosen.length + 1 + (provider ? 1 : 0);
  // Said until a device is chosen, not until the form is sent again.
  const devicesProblem = chosen.length === 0 ? problems.devices : undefined;

  function toggle(id: string, on: boolean) {
    setChosen((was) => (on ? [...was, id] : was.filter((d) => d !== id)));
  }

  function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const wanted = name.trim();
    const nameProblem = walletNameProblem(wanted, taken);
    if (
      show({
        ...(nameProblem !== undefined && { name: nameProblem }),
        ...(chosen.length === 0 && { devices: "Choose at least one other device." }),
      })
    ) {
      action.clearError();
      return;
    }
    void action.run("Waiting for the other devices to join…", async (status) => {
      const made = await engine.call(
        "createSharedWallet",
        {
          name: wanted,
          devices: [...chosen],
          threshold: Math.min(threshold, parties),
          provider,
          // Without the provider as a party, no policy of its applies.
          policyTemplate: provider ? policyTemplate : null,
        },
        status,
      );
      onMade(made.name);
    });
  }

  if (account.value !== undefined && others.length === 0)
    return (
      <p>
        No other active device of the account to share a wallet with: add one under Devices first, then come back here.
      </p>
    );
  return (
    <form onSubmit={create} noValidate ref={form}>
      <WalletNameField value={name} onValue={setName} invalid={problems.name} />
      <fieldset>
        <legend>Devices that hold a share</legend>
        <p className="hint">This device, and each one chosen here.</p>
        {others.map((device, i) => (
          <div className="check" key={device.id}>
            <input
              id={`share-${device.id}`}
              type="checkbox"
              // The first box takes the focus when none is chosen, and reads the error out.
              aria-invalid={devicesProblem && i === 0 ? true : undefined}
              aria-describedby={devicesProblem ? "shared-devices-error" : undefined}
              checked={chosen.includes(device.id)}
              onChange={(event) => toggle(device.id, event.target.checked)}
            />
            <label htmlFor={`share-${device.id}`}>
              <bdi>{device.name}</bdi> <span className="hint">({shortId(device.id)})</span>
            </label>
          </div>
        ))}
        {devicesProblem && (
          <p id="shared-devices-error" className="field-error">
            {devicesProblem}
          </p>
        )}
      </fieldset>
      <div className="check">
        <input
          id="share-provider"
          type="checkbox"
          checked={provider}
          onChange={(event) => setProvider(event.target.checked)}
        />
        <label htmlFor="share-provider">The provider holds a share too, and co-signs under the wallet's policy</label>
      </div>
      {provider && <PolicyTemplateField engine={engine} value={policyTemplate} onValue={setPolicyTemplate} />}
      <div className="field">
        <label htmlFor="share-threshold">Shares that must sign together</label>
        <select
          id="share-threshold"
          value={Math.min(threshold, parties)}
          onChange={(event) => setThreshold(Number(event.target.value))}
        >
          {Array.from({ length: Math.max(parties - 1, 1) }, (_, i) => i + 2).map((t) => (
            <option key={t} value={t}>
              {t} of {parties}
            </option>
          ))}
        </select>
      </div>
      <p className="hint">
        While the key is made, open keyshard on each chosen device: the wallet shows there under "Waiting for this
        device" until it is joined.
      </p>
      <button type="submit" aria-disabled={action.busy !== null}>
        Create shared wallet
      </button>
      <Progress label="Creating the key with the other devices" status={action.busy} />
      <ErrorMessage error={action.error ?? account.error} ref={action.alert} />
    </form>
  );
}
