/**
 * The relay's socket as a device opens it, against a relay played here: it opens with no header
 * of its own and a first frame holding the signed GET of its path, which Node's verifier accepts,
 * and resolves only once the relay answers "authenticated"; it takes nothing from the relay
 * before that answer, and afterwards no frame over its bound, no binary frame and nothing that is
 * not a JSON object; a relay's refusal reaches the caller with the relay's reason.
 */
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { newDeviceIdentity } from "../src/identity.js";
import { RelayError, wsRelayChannel } from "../src/relay.js";
import { AUTHENTICATION_WAIT_MS, RELAY_SOCKET_PATH, readAuthenticationFrame } from "../src/relay-socket.js";
import { watchRelay } from "../src/relay-watch.js";
import { REQUEST_HEADERS, readRequestSignature, verifyRequestSignature } from "../src/request-signature.js";

const identity = newDeviceIdentity();
let server: WebSocketServer;
let base: string;
/** What the played relay does with each socket: `first` is the socket's first frame. */
let relay: (socket: WebSocket, first: string) => void;
/** The upgrade requests' paths and whether they carried a signature header. */
const upgrades: { path: string | undefined; signedHeader: boolean }[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  server.on("connection", (socket, request) => {
    upgrades.push({
      path: request.url,
      signedHeader: request.headers[REQUEST_HEADERS.signatureInput] !== undefined,
    });
    socket.once("message", (data) => relay(socket, String(data)));
  });
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  upgrades.splice(0);
});

/** The played relay's answer to an authentication frame: "authenticated" if Node's verifier accepts it. */
function authenticate(socket: WebSocket, first: string): void {
  const signature = readRequestSignature({
    method: "GET",
    target: RELAY_SOCKET_PATH,
    headers: readAuthenticationFrame(new TextEncoder().encode(first)),
    body: new Uint8Array(),
  });
  if (!verifyRequestSignature(identity.publicKey, signature)) socket.close(1008, "request signature does not verify");
  else socket.send(JSON.stringify({ type: "authenticated" }));
}

/** The frames the played relay receives after the first, as JSON. */
function framesAfterFirst(socket: WebSocket): unknown[] {
  const frames: unknown[] = [];
  socket.on("message", (data) => frames.push(JSON.parse(String(data))));
  return frames;
}

describe("the relay socket", () => {
  it("authenticates in its first frame, not in a header, then subscribes", async () => {
    const received: unknown[][] = [];
    relay = (socket, first) => {
      received.push(framesAfterFirst(socket));
      authenticate(socket, first);
    };
    const channel = await wsRelayChannel(base, identity, "0b8fd5a5-6e5e-4a57-a3c9-3a1f2b1c4d5e");
    expect(upgrades).toEqual([{ path: RELAY_SOCKET_PATH, signedHeader: false }]);
    await expect
      .poll(() => received[0])
      .toEqual([{ type: "subscribe", relayId: "0b8fd5a5-6e5e-4a57-a3c9-3a1f2b1c4d5e", after: 0 }]);
    channel.close();
  });

  it("passes on the relay's refusal and reason", async () => {
    relay = (socket) => socket.close(1008, "request was replayed");
    await expect(watchRelay(base, identity, () => {})).rejects.toThrow(
      new RelayError("relay connection closed before it was authenticated: request was replayed", 1008),
    );
  });

  it("takes nothing from the relay before it authenticated the socket", async () => {
    relay = (socket) => socket.send(JSON.stringify({ type: "watching", id: 1 }));
    await expect(watchRelay(base, identity, () => {})).rejects.toThrow(
      "relay connection closed before it was authenticated: the relay spoke before it authenticated the socket",
    );
  });

  it("closes a watch on a frame over its bound, a binary frame or one that is not a JSON object", async () => {
    const notices: string[] = [];
    for (const [frame, reason] of [
      [JSON.stringify({ type: "notice", relayId: "x".repeat(64 * 1024) }), "the relay sent a frame over 65536 bytes"],
      [new Uint8Array([123, 125]), "the relay sent a binary frame"],
      ["{", "the relay sent something that is not JSON"],
      ["[1]", "the relay sent a frame that is not a JSON object"],
    ] as const) {
      relay = (socket, first) => {
        socket.on("message", () => {
          socket.send(JSON.stringify({ type: "watching", id: 1 }));
          socket.send(frame);
        });
        authenticate(socket, first);
      };
      const watch = await watchRelay(base, identity, (relayId) => notices.push(relayId));
      expect(await watch.closed).toEqual({ code: expect.any(Number), reason });
    }
    expect(notices).toEqual([]);
  });

  it("fails a channel on a frame over its bound, and takes one within it", async () => {
    const envelopes = (size: number) =>
      JSON.stringify({ type: "envelopes", envelopes: [{ id: 1, envelope: "x".repeat(size) }] });
    const overhead = envelopes(0).length;
    const bound = 4 * 1024 * 1024;
    for (const size of [bound - overhead, bound - overhead + 1]) {
      relay = (socket, first) => {
        socket.once("message", () => socket.send(envelopes(size)));
        authenticate(socket, first);
      };
      const channel = await wsRelayChannel(base, identity, "0b8fd5a5-6e5e-4a57-a3c9-3a1f2b1c4d5e");
      const receiving = async () => {
        for (;;) {
          const got = await channel.receive();
          if (got.length > 0) return got.map((e) => String(e).length);
        }
      };
      if (size === bound - overhead) expect(await receiving()).toEqual([size]);
      else
        await expect(receiving()).rejects.toThrow(
          `relay connection closed: the relay sent a frame over ${bound} bytes`,
        );
      channel.close();
    }
  });

  it("refuses a frame as soon as it is over the bound, before it has all come", async () => {
    // Never finished, the frame would be buffered without end by a socket that waits for all of it.
    relay = (socket, first) => {
      socket.on("message", () => {
        socket.send(JSON.stringify({ type: "watching", id: 1 }));
        socket.send("x".repeat(64 * 1024 + 1), { fin: false });
      });
      authenticate(socket, first);
    };
    const watch = await watchRelay(base, identity, () => {});
    expect(await watch.closed).toEqual({ code: expect.any(Number), reason: "the relay sent a frame over 65536 bytes" });
  });

  it("gives up on a relay that never answers the authentication", async () => {
    const firstFrames: string[] = [];
    relay = (_socket, first) => firstFrames.push(first);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const watching = watchRelay(base, identity, () => {});
      const outcome = watching.catch((e: unknown) => e);
      await expect.poll(() => firstFrames.length).toBe(1);
      // The provider's wait and more: a slow check is not cut short.
      await vi.advanceTimersByTimeAsync(AUTHENTICATION_WAIT_MS + 10_000);
      expect(await outcome).toEqual(
        new RelayError(
          "relay connection closed before it was authenticated: the relay did not answer the authentication within 15 s",
          1005,
        ),
      );
    } finally {
      vi.useRealTimers();
    }
  });
});
