/*
 * issuer: the CA of lib/ca kept in a store (README, "Service
 * certificates"): its certificate in the store and its private key like
 * the signing keys (lib/keyvault): in a 0600 file, ca-key.pem, of the
 * key directory, or sealed in the store's CA row under the key-encryption
 * keys (AAD "ca") when they are given; every issued certificate
 * recorded; revocations and the CRL they go on.  Shared by the admin
 * commands and the server so both keep the CA alike.
 */
#ifndef TSR_ISSUER_H
#define TSR_ISSUER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ca.h"
#include "err.h"
#include "keyvault.h"
#include "model.h"
#include "store/store.h"

/* The CA's key file is <key dir>/ca-key.pem. */
#define TSR_ISSUER_KEY_BASE	"ca-key"
#define TSR_ISSUER_KEY_REF	"file:ca-key.pem"
/* key_ref of a CA key sealed in its row, and the AAD it is sealed with. */
#define TSR_ISSUER_KEY_SEALED	"sealed"
#define TSR_ISSUER_KEY_AAD	"ca"
/* The CRL is signed again this long after its thisUpdate. */
#define TSR_ISSUER_CRL_REFRESH	(8 * 3600)

/*
 * Create the CA (lib/ca's tsr_ca_create), keep its key in v (sealed when
 * v has KEKs, else written to v's key directory) and record it, then
 * sign the first (empty) CRL.  TSR_ERR_EXISTS when the store has a CA or
 * the key file exists.  *out (may be NULL) gets the CA.
 */
TSR_MUST_CHECK enum tsr_err tsr_issuer_init(struct tsr_store *st,
    const struct tsr_keyvault *v, const char *cn, int64_t ttl, time_t now,
    struct tsr_ca **out, struct tsr_why *why);

/* The store's CA with its key.  TSR_ERR_NOT_FOUND when there is none;
 * TSR_ERR_CRYPTO when no KEK of v unseals a sealed key. */
TSR_MUST_CHECK enum tsr_err tsr_issuer_load(struct tsr_store *st,
    const struct tsr_keyvault *v, struct tsr_ca **out, struct tsr_why *why);

/*
 * Issue for client cl from the DER PKCS #10 request csr (tsr_ca_issue:
 * CN from cl, lifetime ttl, 0 for the client's own) and record the
 * certificate.  The refusals are tsr_ca_issue's.
 */
TSR_MUST_CHECK enum tsr_err tsr_issuer_issue(struct tsr_store *st,
    const struct tsr_ca *ca, const struct tsr_client *cl,
    const uint8_t *csr, size_t csr_len, int64_t ttl, time_t now,
    struct tsr_ca_issued *out, struct tsr_why *why);

/* Record iss, issued at now for cl (part of tsr_issuer_issue, for a
 * caller that issues inside its own transaction). */
TSR_MUST_CHECK enum tsr_err tsr_issuer_record(struct tsr_store *st,
    const struct tsr_client *cl, const struct tsr_ca_issued *iss,
    time_t now, struct tsr_why *why);

/*
 * Sign a new CRL of the certificates revoked and not expired at now,
 * numbered one past the current.  With only_if_due, do nothing unless
 * the current CRL is TSR_ISSUER_CRL_REFRESH old or absent.  Of several
 * servers doing this at once one wins; the others get TSR_OK too.
 */
TSR_MUST_CHECK enum tsr_err tsr_issuer_crl_refresh(struct tsr_store *st,
    const struct tsr_ca *ca, time_t now, bool only_if_due,
    struct tsr_why *why);

/*
 * Revoke the certificate serial, or (serial NULL) every live certificate
 * of client, and sign the CRL again, in one transaction.  *count (may be
 * NULL) gets how many were revoked by this call.  TSR_ERR_NOT_FOUND for
 * an unknown serial.
 */
TSR_MUST_CHECK enum tsr_err tsr_issuer_revoke(struct tsr_store *st,
    const struct tsr_ca *ca, const char *serial, const char *client,
    const char *reason, time_t now, int *count, struct tsr_why *why);

/* The CRLReason named by reason ("keyCompromise", "superseded", ...,
 * RFC 5280 §5.3.1), or TSR_CA_REASON_NONE for any other text. */
enum tsr_ca_reason tsr_issuer_reason_code(const char *reason);

#endif
