-- t-of-n wallets among an account's devices, with the provider as one party or only the relay,
-- and the provider's parties in relayed sessions.

ALTER TABLE wallets DROP CONSTRAINT wallets_scheme_check;
ALTER TABLE wallets ADD CONSTRAINT wallets_scheme_check
  CHECK (scheme IN ('ecdsa2p', 'dkls23', 'frost-ed25519', 'frost-taproot'));
ALTER TABLE wallets ADD COLUMN threshold integer NOT NULL DEFAULT 2;
-- Party members in index order, as JSON: device ids, and the provider's id where it takes part.
-- NULL for a hybrid wallet (creating device = party 0, provider = party 1, over /v1/sessions).
ALTER TABLE wallets ADD COLUMN members text;

-- Each device member reports the public key its keygen produced; the wallet is active once all agree.
CREATE TABLE wallet_confirmations (
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  device_id text NOT NULL REFERENCES devices (id),
  public_key bytea NOT NULL,
  at_ms bigint NOT NULL,
  PRIMARY KEY (wallet_id, device_id)
);

-- The provider's party in a relay session: its sealed protocol state and its sealed buffer of
-- opened envelopes, advanced under the row lock whenever envelopes for it arrive.
CREATE TABLE relay_parties (
  relay_id uuid PRIMARY KEY REFERENCES relay_sessions (id),
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  kind text NOT NULL CHECK (kind IN ('keygen', 'sign')),
  sign_request_id uuid REFERENCES sign_requests (id),
  message_index integer,
  party_index integer NOT NULL,
  -- Party indices of the run, as JSON (all members for keygen, the signers for signing).
  parties text NOT NULL,
  round integer NOT NULL,
  state bytea,
  buffer bytea NOT NULL,
  cursor bigint NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  updated_ms bigint NOT NULL
);

-- For a t-of-n wallet: the devices that sign with the provider, as JSON (null for hybrid wallets).
ALTER TABLE sign_requests ADD COLUMN signers text;
