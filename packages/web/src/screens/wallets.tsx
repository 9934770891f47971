/**
 * "Wallets": this device's wallets, the shared wallets waiting for it to join, and a new wallet —
 * hybrid (this device and the provider, 2-of-2) or shared with other devices of the account —
 * whose key generation runs in the engine while a progress bar shows it is under way.
 */
import { type FormEvent, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { PolicyTemplateField } from "../components/policy-template-field.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { WalletNameField, walletNameProblem } from "../components/wallet-name.js";
import { type Engine, EngineCallError } from "../engine/client.js";
import { storageKept } from "../storage.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";
import { NewSharedWallet, WaitingWallets } from "./shared-wallets.js";

const isOffline = (e: unknown) => e instanceof EngineCallError && e.code === "provider-down";

/** Said when the browser has not promised to keep the storage that holds this device's shares. */
function StorageNotice() {
  const kept = useQuery(storageKept, []);
  if (kept.value !== false) return null;
  return (
    <div className="notice">
      <p>
        This browser may clear the app's storage when it runs short of space, and with it this device's share of each
        wallet. Install the app (your browser's "Install" or "Add to Home Screen") so that the browser keeps it, and
        back your wallets up once backups are available.
      </p>
    </div>
  );
}

export function Wallets({ engine, onOpen }: { engine: Engine; onOpen(name: string): void }) {
  const wallets = useQuery(() => engine.call("wallets", {}), [engine]);
  const [name, setName] = useState("");
  const [shared, setShared] = useState(false);
  const [policyTemplate, setPolicyTemplate] = useState<string | null>(null);
  const { form, problems, show } = useProblems<"name">();
  const action = useAction();
  const list = wallets.value;

  function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const wanted = name.trim();
    const problem = walletNameProblem(
      wanted,
      (list ?? []).map((w) => w.name),
    );
    if (show(problem === undefined ? {} : { name: problem })) {
      action.clearError();
      return;
    }
    void action.run("Starting…", async (status) => {
      try {
        onOpen((await engine.call("createWallet", { name: wanted, policyTemplate }, status)).name);
      } catch (e) {
        // A failure may still have left a wallet behind (made at the provider, or its key unfinished).
        wallets.reload();
        throw e;
      }
    });
  }

  return (
    <Screen title="Wallets">
      <StorageNotice />
      {list === undefined && wallets.error === undefined && <p>Reading this device's wallets…</p>}
      {list !== undefined &&
        (list.length === 0 ? (
          <p>No wallets yet: create the first one below.</p>
        ) : (
          <ul className="wallets">
            {list.map((w) => (
              <li key={w.name}>
                <button type="button" className="link" onClick={() => onOpen(w.name)}>
                  {w.name}
                </button>
                <span className="hint">
                  {w.hybrid ? "this device and the provider" : "shared with other devices"} · {w.state}
                </span>
              </li>
            ))}
          </ul>
        ))}
      {isOffline(wallets.error) ? (
        <div className="notice">
          <p>
            The provider cannot be reached, so this device's wallets cannot be listed now. Check the connection, then
            try again.
          </p>
          <button type="button" className="secondary" onClick={wallets.reload}>
            Try again
          </button>
        </div>
      ) : (
        <ErrorMessage error={wallets.error} />
      )}

      <WaitingWallets engine={engine} onJoined={onOpen} />

      <h2>New wallet</h2>
      <fieldset>
        <legend>Who holds the key's shares</legend>
        <div className="check">
          <input id="kind-hybrid" type="radio" name="wallet-kind" checked={!shared} onChange={() => setShared(false)} />
          <label htmlFor="kind-hybrid">This device and the provider, signing together (hybrid)</label>
        </div>
        <div className="check">
          <input id="kind-shared" type="radio" name="wallet-kind" checked={shared} onChange={() => setShared(true)} />
          <label htmlFor="kind-shared">This device and other devices of the account (shared)</label>
        </div>
      </fieldset>
      {shared ? (
        <NewSharedWallet engine={engine} taken={list?.map((w) => w.name) ?? []} onMade={onOpen} />
      ) : (
        <>
          <form onSubmit={create} noValidate ref={form}>
            <WalletNameField value={name} onValue={setName} invalid={problems.name} />
            <PolicyTemplateField engine={engine} value={policyTemplate} onValue={setPolicyTemplate} />
            <button type="submit" aria-disabled={action.busy !== null}>
              Create wallet
            </button>
          </form>
          <Progress label="Creating the key" status={action.busy} />
          <ErrorMessage error={action.error} ref={action.alert} />
        </>
      )}
    </Screen>
  );
}
