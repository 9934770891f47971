/**
 * A device's watch on the relay: one WebSocket on which the provider tells the device of every relay
 * session it is invited to, so that a device waiting for work (a cosigner) need not poll. A notice
 * names a session and nothing more; what it is for is read, as before, from the provider's list.
 */
import WebSocket from "ws";
import type { DeviceIdentity } from "./identity.js";
import { RelayError } from "./relay.js";
import { signRequest } from "./request-signature.js";

/** The close code the provider gives a socket whose device it revoked (4000-4999 are the application's). */
export const REVOKED_CLOSE_CODE = 4403;

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
  const path = "/v1/relay/ws";
  const headers = signRequest(identity, { method: "GET", path, body: new Uint8Array() });
  const socket = new WebSocket(baseUrl.replace(/^http/, "ws") + path, { headers, maxPayload: 64 * 1024 });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    // A refused upgrade (the device revoked, the provider down) comes as an error, then a close.
    socket.on("error", (e) => reject(new RelayError(`relay connection failed: ${e.message}`, { cause: e })));
    socket.once("close", () => reject(new RelayError("relay connection closed")));
    socket.once("open", () => socket.send(JSON.stringify({ type: "watch", id: 1 })));
    socket.on("message", (data) => {
      let frame: { type?: unknown; relayId?: unknown };
      try {
        frame = JSON.parse(String(data)) as typeof frame;
      } catch {
        return;
      }
      if (frame.type === "watching") resolve();
      else if (frame.type === "notice" && typeof frame.relayId === "string") onNotice(frame.relayId);
    });
  });
  return { closed, close: () => socket.close() };
}
