-- Account-security changes a stolen device must not make quietly: a TOTP enrollment or
-- replacement, a face enrollment (the owner's or an heir's), a backup of the provider's share, a
-- new device. Each waits until `effective_ms`; meanwhile any active device of the account, or
-- whoever holds the account's mailbox (a one-time token, of which only the MAC is kept), can
-- cancel it. `subject` names what the change makes effective: the enrollment, backup or device
-- id, or the account id for its TOTP; at most one change per subject waits at a time.
CREATE TABLE account_changes (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('totp', 'owner-enrollment', 'heir-enrollment', 'backup', 'device')),
  subject text NOT NULL,
  summary text NOT NULL,
  requested_by text NOT NULL REFERENCES devices (id),
  requested_ms bigint NOT NULL,
  effective_ms bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'applied', 'cancelled')),
  cancel_mac bytea NOT NULL UNIQUE,
  -- A device id, or 'email' for the mailed token, or 'provider' for an application.
  finished_by text,
  finished_ms bigint
);
CREATE INDEX account_changes_due ON account_changes (account_id, effective_ms) WHERE status = 'pending';
CREATE INDEX account_changes_sweep ON account_changes (effective_ms) WHERE status = 'pending';
CREATE UNIQUE INDEX account_changes_one_pending ON account_changes (kind, subject) WHERE status = 'pending';

-- The account's TOTP: `secret` is the one in force (when `confirmed`); a new one is kept apart in
-- `next_secret` until its first code is given and its change has waited out its delay.
ALTER TABLE totp ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE totp ADD COLUMN next_secret bytea;
ALTER TABLE totp ADD COLUMN next_step bigint NOT NULL DEFAULT 0;
ALTER TABLE totp ADD COLUMN next_change uuid REFERENCES account_changes (id);
UPDATE totp SET next_secret = secret, secret = NULL WHERE NOT confirmed;

-- An enrollment whose keys and boxes are in but whose change still waits; one that was cancelled.
ALTER TABLE face_enrollments DROP CONSTRAINT face_enrollments_status_check;
ALTER TABLE face_enrollments ADD CONSTRAINT face_enrollments_status_check
  CHECK (status IN ('pending', 'waiting', 'active', 'replaced', 'vetoed', 'claimed', 'cancelled'));

-- A device an active device approved, waiting for its change to take effect.
ALTER TABLE devices DROP CONSTRAINT devices_state_check;
ALTER TABLE devices ADD CONSTRAINT devices_state_check
  CHECK (state IN ('unverified', 'awaiting-approval', 'approved', 'active', 'revoked'));
