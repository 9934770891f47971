/**
 * The relay socket's WebSocket in a browser (`#websocket` under the "browser" condition): the
 * standard one, the only one a page or a worker has. It buffers a whole message before handing
 * it over, so its bound is checked only on receipt (`relay-socket.ts`).
 */

/** A socket to `url`; a message over the bound is refused by the relay socket once it has come. */
export function openWebSocket(url: string, _maxFrameBytes: number, _onOversized: () => void): WebSocket {
  return new WebSocket(url);
}
