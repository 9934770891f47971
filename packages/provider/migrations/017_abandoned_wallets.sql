-- A wallet whose key generation never finished can be abandoned by a device of its account: the
-- row stays, because the audit log and its sessions refer to it, but its name is free again.
ALTER TABLE wallets DROP CONSTRAINT wallets_state_check;
ALTER TABLE wallets ADD CONSTRAINT wallets_state_check
  CHECK (state IN ('creating', 'active', 'failed', 'self-custodied', 'abandoned'));
ALTER TABLE wallets DROP CONSTRAINT wallets_account_id_name_key;
CREATE UNIQUE INDEX wallets_account_name ON wallets (account_id, name) WHERE state <> 'abandoned';
