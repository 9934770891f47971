-- The place of the rule that decided a request, counted from 1 as people count rules, so a held or
-- denied request names it as `policy show` does. Requests decided before have only the name.
ALTER TABLE sign_requests ADD COLUMN rule_number integer;
