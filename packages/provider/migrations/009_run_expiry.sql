-- The sweep that fails abandoned runs reads running sessions by age, and running provider parties.
CREATE INDEX sessions_running ON sessions (updated_ms) WHERE status = 'running';
CREATE INDEX relay_parties_running ON relay_parties (relay_id) WHERE status = 'running';
-- A provider party that has ended keeps no buffer of opened envelopes.
ALTER TABLE relay_parties ALTER COLUMN buffer DROP NOT NULL;
