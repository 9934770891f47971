/**
 * Notifications to people (one-time codes, alerts). Every message is first written to the
 * `outbox` table in the transaction that caused it; `deliver` then sends what is pending through
 * SMTP when one is configured, claiming rows so that replicas never send a message twice.
 */
import nodemailer, { type Transporter } from "nodemailer";
import type { Database, Queryable } from "../store/database.js";

export interface Notification {
  accountId: string | null;
  to: string;
  subject: string;
  body: string;
}

export class Notifier {
  readonly #db: Database;
  readonly #transport: Transporter | undefined;
  readonly #from: string;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  /** Where delivery failures are reported (the server's logger once it exists). */
  log: { warn(details: object, message: string): void } = { warn: () => {} };

  /**
   * `smtpUrl` like smtp://user:pass@host:port; without it, messages stay in the outbox. Pending
   * messages are retried every `retryMs`, so a mail queued where nobody kicks delivery still goes.
   */
  constructor(db: Database, options: { smtpUrl?: string; from?: string; now?: () => number; retryMs?: number } = {}) {
    this.#db = db;
    this.#transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
    this.#from = options.from ?? "keyshard provider <no-reply@keyshard.invalid>";
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.kick(), options.retryMs ?? 5000);
    this.#timer.unref();
  }

  /** Queues a message inside the caller's transaction. */
  async queue(tx: Queryable, message: Notification, nowMs: number): Promise<void> {
    await tx.query(
      "INSERT INTO outbox (account_id, recipient, subject, body, created_ms) VALUES ($1, $2, $3, $4, $5)",
      [message.accountId, message.to, message.subject, message.body, nowMs],
    );
  }

  /** Queues a message to the account's email address inside the caller's transaction. */
  async queueForAccount(
    tx: Queryable,
    accountId: string,
    message: { subject: string; body: string },
    nowMs: number,
  ): Promise<void> {
    const [account] = await tx.query<{ email: string }>("SELECT email FROM accounts WHERE id = $1", [accountId]);
    if (account === undefined) throw new Error("notification for an account that does not exist");
    await this.queue(tx, { accountId, to: account.email, ...message }, nowMs);
  }

  /** Sends pending messages; a failed send stays pending for the next call. Returns how many went out. */
  async deliver(nowMs: number): Promise<number> {
    if (this.#transport === undefined) return 0;
    let sent = 0;
    for (;;) {
      const delivered = await this.#db.transaction(async (tx) => {
        const [row] = await tx.query<{ id: string; recipient: string; subject: string; body: string }>(
          "SELECT id, recipient, subject, body FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        );
        if (row === undefined) return false;
        await this.#transport?.sendMail({ from: this.#from, to: row.recipient, subject: row.subject, text: row.body });
        await tx.query("UPDATE outbox SET sent_ms = $1 WHERE id = $2", [nowMs, row.id]);
        return true;
      });
      if (!delivered) return sent;
      sent++;
    }
  }

  /** Starts delivery without waiting for it; a failure is logged and the mail stays queued. */
  kick(): void {
    if (this.#transport === undefined) return;
    void this.deliver(this.#now()).catch((e) =>
      this.log.warn({ err: { message: String(e?.message ?? e) } }, "mail delivery failed"),
    );
  }

  close(): void {
    clearInterval(this.#timer);
    this.#transport?.close();
  }
}
