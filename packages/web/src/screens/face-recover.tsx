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
import { RECOVER_BATCH_MAX, type RecoverProgress } from "../engine/calls/face.js";
import type { Engine } from "../engine/client.js";
import type { Session } from "../engine/protocol.js";
import { useAction } from "../use-action.js";
import { CheckEmail } from "./check-email.js";
import { CameraPreview, pause, useCamera } from "./face-camera.js";
import { Onboarding } from "./onboarding.js";

/** How long the camera is watched for the challenge before the recovery gives up. */
const WATCH_MS = 60_000;
/** The time between two frames of a batch: a turn or an expression lasts longer. */
const FRAME_SPACING_MS = 150;
const BATCH = Math.min(4, RECOVER_BATCH_MAX);

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
  const [recovered, setRecovered] = useState<Extract<RecoverProgress, { kind: "recovered" }> | null>(null);
  const action = useAction();

  function recover() {
    void action.run("Turning the camera on…", async (status) => {
      setRecovered(null);
      setChallenge(null);
      let over = false;
      try {
        setCameraOn(true);
        await camera.start();
        status("Asking the provider for a challenge…");
        const { challenge: asked } = await engine.call("faceRecoverStart", {}, status);
        setChallenge(asked);
        const until = Date.now() + WATCH_MS;
        for (;;) {
          status(`Now ${asked}. Watching… (the first time, the face models load: this takes a while)`);
          const frames = [];
          for (let i = 0; i < BATCH; i++) {
            if (i > 0) await pause(FRAME_SPACING_MS);
            frames.push(camera.frame());
          }
          const answer = await engine.call("faceRecoverFrames", { frames, last: Date.now() >= until }, status);
          if (answer.kind === "recovered") {
            over = true;
            setRecovered(answer);
            return;
          }
        }
      } finally {
        camera.stop();
        setCameraOn(false);
        // A recovery the page leaves (the camera failed, the screen went) stops in the engine too,
        // before a new one may start; one the engine ended already is no longer there to stop.
        if (!over) await engine.call("faceRecoverCancel", {}).catch(() => {});
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
