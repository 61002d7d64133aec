/*
 * model: the rows tessera keeps (clients, grants, signing keys,
 * revocations) and the size limits of their fields.  Plain values with
 * fixed-size, NUL-terminated strings, shared by the store, the policy
 * and key modules and the server; nothing here depends on how they are
 * stored.
 */
#ifndef TSR_MODEL_H
#define TSR_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define TSR_MAX_NAME		128	/* client, audience */
#define TSR_MAX_CN		64
#define TSR_MAX_DESCRIPTION	256
#define TSR_MAX_SCOPES_TEXT	1024	/* joined, space-separated */
#define TSR_MAX_KID		64
#define TSR_MAX_JWK		2048	/* public JWK JSON text */
#define TSR_MAX_JTI		64
#define TSR_MAX_REASON		256

struct tsr_client {
	char	name[TSR_MAX_NAME + 1];
	char	cn[TSR_MAX_CN + 1];
	char	description[TSR_MAX_DESCRIPTION + 1];
	bool	enabled;
	int64_t	created_at;
	int64_t	updated_at;
};

struct tsr_grant {
	char	client[TSR_MAX_NAME + 1];
	char	audience[TSR_MAX_NAME + 1];
	char	scopes[TSR_MAX_SCOPES_TEXT + 1];	/* sorted, "" = none */
	int64_t	ttl_s;					/* 0 = server's */
	int64_t	created_at;
};

enum tsr_keystate {
	TSR_KEYSTATE_NEXT,
	TSR_KEYSTATE_ACTIVE,
	TSR_KEYSTATE_RETIRED,
	TSR_KEYSTATE_EXPIRED,
	TSR_KEYSTATE_REVOKED,
};

struct tsr_keyrow {
	char	kid[TSR_MAX_KID + 1];
	enum tsr_keystate state;
	int	bits;
	char	jwk[TSR_MAX_JWK + 1];		/* public JWK, JSON */
	int64_t	created_at;
	int64_t	activated_at;			/* 0 = not reached */
	int64_t	retired_at;			/* 0 = not reached */
	int64_t	expires_at;			/* 0 = not set */
};

/* "next", "active", ...; NULL for a bad value. */
const char *tsr_keystate_name(enum tsr_keystate st);

/* The state called name; false for an unknown name. */
bool tsr_keystate_parse(const char *name, enum tsr_keystate *st);

enum tsr_revkind {
	TSR_REVKIND_TOKEN,	/* one token, by jti */
	TSR_REVKIND_CLIENT,	/* every token of a client issued until then */
};

struct tsr_revocation {
	enum tsr_revkind kind;
	char	jti[TSR_MAX_JTI + 1];		/* token: its jti */
	char	client[TSR_MAX_NAME + 1];	/* client; for a token, its
						 * sub when known, else "" */
	char	reason[TSR_MAX_REASON + 1];
	int64_t	revoked_at;
	int64_t	expires_at;		/* every match has expired by then */
};

#endif
