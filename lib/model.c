#include "model.h"

#include <string.h>

static const char *const keystate_names[] = {
	[TSR_KEYSTATE_NEXT] = "next",
	[TSR_KEYSTATE_ACTIVE] = "active",
	[TSR_KEYSTATE_RETIRED] = "retired",
	[TSR_KEYSTATE_EXPIRED] = "expired",
	[TSR_KEYSTATE_REVOKED] = "revoked",
};

#define KEYSTATE_COUNT	(sizeof(keystate_names) / sizeof(keystate_names[0]))

const char *
tsr_keystate_name(enum tsr_keystate st)
{
	if ((unsigned)st >= KEYSTATE_COUNT)
		return NULL;
	return keystate_names[st];
}

bool
tsr_keystate_parse(const char *name, enum tsr_keystate *st)
{
	size_t i;

	for (i = 0; i < KEYSTATE_COUNT; i++) {
		if (strcmp(name, keystate_names[i]) == 0) {
			*st = (enum tsr_keystate)i;
			return true;
		}
	}
	return false;
}

int64_t
tsr_client_cert_ttl(const struct tsr_client *c)
{
	if (c->cert_ttl_s == 0)
		return TSR_CERT_TTL_DEFAULT;
	return c->cert_ttl_s;
}
