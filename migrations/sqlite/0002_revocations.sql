-- tessera schema, version 2: the deny-list of revoked tokens.
-- A 'token' entry names one jti; a 'client' entry matches every token of
-- that client issued at or before revoked_at.  An entry is kept until
-- expires_at, when every token it can match has expired.

CREATE TABLE revocations (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL CHECK (kind IN ('token', 'client')),
	jti		TEXT CHECK (jti IS NULL OR length(jti) BETWEEN 1 AND 64),
	client		TEXT CHECK (client IS NULL OR
			length(client) BETWEEN 1 AND 128),
	reason		TEXT NOT NULL DEFAULT ''
			CHECK (length(reason) <= 256),
	revoked_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	CHECK ((kind = 'token') = (jti IS NOT NULL)),
	CHECK (kind = 'token' OR client IS NOT NULL)
);
CREATE UNIQUE INDEX revocations_jti ON revocations (jti)
	WHERE kind = 'token';
CREATE INDEX revocations_expires ON revocations (expires_at);

INSERT INTO generations (name, value) VALUES ('revocations', 1);

CREATE TRIGGER revocations_ins AFTER INSERT ON revocations BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'revocations';
END;
CREATE TRIGGER revocations_del AFTER DELETE ON revocations BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'revocations';
END;
