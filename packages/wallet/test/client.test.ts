/**
 * The typed client refuses a path parameter that URL resolution would treat as a dot segment or
 * drop, so no request reaches another path than the one it signed; the refusal is a rejection,
 * as every other failure of a call is.
 */
import { endpoints } from "@keyshard/api";
import { newDeviceIdentity } from "@keyshard/transport";
import { describe, expect, it } from "vitest";
import { ProviderClient } from "../src/client.js";

// Nothing listens here: a request that got as far as the network would fail as `provider-down`.
const client = new ProviderClient("http://127.0.0.1:9", newDeviceIdentity());

describe("ProviderClient.request", () => {
  it.each(["", ".", ".."])("refuses the path parameter %j before sending", async (id) => {
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = client.request(endpoints.signRequest, { params: { id } });
    }).not.toThrow();
    await expect(pending).rejects.toMatchObject({ name: "WalletError", code: "usage" });
  });
});
