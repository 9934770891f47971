/**
 * What of a node's URL the wallet may print: its origin. Passwords ride in the user part (Bitcoin
 * Core), API keys in the path or the query (hosted Ethereum and Solana nodes).
 */
import { describe, expect, it } from "vitest";
import { shownUrl } from "../src/chains/rpc.js";

describe("a node's URL as the wallet shows it", () => {
  it("keeps the scheme, host and port, and drops credentials, path and query", () => {
    expect(shownUrl("http://user:s3cret@127.0.0.1:18332/")).toBe("http://127.0.0.1:18332");
    expect(shownUrl("https://mainnet.infura.io/v3/0123456789abcdef")).toBe("https://mainnet.infura.io");
    expect(shownUrl("https://rpc.example/?api-key=0123456789abcdef#x")).toBe("https://rpc.example");
  });

  it("shows nothing of text that is not a URL", () => {
    for (const text of ["http://user:s3cret@[nowhere", "s3cret", "file-without-scheme/s3cret"])
      expect(shownUrl(text)).not.toContain("s3cret");
  });
});
