/**
 * "Recover with my face", on a new browser: the device is set up under the account's email and
 * proves it with the mailed code (the onboarding and email screens), then the provider's liveness
 * challenge is shown and the camera watched until its frames answer it or the time is up. The
 * engine reads the face locally first: frames that miss the challenge, or a face that does not
 * match, spend no attempt. The wallets come back at once; the provider holds their transfers
 * for a while unless one of the account's earlier devices confirms the recovery.
 */
import { useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import type { Engine } from "../engine/client.js";
import type { Session } from "../engine/protocol.js";
import { type Recovered, watchForRecovery } from "../face-watch.js";
import { useAction } from "../use-action.js";
import { CheckEmail } from "./check-email.js";
import { CameraPreview, pause, useCamera } from "./face-camera.js";
import { Onboarding } from "./onboarding.js";

type Step = { step: "setup"; device: Session | null } | { step: "code" } | { step: "camera" };

export function FaceRecover({
  engine,
  device,
  onDone,
}: {
  engine: Engine;
  device: Session | null;
  /** The wallets are back: on to them. */
  onDone(): void;
}) {
  const [step, setStep] = useState<Step>(
    device?.providerUrl
      ? device.state === "unverified"
        ? { step: "code" }
        : { step: "camera" }
      : { step: "setup", device },
  );
  const afterSetup = (session: Session) =>
    setStep(session.state === "unverified" ? { step: "code" } : { step: "camera" });
  if (step.step === "setup") return <Onboarding engine={engine} device={step.device} onRegistered={afterSetup} />;
  if (step.step === "code") return <CheckEmail engine={engine} onVerified={() => setStep({ step: "camera" })} />;
  return <Watch engine={engine} onDone={onDone} />;
}

function Watch({ engine, onDone }: { engine: Engine; onDone(): void }) {
  const camera = useCamera();
  const [cameraOn, setCameraOn] = useState(false);
  const [challenge, setChallenge] = useState<string | null>(null);
  const [recovered, setRecovered] = useState<Recovered | null>(null);
  const action = useAction();

  function recover() {
    void action.run("Turning the camera on…", async (status) => {
      setRecovered(null);
      setChallenge(null);
      setCameraOn(true);
      try {
        setRecovered(await watchForRecovery(engine, camera, { status, challenge: setChallenge, pause }));
      } finally {
        setCameraOn(false);
      }
    });
  }

  return (
    <Screen title="Recover with my face">
      {recovered === null ? (
        <>
          <p>
            Look at the camera. The provider asks for one thing to show that you are here in person: do it when it
            appears below, and hold it a moment.
          </p>
          <p className="challenge" aria-live="assertive">
            {challenge !== null && <strong>Please {challenge}.</strong>}
          </p>
          <CameraPreview camera={camera} on={cameraOn} />
          <button type="button" aria-disabled={action.busy !== null} onClick={recover}>
            {action.error === undefined ? "Start the camera" : "Try again"}
          </button>
        </>
      ) : (
        <>
          <p role="status">
            Recovered {recovered.wallets.length} {recovered.wallets.length === 1 ? "wallet" : "wallets"}
            {recovered.heir ? " as an heir" : ""}: {recovered.wallets.join(", ")}.
          </p>
          {recovered.holdUntilMs !== null && (
            <p>
              Their transfers are held until {new Date(recovered.holdUntilMs).toLocaleString()}, unless one of the
              account's earlier devices confirms this recovery.
            </p>
          )}
          <button type="button" onClick={onDone}>
            Open my wallets
          </button>
        </>
      )}
      <Progress label="Recovering with your face" status={action.busy} />
      <ErrorMessage error={action.error} ref={action.alert} />
    </Screen>
  );
}
