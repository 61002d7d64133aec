-- tessera schema, version 5: tessera as the CA of its clients'
-- certificates (README, "Service certificates").

-- Each client's certificate lifetime; 0 is the default (24 h).
ALTER TABLE clients ADD COLUMN cert_ttl_s INTEGER NOT NULL DEFAULT 0
	CHECK (cert_ttl_s = 0 OR cert_ttl_s BETWEEN 300 AND 604800);

-- The one issuing CA.  The private key is not here: key_ref names where
-- it is ('file:ca-key.pem', a 0600 file in the key directory), or
-- key_sealed holds it sealed under a key-encryption key.
CREATE TABLE ca (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	cert_pem	TEXT NOT NULL CHECK (length(cert_pem) BETWEEN 1 AND 16384),
	key_ref		TEXT NOT NULL CHECK (length(key_ref) BETWEEN 1 AND 256),
	key_sealed	TEXT CHECK (key_sealed IS NULL OR
			length(key_sealed) BETWEEN 1 AND 8192),
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	created_at	INTEGER NOT NULL
);

-- Every certificate the CA issued.  A revoked one stays on the CRL
-- until its not_after.
CREATE TABLE certificates (
	serial		TEXT PRIMARY KEY
			CHECK (length(serial) BETWEEN 1 AND 40),
	client		TEXT NOT NULL CHECK (length(client) BETWEEN 1 AND 128),
	not_before	INTEGER NOT NULL,
	not_after	INTEGER NOT NULL,
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	issued_at	INTEGER NOT NULL,
	revoked_at	INTEGER,
	reason		TEXT NOT NULL DEFAULT ''
			CHECK (length(reason) <= 256),
	crl_reason	INTEGER NOT NULL DEFAULT -1
			CHECK (crl_reason BETWEEN -1 AND 10)
);
CREATE INDEX certificates_client ON certificates (client);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE UNIQUE INDEX certificates_sha256 ON certificates (sha256);
CREATE INDEX certificates_revoked ON certificates (not_after)
	WHERE revoked_at IS NOT NULL;

-- One-time enrollment secrets: only the SHA-256 of the secret is kept.
CREATE TABLE enroll_tokens (
	id		TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
	client		TEXT NOT NULL CHECK (length(client) BETWEEN 1 AND 128),
	secret_sha256	TEXT NOT NULL CHECK (length(secret_sha256) = 64),
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	used_at		INTEGER
);
CREATE INDEX enroll_tokens_client ON enroll_tokens (client);

-- The current CRL: its number only ever grows (one writer wins).
CREATE TABLE crl (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	crl_number	INTEGER NOT NULL CHECK (crl_number >= 1),
	this_update	INTEGER NOT NULL,
	der		BLOB NOT NULL
);

INSERT INTO generations (name, value) VALUES ('certs', 1);

CREATE TRIGGER ca_ins AFTER INSERT ON ca BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'certs';
END;
CREATE TRIGGER ca_upd AFTER UPDATE ON ca BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'certs';
END;
CREATE TRIGGER certificates_upd AFTER UPDATE ON certificates BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'certs';
END;
CREATE TRIGGER crl_ins AFTER INSERT ON crl BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'certs';
END;
CREATE TRIGGER crl_upd AFTER UPDATE ON crl BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'certs';
END;
