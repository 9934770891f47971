/**
 * Face recovery with the real `keyshard` bin and real pictures (copies of ../shared/faces kept
 * with the biometric tests), against a provider on PGlite whose liveness challenges the test
 * chooses and three recovery operators (2 of 3 needed), each behind a proxy that can make it
 * misbehave: amy enrolls from three pictures; on a new device she proves the email by code,
 * answers the challenge, and gets her wallet back with the same address and refreshed shares,
 * its transfers held until her old phone confirms. Penny's face, and frames that miss the
 * challenge (a still picture of amy smiling, asked to look happy), get nothing and spend no guess. An operator that is down or answers wrongly is
 * named and the others recover; two that answer wrongly stop the recovery. A device refuses
 * operators the provider swaps in after it pinned its list, unless given them, and an operator
 * whose key is not the listed one. An heir is added, listed and vetoed. A device seals its share
 * only to the recovery keys it enrolled or recovered with, whatever enrollments the provider lists.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MasterKey, providerTicketKey, providerTicketKeys } from "@keyshard/provider";
import { signTicket } from "@keyshard/recovery";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE } from "../../biometric/test/faces.js";
import {
  mailedCode,
  startRecoveryOperators,
  startTestProvider,
  type TestOperators,
  type TestProvider,
} from "../../provider/test/harness.js";
import { Device, firstDevice } from "./cli.js";
import { type LyingOperator, type OperatorFault, startLyingOperator } from "./lying-operator.js";
import { type LyingRelay, startLyingRelay } from "./lying-relay.js";

const EMAIL = "amy@example.com";
/** Indices into the biometric package's CHALLENGES. */
const HAPPY = 0;
const TURN_RIGHT = 7;
const picture = (person: string, n: number) => join(PEOPLE, person, `${person}${n}.png`);

const MASTER_KEY_HEX = "4b".repeat(32);
/** Recoveries in this file, each a guess at the provider and at every operator: all within a day's limit. */
const ATTEMPTS_PER_DAY = 20;

describe("keyshard face recovery", () => {
  let provider: TestProvider;
  let operators: TestOperators;
  /** The operators as the provider lists them: each behind its proxy. */
  let proxies: LyingOperator[];
  let challenge = HAPPY;
  let phone: Device;
  /** Amy's new device, once she has recovered. */
  let recovered: Device;
  const folders: string[] = [];
  const devices: Device[] = [];
  beforeAll(async () => {
    operators = await startRecoveryOperators({
      ticketKey: providerTicketKey(new MasterKey(hexToBytes(MASTER_KEY_HEX))),
      attemptsPerDay: ATTEMPTS_PER_DAY,
    });
    proxies = await Promise.all(operators.operators.map((o) => startLyingOperator(o.url)));
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await startTestProvider("pglite", {
      masterKeyHex: MASTER_KEY_HEX,
      challengeRandom: () => Uint8Array.of(challenge),
      accountChangeDelayMs: 0,
      faceAttemptsPerDay: ATTEMPTS_PER_DAY,
      recoveryOperators: operators.operators.map((o, i) => ({ url: (proxies[i] as LyingOperator).url, key: o.key })),
    });
    phone = await firstDevice(provider.url, provider.mails, EMAIL);
    // Three operators, a provider and the first run of the command line (which may build it) start here.
  }, 300_000);
  afterAll(async () => {
    await provider?.stop();
    for (const p of proxies ?? []) await p.close();
    await operators?.close();
    for (const d of [phone, ...devices]) d?.remove();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  });

  /** A folder of frames: copies of the given pictures. */
  const frames = (pictures: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "keyshard-frames-"));
    folders.push(dir);
    for (const [i, p] of pictures.entries()) copyFileSync(p, join(dir, `frame${i}.png`));
    return dir;
  };

  const codesSoFar = () => provider.mails.filter((m) => m.to === EMAIL && /code is/.test(m.text)).length;

  /** `keyshard recover` on a new device, typing the mailed code and pressing Enter at the challenge. */
  const recover = async (dir: string, url = provider.url) => {
    const device = new Device();
    devices.push(device);
    const nth = codesSoFar() + 1;
    const run = await device.runAnswering(
      ["recover", "--provider", url, "--email", EMAIL, "--frames", dir, "--json"],
      [
        { prompt: /code mailed to/, reply: () => mailedCode(provider.mails, EMAIL, nth) },
        { prompt: /press Enter/, reply: async () => "" },
      ],
    );
    return { device, run };
  };

  const attempts = async () =>
    Number(
      ((await provider.context.db.query<{ n: string }>("SELECT count(*) AS n FROM face_attempts"))[0] as { n: string })
        .n,
    );

  /** The Solana address of amy's wallet, from her phone. */
  let address: unknown;

  it("enrolls amy's face", async () => {
    await phone.ok(["wallet", "create", "--name", "main", "--scheme", "frost-ed25519"]);
    ({ address } = await phone.ok(["address", "--wallet", "main", "--chain", "solana"]));
    // Both ways of giving a face at once is a usage mistake; a file that is no picture is refused.
    expect((await phone.run(["enroll-face", "--image", picture("amy", 1), "--frames", PEOPLE])).code).toBe(2);
    const notPicture = await phone.run(["enroll-face", "--image", join(PEOPLE, "..", "README.md"), "--json"]);
    expect(notPicture.code).toBe(2);
    expect(notPicture.json.message).toMatch(/^face: /);
    const enrolled = await phone.ok([
      "enroll-face",
      "--image",
      picture("amy", 1),
      "--image",
      picture("amy", 2),
      "--image",
      picture("amy", 3),
    ]);
    expect(enrolled.wallets).toBe(1);
  });

  it("another face, and frames that miss the challenge, get nothing and spend no guess", async () => {
    // The phone is lost. Penny, who knows amy's email and reads her mail, has her own face only.
    const penny = await recover(frames([picture("penny", 2), picture("penny", 5)]));
    expect(penny.run.code, penny.run.stderr).toBe(1);
    expect(penny.run.json.error).toBe("no-match");
    // Frames that do not turn the head fail the challenge; neither spent a guess at the provider.
    challenge = TURN_RIGHT;
    const still = await recover(frames([picture("amy", 4), picture("amy", 5)]));
    expect(still.run.code).toBe(1);
    expect(still.run.json).toMatchObject({ error: "liveness" });
    expect(still.run.stderr).toMatch(/liveness challenge: turn your head/);
    // A still picture of her smiling does not answer "look happy": nothing changes in it.
    challenge = HAPPY;
    const smiling = await recover(frames([picture("amy", 5)]));
    expect(smiling.run.code).toBe(1);
    expect(smiling.run.json).toMatchObject({ error: "liveness" });
    expect(await attempts()).toBe(0);
  });

  it("amy recovers her wallet on a new device, same address, refreshed, held until her old phone confirms", async () => {
    // Amy, smiling as asked, on her new device.
    challenge = HAPPY;
    const amy = await recover(frames([picture("amy", 4), picture("amy", 5)]));
    expect(amy.run.code, amy.run.stdout + amy.run.stderr).toBe(0);
    expect(amy.run.stderr).toMatch(/liveness challenge: look happy/);
    expect(amy.run.json).toMatchObject({ kind: "owner", wallets: [{ name: "main", epoch: 1 }] });
    recovered = amy.device;
    expect(await attempts()).toBe(1);
    // Each operator counted the guess on its own and mailed amy about it.
    await expect.poll(() => operators.mails.filter((m) => m.to === EMAIL && /attempt/.test(m.text)).length).toBe(3);
    expect(amy.run.stderr).toMatch(/asking the recovery operators http:\/\/127\.0\.0\.1:\d+, /);
    expect((await amy.device.ok(["address", "--wallet", "main", "--chain", "solana"])).address).toBe(address);
    // The share was sealed again at the new epoch, so a later recovery brings back a share that signs.
    const boxes = await provider.context.db.query<{ epoch: number }>("SELECT epoch FROM recovery_boxes");
    expect(boxes.map((b) => b.epoch)).toEqual([1]);

    // The old phone (found again) sees the recovery and lifts the hold.
    const [listed] = (await phone.ok(["recovery", "list"])) as unknown as { id: string; status: string }[];
    expect(listed).toMatchObject({ id: amy.run.json.recoveryId, status: "holding" });
    expect(await phone.ok(["recovery", "confirm", listed?.id as string])).toMatchObject({ status: "confirmed" });
  });

  it("adds, lists and vetoes an heir", async () => {
    const added = await recovered.ok([
      "heir",
      "add",
      "--email",
      "leonard@example.com",
      "--image",
      picture("leonard", 1),
      "--image",
      picture("leonard", 2),
      "--after-days",
      "90",
    ]);
    const heirs = (await recovered.ok(["heir", "list"])) as unknown as Record<string, unknown>[];
    expect(heirs).toEqual([
      expect.objectContaining({ id: added.enrollmentId, heirEmail: "leonard@example.com", inactivityDays: 90 }),
    ]);
    expect(
      (
        await recovered.run([
          "heir",
          "add",
          "--email",
          "leonard@example.com",
          "--image",
          picture("leonard", 1),
          "--after-days",
          "3",
        ])
      ).code,
    ).toBe(2);
    expect(await recovered.ok(["heir", "veto", added.enrollmentId as string])).toMatchObject({ status: "vetoed" });
    expect(await recovered.ok(["heir", "list"])).toEqual([]);
  });

  it("a recover stopped at the code prompt resumes with --code", async () => {
    const device = new Device();
    devices.push(device);
    const nth = codesSoFar() + 1;
    const dir = frames([picture("penny", 5)]);
    const args = ["recover", "--provider", provider.url, "--email", EMAIL, "--frames", dir, "--name", "resumed"];
    // No one types the code: the first run stops at its prompt, the device registered but unverified.
    const stopped = await device.run([...args, "--json"]);
    expect(stopped.code).toBe(2);
    expect(stopped.stderr).toMatch(/code mailed to/);
    const stateOf = async () =>
      (await provider.context.db.query<{ state: string }>("SELECT state FROM devices WHERE name = 'resumed'")).map(
        (d) => d.state,
      );
    expect(await stateOf()).toEqual(["unverified"]);
    const code = await mailedCode(provider.mails, EMAIL, nth);
    const resumed = await device.runAnswering(
      [...args, "--code", code, "--json"],
      [{ prompt: /press Enter/, reply: async () => "" }],
    );
    // Verified this time, without being asked again, it went on to the face (which is not amy's).
    expect(await stateOf()).toEqual(["awaiting-approval"]);
    expect(resumed.stderr).not.toMatch(/code mailed to|unverified/);
  });

  /** Amy recovers on a new device with her own face, smiling as asked. */
  const amyRecovers = (url = provider.url) => {
    challenge = HAPPY;
    return recover(frames([picture("amy", 4), picture("amy", 5)]), url);
  };

  /** Amy recovers while each operator given misbehaves as told; they behave again afterwards. */
  const amyRecoversDespite = async (faults: [LyingOperator, OperatorFault][]) => {
    for (const [operator, fault] of faults) operator.fault = fault;
    try {
      return await amyRecovers();
    } finally {
      for (const [operator] of faults) operator.fault = undefined;
    }
  };

  it("an operator that answers a wrong evaluation is named, and the two others recover", async () => {
    const liar = proxies[0] as LyingOperator;
    const amy = await amyRecoversDespite([[liar, "wrong-evaluation"]]);
    expect(amy.run.code, amy.run.stdout + amy.run.stderr).toBe(0);
    expect(amy.run.stderr).toContain(`recovery operator ${liar.url} answered a wrong evaluation`);
  });

  it("an operator answering under commitments of its own making is left out, and the two others recover", async () => {
    const liar = proxies[0] as LyingOperator;
    const amy = await amyRecoversDespite([[liar, "forged-commitments"]]);
    expect(amy.run.code, amy.run.stdout + amy.run.stderr).toBe(0);
    expect(amy.run.stderr).toContain(
      `recovery operator ${liar.url} answered for commitments the other operators do not share`,
    );
  });

  it("two operators that answer wrongly stop the recovery, and both are named", async () => {
    const [first, second] = proxies as [LyingOperator, LyingOperator];
    const amy = await amyRecoversDespite([
      [first, "wrong-evaluation"],
      // Its proof verifies, but for another OPRF key than the enrollment's.
      [second, "other-key"],
    ]);
    expect(amy.run.code).toBe(1);
    expect(amy.run.json.error).toBe("operators");
    expect(amy.run.json.message).toContain(`recovery operator ${first.url} answered a wrong evaluation`);
    expect(amy.run.json.message).toContain(`recovery operator ${second.url} answered a wrong evaluation`);
  });

  it("an operator that is down is named, and the two others recover", async () => {
    const down = proxies[2] as LyingOperator;
    const amy = await amyRecoversDespite([[down, "down"]]);
    expect(amy.run.code, amy.run.stdout + amy.run.stderr).toBe(0);
    expect(amy.run.stderr).toContain(`recovery operator ${down.url} is unreachable`);
  });

  it("when no group of answers reaches the threshold, every operator of every group is named", async () => {
    const [forger, honest, down] = proxies as [LyingOperator, LyingOperator, LyingOperator];
    const amy = await amyRecoversDespite([
      [forger, "forged-commitments"],
      [down, "down"],
    ]);
    expect(amy.run.code).toBe(1);
    expect(amy.run.json.error).toBe("operators");
    // One against one: which is lying is unknown, so both are named, not only the honest one.
    expect(amy.run.json.message).toMatch(/answers disagree/);
    expect(amy.run.json.message).toContain(forger.url);
    expect(amy.run.json.message).toContain(honest.url);
    expect(amy.run.json.message).toContain(`recovery operator ${down.url} is unreachable`);
  });

  describe("a provider that names other operators", () => {
    /** Bob's device talks to the provider through a proxy that can rewrite its list of operators. */
    let relay: LyingRelay;
    let bob: Device;
    const BOB = "bob@example.com";
    const listing = (method: string, path: string) => method === "GET" && path === "/v1/recovery/operators";
    const enroll = (...extra: string[]) =>
      bob.run(["enroll-face", "--image", picture("leonard", 1), "--image", picture("leonard", 2), "--json", ...extra]);
    beforeAll(async () => {
      relay = await startLyingRelay(provider.url);
      bob = await firstDevice(relay.url, provider.mails, BOB);
    });
    afterAll(async () => {
      await relay?.close();
      bob?.remove();
    });

    it("an operator whose key is not the listed one is refused at enrollment, and nothing is pinned", async () => {
      /** Lists operator 2 with `key` instead of its own. */
      const listingKey = (key: string) => (reply: Record<string, unknown>) => {
        (reply.operators as { key: string }[])[1] = { ...(reply.operators as { key: string }[])[1], key } as {
          key: string;
        };
      };
      // Two operators listed with one key would count one operator twice: refused before any is asked.
      relay.lie(listing, listingKey(operators.operators[0]?.key as string));
      const twice = await enroll();
      expect(twice.code).toBe(1);
      expect(twice.json).toMatchObject({
        error: "operator",
        message: expect.stringMatching(/two operators share a key/),
      });
      relay.lie(listing, listingKey("ab".repeat(32)));
      const mismatch = await enroll();
      expect(mismatch.code).toBe(1);
      expect(mismatch.json.error).toBe("operator");
      expect(mismatch.json.message).toContain(`recovery operator ${proxies[1]?.url} answered with the key`);
      // The list with the wrong key was not pinned: the provider's true list is taken.
      expect((await enroll()).code).toBe(0);
    });

    /** The ticket in `reply`, changed by `change` and signed again by the provider's key. */
    const resigned = (change: Record<string, unknown>) => (reply: Record<string, unknown>) => {
      const { payload } = reply.ticket as { payload: string };
      const ticket = JSON.parse(new TextDecoder().decode(hexToBytes(payload)));
      const { secretKey } = providerTicketKeys(new MasterKey(hexToBytes(MASTER_KEY_HEX)));
      reply.ticket = signTicket(secretKey, { ...ticket, ...change });
    };
    const forAnotherDevice = resigned({ device: "0".repeat(32) });

    it("a ticket the provider signed for another device or another guess is refused", async () => {
      relay.lie((method, path) => method === "POST" && path === "/v1/recovery/enrollments", forAnotherDevice);
      const enrolling = await enroll();
      expect(enrolling.code).toBe(1);
      expect(enrolling.json).toMatchObject({
        error: "provider-refused",
        message: expect.stringMatching(/^the provider's ticket names another device/),
      });
      relay.lie((method, path) => method === "POST" && /\/tickets$/.test(path), forAnotherDevice);
      const amy = await amyRecovers(relay.url);
      expect(amy.run.code).toBe(1);
      expect(amy.run.json).toMatchObject({
        error: "provider-refused",
        message: expect.stringMatching(/^the provider's ticket names another device/),
      });
      expect(amy.run.stderr).not.toMatch(/asking the recovery operators/);
      // A ticket for another guess would spend this attempt on an input the device never sent.
      relay.lie((method, path) => method === "POST" && /\/tickets$/.test(path), resigned({ blinded: "e2".repeat(32) }));
      const other = await amyRecovers(relay.url);
      expect(other.run.code).toBe(1);
      expect(other.run.json.message).toMatch(/^the provider's ticket names another blinded/);
      expect(other.run.stderr).not.toMatch(/asking the recovery operators/);
    });

    it("a malformed field in the provider's list of enrollments is refused, not tripped over", async () => {
      relay.lie(
        (method, path) => method === "GET" && path === "/v1/recovery/enrollments",
        (reply) => {
          const [first] = reply.enrollments as Record<string, unknown>[];
          (first as Record<string, unknown>).email = `${EMAIL}\nbcc: penny@example.com`;
        },
      );
      const amy = await amyRecovers(relay.url);
      expect(amy.run.code).toBe(1);
      expect(amy.run.json).toMatchObject({
        error: "provider-refused",
        message: expect.stringMatching(/for an email that is not one/),
      });
    });

    it("operators the provider swaps in after the device pinned its list are refused unless given", async () => {
      const kept = operators.operators.slice(0, 2).map((o, i) => `${proxies[i]?.url}#${o.key}`);
      const twoOfTwo = (reply: Record<string, unknown>) => {
        reply.operators = (reply.operators as unknown[]).slice(0, 2);
      };
      relay.lie(listing, twoOfTwo);
      const refused = await enroll();
      expect(refused.code).toBe(1);
      expect(refused.json.error).toBe("operators-changed");
      expect(refused.json.message).toMatch(/now names other recovery operators .* pass them explicitly in --operators/);
      relay.lie(listing, twoOfTwo);
      // The ticket must name the accepted set too, or the operators would act on another one.
      const starting = (method: string, path: string) => method === "POST" && path === "/v1/recovery/enrollments";
      const unticketed = await enroll("--operators", kept.join(","));
      expect(unticketed.json).toMatchObject({
        error: "provider-refused",
        message: expect.stringMatching(/^the provider's ticket names another operators/),
      });
      relay.lie(listing, twoOfTwo);
      relay.lie(starting, resigned({ operators: operators.operators.slice(0, 2).map((o) => o.key) }));
      expect((await enroll("--operators", kept.join(","))).code).toBe(0);
      // The new list is pinned now: the provider's full list is the other one.
      expect((await enroll()).json.error).toBe("operators-changed");
    });

    it("a recovery key the provider lists as an enrollment of the account gets no share sealed to it", async () => {
      const seals = () => relay.requests.filter((r) => r.method === "PUT" && /\/recovery-boxes$/.test(r.path)).length;
      const keys = (method: string, path: string) => method === "GET" && path === "/v1/recovery/keys";
      await bob.ok(["wallet", "create", "--name", "savings", "--scheme", "frost-ed25519"]);
      // Sealed at creation to the enrollments bob made.
      expect(seals()).toBe(1);
      const planted = randomUUID();
      relay.lie(keys, (reply) => {
        (reply.enrollments as unknown[]).push({
          id: planted,
          kind: "heir",
          status: "active",
          recoveryKey: "ab".repeat(32),
          createdAt: new Date().toISOString(),
        });
      });
      const refused = await bob.run(["refresh", "--wallet", "savings", "--json"]);
      expect(refused.code).toBe(1);
      expect(refused.json).toMatchObject({ error: "provider-refused", message: expect.stringContaining(planted) });
      // One of bob's own enrollments, listed with the provider's key instead of the one bob made.
      relay.lie(keys, (reply) => {
        (reply.enrollments as { recoveryKey: string }[])[0] = {
          ...(reply.enrollments as { recoveryKey: string }[])[0],
          recoveryKey: "ab".repeat(32),
        } as { recoveryKey: string };
      });
      const swapped = await bob.run(["refresh", "--wallet", "savings", "--json"]);
      expect(swapped.code).toBe(1);
      expect(swapped.json.error).toBe("provider-refused");
      expect(seals()).toBe(1);
      // Listed truly, the share is sealed again.
      await bob.ok(["refresh", "--wallet", "savings"]);
      expect(seals()).toBe(2);
    });
  });
});
