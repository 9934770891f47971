/**
 * One wallet: its address on each chain its key signs for, as text and as a QR code, with a
 * button that copies it; on Ethereum also the node it reads through, its balance, and sending;
 * its policy, and for a hybrid wallet the backup of the provider's share.
 */
import type { ChainName } from "@keyshard/chains/names";
import { type FormEvent, type ReactNode, useState } from "react";
import { BackLink } from "../components/back-link.js";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { QrCode } from "../components/qr-code.js";
import { Screen } from "../components/screen.js";
import type { PolicyWallet } from "../engine/calls/policies.js";
import type { Engine } from "../engine/client.js";
import { type ChainAddress, rpcUrlProblem, URL_MAX } from "../engine/protocol.js";
import { useEthereumRpc } from "../rpc-setting.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";

export const CHAIN_TITLES: Readonly<Record<ChainName, string>> = {
  bitcoin: "Bitcoin",
  ethereum: "Ethereum",
  solana: "Solana",
};

function AddressSection({ chain, address, children }: ChainAddress & { children?: ReactNode }) {
  const title = CHAIN_TITLES[chain];
  const [copied, setCopied] = useState<string>("");
  const [error, setError] = useState<unknown>();

  async function copy() {
    setError(undefined);
    try {
      await navigator.clipboard.writeText(address);
      setCopied("Copied.");
    } catch (e) {
      setCopied("");
      setError(new Error("The address could not be copied: select it and copy it by hand.", { cause: e }));
    }
  }

  const headingId = `chain-${chain}`;
  return (
    <section aria-labelledby={headingId} className="address">
      <h2 id={headingId}>{title}</h2>
      <code>{address}</code>
      <QrCode value={address} label={`QR code of the ${title} address`} />
      <div className="row">
        {/* Named "Copy" like its twins; the chain's heading says which address it copies. */}
        <button type="button" onClick={copy} aria-describedby={headingId}>
          Copy
        </button>
        <span role="status" aria-live="polite">
          {copied}
        </span>
      </div>
      <ErrorMessage error={error} />
      {children}
    </section>
  );
}

function Balance({ engine, name, rpc }: { engine: Engine; name: string; rpc: string }) {
  const balance = useQuery(() => engine.call("balance", { name, chain: "ethereum", rpc }), [engine, name, rpc]);
  return (
    <>
      <p aria-live="polite">
        {balance.value === undefined ? (
          balance.error === undefined && "Reading the balance…"
        ) : (
          <>
            Balance: <strong>{balance.value}</strong>
          </>
        )}
      </p>
      <ErrorMessage error={balance.error} />
    </>
  );
}

/** The Ethereum node this browser uses, the balance read through it, and the way to send. */
function EthereumAccount({ engine, name, onSend }: { engine: Engine; name: string; onSend(): void }) {
  const rpc = useEthereumRpc();
  const [url, setUrl] = useState(rpc.url ?? "");
  const { form, problems, show } = useProblems<"url">();
  const [saveError, setSaveError] = useState<unknown>();

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const wanted = url.trim();
    const problem = rpcUrlProblem(wanted);
    if (show(problem === undefined ? {} : { url: problem })) return;
    setSaveError(undefined);
    try {
      rpc.save(wanted);
    } catch (e) {
      setSaveError(e);
    }
  }

  return (
    <>
      {rpc.url === null ? (
        <p>Set the Ethereum node (RPC URL) to see the balance and send.</p>
      ) : (
        <Balance engine={engine} name={name} rpc={rpc.url} />
      )}
      <form onSubmit={save} noValidate ref={form}>
        <Field
          label="Ethereum RPC URL"
          hint="The node your balance is read from and your sends go through: an http(s) address, with no password in it."
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          maxLength={URL_MAX}
          value={url}
          onValue={setUrl}
          invalid={problems.url}
        />
        <button type="submit" className="secondary">
          Save node
        </button>
      </form>
      <ErrorMessage error={saveError} />
      {rpc.url !== null && (
        <button type="button" onClick={onSend}>
          Send
        </button>
      )}
    </>
  );
}

export function Wallet({
  engine,
  name,
  onBack,
  onSend,
  onPolicy,
  onBackup,
}: {
  engine: Engine;
  name: string;
  onBack(): void;
  onSend(): void;
  onPolicy(wallet: PolicyWallet): void;
  onBackup(): void;
}) {
  const { value: addresses, error } = useQuery(() => engine.call("addresses", { name }), [engine, name]);
  // The wallet as the account knows it: its id names it to the policy calls, whatever other devices call theirs.
  const account = useQuery(() => engine.call("policyWallets", {}), [engine]);
  const atProvider = account.value?.find((w) => w.localName === name);

  return (
    <Screen title={name}>
      <BackLink label="Wallets" onBack={onBack} />
      {addresses === undefined && error === undefined && <p>Reading the wallet's addresses…</p>}
      {addresses?.map((a) => (
        <AddressSection key={a.chain} {...a}>
          {a.chain === "ethereum" && <EthereumAccount engine={engine} name={name} onSend={onSend} />}
        </AddressSection>
      ))}
      <ErrorMessage error={error ?? account.error} />
      {atProvider !== undefined && (
        <div className="row">
          <button type="button" className="secondary" onClick={() => onPolicy(atProvider)}>
            Policy
          </button>
          {/* Only a hybrid wallet's second share is the provider's to back up. */}
          {atProvider.hybrid && (
            <button type="button" className="secondary" onClick={onBackup}>
              Backup
            </button>
          )}
        </div>
      )}
    </Screen>
  );
}
