/*
 * fuzz_cert: what server/daemon/tls.c does with a client certificate after
 * the chain verifies, on a DER certificate of our own:
 * gnutls_x509_crt_import,
 * then the CN rule of peer_cn() (exactly one CN, accepted by
 * tsr_policy_check_cn, no embedded NUL) and the digests of
 * peer_digests() (tsr_token_x5t, SHA-256 hex), plus the validity and
 * EKU reads the chain verification makes.
 *
 * tls.c works on a live gnutls session, so its static helpers are
 * replicated here; keep them in step with tls.c (server/ must not grow
 * test seams for this).
 *
 * Properties: an accepted CN is 1..TSR_MAX_CN printable ASCII with
 * no NUL inside; x5t is TSR_TOKEN_X5T_LEN base64url characters.
 */
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fuzz.h"
#include "policy.h"
#include "tls.h"
#include "token.h"

/* As peer_cn() in server/daemon/tls.c; 0 when the CN is acceptable. */
static int
peer_cn(gnutls_x509_crt_t leaf, struct tls_peer *peer)
{
	char extra[TSR_MAX_CN + 2];
	size_t len = sizeof(peer->cn), extra_len = sizeof(extra);
	int ret;

	ret = gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, peer->cn, &len);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return -1;
	if (ret < 0 || tsr_policy_check_cn(peer->cn, NULL) != TSR_OK ||
	    strlen(peer->cn) != len)
		return -1;
	ret = gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME,
	    1, 0, extra, &extra_len);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return -1;
	return 0;
}

/* As peer_digests() in server/daemon/tls.c. */
static int
peer_digests(const gnutls_datum_t *der, struct tls_peer *peer)
{
	uint8_t digest[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size,
	    digest) < 0 ||
	    tsr_token_x5t(der->data, der->size, peer->x5t) != TSR_OK)
		return -1;
	for (i = 0; i < sizeof(digest); i++)
		snprintf(peer->sha256_hex + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

/* The reads chain verification makes: validity and EKU. */
static void
validity_and_eku(gnutls_x509_crt_t crt)
{
	char oid[128];
	size_t oid_len;
	unsigned i, critical;

	(void)gnutls_x509_crt_get_activation_time(crt);
	(void)gnutls_x509_crt_get_expiration_time(crt);
	for (i = 0; i < 64; i++) {
		oid_len = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &oid_len,
		    &critical) < 0)
			break;
		FUZZ_ASSERT(oid_len <= sizeof(oid));
	}
}

static void
check_cn(const char *cn)
{
	size_t len = strlen(cn), i;

	FUZZ_ASSERT(len >= 1 && len <= TSR_MAX_CN);
	for (i = 0; i < len; i++)
		FUZZ_ASSERT(cn[i] >= 0x20 && cn[i] <= 0x7e);
}

static void
check_x5t(const char *x5t)
{
	size_t i;

	FUZZ_ASSERT(strlen(x5t) == TSR_TOKEN_X5T_LEN);
	for (i = 0; i < TSR_TOKEN_X5T_LEN; i++)
		FUZZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", x5t[i]) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	struct tls_peer peer;

	if (size > TLS_MAX_FILE)
		return 0;
	der.data = (unsigned char *)(uintptr_t)data;
	der.size = (unsigned)size;
	if (gnutls_x509_crt_init(&crt) < 0)
		abort();
	memset(&peer, 0, sizeof(peer));
	if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	validity_and_eku(crt);
	if (peer_cn(crt, &peer) == 0)
		check_cn(peer.cn);
	FUZZ_ASSERT(peer_digests(&der, &peer) == 0);
	check_x5t(peer.x5t);
	FUZZ_ASSERT(strlen(peer.sha256_hex) == 64);
out:
	gnutls_x509_crt_deinit(crt);
	return 0;
}
