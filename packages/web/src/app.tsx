/**
 * The screens and how one leads to the next: loading → onboarding (or unlock, once a keystore is
 * here) → check your email (until the device is verified) → wallets ⇄ wallet ⇄ send. A device the
 * provider has not let in (waiting for approval, revoked) is told so instead of its wallets.
 */
import { useEffect, useState } from "react";
import { ErrorMessage } from "./components/error-message.js";
import { Screen } from "./components/screen.js";
import type { Engine } from "./engine/client.js";
import type { Session, UnlockMethod } from "./engine/protocol.js";
import { CheckEmail } from "./screens/check-email.js";
import { Onboarding } from "./screens/onboarding.js";
import { Send } from "./screens/send.js";
import { Unlock } from "./screens/unlock.js";
import { Wallet } from "./screens/wallet.js";
import { Wallets } from "./screens/wallets.js";

type View =
  | { screen: "loading" }
  | { screen: "failed"; error: unknown }
  | { screen: "onboarding"; device: Session | null }
  | { screen: "unlock"; method: NonNullable<UnlockMethod> }
  | { screen: "check-email" }
  | { screen: "standing"; state: string }
  | { screen: "wallets" }
  | { screen: "wallet"; name: string }
  | { screen: "send"; name: string };

/**
 * Where an unlocked device goes: registering, proving its email, its wallets (when active, or
 * when the provider cannot be reached to ask: the Wallets screen says it is offline), or what
 * keeps it from them.
 */
function viewOf(session: Session): View {
  if (session.providerUrl === null) return { screen: "onboarding", device: session };
  if (session.offline || session.state === "active") return { screen: "wallets" };
  if (session.state === "unverified") return { screen: "check-email" };
  return { screen: "standing", state: session.state ?? "unknown" };
}

/** What a device that is not active can be told about where it stands. */
function standingText(state: string): { title: string; text: string } {
  switch (state) {
    case "awaiting-approval":
      return {
        title: "Waiting for approval",
        text: "This device is registered, and waits for one of the account's active devices to approve it. Approve it there, then unlock this device again.",
      };
    case "approved":
      return {
        title: "Approved, not active yet",
        text: "This device was approved, and becomes active once the account's waiting period for new devices ends. Unlock it again then.",
      };
    case "revoked":
      return {
        title: "This device was revoked",
        text: "The account no longer lets this device in: it cannot see or sign for the account's wallets. Set up another device, or ask the account's owner.",
      };
    default:
      return {
        title: "This device cannot be used now",
        text: `The provider gives this device a state this app does not know (${state}). Try again later, or update the app.`,
      };
  }
}

export function App({ engine }: { engine: Engine }) {
  const [view, setView] = useState<View>({ screen: "loading" });
  const toSession = (session: Session) => setView(viewOf(session));

  useEffect(() => {
    engine.call("unlockMethod", {}).then(
      (method) => setView(method === null ? { screen: "onboarding", device: null } : { screen: "unlock", method }),
      (error: unknown) => setView({ screen: "failed", error }),
    );
  }, [engine]);

  switch (view.screen) {
    case "loading":
      return (
        <main className="screen">
          <p role="status">Starting the wallet…</p>
        </main>
      );
    case "failed":
      return (
        <Screen title="The wallet cannot start">
          <ErrorMessage error={view.error} />
        </Screen>
      );
    case "onboarding":
      return <Onboarding engine={engine} device={view.device} onRegistered={toSession} />;
    case "unlock":
      return <Unlock engine={engine} method={view.method} onUnlocked={toSession} />;
    case "standing": {
      const { title, text } = standingText(view.state);
      return (
        <Screen title={title}>
          <p>{text}</p>
        </Screen>
      );
    }
    case "check-email":
      return <CheckEmail engine={engine} onVerified={toSession} />;
    case "wallets":
      return <Wallets engine={engine} onOpen={(name) => setView({ screen: "wallet", name })} />;
    case "wallet":
      return (
        <Wallet
          engine={engine}
          name={view.name}
          onBack={() => setView({ screen: "wallets" })}
          onSend={() => setView({ screen: "send", name: view.name })}
        />
      );
    case "send":
      return <Send engine={engine} name={view.name} onBack={() => setView({ screen: "wallet", name: view.name })} />;
  }
}
