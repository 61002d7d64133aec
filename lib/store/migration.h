/*
 * migration: the SQL migrations embedded at build time, one table per
 * engine, from migrations/<engine>/NNNN_name.sql (the arrays are
 * generated; see migrations/embed.py).  Versions run 1..count in order.
 * Only the store's engines use this.
 */
#ifndef TSR_MIGRATION_H
#define TSR_MIGRATION_H

#include <stddef.h>

struct tsr_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct tsr_migration tsr_migrations_sqlite[];
extern const size_t tsr_migrations_sqlite_count;
extern const struct tsr_migration tsr_migrations_postgresql[];
extern const size_t tsr_migrations_postgresql_count;

#endif
