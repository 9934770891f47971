-- The relay: sessions among devices of one account, and the sealed envelopes they exchange. The
-- provider stores and forwards envelopes; it holds no key that opens them.

CREATE TABLE relay_sessions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  sid bytea NOT NULL UNIQUE,
  -- What the session is for, as its creator says (shown to the invited devices).
  purpose text NOT NULL,
  -- Device ids in party-index order, as JSON.
  participants text NOT NULL,
  created_by text NOT NULL,
  created_ms bigint NOT NULL,
  expires_ms bigint NOT NULL
);

CREATE INDEX relay_sessions_account ON relay_sessions (account_id, expires_ms);

CREATE TABLE relay_envelopes (
  id bigserial PRIMARY KEY,
  relay_id uuid NOT NULL REFERENCES relay_sessions (id),
  from_device text NOT NULL,
  to_device text NOT NULL,
  envelope text NOT NULL,
  created_ms bigint NOT NULL
);

CREATE INDEX relay_envelopes_inbox ON relay_envelopes (relay_id, to_device, id);
