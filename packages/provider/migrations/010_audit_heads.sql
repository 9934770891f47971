-- Each chain's last link. An append is one statement that moves the head and writes the entry, the
-- head's row lock ordering appends across replicas; and a log cut short no longer matches its head.
CREATE TABLE audit_heads (
  chain text PRIMARY KEY,
  seq bigint NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL
);
INSERT INTO audit_heads (chain, seq, prev_hash, hash)
  SELECT DISTINCT ON (chain) chain, seq, prev_hash, hash FROM audit_log ORDER BY chain, seq DESC;
