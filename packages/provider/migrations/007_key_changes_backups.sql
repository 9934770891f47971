-- Key changes (refresh, reshare) and backups by request.
--
-- A wallet's shares belong to an epoch. A refresh or reshare makes the next epoch's shares in a
-- `key_changes` row; the provider keeps signing with the current share until every party of the
-- new epoch has reported keeping its new share, and only then swaps (two-phase: nobody drops a
-- share the others still need).

ALTER TABLE wallets ADD COLUMN epoch integer NOT NULL DEFAULT 0;
ALTER TABLE wallets DROP CONSTRAINT wallets_state_check;
ALTER TABLE wallets ADD CONSTRAINT wallets_state_check
  CHECK (state IN ('creating', 'active', 'failed', 'self-custodied'));

CREATE TABLE key_changes (
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  -- The epoch this change makes (the wallet's epoch + 1).
  epoch integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('refresh', 'reshare')),
  -- Members of the new epoch in party order, as JSON (null for a hybrid wallet), and its threshold.
  members text,
  threshold integer NOT NULL,
  -- The provider's new share, sealed, once its run is done (when it is a party).
  share bytea,
  status text NOT NULL CHECK (status IN ('running', 'committed', 'abandoned', 'failed')),
  -- The relay session of a t-of-n change (null for a hybrid refresh over /v1/sessions).
  relay_id uuid,
  created_by text NOT NULL REFERENCES devices (id),
  created_ms bigint NOT NULL,
  PRIMARY KEY (wallet_id, epoch)
);

-- A new-epoch device member's report that it keeps its new share (and the key it gives).
CREATE TABLE key_change_confirmations (
  wallet_id uuid NOT NULL,
  epoch integer NOT NULL,
  device_id text NOT NULL REFERENCES devices (id),
  public_key bytea NOT NULL,
  at_ms bigint NOT NULL,
  PRIMARY KEY (wallet_id, epoch, device_id),
  FOREIGN KEY (wallet_id, epoch) REFERENCES key_changes (wallet_id, epoch)
);

ALTER TABLE sessions DROP CONSTRAINT sessions_kind_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_kind_check CHECK (kind IN ('keygen', 'sign', 'refresh'));
ALTER TABLE sessions ADD COLUMN epoch integer;
ALTER TABLE relay_parties DROP CONSTRAINT relay_parties_kind_check;
ALTER TABLE relay_parties ADD CONSTRAINT relay_parties_kind_check CHECK (kind IN ('keygen', 'sign', 'reshare'));
ALTER TABLE relay_parties ADD COLUMN epoch integer;

-- The provider's share of a hybrid wallet, released to the user's recovery key after a delay
-- with notifications, cancellable until then. `box` is the share sealed to `recovery_key`.
CREATE TABLE backups (
  id uuid PRIMARY KEY,
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  account_id uuid NOT NULL REFERENCES accounts (id),
  requested_by text NOT NULL REFERENCES devices (id),
  recovery_key bytea NOT NULL,
  status text NOT NULL CHECK (status IN ('waiting', 'cancelled', 'released')),
  requested_ms bigint NOT NULL,
  ready_ms bigint NOT NULL,
  box bytea,
  finished_ms bigint
);

CREATE UNIQUE INDEX backups_one_waiting ON backups (wallet_id) WHERE status IN ('waiting', 'released');
