/**
 * Face recovery forgets its secrets on the device once it is done with them, whether it succeeds
 * or fails: the fuzzy extractor's secret, the enrollment's OPRF key and its shares, the wrap keys,
 * the operators' combined evaluation and the recovery secret keys are all zero afterwards. A real
 * provider (in this process, PGlite) and three recovery operators; the face models read real
 * pictures. The functions that make those secrets are the real ones, wrapped only to keep a
 * reference to each buffer they return, which is read once the SDK's call is over.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MasterKey, providerTicketKey } from "@keyshard/provider";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PEOPLE } from "../../biometric/test/faces.js";
import {
  mailedCode,
  startRecoveryOperators,
  startTestProvider,
  type TestOperators,
  type TestProvider,
} from "../../provider/test/harness.js";
import { Wallet } from "../src/wallet.js";

/** Each secret the wrapped functions made, with what it is. */
const made = vi.hoisted(() => [] as { what: string; bytes: Uint8Array }[]);

vi.mock("@keyshard/recovery", async (original) => {
  const actual = await original<typeof import("@keyshard/recovery")>();
  const keep = (what: string, bytes: Uint8Array) => {
    made.push({ what, bytes });
    return bytes;
  };
  return {
    ...actual,
    dealOprfKey: (...args: Parameters<typeof actual.dealOprfKey>) => {
      const sharing = actual.dealOprfKey(...args);
      keep("the enrollment's OPRF key", sharing.key);
      for (const { share } of sharing.shares) keep("a share of the OPRF key", share);
      return sharing;
    },
    faceWrapKey: (...args: Parameters<typeof actual.faceWrapKey>) => keep("a wrap key", actual.faceWrapKey(...args)),
    combinePartials: (...args: Parameters<typeof actual.combinePartials>) =>
      keep("the operators' combined evaluation", actual.combinePartials(...args)),
    newRecoveryKey: () => {
      const pair = actual.newRecoveryKey();
      keep("the new recovery secret key", pair.secretKey);
      return pair;
    },
    unwrapRecoveryKey: (...args: Parameters<typeof actual.unwrapRecoveryKey>) => {
      const pair = actual.unwrapRecoveryKey(...args);
      keep("the unwrapped recovery secret key", pair.secretKey);
      return pair;
    },
  };
});

vi.mock("@keyshard/biometric", async (original) => {
  const actual = await original<typeof import("@keyshard/biometric")>();
  return {
    ...actual,
    enrollFace: (...args: Parameters<typeof actual.enrollFace>) => {
      const enrolled = actual.enrollFace(...args);
      made.push({ what: "the extractor's secret at enrollment", bytes: enrolled.secret });
      return enrolled;
    },
    reproduceFace: (...args: Parameters<typeof actual.reproduceFace>) => {
      const reproduced = actual.reproduceFace(...args);
      made.push({ what: "the extractor's secret at recovery", bytes: reproduced.secret });
      return reproduced;
    },
  };
});

const EMAIL = "forgets@example.com";
const PASSPHRASE = "correct horse battery staple";
const MASTER_KEY_HEX = "6c".repeat(32);
/** An index into the liveness challenges: "look happy", which amy's pictures 4 then 5 answer. */
const HAPPY = 0;
const amy = (...n: number[]) => n.map((i) => join(PEOPLE, "amy", `amy${i}.png`));

/** What was made, and whether it is all zero now. */
const forgotten = () =>
  made.map(({ what, bytes }) => ({ what, zero: bytes.length > 0 && bytes.every((b) => b === 0) }));
/** How many secrets of this kind were made. */
const countOf = (what: string) => made.filter((m) => m.what === what).length;

describe("face recovery forgets its secrets", () => {
  let provider: TestProvider;
  let operators: TestOperators;
  /** Whether the operators still run: a test stops them. */
  let operatorsUp = true;
  const homes: string[] = [];
  let codes = 0;

  /** A new device registered and verified under the email. */
  async function device(name: string): Promise<Wallet> {
    const home = mkdtempSync(join(tmpdir(), "keyshard-forgets-"));
    homes.push(home);
    const wallet = await Wallet.init(home, PASSPHRASE, { name });
    await wallet.register(provider.url, EMAIL);
    await wallet.verify(await mailedCode(provider.mails, EMAIL, ++codes));
    return wallet;
  }

  beforeAll(async () => {
    operators = await startRecoveryOperators({
      ticketKey: providerTicketKey(new MasterKey(hexToBytes(MASTER_KEY_HEX))),
    });
    provider = await startTestProvider("pglite", {
      masterKeyHex: MASTER_KEY_HEX,
      challengeRandom: () => Uint8Array.of(HAPPY),
      accountChangeDelayMs: 0,
      recoveryOperators: operators.operators.map((o) => ({ url: o.url, key: o.key })),
    });
  }, 300_000);
  afterAll(async () => {
    await provider?.stop();
    if (operatorsUp) await operators?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    made.length = 0;
  });

  it("at enrollment: the extractor's secret, the OPRF key, its shares, the wrap key and the recovery secret key", async () => {
    const phone = await device("phone");
    await phone.createWallet({ name: "main", scheme: "frost-ed25519" });
    await phone.enrollFace(amy(1, 2, 3));
    expect(countOf("the extractor's secret at enrollment")).toBe(1);
    expect(countOf("the enrollment's OPRF key")).toBe(1);
    expect(countOf("a share of the OPRF key")).toBe(3);
    expect(countOf("a wrap key")).toBe(1);
    expect(countOf("the new recovery secret key")).toBe(1);
    expect(forgotten()).toEqual(made.map(({ what }) => ({ what, zero: true })));
  });

  it("at recovery: the extractor's secret, the combined evaluation, the wrap key and the recovery secret key", async () => {
    const laptop = await device("laptop");
    const recovered = await laptop.recover(amy(4, 5), async () => {});
    expect(recovered.wallets.map((w) => w.name)).toEqual(["main"]);
    expect(countOf("the extractor's secret at recovery")).toBe(1);
    expect(countOf("the operators' combined evaluation")).toBe(1);
    expect(countOf("a wrap key")).toBe(1);
    expect(countOf("the unwrapped recovery secret key")).toBe(1);
    expect(forgotten()).toEqual(made.map(({ what }) => ({ what, zero: true })));
  });

  it("at a recovery that fails once the face decoded: the extractor's secret", async () => {
    const tablet = await device("tablet");
    // No operator answers: the guess fails after the face decoded against the enrollment.
    operatorsUp = false;
    await operators.close();
    await expect(tablet.recover(amy(4, 5), async () => {})).rejects.toThrow(/recovery operators/);
    expect(countOf("the extractor's secret at recovery")).toBe(1);
    expect(forgotten()).toEqual(made.map(({ what }) => ({ what, zero: true })));
  });
});
