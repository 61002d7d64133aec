/*
 * migration: the SQL migrations embedded at build time from
 * migrations/NNNN_name.sql (the array is generated; see
 * migrations/embed.py).  Versions run 1..tsr_migration_count in order.
 * Only the store uses this.
 */
#ifndef TSR_MIGRATION_H
#define TSR_MIGRATION_H

#include <stddef.h>

struct tsr_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct tsr_migration tsr_migration_list[];
extern const size_t tsr_migration_count;

#endif
