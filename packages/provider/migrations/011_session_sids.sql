-- A device may now choose the session id of a signing run (its first round then rides on the sign
-- request), so "never reused" is enforced here rather than trusted to the random draw.
CREATE UNIQUE INDEX sessions_sid ON sessions (sid);
