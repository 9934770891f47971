-- What policies need beyond allow/deny: requests held for a TOTP code, for approvals by other
-- devices or for a time lock; the account's TOTP secret; per-wallet allow-lists whose entries
-- count only after a cooling-off period; and policy changes that wait out a delay.

ALTER TABLE sign_requests DROP CONSTRAINT sign_requests_decision_check;
ALTER TABLE sign_requests ADD CONSTRAINT sign_requests_decision_check
  CHECK (decision IN ('allow', 'deny', 'require-totp', 'require-approvals', 'delay'));
ALTER TABLE sign_requests DROP CONSTRAINT sign_requests_status_check;
ALTER TABLE sign_requests ADD CONSTRAINT sign_requests_status_check
  CHECK (status IN ('denied', 'held', 'signing', 'signed', 'failed', 'cancelled'));
-- transaction, message, typed-data or raw-hash: what the wallet is asked to sign.
ALTER TABLE sign_requests ADD COLUMN kind text NOT NULL DEFAULT 'transaction';
-- What a held request still waits for; all are met before signing may start.
ALTER TABLE sign_requests ADD COLUMN approvals_needed integer NOT NULL DEFAULT 0;
ALTER TABLE sign_requests ADD COLUMN totp_needed boolean NOT NULL DEFAULT false;
ALTER TABLE sign_requests ADD COLUMN release_ms bigint;
-- When signing started: the rolling-window totals count from here.
ALTER TABLE sign_requests ADD COLUMN signing_ms bigint;

CREATE INDEX sign_requests_spending ON sign_requests (wallet_id, signing_ms);

-- One request may need several signatures (a PSBT's inputs): each is its own message and session.
ALTER TABLE sign_requests DROP COLUMN message;
ALTER TABLE sign_requests DROP COLUMN signature;
CREATE TABLE request_signatures (
  request_id uuid NOT NULL REFERENCES sign_requests (id),
  idx integer NOT NULL,
  -- The PSBT input signed, for Bitcoin.
  input integer,
  message bytea NOT NULL,
  signature bytea,
  PRIMARY KEY (request_id, idx)
);
ALTER TABLE sessions ADD COLUMN message_index integer;

-- When a device became active. A device counts as an approver only once it has been active for
-- the policy delay: a thief with one device and the mailbox cannot add a second device and
-- approve with it at once.
ALTER TABLE devices ADD COLUMN active_since_ms bigint;
UPDATE devices SET active_since_ms = created_ms WHERE state = 'active';

-- An approval is the approving device's Ed25519 signature over the request id and the hash of
-- the bytes it approves, kept so that anyone can check it later.
CREATE TABLE approvals (
  request_id uuid NOT NULL REFERENCES sign_requests (id),
  device_id text NOT NULL REFERENCES devices (id),
  signature bytea NOT NULL,
  at_ms bigint NOT NULL,
  PRIMARY KEY (request_id, device_id)
);

-- One TOTP secret per account, sealed under the master key. `last_step` refuses a code twice;
-- failures lock the account's TOTP for a while.
CREATE TABLE totp (
  account_id uuid PRIMARY KEY REFERENCES accounts (id),
  secret bytea NOT NULL,
  confirmed boolean NOT NULL DEFAULT false,
  last_step bigint NOT NULL DEFAULT 0,
  failures integer NOT NULL DEFAULT 0,
  locked_until_ms bigint NOT NULL DEFAULT 0,
  created_ms bigint NOT NULL
);

CREATE TABLE allow_list (
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  chain text NOT NULL,
  -- Normalized as the policy compares it (lower case where the chain's addresses ignore case).
  address text NOT NULL,
  label text NOT NULL,
  added_by text NOT NULL,
  added_ms bigint NOT NULL,
  PRIMARY KEY (wallet_id, chain, address)
);

CREATE TABLE policy_changes (
  id uuid PRIMARY KEY,
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  policy text NOT NULL,
  requested_by text NOT NULL,
  requested_ms bigint NOT NULL,
  effective_ms bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'applied', 'cancelled'))
);

CREATE INDEX policy_changes_pending ON policy_changes (wallet_id, status, effective_ms);
