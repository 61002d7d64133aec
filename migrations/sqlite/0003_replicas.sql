-- tessera schema, version 3: PostgreSQL replicas (sealed signing keys,
-- notifications).  Nothing changes for SQLite; the number is kept so
-- that both engines count versions alike.
SELECT 1;
