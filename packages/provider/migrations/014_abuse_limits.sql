-- Limits on what an outsider can make the provider do for an account.
--
-- When a verification code was last mailed to an account's address and not yet used: a
-- registration under someone else's address mails it at most one code per window. A code proven
-- clears it, so the owner adding devices one after another gets a code for each.
ALTER TABLE accounts ADD COLUMN code_mailed_ms bigint;

-- An account's runs still going, counted for its quota before each new one.
CREATE INDEX sessions_account_running ON sessions (account_id) WHERE status = 'running';
CREATE INDEX relay_parties_wallet_running ON relay_parties (wallet_id) WHERE status = 'running';
