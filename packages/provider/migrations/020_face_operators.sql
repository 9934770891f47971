-- Face recovery through recovery operators: the enrolling device deals each enrollment's OPRF key
-- to the operators, t-of-n, and the provider keeps only its public key K (bound into the wrapped
-- recovery key). The threshold is not kept per enrollment: a reshare changes it for every
-- enrollment at once, so the provider's configured one is the one in force.
--
-- The provider derived the key of an enrollment made before this from its master key, so it alone
-- could test face guesses against it: such an enrollment is retired and its boxes deleted, and its
-- owner is mailed to enroll again. Whatever the provider could still test guesses with is cleared from every
-- such row, live or not: the helper data (left as an empty placeholder: the column is NOT NULL
-- and no retired row is ever read for it), the wrapped recovery key and the key that proves it.

ALTER TABLE face_enrollments ADD COLUMN oprf_key bytea;

ALTER TABLE face_enrollments DROP CONSTRAINT face_enrollments_status_check;
ALTER TABLE face_enrollments ADD CONSTRAINT face_enrollments_status_check
  CHECK (status IN ('pending', 'waiting', 'active', 'replaced', 'vetoed', 'claimed', 'cancelled', 'retired'));

DELETE FROM recovery_boxes WHERE enrollment_id IN (SELECT id FROM face_enrollments WHERE oprf_key IS NULL);
-- Owners whose face recovery stops working are told, once each, before their rows change.
INSERT INTO outbox (account_id, recipient, subject, body, created_ms, next_attempt_ms)
  SELECT a.id, a.email, 'keyshard: enroll your face again',
    'Your keyshard provider now splits the key that turns your face into your recovery key among independent recovery operators, so that neither the provider nor any one operator can try faces offline. The face enrollment you made before cannot be moved there: it no longer recovers your wallets. Enroll your face again from your wallet device (keyshard enroll-face), and add your heirs again if you had any.',
    t.now_ms, t.now_ms
  FROM accounts a, (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms) t
  WHERE a.id IN (SELECT account_id FROM face_enrollments WHERE oprf_key IS NULL AND status IN ('waiting', 'active'));
-- A waiting enrollment's delay would end in a notice that it took effect: its change is cancelled.
UPDATE account_changes SET status = 'cancelled', finished_by = 'provider',
    finished_ms = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
  WHERE status = 'pending' AND kind IN ('owner-enrollment', 'heir-enrollment')
    AND subject IN (SELECT id::text FROM face_enrollments WHERE oprf_key IS NULL AND status IN ('pending', 'waiting'));
UPDATE face_enrollments SET status = 'retired' WHERE oprf_key IS NULL AND status IN ('pending', 'waiting', 'active');
UPDATE face_enrollments SET helper = '', wrapped_key = NULL, auth_key = NULL WHERE oprf_key IS NULL;

-- An enrollment that can recover, or is about to, has its OPRF public key.
ALTER TABLE face_enrollments ADD CONSTRAINT face_enrollments_oprf_key_check
  CHECK (status NOT IN ('waiting', 'active') OR oprf_key IS NOT NULL);
