-- tessera schema, version 3, for PostgreSQL: what replicas sharing one
-- database need.
--
-- Private signing keys, sealed.  Replicas share no disk, so each private
-- key is kept here as AES-256-GCM under a key-encryption key that only
-- the replicas hold, with the kid as AAD (lib/seal.h gives the format:
-- unpadded base64url of version, KEK id, nonce, ciphertext, tag).  The
-- alphabet check refuses anything else, a PEM in clear included.  A key
-- leaves this table when it is retired (its private half destroyed) and
-- with its signing_keys row.
CREATE TABLE sealed_keys (
	kid		TEXT PRIMARY KEY
			REFERENCES signing_keys(kid) ON DELETE CASCADE,
	sealed		TEXT NOT NULL
			CHECK (length(sealed) BETWEEN 1 AND 8192 AND
			       sealed ~ '^[A-Za-z0-9_-]+$'),
	sealed_at	BIGINT NOT NULL
);

-- Every write to the policy, the keys and the deny-list now also sends
-- NOTIFY tessera, payload the counter's name ('policy', 'keys',
-- 'revocations'): each replica LISTENs on its own connection and reloads
-- that snapshot.  The notification is part of the writer's transaction:
-- it is delivered at commit, never for a rollback, and PostgreSQL folds
-- the same payload sent many times in one transaction into one.
CREATE OR REPLACE FUNCTION tessera_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE generations SET value = value + 1 WHERE name = TG_ARGV[0];
	PERFORM pg_notify('tessera', TG_ARGV[0]);
	RETURN NULL;
END;
$$;

-- A key sealed again under a new key-encryption key is a key change too.
CREATE TRIGGER sealed_keys_changed
	AFTER INSERT OR UPDATE OR DELETE ON sealed_keys
	FOR EACH ROW EXECUTE FUNCTION tessera_generation_bump('keys');
