-- tessera schema, version 4: folded audit rows.  Failures of callers that
-- proved no identity are stored as one row per (event, peer, reason) and
-- interval; count says how many requests that row stands for.  Every
-- other row stands for one event.

ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1
	CHECK (count >= 1);
