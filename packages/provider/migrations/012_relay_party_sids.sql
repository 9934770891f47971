-- The provider's party in a relayed run claims the sid it runs under, as two-party sessions do
-- (011): once claimed, no other party of the provider starts under it, whatever drew the sid and
-- whichever relay session names it.
ALTER TABLE relay_parties ADD COLUMN sid bytea;
UPDATE relay_parties p SET sid = r.sid FROM relay_sessions r WHERE r.id = p.relay_id;
ALTER TABLE relay_parties ALTER COLUMN sid SET NOT NULL;
CREATE UNIQUE INDEX relay_parties_sid ON relay_parties (sid);
