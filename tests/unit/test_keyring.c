/* keyring: the key lifecycle against a real store and key directory. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "keyring.h"
#include "store/store.h"

static char dir[64], keydir[96], dbpath[96];

static int
count_state(struct tsr_store *st, enum tsr_keystate state, char *kid)
{
	struct tsr_keyrow *rows = NULL;
	size_t n = 0, i;
	int count = 0;

	if (tsr_store_key_list(st, &rows, &n, NULL) != TSR_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (rows[i].state != state)
			continue;
		count++;
		if (kid != NULL)
			memcpy(kid, rows[i].kid, TSR_KEY_KID_BUF);
	}
	free(rows);
	return count;
}

static int
has_file(const char *kid)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/%s.pem", keydir, kid);
	return access(path, F_OK) == 0;
}

static void
test_lifecycle(struct tsr_store *st)
{
	struct tsr_keyring_opts o = { keydir, 2048, 60, NULL };
	char a1[TSR_KEY_KID_BUF], n1[TSR_KEY_KID_BUF], a2[TSR_KEY_KID_BUF];
	char n2[TSR_KEY_KID_BUF], got[TSR_KEY_KID_BUF];
	struct tsr_keyring *kr = NULL;
	struct tsr_why why = { "" };
	struct tsr_keyring_report rep;
	size_t len;

	/* First start: an active and a next key, both on disk. */
	CHECK_INT(tsr_keyring_ensure(st, &o, 1000, &rep, &why), TSR_OK);
	CHECK_INT(rep.created, 2);
	CHECK_INT(count_state(st, TSR_KEYSTATE_ACTIVE, a1), 1);
	CHECK_INT(count_state(st, TSR_KEYSTATE_NEXT, n1), 1);
	CHECK(has_file(a1) && has_file(n1));
	CHECK_INT(tsr_keyring_ensure(st, &o, 1001, &rep, &why), TSR_OK);
	CHECK_INT(rep.created, 0);

	/* The serving snapshot publishes both and signs with the active. */
	CHECK_INT(tsr_keyring_load(st, keydir, NULL, &kr, &why), TSR_OK);
	CHECK_STR(tsr_key_kid(tsr_keyring_active(kr)), a1);
	CHECK(tsr_keyring_find(kr, n1) != NULL);
	CHECK(tsr_keyring_find(kr, "nope") == NULL);
	CHECK(strstr(tsr_keyring_jwks(kr, &len), n1) != NULL);
	CHECK(strstr(tsr_keyring_jwks(kr, &len), "\"d\"") == NULL);
	tsr_keyring_destroy(kr);

	/* A rotation by someone who thinks another key is active loses. */
	CHECK_INT(tsr_keyring_rotate(st, &o, n1, 1100, got, &why),
	    TSR_ERR_CONFLICT);
	CHECK_INT(count_state(st, TSR_KEYSTATE_NEXT, NULL), 1);

	/* Rotation: next -> active, active -> retired without its file. */
	CHECK_INT(tsr_keyring_rotate(st, &o, a1, 1200, got, &why), TSR_OK);
	CHECK_STR(got, n1);
	CHECK_INT(count_state(st, TSR_KEYSTATE_ACTIVE, a2), 1);
	CHECK_STR(a2, n1);
	CHECK_INT(count_state(st, TSR_KEYSTATE_RETIRED, NULL), 1);
	CHECK(!has_file(a1));
	CHECK_INT(count_state(st, TSR_KEYSTATE_NEXT, n2), 1);
	CHECK(has_file(n2));

	/* The retired key expires once its window (60 s) has passed. */
	CHECK_INT(tsr_keyring_ensure(st, &o, 1259, &rep, &why), TSR_OK);
	CHECK_INT(count_state(st, TSR_KEYSTATE_RETIRED, NULL), 1);
	CHECK_INT(tsr_keyring_ensure(st, &o, 1260, &rep, &why), TSR_OK);
	CHECK_INT(count_state(st, TSR_KEYSTATE_EXPIRED, NULL), 1);

	/* Revoking the next key replaces it; revoking the active rotates. */
	CHECK_INT(tsr_keyring_revoke(st, &o, n2, 1300, &why), TSR_OK);
	CHECK(!has_file(n2));
	CHECK_INT(count_state(st, TSR_KEYSTATE_NEXT, NULL), 1);
	CHECK_INT(tsr_keyring_revoke(st, &o, a2, 1400, &why), TSR_OK);
	CHECK(!has_file(a2));
	CHECK_INT(count_state(st, TSR_KEYSTATE_ACTIVE, NULL), 1);
	CHECK_INT(count_state(st, TSR_KEYSTATE_REVOKED, NULL), 2);
	CHECK_INT(tsr_keyring_revoke(st, &o, a2, 1500, &why), TSR_ERR_STATE);
	CHECK_INT(tsr_keyring_revoke(st, &o, "unknown", 1500, NULL),
	    TSR_ERR_NOT_FOUND);
}

static void
test_loose_dir(struct tsr_store *st)
{
	struct tsr_keyring_opts o = { keydir, 2048, 60, NULL };

	/* Like ssh: a key directory others can read is refused. */
	CHECK_INT(chmod(keydir, 0755), 0);
	CHECK_INT(tsr_keyring_rotate(st, &o, NULL, 2000, NULL, NULL),
	    TSR_ERR_PERM);
	CHECK_INT(chmod(keydir, 0700), 0);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
main(void)
{
	struct tsr_store *st = NULL;

	(void)snprintf(dir, sizeof(dir), "/tmp/tsr-keyring.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(keydir, sizeof(keydir), "%s/keys", dir);
	(void)snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
	CHECK_INT(tsr_store_open(dbpath, &st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(st, NULL, NULL), TSR_OK);
	test_lifecycle(st);
	test_loose_dir(st);
	tsr_store_close(st);
	(void)nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
