-- Face recovery and heirs. Nothing here is biometric: an enrollment keeps the fuzzy extractor's
-- helper data (a seed, 63 coordinate indices and a 63-bit offset), the recovery secret key wrapped
-- under the face's OPRF output, and two public keys. The OPRF key is derived from the master key
-- and is not stored.

CREATE TABLE face_enrollments (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN ('owner', 'heir')),
  -- The email bound into the OPRF input: the account's for its owner, the heir's for an heir.
  email text NOT NULL,
  helper text NOT NULL,
  wrapped_key bytea,
  recovery_key bytea,
  auth_key bytea,
  -- An heir's: how long the owner must have been inactive before the heir may recover.
  inactivity_ms bigint,
  status text NOT NULL CHECK (status IN ('pending', 'active', 'replaced', 'vetoed', 'claimed')),
  created_by text NOT NULL REFERENCES devices (id),
  created_ms bigint NOT NULL,
  changed_ms bigint
);
CREATE INDEX face_enrollments_account ON face_enrollments (account_id);
CREATE INDEX face_enrollments_heir_email ON face_enrollments (email) WHERE kind = 'heir';

-- A device's share of a wallet, sealed to an enrollment's recovery key, at the wallet's epoch.
CREATE TABLE recovery_boxes (
  enrollment_id uuid NOT NULL REFERENCES face_enrollments (id),
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  epoch integer NOT NULL,
  box bytea NOT NULL,
  updated_ms bigint NOT NULL,
  PRIMARY KEY (enrollment_id, wallet_id)
);

-- Every OPRF evaluation is a guess at a face: counted per enrollment for the rate limit.
CREATE TABLE face_attempts (
  enrollment_id uuid NOT NULL REFERENCES face_enrollments (id),
  device_id text NOT NULL REFERENCES devices (id),
  at_ms bigint NOT NULL
);
CREATE INDEX face_attempts_enrollment ON face_attempts (enrollment_id, at_ms);

-- A recovery: the new device, and the cooling-off period during which the account's outgoing
-- transfers wait unless a device older than the recovery confirms it.
CREATE TABLE face_recoveries (
  id uuid PRIMARY KEY,
  enrollment_id uuid NOT NULL REFERENCES face_enrollments (id),
  account_id uuid NOT NULL REFERENCES accounts (id),
  device_id text NOT NULL REFERENCES devices (id),
  at_ms bigint NOT NULL,
  hold_until_ms bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('holding', 'confirmed', 'rejected')),
  decided_by text,
  decided_ms bigint
);
CREATE INDEX face_recoveries_holding ON face_recoveries (account_id) WHERE status = 'holding';

-- The owner's last request from an active device: an heir waits for it to be long enough ago.
ALTER TABLE accounts ADD COLUMN last_active_ms bigint;
UPDATE accounts SET last_active_ms = created_ms;

-- Reminders to the owner before an heir's release (days before it), and the notice to the heir
-- (days = 0), each once per stretch of inactivity (`active_ms`: the last activity it counts from).
CREATE TABLE heir_notices (
  enrollment_id uuid NOT NULL REFERENCES face_enrollments (id),
  active_ms bigint NOT NULL,
  days integer NOT NULL,
  sent_ms bigint NOT NULL,
  PRIMARY KEY (enrollment_id, active_ms, days)
);
