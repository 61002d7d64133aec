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
#include <stddef.h>
#include <stdint.h>

#define TSR_MAX_NAME		128	/* client, audience */
#define TSR_MAX_CN		64
#define TSR_MAX_DESCRIPTION	256
#define TSR_MAX_SCOPES_TEXT	1024	/* joined, space-separated */
#define TSR_MAX_KID		64
#define TSR_MAX_JWK		2048	/* public JWK JSON text */
#define TSR_MAX_JTI		64
#define TSR_MAX_REASON		256
#define TSR_MAX_CERT_PEM	16384	/* the CA certificate */
#define TSR_MAX_KEY_REF		256
#define TSR_MAX_SEALED		8192
#define TSR_MAX_SERIAL		40	/* hex digits (RFC 5280: 20 bytes) */
#define TSR_SHA256_HEX		64
#define TSR_MAX_ENROLL_ID	64

/* A client certificate's lifetime: default and bounds (seconds). */
#define TSR_CERT_TTL_DEFAULT	86400
#define TSR_CERT_TTL_MIN	300
#define TSR_CERT_TTL_MAX	(7 * 86400)

struct tsr_client {
	char	name[TSR_MAX_NAME + 1];
	char	cn[TSR_MAX_CN + 1];
	char	description[TSR_MAX_DESCRIPTION + 1];
	bool	enabled;
	int64_t	created_at;
	int64_t	updated_at;
	int64_t	cert_ttl_s;		/* 0 = TSR_CERT_TTL_DEFAULT */
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

/* The issuing CA (one per store). */
struct tsr_carow {
	char	cert_pem[TSR_MAX_CERT_PEM + 1];
	char	key_ref[TSR_MAX_KEY_REF + 1];	/* "file:ca-key.pem" */
	char	key_sealed[TSR_MAX_SEALED + 1];	/* "" = not sealed */
	char	sha256[TSR_SHA256_HEX + 1];	/* of the certificate */
	int64_t	created_at;
};

/* One issued client certificate. */
struct tsr_certrow {
	char	serial[TSR_MAX_SERIAL + 1];	/* lowercase hex */
	char	client[TSR_MAX_NAME + 1];
	int64_t	not_before;
	int64_t	not_after;
	char	sha256[TSR_SHA256_HEX + 1];	/* of the DER */
	int64_t	issued_at;
	int64_t	revoked_at;			/* 0 = not revoked */
	char	reason[TSR_MAX_REASON + 1];
	int	crl_reason;			/* CRLReason, -1 = none */
};

/* A CRL entry: the little a CRL needs, for lists of 100,000. */
struct tsr_crlentry {
	char	serial[TSR_MAX_SERIAL + 1];
	int64_t	revoked_at;
	int	crl_reason;			/* -1 = none */
};

/* A one-time enrollment secret; only its SHA-256 is kept. */
struct tsr_enrollrow {
	char	id[TSR_MAX_ENROLL_ID + 1];
	char	client[TSR_MAX_NAME + 1];
	char	secret_sha256[TSR_SHA256_HEX + 1];
	int64_t	created_at;
	int64_t	expires_at;
	int64_t	used_at;			/* 0 = unused */
};

/* The current CRL. */
struct tsr_crlrow {
	int64_t	 number;
	int64_t	 this_update;
	uint8_t	*der;				/* malloc'd; free() */
	size_t	 der_len;
};

/* A client's certificate lifetime, its default applied. */
int64_t tsr_client_cert_ttl(const struct tsr_client *c);

#endif
