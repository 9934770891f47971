/**
 * Mail delivery from the outbox, against PGlite and the machine's PostgreSQL, with SMTP servers
 * that misbehave: a recipient refused for good (550) is given up while other accounts' mail goes;
 * a server that leaves one message unanswered holds back neither other mail nor API calls; a
 * temporary refusal (451) and a send that gets no answer are retried and delivered; a claim
 * another replica left behind lapses; two replicas on one database never send a message twice.
 *
 * The provider's own notifier runs with its default pacing; the later tests stop it and drive
 * notifiers of their own on its database, with short backoffs and timeouts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Notifier } from "../src/notify/notifier.js";
import { openDatabase } from "../src/store/database.js";
import type { Database } from "../src/store/queryable.js";
import {
  activeDevice,
  type DatabaseKind,
  type Mail,
  type MailboxOptions,
  mailed,
  mailedCode,
  startMailbox,
  startTestProvider,
  TestDevice,
  type TestProvider,
} from "./harness.js";

/** Polls `probe` until it gives a value; fails after a wait long enough for any healthy delivery. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Registers a new, unverified device under `email`, which queues a code mail. */
async function register(provider: TestProvider, email: string): Promise<TestDevice> {
  const device = new TestDevice(provider.url, provider.now);
  const registered = await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "x" });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return device;
}

interface OutboxRow {
  attempts: number;
  sent_ms: string | null;
  failed_ms: string | null;
  last_error: string | null;
  body: string;
}

const outboxRow = async (db: Database, to: string): Promise<OutboxRow | undefined> =>
  (
    await db.query<OutboxRow>(
      "SELECT attempts, sent_ms, failed_ms, last_error, body FROM outbox WHERE recipient = $1 ORDER BY id DESC",
      [to],
    )
  )[0];

describe.each<DatabaseKind>(["pglite", "postgres"])("mail on %s", (kind) => {
  const REFUSED = "refused@example.com";
  const STALLED = "stalled@example.com";
  /** The mailbox's hold on the stalled message: it answers after 25 s, or once released. */
  let stall: { started: Promise<void>; ongoing: boolean; release(): void };
  let provider: TestProvider;

  beforeAll(async () => {
    let started = () => {};
    let release = () => {};
    stall = {
      started: new Promise<void>((r) => (started = r)),
      ongoing: false,
      release: () => release(),
    };
    const released = new Promise<void>((r) => (release = r));
    provider = await startTestProvider(kind, {
      mailbox: {
        refuse: (to) => (to === REFUSED ? 550 : undefined),
        async beforeAnswer(mail) {
          if (mail.to !== STALLED) return;
          stall.ongoing = true;
          started();
          await Promise.race([released, sleep(25_000)]);
          stall.ongoing = false;
        },
      },
    });
  });
  afterAll(async () => {
    stall?.release();
    await provider?.stop();
  });

  describe("from the provider's notifier", () => {
    it("gives up mail refused with 550 after one attempt, while other accounts' mail arrives", async () => {
      await register(provider, REFUSED);
      await activeDevice(provider, "first@example.com");
      await register(provider, "second@example.com");
      await mailedCode(provider.mails, "second@example.com");

      const row = await until("the refused mail to be given up", async () => {
        const r = await outboxRow(provider.context.db, REFUSED);
        return r?.failed_ms ? r : undefined;
      });
      expect(row.attempts).toBe(1);
      expect(row.sent_ms).toBeNull();
      expect(row.last_error).toContain("550");
      // The error kept is the server's reply, never the message with its code.
      const code = row.body.match(/\d{6}/)?.[0] as string;
      expect(row.last_error).not.toContain(code);
      expect(provider.mails.some((m) => m.to === REFUSED)).toBe(false);
    });

    it("answers API calls and sends other mail while the server leaves one message unanswered", async () => {
      await register(provider, STALLED);
      await stall.started;

      // All of this happens while the stalled message waits for the server's answer to its data.
      const other = await activeDevice(provider, "other@example.com");
      const account = await other.request("GET", "/v1/account");
      expect(account.status).toBe(200);
      await register(provider, "other@example.com");
      await mailedCode(provider.mails, "other@example.com", 2);
      expect(stall.ongoing).toBe(true);

      stall.release();
      expect(await mailed(provider.mails, STALLED, "code is")).toBe(true);
    });
  });

  describe("from a notifier of its own", () => {
    let db: Database;
    /** What a test started, ended after it whatever its outcome. */
    let cleanup: (() => Promise<void>)[] = [];

    // The provider's database (another PGlite would take as long to open as a provider to start),
    // with the provider's own notifier stopped so that it leaves these tests' messages alone.
    beforeAll(async () => {
      await provider.context.notifier.close();
      db = provider.context.db;
    });
    beforeEach(async () => {
      await db.query("DELETE FROM outbox");
    });
    afterEach(async () => {
      for (const done of cleanup.reverse()) await done();
      cleanup = [];
    });

    async function mailbox(options: MailboxOptions = {}) {
      const started = await startMailbox(options);
      cleanup.push(started.close);
      return started;
    }

    function notifier(on: Database, options: ConstructorParameters<typeof Notifier>[1]): Notifier {
      const made = new Notifier(on, options);
      cleanup.push(() => made.close());
      return made;
    }

    async function queue(into: Notifier, recipients: string[]): Promise<void> {
      await db.transaction(async (tx) => {
        for (const to of recipients)
          await into.queue(tx, { accountId: null, to, subject: "hello", body: `for ${to}` }, Date.now());
      });
      into.kick();
    }

    const recipients = (mails: Mail[]) => mails.map((m) => m.to);

    /** The outbox row of the mail to `to` once it is recorded as sent, which follows the server's answer. */
    const sentRow = (to: string) =>
      until(`the mail to ${to} to be recorded as sent`, async () => {
        const row = await outboxRow(db, to);
        return row?.sent_ms ? row : undefined;
      });

    it("retries a temporary refusal after a backoff, sending later mail meanwhile even one at a time", async () => {
      let refusals = 0;
      const box = await mailbox({
        // Refused until the later mail has gone: delivered only if the later mail did not wait for it.
        refuse(to) {
          if (to !== "busy@example.com" || recipients(box.mails).length >= 2) return undefined;
          refusals++;
          return 451;
        },
      });
      const worker = notifier(db, {
        smtpUrl: box.url,
        concurrency: 1,
        backoffMs: 100,
        maxBackoffMs: 1000,
        maxAttempts: 10,
        pollMs: 50,
      });
      await queue(worker, ["busy@example.com", "a@example.com", "b@example.com"]);

      const row = await sentRow("busy@example.com");
      expect(recipients(box.mails)).toEqual(["a@example.com", "b@example.com", "busy@example.com"]);
      expect(refusals).toBeGreaterThanOrEqual(1);
      expect(row.attempts).toBe(refusals + 1);
      expect(row.last_error).toBeNull();
    });

    it("gives a send that gets no answer up after its timeout, and retries it", async () => {
      let release = () => {};
      const released = new Promise<void>((r) => (release = r));
      let answered = 0;
      const box = await mailbox({
        async beforeAnswer() {
          if (answered++ === 0) await released;
        },
      });
      cleanup.push(async () => release());
      const worker = notifier(db, {
        smtpUrl: box.url,
        sendTimeoutMs: 1000,
        leaseMs: 10_000,
        backoffMs: 50,
        pollMs: 50,
      });
      await queue(worker, ["slow@example.com"]);

      const row = await sentRow("slow@example.com");
      expect(row.attempts).toBeGreaterThanOrEqual(2);
      expect(recipients(box.mails)).toEqual(["slow@example.com"]);
    });

    it("leaves a message alone while another replica's claim holds, and sends it once the claim lapsed", async () => {
      const box = await mailbox();
      let clock = Date.now();
      const worker = notifier(db, { smtpUrl: box.url, now: () => clock, pollMs: 50 });
      await db.transaction((tx) =>
        worker.queue(tx, { accountId: null, to: "claimed@example.com", subject: "s", body: "b" }, clock),
      );
      // As a replica that claimed the message and then died leaves it.
      await db.query("UPDATE outbox SET claimed_until_ms = $1, attempts = 1", [clock + 60_000]);
      worker.kick();
      await sleep(500);
      expect(box.mails).toEqual([]);

      clock += 60_001;
      expect((await sentRow("claimed@example.com")).attempts).toBe(2);
      expect(recipients(box.mails)).toEqual(["claimed@example.com"]);
    });

    it.runIf(kind === "postgres")("never sends a message twice from two replicas on one database", async () => {
      // Each answer takes a while, so the replicas claim while the other's sends are under way.
      const box = await mailbox({ beforeAnswer: () => sleep(100) });
      const second = await openDatabase({ postgresUrl: provider.databaseUrl as string });
      cleanup.push(() => second.close());
      const one = notifier(db, { smtpUrl: box.url, pollMs: 20 });
      const two = notifier(second, { smtpUrl: box.url, pollMs: 20 });
      const all = Array.from({ length: 16 }, (_, i) => `r${i}@example.com`);
      await queue(one, all);
      two.kick();

      await until("every mail to be sent", async () => {
        const pending = await db.query("SELECT id FROM outbox WHERE sent_ms IS NULL");
        return pending.length === 0 ? true : undefined;
      });
      await one.close();
      await two.close();
      expect(recipients(box.mails).sort()).toEqual([...all].sort());
    });
  });
});
