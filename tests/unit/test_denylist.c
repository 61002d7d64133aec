/* denylist: the in-memory deny-list, and the store rows behind it. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "denylist.h"
#include "store/store.h"

static struct tsr_revocation
rev(enum tsr_revkind kind, const char *jti, const char *client,
    int64_t revoked_at, int64_t expires_at)
{
	struct tsr_revocation r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	(void)snprintf(r.jti, sizeof(r.jti), "%s", jti);
	(void)snprintf(r.client, sizeof(r.client), "%s", client);
	(void)snprintf(r.reason, sizeof(r.reason), "test");
	r.revoked_at = revoked_at;
	r.expires_at = expires_at;
	return r;
}

static void
test_match(void)
{
	struct tsr_revocation rows[4];
	const struct tsr_revocation *m;
	struct tsr_denylist *dl = NULL;

	rows[0] = rev(TSR_REVKIND_TOKEN, "jti-b", "svc", 100, 400);
	rows[1] = rev(TSR_REVKIND_CLIENT, "", "billing", 200, 600);
	rows[2] = rev(TSR_REVKIND_TOKEN, "jti-a", "", 100, 400);
	rows[3] = rev(TSR_REVKIND_CLIENT, "", "billing", 300, 700);
	CHECK_INT(tsr_denylist_build(rows, 4, &dl), TSR_OK);
	if (dl == NULL)
		return;
	CHECK_INT(tsr_denylist_size(dl), 3);	/* one per client */
	CHECK(tsr_denylist_match(dl, "jti-a", "x", 1, &m));
	CHECK_STR(m->jti, "jti-a");
	CHECK(tsr_denylist_match(dl, "jti-b", "svc", 1, NULL));
	CHECK(!tsr_denylist_match(dl, "jti-c", "svc", 1, &m));
	CHECK(m == NULL);
	/* A client entry: tokens issued at or before its latest time. */
	CHECK(tsr_denylist_match(dl, "j", "billing", 300, &m));
	CHECK_INT(m->revoked_at, 300);
	CHECK(!tsr_denylist_match(dl, "j", "billing", 301, NULL));
	CHECK(!tsr_denylist_match(dl, "j", "billin", 1, NULL));
	CHECK(!tsr_denylist_match(dl, "j", "billingx", 1, NULL));
	tsr_denylist_destroy(dl);
	tsr_denylist_destroy(NULL);
}

static void
test_store_rows(struct tsr_store *st)
{
	struct tsr_revocation r = rev(TSR_REVKIND_TOKEN, "jti-1", "svc", 100,
	    400), *rows = NULL;
	struct tsr_denylist *dl = NULL;
	struct tsr_store_gens g0, g1;
	size_t n = 0;
	bool added = false;
	int purged = -1;

	CHECK_INT(tsr_store_generations(st, &g0, NULL), TSR_OK);
	CHECK_INT(tsr_store_revocation_add(st, &r, &added, NULL), TSR_OK);
	CHECK(added);
	/* The same jti twice: nothing new. */
	CHECK_INT(tsr_store_revocation_add(st, &r, &added, NULL), TSR_OK);
	CHECK(!added);
	r = rev(TSR_REVKIND_CLIENT, "", "billing", 200, 500);
	CHECK_INT(tsr_store_revocation_add(st, &r, &added, NULL), TSR_OK);
	CHECK_INT(tsr_store_generations(st, &g1, NULL), TSR_OK);
	CHECK(g1.revocations > g0.revocations);
	CHECK_INT(g1.policy, g0.policy);
	CHECK_INT(tsr_store_revocation_list(st, 399, &rows, &n, NULL), TSR_OK);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(rows[0].kind, TSR_REVKIND_TOKEN);
		CHECK_STR(rows[0].jti, "jti-1");
		CHECK_STR(rows[0].client, "svc");
		CHECK_INT(rows[1].kind, TSR_REVKIND_CLIENT);
		CHECK_STR(rows[1].jti, "");
	}
	free(rows);
	/* At 400 the token entry has done its job. */
	CHECK_INT(tsr_denylist_load(st, 400, &dl, NULL), TSR_OK);
	CHECK_INT(dl ? tsr_denylist_size(dl) : 0, 1);
	tsr_denylist_destroy(dl);
	CHECK_INT(tsr_store_revocation_purge(st, 400, &purged, NULL), TSR_OK);
	CHECK_INT(purged, 1);
	CHECK_INT(tsr_store_revocation_purge(st, 500, &purged, NULL), TSR_OK);
	CHECK_INT(purged, 1);
	/* Bad rows are refused by the schema. */
	r = rev(TSR_REVKIND_TOKEN, "", "svc", 1, 2);
	CHECK_INT(tsr_store_revocation_add(st, &r, NULL, NULL),
	    TSR_ERR_INVALID);
	r = rev(TSR_REVKIND_CLIENT, "", "", 1, 2);
	CHECK_INT(tsr_store_revocation_add(st, &r, NULL, NULL),
	    TSR_ERR_INVALID);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	char dir[] = "/tmp/tsr-denylist.XXXXXX", db[64];
	struct tsr_store *st = NULL;

	test_match();
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(db, sizeof(db), "%s/t.db", dir);
	CHECK_INT(tsr_store_open(db, &st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(st, NULL, NULL), TSR_OK);
	if (st != NULL)
		test_store_rows(st);
	tsr_store_close(st);
	(void)nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
