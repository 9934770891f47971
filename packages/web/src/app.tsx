/**
 * The screens and how one leads to the next: loading → onboarding (or unlock, once a keystore is
 * here) → check your email (until the device is verified) → wallets ⇄ wallet ⇄ send. A device the
 * provider has not let in (waiting for approval, revoked) is told so instead of its wallets.
 */
import { useEffect, useState } from "react";
import { ErrorMessage } from "./components/error-message.js";
import { Screen } from "./components/screen.js";
import { type Section, Sections } from "./components/sections.js";
import { fingerprint } from "./engine/calls/devices.js";
import type { PolicyWallet } from "./engine/calls/policies.js";
import type { Engine } from "./engine/client.js";
import type { Session, UnlockMethod } from "./engine/protocol.js";
import { Backup } from "./screens/backup.js";
import { CheckEmail } from "./screens/check-email.js";
import { Devices } from "./screens/devices.js";
import { Face } from "./screens/face.js";
import { FaceRecover } from "./screens/face-recover.js";
import { Onboarding } from "./screens/onboarding.js";
import { Policy } from "./screens/policy.js";
import { Requests } from "./screens/requests.js";
import { Security } from "./screens/security.js";
import { Send } from "./screens/send.js";
import { Unlock } from "./screens/unlock.js";
import { Wallet } from "./screens/wallet.js";
import { Wallets } from "./screens/wallets.js";

/** The views of the sections an active device moves between (`SECTIONS`): each is just its screen. */
type SectionView =
  | { screen: "wallets" }
  | { screen: "devices" }
  | { screen: "requests" }
  | { screen: "security" }
  | { screen: "face" };

type View =
  | SectionView
  | { screen: "loading" }
  | { screen: "failed"; error: unknown }
  | { screen: "onboarding"; device: Session | null }
  | { screen: "unlock"; method: NonNullable<UnlockMethod> }
  | { screen: "check-email" }
  | { screen: "standing"; state: string; deviceId: string | null }
  | { screen: "wallet"; name: string }
  | { screen: "send"; name: string }
  /** A wallet's policy, opened from the wallet's screen or from Security (a wallet of another device's too). */
  | { screen: "policy"; wallet: PolicyWallet; from: "wallet" | "security" }
  | { screen: "backup"; name: string }
  | { screen: "face-recover"; device: Session | null };

/** The sections an active device moves between, in the order the navigation shows them. */
const SECTIONS: readonly Section<SectionView["screen"]>[] = [
  { screen: "wallets", label: "Wallets" },
  { screen: "requests", label: "Requests" },
  { screen: "devices", label: "Devices" },
  { screen: "security", label: "Security" },
  { screen: "face", label: "Face" },
];

/** The section a view belongs to (a wallet's screens are under Wallets); null outside them. */
function sectionOf(view: View): SectionView["screen"] | null {
  if (view.screen === "wallet" || view.screen === "send" || view.screen === "backup") return "wallets";
  if (view.screen === "policy") return view.from === "wallet" ? "wallets" : "security";
  return SECTIONS.find((section) => section.screen === view.screen)?.screen ?? null;
}

/**
 * Where an unlocked device goes: registering, proving its email, its wallets (when active, or
 * when the provider cannot be reached to ask: the Wallets screen says it is offline), or what
 * keeps it from them.
 */
function viewOf(session: Session): View {
  if (session.providerUrl === null) return { screen: "onboarding", device: session };
  if (session.offline || session.state === "active") return { screen: "wallets" };
  if (session.state === "unverified") return { screen: "check-email" };
  return { screen: "standing", state: session.state ?? "unknown", deviceId: session.deviceId };
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

  const section = sectionOf(view);
  if (section === null) return screenOf(view, engine, setView, toSession);
  return (
    <>
      <Sections sections={SECTIONS} current={section} onGo={(screen) => setView({ screen })} />
      {screenOf(view, engine, setView, toSession)}
    </>
  );
}

/** The screen that shows `view`. */
function screenOf(view: View, engine: Engine, setView: (view: View) => void, toSession: (session: Session) => void) {
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
      return (
        <Onboarding
          engine={engine}
          device={view.device}
          onRegistered={toSession}
          onRecoverWithFace={() => setView({ screen: "face-recover", device: view.device })}
        />
      );
    case "face-recover":
      return <FaceRecover engine={engine} device={view.device} onDone={() => setView({ screen: "wallets" })} />;
    case "face":
      return <Face engine={engine} />;
    case "unlock":
      return <Unlock engine={engine} method={view.method} onUnlocked={toSession} />;
    case "standing": {
      const { title, text } = standingText(view.state);
      return (
        <Screen title={title}>
          <p>{text}</p>
          {view.state === "awaiting-approval" && view.deviceId !== null && (
            <>
              <p>This device's id; check that the other device shows this before approving it there:</p>
              <p>
                <code className="fingerprint">{fingerprint(view.deviceId)}</code>
              </p>
            </>
          )}
        </Screen>
      );
    }
    case "check-email":
      return <CheckEmail engine={engine} onVerified={toSession} />;
    case "devices":
      return <Devices engine={engine} />;
    case "requests":
      return <Requests engine={engine} />;
    case "wallets":
      return <Wallets engine={engine} onOpen={(name) => setView({ screen: "wallet", name })} />;
    case "wallet":
      return (
        <Wallet
          engine={engine}
          name={view.name}
          onBack={() => setView({ screen: "wallets" })}
          onSend={() => setView({ screen: "send", name: view.name })}
          onPolicy={(wallet) => setView({ screen: "policy", wallet, from: "wallet" })}
          onBackup={() => setView({ screen: "backup", name: view.name })}
        />
      );
    case "send":
      return <Send engine={engine} name={view.name} onBack={() => setView({ screen: "wallet", name: view.name })} />;
    case "security":
      return (
        <Security engine={engine} onPolicy={(wallet) => setView({ screen: "policy", wallet, from: "security" })} />
      );
    case "policy": {
      const back =
        view.from === "wallet" && view.wallet.localName !== null
          ? { label: "Back to the wallet", go: () => setView({ screen: "wallet", name: view.wallet.localName ?? "" }) }
          : { label: "Back to Security", go: () => setView({ screen: "security" }) };
      return <Policy engine={engine} wallet={view.wallet} back={back} />;
    }
    case "backup":
      return <Backup engine={engine} name={view.name} onBack={() => setView({ screen: "wallet", name: view.name })} />;
  }
}
