-- The outbox as a queue a worker drains after commit. A message is claimed for a short lease
-- (`claimed_until_ms`) and sent outside any transaction, so a crashed replica's claim lapses on its
-- own while a live one's keeps other replicas away. Each message waits for its own next attempt,
-- so one refused recipient never holds back the rest; after too many attempts, or a permanent
-- refusal, it is marked failed with the last error (never the body).
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_ms bigint;
UPDATE outbox SET next_attempt_ms = created_ms;
ALTER TABLE outbox ALTER COLUMN next_attempt_ms SET NOT NULL;
ALTER TABLE outbox ADD COLUMN claimed_until_ms bigint;
ALTER TABLE outbox ADD COLUMN failed_ms bigint;
ALTER TABLE outbox ADD COLUMN last_error text;
CREATE INDEX outbox_due ON outbox (next_attempt_ms, id) WHERE sent_ms IS NULL AND failed_ms IS NULL;
