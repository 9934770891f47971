-- A recovery operator's state (the provider's code started with KEYSHARD_ROLE=recovery-operator,
-- on its own database): its share of each face enrollment's OPRF key, and every evaluation asked
-- of it. The provider's own tables stay empty there.

-- One enrollment's share: `idx` is this operator's index in the enrollment's sharing, `commitments`
-- the Feldman commitments C_0..C_{threshold-1} (32 bytes each, concatenated), `sealed_share` the
-- share sealed under the operator's master key. `account` is the provider's account id, as the
-- provider's ticket named it.
CREATE TABLE operator_enrollments (
  id uuid PRIMARY KEY,
  idx integer NOT NULL CHECK (idx BETWEEN 1 AND 255),
  threshold integer NOT NULL CHECK (threshold BETWEEN 2 AND 255),
  commitments bytea NOT NULL,
  sealed_share bytea NOT NULL,
  email text NOT NULL,
  account text NOT NULL,
  created_ms bigint NOT NULL,
  changed_ms bigint
);

-- Every evaluation asked of the operator, refused ones included: the evaluated ones count against
-- the enrollment's limit. A retired operator deletes its enrollments and their attempts with them
-- (the audit chain keeps the history).
CREATE TABLE operator_attempts (
  enrollment_id uuid NOT NULL REFERENCES operator_enrollments (id) ON DELETE CASCADE,
  device text NOT NULL,
  at_ms bigint NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('evaluated', 'refused'))
);
CREATE INDEX operator_attempts_enrollment ON operator_attempts (enrollment_id, at_ms);

-- Every recover ticket this operator has evaluated under, by the SHA-256 of its signed payload:
-- a ticket buys one evaluation here, however often it is replayed within its ten minutes.
CREATE TABLE operator_used_tickets (
  digest bytea PRIMARY KEY,
  enrollment_id uuid NOT NULL,
  used_ms bigint NOT NULL
);
CREATE INDEX operator_used_tickets_age ON operator_used_tickets (used_ms);
