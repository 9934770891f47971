/**
 * The relay socket's WebSocket in Node (`#websocket` outside browsers): `ws`, because it refuses
 * a frame over the bound as its header announces it, before buffering it. Node's standard
 * WebSocket, like a browser's, hands a message over only once it has all of it, so a provider or
 * proxy could otherwise fill an unattended device's memory with one endless frame.
 */
import { WebSocket as NodeWebSocket } from "ws";

/**
 * A socket to `url` that takes no message over `maxFrameBytes`: one fails the socket, and
 * `onOversized` is told first.
 */
export function openWebSocket(url: string, maxFrameBytes: number, onOversized: () => void): WebSocket {
  const socket = new NodeWebSocket(url, { maxPayload: maxFrameBytes });
  socket.on("error", (e: Error & { code?: string }) => {
    if (e.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") onOversized();
  });
  // The relay socket uses only what `ws` shares with the standard API: its events, send, close.
  return socket as unknown as WebSocket;
}
