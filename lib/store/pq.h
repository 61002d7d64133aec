/*
 * pq: libpq, loaded when a PostgreSQL store is first opened rather than
 * linked.  libpq brings OpenSSL, Kerberos and LDAP with it: some 2.7 MB
 * of a server's resident memory, and their relocations at every start.
 * A server or a command on SQLite pays none of it.
 *
 * The members are libpq's functions under their own names without the
 * PQ prefix: tsr_pq.exec is PQexec.  Only postgresql.c uses them, and
 * only after tsr_pq_load succeeded.
 */
#ifndef TSR_STORE_PQ_H
#define TSR_STORE_PQ_H

#include <libpq-fe.h>

#include "err.h"

/* The library loaded: its soname, as Debian's libpq5 installs it. */
#define TSR_PQ_SONAME	"libpq.so.5"

struct tsr_pq {
	PGconn		*(*connectdbParams)(const char *const *,
			    const char *const *, int);
	void		 (*finish)(PGconn *);
	ConnStatusType	 (*status)(const PGconn *);
	char		*(*errorMessage)(const PGconn *);
	int		 (*socket)(const PGconn *);
	PGTransactionStatusType (*transactionStatus)(const PGconn *);
	PQnoticeProcessor (*setNoticeProcessor)(PGconn *, PQnoticeProcessor,
			    void *);
	PGresult	*(*exec)(PGconn *, const char *);
	PGresult	*(*execParams)(PGconn *, const char *, int, const Oid *,
			    const char *const *, const int *, const int *, int);
	ExecStatusType	 (*resultStatus)(const PGresult *);
	char		*(*resultErrorField)(const PGresult *, int);
	int		 (*ntuples)(const PGresult *);
	char		*(*getvalue)(const PGresult *, int, int);
	int		 (*getisnull)(const PGresult *, int, int);
	int		 (*getlength)(const PGresult *, int, int);
	char		*(*cmdTuples)(PGresult *);
	char		*(*cmdStatus)(PGresult *);
	void		 (*clear)(PGresult *);
	int		 (*consumeInput)(PGconn *);
	PGnotify	*(*notifies)(PGconn *);
	void		 (*freemem)(void *);
	PQconninfoOption *(*conninfoParse)(const char *, char **);
	void		 (*conninfoFree)(PQconninfoOption *);
	unsigned char	*(*unescapeBytea)(const unsigned char *, size_t *);
};

extern struct tsr_pq tsr_pq;

/* Load libpq and fill tsr_pq, once for the process (thread-safe);
 * TSR_ERR_DB, saying what is missing, if it cannot be. */
TSR_MUST_CHECK enum tsr_err tsr_pq_load(struct tsr_why *why);

#endif
