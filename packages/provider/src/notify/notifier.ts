/**
 * Notifications to people (one-time codes, alerts) through an outbox. Every message is first
 * written to the `outbox` table in the transaction that caused it, so it exists exactly when what
 * it tells of was committed. When SMTP is configured, a worker sends after commit:
 *
 * - it claims due messages for a lease in one short statement, so replicas never send a message
 *   twice while the lease holds, and a crashed replica's claim lapses on its own;
 * - it sends them outside any transaction, several at once, each bounded by a timeout: a slow or
 *   silent SMTP server never holds a database connection (on PGlite the only one) nor other mail;
 * - it records each outcome in another short statement. A temporary failure (4xx, timeout, lost
 *   connection) is retried after an exponential backoff of that message alone, so a refused
 *   recipient never holds back the rest; a permanent refusal (5xx), or too many attempts, marks
 *   the message failed with the last error.
 *
 * Without SMTP, messages stay in the outbox, and each one committed after this notifier started is
 * written once to the log instead (recipient, subject and body), and listed by the development
 * mail viewer (`http/routes/dev-mail.ts`): the ways to read a code on a first run on one machine. With SMTP, no message's content is ever logged: bodies hold one-time codes.
 */
import nodemailer, { type Transporter } from "nodemailer";
import { accountEmail } from "../store/accounts.js";
import {
  type ClaimedMessage,
  claimDueMessages,
  insertOutboxMessage,
  markFailed,
  markSent,
  newestUnsent,
  scheduleRetry,
  type UnsentMessage,
  unsentSince,
} from "../store/outbox.js";
import type { Database, Queryable } from "../store/queryable.js";

export interface Notification {
  accountId: string | null;
  to: string;
  subject: string;
  body: string;
}

/** How the worker paces delivery; the defaults suit a server, tests shorten them. */
export interface DeliveryOptions {
  /** Messages in flight at once: a stalled send takes one slot, the others keep going. */
  concurrency?: number;
  /** How long one send may take before it counts as a temporary failure. */
  sendTimeoutMs?: number;
  /** How long a claim keeps other replicas off a message; must outlast a send. */
  leaseMs?: number;
  /** The wait after a first temporary failure, doubled after each further one up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Attempts after which a message that keeps failing temporarily is given up. */
  maxAttempts?: number;
  /** How often due messages are looked for unprompted: retries, lapsed leases, other replicas' mail. */
  pollMs?: number;
}

const DEFAULTS: Required<DeliveryOptions> = {
  concurrency: 4,
  sendTimeoutMs: 30_000,
  leaseMs: 5 * 60_000,
  backoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
  maxAttempts: 8,
  pollMs: 5000,
};

/** How far back the log of unsent mail (no SMTP server) looks for messages not yet written. */
const LOG_LOOKBACK_MS = 10 * 60_000;

export class Notifier {
  readonly #db: Database;
  readonly #transport: Transporter | undefined;
  readonly #from: string;
  readonly #now: () => number;
  readonly #options: Required<DeliveryOptions>;
  readonly #timer: NodeJS.Timeout | undefined;
  /** Sends under way, by outbox id, each with the recording of its outcome. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** The claim under way, if any: one at a time, so a kick meanwhile only asks for another round. */
  #claiming: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Where delivery failures, and without SMTP the messages themselves, go (the server's logger once it exists). */
  log: { warn(details: object, message: string): void; info(details: object, message: string): void } = {
    warn: () => {},
    info: () => {},
  };
  /** Without SMTP: when this notifier started, and the messages since then already written to the log. */
  readonly #startedMs: number;
  /** Messages written to the log, by id, with when they were queued; only the last `LOG_LOOKBACK_MS` are kept. */
  readonly #logged = new Map<string, number>();

  /** Whether messages are mailed; without SMTP they are written to the log instead. */
  get mails(): boolean {
    return this.#transport !== undefined;
  }

  /** `smtpUrl` like smtp://user:pass@host:port; without it, messages stay in the outbox. */
  constructor(db: Database, options: { smtpUrl?: string; from?: string; now?: () => number } & DeliveryOptions = {}) {
    this.#db = db;
    this.#from = options.from ?? "keyshard provider <no-reply@keyshard.invalid>";
    this.#now = options.now ?? Date.now;
    const given = Object.entries(options).filter(([name, value]) => name in DEFAULTS && value !== undefined);
    this.#options = { ...DEFAULTS, ...Object.fromEntries(given) };
    // A claim that lapsed while its send is still running would let another replica send it too.
    if (this.#options.leaseMs <= this.#options.sendTimeoutMs) throw new Error("the lease must outlast a send");
    this.#startedMs = this.#now();
    // Also without SMTP: a message queued without a kick is still logged.
    this.#timer = setInterval(() => this.kick(), this.#options.pollMs);
    this.#timer.unref();
    if (options.smtpUrl === undefined) return;
    const timeout = this.#options.sendTimeoutMs;
    // nodemailer's own timeouts (minutes by default) also end the socket of a send given up on.
    this.#transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  /** Queues a message inside the caller's transaction; it is due at once. */
  async queue(tx: Queryable, message: Notification, nowMs: number): Promise<void> {
    await insertOutboxMessage(tx, message, nowMs);
  }

  /** Queues a message to the account's email address inside the caller's transaction. */
  async queueForAccount(
    tx: Queryable,
    accountId: string,
    message: { subject: string; body: string },
    nowMs: number,
  ): Promise<void> {
    const to = await accountEmail(tx, accountId);
    if (to === undefined) throw new Error("notification for an account that does not exist");
    await this.queue(tx, { accountId, to, ...message }, nowMs);
  }

  /**
   * The newest messages not sent, newest first: what the development mail viewer shows when no
   * SMTP server is configured (then no message is ever sent, and this is every message).
   */
  async unsent(limit: number): Promise<UnsentMessage[]> {
    return newestUnsent(this.#db, limit);
  }

  /** Starts sending what is due without waiting for it; call it after the queuing transaction committed. */
  kick(): void {
    if (this.#closed) return;
    if (this.#claiming !== undefined) {
      // The claim under way may have read the outbox before the caller's message was committed.
      this.#again = true;
      return;
    }
    const transport = this.#transport;
    this.#claiming = (transport === undefined ? this.#logUnsent() : this.#fill(transport))
      .catch((e) => this.log.warn({ err: { message: String(e?.message ?? e) } }, "mail delivery failed"))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Stops the worker: no new claims, and the sends under way (each bounded by its timeout) are recorded. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#claiming;
    await Promise.all(this.#inFlight.values());
    this.#transport?.close();
  }

  /**
   * Without SMTP: writes each unsent message committed since the start to the log, once. It only
   * reads the outbox, which keeps every message as it is without SMTP.
   */
  async #logUnsent(): Promise<void> {
    // A message commits within moments of being queued: looking back a while finds every one
    // without the record of logged ones growing for as long as the provider runs.
    const since = Math.max(this.#startedMs, this.#now() - LOG_LOOKBACK_MS);
    for (const [id, createdMs] of this.#logged) if (createdMs < since) this.#logged.delete(id);
    const messages = await unsentSince(this.#db, since, [...this.#logged.keys()]);
    for (const { id, to, subject, body, createdMs } of messages) {
      this.#logged.set(id, createdMs);
      this.log.info({ to, subject, body }, "mail not sent (no SMTP server configured); its text follows");
    }
  }

  /** Claims due messages into the free slots and starts them, as long as that fills every slot. */
  async #fill(transport: Transporter): Promise<void> {
    for (;;) {
      const free = this.#options.concurrency - this.#inFlight.size;
      // A send that ends kicks again.
      if (free <= 0) return;
      const claimed = await this.#claim(free);
      for (const message of claimed) this.#start(transport, message);
      if (claimed.length < free) return;
    }
  }

  /**
   * Claims up to `limit` due messages for a lease, none this worker is still sending (a clock
   * moved ahead, as tests do, must not reclaim them).
   */
  async #claim(limit: number): Promise<ClaimedMessage[]> {
    const now = this.#now();
    return claimDueMessages(this.#db, {
      leaseUntilMs: now + this.#options.leaseMs,
      nowMs: now,
      skipIds: [...this.#inFlight.keys()],
      limit,
    });
  }

  #start(transport: Transporter, message: ClaimedMessage): void {
    const sending = this.#send(transport, message)
      .catch((e) => this.log.warn({ err: { message: String(e?.message ?? e) } }, "mail delivery failed"))
      .finally(() => {
        this.#inFlight.delete(message.id);
        this.kick();
      });
    this.#inFlight.set(message.id, sending);
  }

  /** Sends one claimed message, then records the outcome; nothing of the database is held meanwhile. */
  async #send(transport: Transporter, message: ClaimedMessage): Promise<void> {
    let failure: unknown;
    try {
      await within(
        transport.sendMail({ from: this.#from, to: message.recipient, subject: message.subject, text: message.body }),
        this.#options.sendTimeoutMs,
      );
    } catch (e) {
      failure = e ?? new Error("send failed");
    }
    const now = this.#now();
    if (failure === undefined) {
      // Sent, even if the lease lapsed meanwhile and another replica has it: it went out.
      await markSent(this.#db, message.id, now);
      return;
    }
    const error = errorText(failure);
    const details = { outboxId: message.id, attempts: message.attempts, error };
    // `attempts` matches only while the claim is still this worker's: a later claim's outcome wins.
    if (permanent(failure) || message.attempts >= this.#options.maxAttempts) {
      await markFailed(this.#db, message, now, error);
      this.log.warn(details, "mail not delivered: given up");
    } else {
      const backoff = Math.min(this.#options.backoffMs * 2 ** (message.attempts - 1), this.#options.maxBackoffMs);
      await scheduleRetry(this.#db, message, now + backoff, error);
      this.log.warn(details, "mail not delivered: will retry");
    }
  }
}

/** `promise`, or a temporary failure once `ms` have passed without it settling. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: "ETIMEDOUT" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A 5xx reply is the server's final word on this message: sending it again would not change it. */
function permanent(failure: unknown): boolean {
  const code = (failure as { responseCode?: unknown }).responseCode;
  return typeof code === "number" && code >= 500 && code < 600;
}

/**
 * What went wrong, for the outbox and the log: the SMTP server's reply or the error's message, on
 * one line. Never the message itself: its body holds one-time codes.
 */
function errorText(failure: unknown): string {
  const { code, response, message } = failure as { code?: unknown; response?: unknown; message?: unknown };
  const text = typeof response === "string" ? response : String(message ?? failure);
  return [typeof code === "string" ? code : undefined, text]
    .filter((part) => part !== undefined)
    .join(": ")
    .replace(/\s+/g, " ")
    .slice(0, 500);
}
