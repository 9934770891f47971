-- A device's revocation of another device: it takes effect at once, and the account's mailbox can
-- undo it within the account-change delay with the change's one-time token (the revoked device is
-- let back in and the revoking one revoked). `subject` is the revoked device.
ALTER TABLE account_changes DROP CONSTRAINT account_changes_kind_check;
ALTER TABLE account_changes ADD CONSTRAINT account_changes_kind_check
  CHECK (kind IN ('totp', 'owner-enrollment', 'heir-enrollment', 'backup', 'device', 'revocation'));
