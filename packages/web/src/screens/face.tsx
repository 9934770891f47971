/**
 * "Face": enrolling the owner's face from the camera, so that a new device can recover this
 * device's hybrid wallets with it, and the account's heirs: one is enrolled from the camera too
 * (the heir in front of it), and each can be vetoed. Frames are taken over a few seconds and read
 * by the engine; no picture is kept or sent anywhere.
 */
import { type FormEvent, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import { type Frame, INACTIVITY_DAYS_MAX, INACTIVITY_DAYS_MIN } from "../engine/calls/face.js";
import type { Engine } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";
import { type Camera, CameraPreview, pause, useCamera } from "./face-camera.js";

/**
 * Frames an enrollment takes, and the time between two: about three seconds of looking. The
 * engine reads them as a camera's, skipping any without a face; it needs three with one.
 */
const ENROLL_FRAMES = 5;
const ENROLL_SPACING_MS = 600;
/** How long the camera runs before its first frame is taken. */
const SETTLE_MS = 1_000;

const dateOf = (ms: number) => new Date(ms).toLocaleString();
const DEFAULT_INACTIVITY_DAYS = "365";

/** The camera's frames over a few seconds, saying which one `who` is in; the camera is off after. */
async function takeFrames(camera: Camera, status: (text: string) => void, who: string): Promise<Frame[]> {
  status("Turning the camera on…");
  try {
    await camera.start();
    // A camera's first pictures are often dark or blurred while it adjusts.
    await pause(SETTLE_MS);
    const frames: Frame[] = [];
    for (let i = 1; i <= ENROLL_FRAMES; i++) {
      status(`${who}: look at the camera and keep still (picture ${i} of ${ENROLL_FRAMES})…`);
      frames.push(camera.frame());
      if (i < ENROLL_FRAMES) await pause(ENROLL_SPACING_MS);
    }
    return frames;
  } finally {
    camera.stop();
  }
}

const READING = "Reading the face (the first time, the face models load: this takes a while)…";
const totpProblem = (code: string) =>
  code === "" || TOTP_CODE.test(code) ? undefined : "The code is the 6 digits your authenticator app shows.";

export function Face({ engine }: { engine: Engine }) {
  const heirs = useQuery(() => engine.call("faceHeirs", {}), [engine]);
  const camera = useCamera();
  const [cameraOn, setCameraOn] = useState(false);
  const [totp, setTotp] = useState("");
  const [heirEmail, setHeirEmail] = useState("");
  const [heirDays, setHeirDays] = useState(DEFAULT_INACTIVITY_DAYS);
  const [heirTotp, setHeirTotp] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const owner = useProblems<"totp">();
  const heir = useProblems<"email" | "days" | "totp">();
  const action = useAction();

  /** Takes `who`'s frames and hands them to `enroll`; says `done` of its result. */
  function withFrames(who: string, enroll: (frames: Frame[], status: (text: string) => void) => Promise<string>) {
    setDone(null);
    void action.run("Turning the camera on…", async (status) => {
      setCameraOn(true);
      let frames: Frame[];
      try {
        frames = await takeFrames(camera, status, who);
      } finally {
        setCameraOn(false);
      }
      status(READING);
      setDone(await enroll(frames, status));
    });
  }

  function enrollOwner(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const code = totp.trim();
    const problem = totpProblem(code);
    if (owner.show(problem === undefined ? {} : { totp: problem })) return action.clearError();
    withFrames("You", async (frames, status) => {
      const enrolled = await engine.call("faceEnroll", { frames, totp: code === "" ? null : code }, status);
      const wallets = `${enrolled.wallets} ${enrolled.wallets === 1 ? "wallet" : "wallets"}`;
      return `Your face is enrolled for ${wallets}. It can be used from ${dateOf(enrolled.effectiveMs)}.`;
    });
  }

  function enrollHeir(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = heirEmail.trim();
    const days = Number(heirDays.trim());
    const code = heirTotp.trim();
    const found = {
      ...(!/^[^\s@]+@[^\s@]+$/.test(email) && { email: "Give the heir's email address, e.g. heir@example.com." }),
      ...(!(Number.isInteger(days) && days >= INACTIVITY_DAYS_MIN && days <= INACTIVITY_DAYS_MAX) && {
        days: `A whole number of days, ${INACTIVITY_DAYS_MIN} to ${INACTIVITY_DAYS_MAX}.`,
      }),
      ...(totpProblem(code) !== undefined && { totp: totpProblem(code) }),
    };
    if (heir.show(found)) return action.clearError();
    withFrames("The heir", async (frames, status) => {
      const added = await engine.call(
        "faceAddHeir",
        { email, inactivityDays: days, frames, totp: code === "" ? null : code },
        status,
      );
      heirs.reload();
      return `${email} is enrolled as your heir from ${dateOf(added.effectiveMs)}: they may recover after ${days} days without any activity of yours.`;
    });
  }

  function veto(id: string, email: string) {
    if (!window.confirm(`Veto ${email}? They can never recover the wallets with this enrollment.`)) return;
    setDone(null);
    void action.run("Vetoing the heir…", async () => {
      await engine.call("faceVetoHeir", { id });
      heirs.reload();
      setDone(`${email} is vetoed.`);
    });
  }

  const list = heirs.value;
  return (
    <Screen title="Face">
      <h2>Recover with your face</h2>
      <p>
        Enroll your face, and a new device can get this device's wallets back with it if this one is lost. No picture of
        you is kept: your face makes a key, and the recovery operators each hold a part of what opens it.
      </p>
      <form onSubmit={enrollOwner} noValidate ref={owner.form}>
        <TotpField
          label="Authenticator code (if your account has one)"
          value={totp}
          onValue={setTotp}
          invalid={owner.problems.totp}
        />
        <button type="submit" aria-disabled={action.busy !== null}>
          Enroll my face
        </button>
      </form>
      <CameraPreview camera={camera} on={cameraOn} />
      <Progress label="Reading a face" status={action.busy} />
      {done !== null && <p className="notice">{done}</p>}

      <h2>Heirs</h2>
      <p>
        An heir may recover your wallets with their own face once you have not used any of your devices for the days you
        set. You are reminded before, and can veto them at any time.
      </p>
      {list === undefined && heirs.error === undefined && <p>Reading the account's heirs…</p>}
      {list !== undefined &&
        (list.length === 0 ? (
          <p>No heirs.</p>
        ) : (
          <ul className="heirs">
            {list.map((entry) => (
              <li key={entry.id}>
                <span>{entry.email}</span>{" "}
                <span className="hint">
                  {entry.inactivityDays === null ? "" : `after ${entry.inactivityDays} days of inactivity · `}
                  {entry.status}
                </span>{" "}
                <button
                  type="button"
                  className="secondary"
                  aria-disabled={action.busy !== null}
                  onClick={() => veto(entry.id, entry.email)}
                >
                  Veto {entry.email}
                </button>
              </li>
            ))}
          </ul>
        ))}
      <form onSubmit={enrollHeir} noValidate ref={heir.form}>
        <Field
          label="Heir's email"
          type="email"
          autoComplete="off"
          maxLength={254}
          value={heirEmail}
          onValue={setHeirEmail}
          invalid={heir.problems.email}
        />
        <Field
          label="Days of your inactivity before they may recover"
          inputMode="numeric"
          maxLength={4}
          value={heirDays}
          onValue={setHeirDays}
          invalid={heir.problems.days}
        />
        <TotpField
          label="Authenticator code for the heir (if your account has one)"
          value={heirTotp}
          onValue={setHeirTotp}
          invalid={heir.problems.totp}
        />
        <button type="submit" aria-disabled={action.busy !== null}>
          Enroll the heir's face
        </button>
      </form>
      <ErrorMessage error={action.error ?? heirs.error} ref={action.alert} />
    </Screen>
  );
}
