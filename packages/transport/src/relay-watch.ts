/**
 * A device's watch on the relay: one WebSocket on which the provider tells the device of every relay
 * session it is invited to, so that a device waiting for work (a cosigner) need not poll. A notice
 * names a session and nothing more; what it is for is read, as before, from the provider's list.
 */
import type { DeviceIdentity } from "./identity.js";
import { openRelaySocket, RelayError } from "./relay-socket.js";

/** The close code the provider gives a socket whose device it revoked (4000-4999 are the application's). */
export const REVOKED_CLOSE_CODE = 4403;

/** The largest frame a watch takes: notices and answers are short. */
const MAX_WATCH_FRAME_BYTES = 64 * 1024;

export interface RelayWatch {
  /** Resolves once the socket is closed, with the provider's close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/**
 * Opens a watch. It resolves only once the provider has confirmed it, so that a session opened
 * after that is never missed: a caller that then reads the list of sessions sees every one.
 */
export async function watchRelay(
  baseUrl: string,
  identity: DeviceIdentity,
  onNotice: (relayId: string) => void,
): Promise<RelayWatch> {
  let confirm: (() => void) | undefined;
  const confirmed = new Promise<void>((resolve) => {
    confirm = resolve;
  });
  const socket = await openRelaySocket(baseUrl, identity, MAX_WATCH_FRAME_BYTES, (frame) => {
    if (frame.type === "watching") confirm?.();
    else if (frame.type === "notice" && typeof frame.relayId === "string") onNotice(frame.relayId);
  });
  socket.send({ type: "watch", id: 1 });
  const closedFirst = await Promise.race([confirmed.then(() => undefined), socket.closed]);
  if (closedFirst !== undefined)
    throw new RelayError(
      `relay connection closed${closedFirst.reason === "" ? "" : `: ${closedFirst.reason}`}`,
      closedFirst.code,
    );
  return { closed: socket.closed, close: () => socket.close() };
}
