/**
 * Face recovery and heirs, as the account's devices use them: enrolling the owner's face or an
 * heir's, watching and deciding recoveries, and recovering the hybrid wallets on a new device
 * (then refreshing them, so that the lost device's share signs nothing). The face and the
 * boxes themselves are handled in `face-recovery.ts`.
 */
import { endpoints } from "@keyshard/api";
import type { Challenge } from "@keyshard/biometric";
import type { Device } from "../device/device.js";
import { enrollFaceAt, type FaceFrames, faceLink, type Recovered, recoverWithFace } from "../face-recovery.js";
import { parseOperatorList } from "../recovery-operators.js";
import type { StoredWallet } from "../state.js";
import type { EnrolledFace, Enrollment, RecoveryView } from "../types.js";
import { uuidArgument } from "./arguments.js";
import { refresh } from "./key-change.js";

/**
 * `operators` (`url#key,…`, as the provider's setting lists them): the recovery operators to
 * accept when the provider names others than this device pinned.
 */
const accepting = (operators: string | undefined) =>
  operators === undefined ? undefined : parseOperatorList(operators);

export const enrollFace = (
  device: Device,
  frames: FaceFrames,
  totp?: string,
  operators?: string,
): Promise<EnrolledFace> => enrollFaceAt(faceLink(device), frames, undefined, totp, accepting(operators));

/** An heir: who they are, and how long the owner must be inactive before they may recover. */
export interface Heir {
  email: string;
  inactivityDays?: number;
}

export const addHeir = (
  device: Device,
  heir: Heir,
  frames: FaceFrames,
  totp?: string,
  operators?: string,
): Promise<EnrolledFace> => enrollFaceAt(faceLink(device), frames, heir, totp, accepting(operators));

export async function heirs(device: Device): Promise<Enrollment[]> {
  const { enrollments } = await device.client.request(endpoints.recoveryKeys);
  return enrollments.filter((e) => e.kind === "heir");
}

export const vetoHeir = (device: Device, id: string): Promise<Enrollment> =>
  device.client.request(endpoints.vetoHeir, { params: { id: uuidArgument(id, "heir") } });

export const recoveries = (device: Device): Promise<{ recoveries: RecoveryView[] }> =>
  device.client.request(endpoints.recoveries);

export const decideRecovery = (device: Device, id: string, verb: "confirm" | "reject"): Promise<RecoveryView> =>
  device.client.request(verb === "confirm" ? endpoints.confirmRecovery : endpoints.rejectRecovery, {
    params: { id: uuidArgument(id, "recovery") },
  });

/**
 * On a new device (registered and verified under the email): recovers the hybrid wallets with
 * the face, keeps them, and refreshes each one so that the lost device's share signs nothing.
 */
export async function recover(
  device: Device,
  frames: FaceFrames,
  ready: (challenge: Challenge) => Promise<void>,
  operators?: string,
): Promise<Recovered> {
  const recovered = await recoverWithFace(faceLink(device), frames, ready, accepting(operators));
  await device.save((s) => {
    for (const w of recovered.wallets) {
      if (s.wallets.some((x) => x.id === w.id)) continue;
      const name = s.wallets.some((x) => x.name === w.name) ? `${w.name}-${w.id.slice(0, 8)}` : w.name;
      s.wallets.push({ ...w, name });
    }
  });
  const refreshed: StoredWallet[] = [];
  for (const w of recovered.wallets) {
    device.progress(`refreshing ${w.name}: the lost device's share stops signing`);
    refreshed.push(await refresh(device, w.id));
  }
  return { ...recovered, wallets: refreshed };
}
