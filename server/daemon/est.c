#include "est.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "audit.h"
#include "issuer.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "x509.h"

/* Longest "client:secret" a Basic header may carry. */
#define EST_MAX_BASIC	(TSR_MAX_NAME + 1 + 128)

static void
answer_text(struct est_answer *a, unsigned status, const char *text)
{
	a->status = status;
	a->content_type = "text/plain";
	if ((a->body = strdup(text)) != NULL)
		a->body_len = strlen(text);
}

static void
answer_copy(struct est_answer *a, const char *type, const void *data,
    size_t len, bool base64)
{
	a->status = 200;
	a->content_type = type;
	a->base64 = base64;
	if ((a->body = malloc(len > 0 ? len : 1)) == NULL) {
		a->status = 500;
		return;
	}
	memcpy(a->body, data, len);
	a->body_len = len;
}

void
est_cacerts(struct server *s, struct est_answer *a)
{
	const struct caview *v;
	struct snap *ref;

	memset(a, 0, sizeof(*a));
	if ((v = server_ca_acquire(s, &ref)) == NULL)
		answer_text(a, 404, "no CA\n");
	else
		answer_copy(a, "application/pkcs7-mime; smime-type=certs-only",
		    v->cacerts, v->cacerts_len, true);
	server_release(ref);
}

void
est_crl(struct server *s, bool pem, struct est_answer *a)
{
	const struct caview *v;
	struct snap *ref;

	memset(a, 0, sizeof(*a));
	if ((v = server_ca_acquire(s, &ref)) == NULL || v->crl_der == NULL)
		answer_text(a, 404, "no CRL\n");
	else if (pem)
		answer_copy(a, "application/x-pem-file", v->crl_pem,
		    v->crl_pem_len, false);
	else
		answer_copy(a, "application/pkix-crl", v->crl_der, v->crl_len,
		    false);
	server_release(ref);
}

/* One enrollment, as the audit trail keeps it: never the secret. */
struct enroll_ctx {
	struct server		*s;
	const struct est_call	*c;
	bool			 reenroll;
	struct tsr_client	 cl;
	const char		*reason;
	char			 serial[TSR_CA_SERIAL_HEX_BUF];
};

static void
enroll_audit(const struct enroll_ctx *e, unsigned status)
{
	struct tsr_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.at = time(NULL);
	tsr_audit_set(ev.event, sizeof(ev.event), e->reenroll ?
	    "simplereenroll" : "simpleenroll");
	tsr_audit_set(ev.peer, sizeof(ev.peer), e->c->address);
	if (e->c->peer != NULL) {
		tsr_audit_set(ev.cert_sha256, sizeof(ev.cert_sha256),
		    e->c->peer->sha256_hex);
		tsr_audit_set(ev.cn, sizeof(ev.cn), e->c->peer->cn);
	}
	tsr_audit_set(ev.client, sizeof(ev.client), e->cl.name);
	/* The new certificate's serial stands where a token's jti would. */
	tsr_audit_set(ev.jti, sizeof(ev.jti), e->serial);
	tsr_audit_set(ev.outcome, sizeof(ev.outcome), status == 200 ?
	    "issued" : "denied");
	tsr_audit_set(ev.error, sizeof(ev.error), status == 200 ? "" :
	    status == 401 ? "unauthorized" : status == 400 ? "bad_request" :
	    "server_error");
	tsr_audit_set(ev.reason, sizeof(ev.reason), e->reason);
	if (e->s->audit != NULL)
		(void)tsr_audit_push(e->s->audit, &ev);
	log_info("%s: client=%s status=%u serial=%s%s%s", ev.event,
	    ev.client[0] ? ev.client : "-", status,
	    e->serial[0] ? e->serial : "-", e->reason ? " reason=" : "",
	    e->reason ? e->reason : "");
}

/* The enabled client called name (reenroll: whose CN is cn). */
static bool
find_client(struct enroll_ctx *e, const char *name, const char *cn)
{
	const struct tsr_policy *p;
	const struct tsr_client *cl;
	struct snap *ref;
	bool ok = false;

	if ((p = server_policy_acquire(e->s, &ref)) != NULL) {
		cl = name != NULL ? tsr_policy_client_by_name(p, name) :
		    tsr_policy_client_by_cn(p, cn, strlen(cn));
		if (cl == NULL)
			e->reason = "unknown client";
		else if (!cl->enabled)
			e->reason = "client disabled";
		else {
			e->cl = *cl;
			ok = true;
		}
	} else
		e->reason = "policy not loaded";
	server_release(ref);
	return ok;
}

/* Split "Basic base64(client:secret)" into user and secret (in buf). */
static bool
basic_auth(const char *header, char *buf, size_t size, char **secret)
{
	gnutls_datum_t in, out = { NULL, 0 };
	size_t len;
	char *colon;

	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return false;
	header += 6;
	while (*header == ' ')
		header++;
	in.data = (unsigned char *)header;
	in.size = (unsigned)strnlen(header, 2 * size);
	/* RFC 7617: standard base64 with padding. */
	if (in.size >= 2 * size || gnutls_base64_decode2(&in, &out) < 0)
		return false;
	len = out.size;
	if (len >= size) {
		gnutls_memset(out.data, 0, out.size);
		gnutls_free(out.data);
		return false;
	}
	memcpy(buf, out.data, len);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL ||
	    (colon = strchr(buf, ':')) == NULL)
		return false;
	*colon = '\0';
	*secret = colon + 1;
	return true;
}

/* Which live secret of the client, if any, secret is: its id in id.
 * Every candidate is compared in constant time. */
static bool
match_secret(struct tsr_store *st, const char *client, const char *secret,
    int64_t now, char id[TSR_MAX_ENROLL_ID + 1])
{
	struct tsr_enrollrow *rows = NULL;
	uint8_t h[32];
	char hx[65];
	size_t n = 0, i;
	bool found = false;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), h) < 0 ||
	    tsr_x509_hex(h, sizeof(h), hx, sizeof(hx)) != TSR_OK ||
	    tsr_store_enroll_live(st, client, now, &rows, &n, NULL) != TSR_OK)
		return false;
	for (i = 0; i < n; i++) {
		if (gnutls_memcmp(rows[i].secret_sha256, hx, 64) == 0 &&
		    !found) {
			memcpy(id, rows[i].id, sizeof(rows[i].id));
			found = true;
		}
	}
	free(rows);
	explicit_bzero(h, sizeof(h));
	return found;
}

/* 400 for what is wrong with the request, else 500. */
static unsigned
issue_status(enum tsr_err rc)
{
	switch (rc) {
	case TSR_ERR_CSR:
	case TSR_ERR_CSR_SIG:
	case TSR_ERR_CSR_SUBJECT:
	case TSR_ERR_WEAK_KEY:
	case TSR_ERR_TOO_LONG:
		return 400;
	case TSR_ERR_DB:
		return 503;
	default:
		return 500;
	}
}

/*
 * Under the connection's mutex, in one transaction: spend the secret
 * (simpleenroll), check the caller's certificate is not revoked
 * (simplereenroll), issue and record.  A refused request spends nothing.
 */
static unsigned
enroll_tx(struct enroll_ctx *e, const struct caview *v, const char *secret,
    struct tsr_ca_issued *iss)
{
	struct tsr_store *st = conn_get(&e->s->est_db.conn);
	char id[TSR_MAX_ENROLL_ID + 1];
	struct tsr_certrow cur;
	struct tsr_why why = { "" };
	int64_t now = time(NULL);
	enum tsr_err rc;

	if (st == NULL || tsr_store_begin(st, TSR_TX_WRITE, &why) != TSR_OK) {
		if (st != NULL)
			conn_fail(&e->s->est_db.conn);
		e->reason = "database unavailable";
		return 503;
	}
	if (!e->reenroll && !match_secret(st, e->cl.name, secret, now, id)) {
		e->reason = "enrollment secret unknown, used or expired";
		tsr_store_rollback(st);
		return 401;
	}
	if (e->reenroll && tsr_store_cert_get(st, e->c->peer->serial, &cur,
	    NULL) == TSR_OK && cur.revoked_at != 0) {
		e->reason = "certificate revoked";
		tsr_store_rollback(st);
		return 401;
	}
	rc = tsr_ca_issue_b64(v->ca, e->c->body, e->c->body_len, e->cl.cn,
	    tsr_client_cert_ttl(&e->cl), now, iss, &why);
	if (rc == TSR_OK)
		rc = tsr_issuer_record(st, &e->cl, iss, now, &why);
	if (rc == TSR_OK && !e->reenroll)
		rc = tsr_store_enroll_use(st, id, now, &why);
	if (rc == TSR_OK)
		rc = tsr_store_commit(st, &why);
	if (rc != TSR_OK) {
		tsr_store_rollback(st);
		if (rc == TSR_ERR_DB)
			conn_fail(&e->s->est_db.conn);
		e->reason = tsr_err_str(rc);
		return rc == TSR_ERR_CONFLICT ? 401 : issue_status(rc);
	}
	return 200;
}

/* Who is asking: the Basic user, or the verified certificate's CN. */
static unsigned
enroll_caller(struct enroll_ctx *e, char *buf, size_t size, char **secret)
{
	if (e->reenroll) {
		if (!e->c->peer_ok) {
			e->reason = e->c->peer_reason ? e->c->peer_reason :
			    "no client certificate";
			return 401;
		}
		return find_client(e, NULL, e->c->peer->cn) ? 0 : 401;
	}
	if (!basic_auth(e->c->authorization, buf, size, secret)) {
		e->reason = "no enrollment credentials";
		return 401;
	}
	return find_client(e, buf, NULL) ? 0 : 401;
}

void
est_enroll(struct server *s, const struct est_call *c, bool reenroll,
    struct est_answer *a)
{
	struct enroll_ctx e = { .s = s, .c = c, .reenroll = reenroll };
	struct tsr_ca_issued iss = { 0 };
	struct tsr_ca_der one;
	const struct caview *v;
	struct snap *ref;
	char basic[EST_MAX_BASIC + 1], *secret = NULL;
	unsigned status;

	memset(a, 0, sizeof(*a));
	v = server_ca_acquire(s, &ref);
	if (v == NULL) {
		e.reason = "no CA";
		status = 404;
	} else if ((status = enroll_caller(&e, basic, sizeof(basic),
	    &secret)) == 0) {
		pthread_mutex_lock(&s->est_db.mu);
		status = enroll_tx(&e, v, secret, &iss);
		pthread_mutex_unlock(&s->est_db.mu);
	}
	explicit_bzero(basic, sizeof(basic));
	if (status == 200) {
		memcpy(e.serial, iss.serial, sizeof(e.serial));
		one.der = iss.der;
		one.len = iss.der_len;
		if (tsr_ca_pkcs7_b64(&one, 1, &a->body, &a->body_len, NULL) !=
		    TSR_OK)
			status = 500;
		a->content_type = "application/pkcs7-mime; smime-type=certs-only";
		a->base64 = true;
		a->status = status;
	}
	tsr_ca_issued_free(&iss);
	server_release(ref);
	enroll_audit(&e, status);
	(void)snprintf(a->client, sizeof(a->client), "%s", e.cl.name);
	if (status != 200) {
		free(a->body);
		a->body = NULL;
		answer_text(a, status, e.reason ? e.reason : "refused");
		a->challenge = status == 401;
	}
}
