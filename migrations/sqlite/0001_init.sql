-- tessera schema, version 1: policy (clients, grants), signing keys,
-- audit events, settings and the change counters readers poll.
-- Times are Unix seconds (UTC).

CREATE TABLE clients (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE
			CHECK (length(name) BETWEEN 1 AND 128),
	cn		TEXT NOT NULL UNIQUE
			CHECK (length(cn) BETWEEN 1 AND 64),
	description	TEXT NOT NULL DEFAULT ''
			CHECK (length(description) <= 256),
	enabled		INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE grants (
	id		INTEGER PRIMARY KEY,
	client_id	INTEGER NOT NULL
			REFERENCES clients(id) ON DELETE CASCADE,
	audience	TEXT NOT NULL CHECK (length(audience) BETWEEN 1 AND 128),
	scopes		TEXT NOT NULL DEFAULT ''
			CHECK (length(scopes) <= 1024),
	ttl_s		INTEGER NOT NULL DEFAULT 0 CHECK (ttl_s >= 0),
	created_at	INTEGER NOT NULL,
	UNIQUE (client_id, audience)
);

-- The public half only: private keys live in the key directory.
CREATE TABLE signing_keys (
	kid		TEXT PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 64),
	state		TEXT NOT NULL CHECK (state IN
			('next', 'active', 'retired', 'expired', 'revoked')),
	bits		INTEGER NOT NULL CHECK (bits IN (2048, 3072, 4096)),
	jwk		TEXT NOT NULL CHECK (length(jwk) <= 2048),
	created_at	INTEGER NOT NULL,
	activated_at	INTEGER,
	retired_at	INTEGER,
	expires_at	INTEGER
);

-- Exactly one active key at most, whoever writes.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state)
	WHERE state = 'active';

CREATE TABLE audit_events (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	event		TEXT NOT NULL,
	peer		TEXT,
	cert_sha256	TEXT,
	cn		TEXT,
	client		TEXT,
	audience	TEXT,
	scopes		TEXT,
	jti		TEXT,
	kid		TEXT,
	outcome		TEXT NOT NULL,
	error		TEXT,
	reason		TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TABLE settings (
	name		TEXT PRIMARY KEY,
	value		INTEGER NOT NULL
);

-- Change counters: a server polls these to reload within a second.
CREATE TABLE generations (
	name		TEXT PRIMARY KEY,
	value		INTEGER NOT NULL
);
INSERT INTO generations (name, value) VALUES ('policy', 1), ('keys', 1);

CREATE TRIGGER clients_ins AFTER INSERT ON clients BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER clients_upd AFTER UPDATE ON clients BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER clients_del AFTER DELETE ON clients BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER grants_ins AFTER INSERT ON grants BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER grants_upd AFTER UPDATE ON grants BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER grants_del AFTER DELETE ON grants BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'policy';
END;
CREATE TRIGGER keys_ins AFTER INSERT ON signing_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
CREATE TRIGGER keys_upd AFTER UPDATE ON signing_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
CREATE TRIGGER keys_del AFTER DELETE ON signing_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
