-- Hybrid wallets (the provider is party 1), the signing requests it decided on, and the protocol
-- sessions it runs. Shares and session states are sealed under the master key, bound to their row.

CREATE TABLE wallets (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  name text NOT NULL,
  scheme text NOT NULL CHECK (scheme IN ('ecdsa2p', 'frost-ed25519', 'frost-taproot')),
  state text NOT NULL CHECK (state IN ('creating', 'active', 'failed')),
  public_key bytea,
  share bytea,
  policy text NOT NULL,
  created_ms bigint NOT NULL,
  UNIQUE (account_id, name)
);

CREATE TABLE sign_requests (
  id uuid PRIMARY KEY,
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  account_id uuid NOT NULL REFERENCES accounts (id),
  device_id text NOT NULL REFERENCES devices (id),
  chain text NOT NULL,
  payload bytea NOT NULL,
  message bytea NOT NULL,
  path text,
  description text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('allow', 'deny')),
  rule text,
  status text NOT NULL CHECK (status IN ('denied', 'signing', 'signed', 'failed')),
  signature bytea,
  created_ms bigint NOT NULL
);

CREATE INDEX sign_requests_wallet ON sign_requests (wallet_id, created_ms);

-- `round` counts the client's messages handled so far; a request for another round is stale.
-- `last_input` and `last_output` let a retried request (lost response, crashed replica) get the
-- same answer without running the round again.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  kind text NOT NULL CHECK (kind IN ('keygen', 'sign')),
  sign_request_id uuid REFERENCES sign_requests (id),
  sid bytea NOT NULL,
  round integer NOT NULL,
  state bytea,
  last_input bytea,
  last_output bytea,
  status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  updated_ms bigint NOT NULL
);
