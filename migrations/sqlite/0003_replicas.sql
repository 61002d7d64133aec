-- tessera schema, version 3: private signing keys, sealed.  With
-- --key-encryption-key each private key is kept here as AES-256-GCM
-- under a key-encryption key that only the servers hold, with the kid as
-- AAD (lib/seal.h gives the format: unpadded base64url of version, KEK
-- id, nonce, ciphertext, tag), instead of a file in the key directory.
-- The alphabet check refuses anything else, a PEM in clear included.  A
-- key leaves this table when it is retired (its private half destroyed)
-- and with its signing_keys row.  The same table as PostgreSQL's
-- version 3.

CREATE TABLE sealed_keys (
	kid		TEXT PRIMARY KEY
			REFERENCES signing_keys(kid) ON DELETE CASCADE,
	sealed		TEXT NOT NULL
			CHECK (length(sealed) BETWEEN 1 AND 8192 AND
			       sealed NOT GLOB '*[^A-Za-z0-9_-]*'),
	sealed_at	INTEGER NOT NULL
);

-- A key sealed again under a new key-encryption key is a key change too.
CREATE TRIGGER sealed_keys_ins AFTER INSERT ON sealed_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
CREATE TRIGGER sealed_keys_upd AFTER UPDATE ON sealed_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
CREATE TRIGGER sealed_keys_del AFTER DELETE ON sealed_keys BEGIN
	UPDATE generations SET value = value + 1 WHERE name = 'keys';
END;
