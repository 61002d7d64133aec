-- tessera schema, version 5, for PostgreSQL: tessera as the CA of its
-- clients' certificates (README, "Service certificates").

-- Each client's certificate lifetime; 0 is the default (24 h).
ALTER TABLE clients ADD COLUMN cert_ttl_s BIGINT NOT NULL DEFAULT 0
	CHECK (cert_ttl_s = 0 OR cert_ttl_s BETWEEN 300 AND 604800);

-- The one issuing CA.  The private key is not here in clear: key_ref
-- names a 0600 file in the key directory ('file:ca-key.pem'), or
-- key_sealed holds it sealed under a key-encryption key (lib/seal.h),
-- with 'ca' as AAD.
CREATE TABLE ca (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	cert_pem	TEXT NOT NULL CHECK (length(cert_pem) BETWEEN 1 AND 16384),
	key_ref		TEXT NOT NULL CHECK (length(key_ref) BETWEEN 1 AND 256),
	key_sealed	TEXT CHECK (key_sealed IS NULL OR
			(length(key_sealed) BETWEEN 1 AND 8192 AND
			 key_sealed ~ '^[A-Za-z0-9_-]+$')),
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	created_at	BIGINT NOT NULL
);

CREATE TABLE certificates (
	serial		TEXT PRIMARY KEY
			CHECK (length(serial) BETWEEN 1 AND 40),
	client		TEXT NOT NULL CHECK (length(client) BETWEEN 1 AND 128),
	not_before	BIGINT NOT NULL,
	not_after	BIGINT NOT NULL,
	sha256		TEXT NOT NULL CHECK (length(sha256) = 64),
	issued_at	BIGINT NOT NULL,
	revoked_at	BIGINT,
	reason		TEXT NOT NULL DEFAULT ''
			CHECK (length(reason) <= 256),
	crl_reason	INTEGER NOT NULL DEFAULT -1
			CHECK (crl_reason BETWEEN -1 AND 10)
);
CREATE UNIQUE INDEX certificates_sha256 ON certificates (sha256);
CREATE INDEX certificates_client ON certificates (client);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE INDEX certificates_revoked ON certificates (not_after)
	WHERE revoked_at IS NOT NULL;

CREATE TABLE enroll_tokens (
	id		TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
	client		TEXT NOT NULL CHECK (length(client) BETWEEN 1 AND 128),
	secret_sha256	TEXT NOT NULL CHECK (length(secret_sha256) = 64),
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT NOT NULL,
	used_at		BIGINT
);
CREATE INDEX enroll_tokens_client ON enroll_tokens (client);

CREATE TABLE crl (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	crl_number	BIGINT NOT NULL CHECK (crl_number >= 1),
	this_update	BIGINT NOT NULL,
	der		BYTEA NOT NULL
);

INSERT INTO generations (name, value) VALUES ('certs', 1);

CREATE TRIGGER ca_changed AFTER INSERT OR UPDATE ON ca
	FOR EACH ROW EXECUTE FUNCTION tessera_generation_bump('certs');
CREATE TRIGGER certificates_changed AFTER UPDATE ON certificates
	FOR EACH ROW EXECUTE FUNCTION tessera_generation_bump('certs');
CREATE TRIGGER crl_changed AFTER INSERT OR UPDATE ON crl
	FOR EACH ROW EXECUTE FUNCTION tessera_generation_bump('certs');
