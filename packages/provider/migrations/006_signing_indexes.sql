-- Runs looked up by the request they sign (superseding a run, the provider's relayed parties).
CREATE INDEX sessions_sign_request ON sessions (sign_request_id);
CREATE INDEX relay_parties_sign_request ON relay_parties (sign_request_id);
