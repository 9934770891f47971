/**
 * One wallet: its address on each chain its key signs for, as text and as a QR code, with a
 * button that copies it.
 */
import type { ChainName } from "@keyshard/chains/names";
import { useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { QrCode } from "../components/qr-code.js";
import { Screen } from "../components/screen.js";
import type { Engine } from "../engine/client.js";
import type { ChainAddress } from "../engine/protocol.js";
import { useQuery } from "../use-query.js";

const CHAIN_TITLES: Readonly<Record<ChainName, string>> = {
  bitcoin: "Bitcoin",
  ethereum: "Ethereum",
  solana: "Solana",
};

function AddressSection({ chain, address }: ChainAddress) {
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
    </section>
  );
}

export function Wallet({ engine, name, onBack }: { engine: Engine; name: string; onBack(): void }) {
  const { value: addresses, error } = useQuery(() => engine.call("addresses", { name }), [engine, name]);

  return (
    <Screen title={name}>
      <nav>
        <a
          href={import.meta.env.BASE_URL}
          onClick={(event) => {
            event.preventDefault();
            onBack();
          }}
        >
          Wallets
        </a>
      </nav>
      {addresses === undefined && error === undefined && <p>Reading the wallet's addresses…</p>}
      {addresses?.map((a) => (
        <AddressSection key={a.chain} {...a} />
      ))}
      <ErrorMessage error={error} />
    </Screen>
  );
}
