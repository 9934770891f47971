/**
 * Face recovery with the real `keyshard` bin and real pictures (copies of ../shared/faces kept
 * with the biometric tests), against a provider on PGlite whose liveness challenges the test
 * chooses: amy enrolls from three pictures; on a new device she proves the email by code, answers
 * the challenge, and gets her wallet back with the same address and refreshed shares, its
 * transfers held until her old phone confirms. Penny's face, and frames that miss the challenge,
 * get nothing and spend no guess. An heir is added, listed and vetoed.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE } from "../../biometric/test/faces.js";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { Device, firstDevice } from "./cli.js";

const EMAIL = "amy@example.com";
/** Indices into the biometric package's CHALLENGES. */
const HAPPY = 0;
const TURN_RIGHT = 7;
const picture = (person: string, n: number) => join(PEOPLE, person, `${person}${n}.png`);

describe("keyshard face recovery", () => {
  let provider: TestProvider;
  let challenge = HAPPY;
  let phone: Device;
  /** Amy's new device, once she has recovered. */
  let recovered: Device;
  const folders: string[] = [];
  const devices: Device[] = [];
  beforeAll(async () => {
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await startTestProvider("pglite", {
      challengeRandom: () => Uint8Array.of(challenge),
      accountChangeDelayMs: 0,
    });
    phone = await firstDevice(provider.url, provider.mails, EMAIL);
  });
  afterAll(async () => {
    await provider?.stop();
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
  const recover = async (dir: string) => {
    const device = new Device();
    devices.push(device);
    const nth = codesSoFar() + 1;
    const run = await device.runAnswering(
      ["recover", "--provider", provider.url, "--email", EMAIL, "--frames", dir, "--json"],
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

  it("enrolls amy's face and recovers her wallet on a new device, same address, refreshed, held until confirmed", async () => {
    await phone.ok(["wallet", "create", "--name", "main", "--scheme", "frost-ed25519"]);
    const { address } = await phone.ok(["address", "--wallet", "main", "--chain", "solana"]);
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

    // The phone is lost. Penny, who knows amy's email and reads her mail, has her own face only.
    const penny = await recover(frames([picture("penny", 5), picture("penny", 3)]));
    expect(penny.run.code, penny.run.stderr).toBe(1);
    expect(penny.run.json.error).toBe("no-match");
    // Frames that do not turn the head fail the challenge; neither spent a guess at the provider.
    challenge = TURN_RIGHT;
    const still = await recover(frames([picture("amy", 4), picture("amy", 5)]));
    expect(still.run.code).toBe(1);
    expect(still.run.json).toMatchObject({ error: "liveness" });
    expect(still.run.stderr).toMatch(/liveness challenge: turn your head/);
    expect(await attempts()).toBe(0);

    // Amy, smiling as asked, on her new device.
    challenge = HAPPY;
    const amy = await recover(frames([picture("amy", 4), picture("amy", 5)]));
    expect(amy.run.code, amy.run.stdout + amy.run.stderr).toBe(0);
    expect(amy.run.stderr).toMatch(/liveness challenge: look happy/);
    expect(amy.run.json).toMatchObject({ kind: "owner", wallets: [{ name: "main", epoch: 1 }] });
    recovered = amy.device;
    expect(await attempts()).toBe(1);
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
});
