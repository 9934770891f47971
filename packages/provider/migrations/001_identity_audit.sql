-- Accounts, device identities, email verification, request nonces, the notification outbox and
-- the hash-chained audit log. Times are milliseconds since the epoch (bigint), as the
-- application's clock gives them, so that tests can move time.

CREATE TABLE meta (
  key text PRIMARY KEY,
  value bytea NOT NULL
);

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  verified boolean NOT NULL DEFAULT false,
  created_ms bigint NOT NULL
);

CREATE TABLE devices (
  id text PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  identity_key bytea NOT NULL UNIQUE,
  name text NOT NULL,
  state text NOT NULL CHECK (state IN ('unverified', 'awaiting-approval', 'active', 'revoked')),
  created_ms bigint NOT NULL
);

CREATE INDEX devices_account ON devices (account_id);

CREATE TABLE email_codes (
  device_id text PRIMARY KEY REFERENCES devices (id),
  code_mac bytea NOT NULL,
  expires_ms bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0
);

CREATE TABLE request_nonces (
  device_id text NOT NULL,
  nonce text NOT NULL,
  expires_ms bigint NOT NULL,
  PRIMARY KEY (device_id, nonce)
);

CREATE INDEX request_nonces_expiry ON request_nonces (expires_ms);

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  account_id uuid,
  recipient text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  created_ms bigint NOT NULL,
  sent_ms bigint
);

-- One chain per account ('system' for events of no account). `details` is canonical JSON text,
-- hashed exactly as stored.
CREATE TABLE audit_log (
  chain text NOT NULL,
  seq bigint NOT NULL,
  at_ms bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  details text NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (chain, seq)
);
