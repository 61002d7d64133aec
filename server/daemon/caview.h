/*
 * caview: what the server publishes of the store's CA, as one snapshot
 * (snap.h) that the EST endpoints and the client-certificate check read:
 * the CA with its key, its certificate as PEM and as EST's PKCS #7, and
 * the current CRL in both forms.
 */
#ifndef TSR_DAEMON_CAVIEW_H
#define TSR_DAEMON_CAVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "seal.h"
#include "store/store.h"

struct caview {
	struct tsr_ca	*ca;
	char		*ca_pem;		/* the CA certificate */
	char		*cacerts;		/* base64 PKCS #7 certs-only */
	size_t		 cacerts_len;
	uint8_t		*crl_der;		/* NULL before the first */
	size_t		 crl_len;
	char		*crl_pem;
	size_t		 crl_pem_len;
	int64_t		 crl_this_update;
};

/* The view of st's CA (key from key_dir, or sealed under keks when not
 * NULL): 0, 1 when the store has no CA (*out NULL), -1 after logging
 * why. */
int caview_load(struct tsr_store *st, const char *key_dir,
    const struct tsr_seal_keks *keks, struct caview **out);
/* For snap_new: NULL-safe. */
void caview_free(void *view);

#endif
