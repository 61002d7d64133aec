/*
 * test_authz: the decision table of a token request on a policy loaded
 * from a real store: unknown CN, disabled client, audience and scopes not
 * granted, malformed scopes, no scope asked = every granted scope, and
 * the lifetime = min(grant's TTL, server's), a grant TTL of 0 meaning
 * the server's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz.h"
#include "check.h"

#define SERVER_TTL	300

struct fixture {
	char	dir[64];
	char	db[128];
	struct tsr_store *st;
	struct tsr_policy *pol;
};

static void
fixture_init(struct fixture *f)
{
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/tsr_authz.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	(void)snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
	f->st = NULL;
	f->pol = NULL;
	CHECK_INT(tsr_store_open(f->db, &f->st, NULL), TSR_OK);
	CHECK_INT(tsr_store_migrate(f->st, NULL, NULL), TSR_OK);
}

static void
fixture_finish(struct fixture *f)
{
	static const char *const files[] = { "t.db", "t.db-wal", "t.db-shm" };
	char path[192];
	size_t i;

	tsr_policy_destroy(f->pol);
	tsr_store_close(f->st);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(f->dir) != 0)
		perror(f->dir);
}

/*
 * orders (CN orders.example): stock with scopes stock:read stock:deduct
 *   and a 60 s TTL; billing with no TTL of its own; ledger with a TTL
 *   longer than the server's.
 * legacy (CN legacy.example): disabled, granted stock.
 */
static void
load_policy(struct fixture *f)
{
	static const char *const stock[] = { "stock:read", "stock:deduct" };
	static const char *const bill[] = { "invoice:write" };

	CHECK_INT(tsr_policy_client_add(f->st, "orders", "orders.example",
	    "", 1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_client_add(f->st, "legacy", "legacy.example",
	    "", 1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "stock", stock, 2, 60,
	    1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "billing", bill, 1, 0,
	    1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "orders", "ledger", NULL, 0,
	    3600, 1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_grant_add(f->st, "legacy", "stock", stock, 2, 0,
	    1, NULL), TSR_OK);
	CHECK_INT(tsr_policy_client_set_enabled(f->st, "legacy", false, 2,
	    NULL), TSR_OK);
	CHECK_INT(tsr_policy_load(f->st, &f->pol, NULL), TSR_OK);
}

static void
test_identify(const struct tsr_policy *p)
{
	const struct tsr_client *c = (const void *)1;

	CHECK_INT(tsr_authz_identify(p, "nobody.example", &c),
	    TSR_AUTHZ_UNKNOWN_CLIENT);
	CHECK(c == NULL);
	CHECK_INT(tsr_authz_identify(p, "legacy.example", &c),
	    TSR_AUTHZ_CLIENT_DISABLED);
	CHECK(c != NULL && strcmp(c->name, "legacy") == 0);
	CHECK_INT(tsr_authz_identify(p, "orders.example", &c),
	    TSR_AUTHZ_ALLOW);
	CHECK(c != NULL && strcmp(c->name, "orders") == 0);
	/* The CN is matched exactly. */
	CHECK_INT(tsr_authz_identify(p, "orders.exampl", NULL),
	    TSR_AUTHZ_UNKNOWN_CLIENT);
	CHECK_INT(tsr_authz_identify(p, "ORDERS.EXAMPLE", NULL),
	    TSR_AUTHZ_UNKNOWN_CLIENT);
}

/* Who is refused, before any grant is looked at. */
static void
test_refused_callers(const struct tsr_policy *p)
{
	struct tsr_authz_result r;

	CHECK_INT(tsr_authz_decide(p, "nobody.example", "stock", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_UNKNOWN_CLIENT);
	CHECK_STR(r.client, "");
	/* Disabled: refused even for an audience it is granted, and named. */
	CHECK_INT(tsr_authz_decide(p, "legacy.example", "stock", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_CLIENT_DISABLED);
	CHECK_STR(r.client, "legacy");
	CHECK_STR(r.scopes, "");
	CHECK_INT(tsr_authz_decide(p, "orders.example", "payroll", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_AUDIENCE_DENIED);
	CHECK_STR(r.client, "orders");
	/* Another client's audience is not ours either. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "legacy", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_AUDIENCE_DENIED);
}

static void
test_scopes(const struct tsr_policy *p)
{
	struct tsr_authz_result r;

	/* None asked for: every granted scope, sorted. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_STR(r.scopes, "stock:deduct stock:read");
	/* A grant without scopes: an empty scope. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "ledger", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_STR(r.scopes, "");
	/* A subset, sorted and deduplicated. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    "stock:read stock:deduct stock:read", SERVER_TTL, &r),
	    TSR_AUTHZ_ALLOW);
	CHECK_STR(r.scopes, "stock:deduct stock:read");
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", "stock:read",
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_STR(r.scopes, "stock:read");
	/* One scope not granted refuses the whole request. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    "stock:read stock:write", SERVER_TTL, &r),
	    TSR_AUTHZ_SCOPE_DENIED);
	CHECK_STR(r.scopes, "");
	/* A scope granted for another audience is not granted here. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    "invoice:write", SERVER_TTL, &r), TSR_AUTHZ_SCOPE_DENIED);
	CHECK_INT(tsr_authz_decide(p, "orders.example", "ledger", "x",
	    SERVER_TTL, &r), TSR_AUTHZ_SCOPE_DENIED);
	/* Syntax: empty, doubled or edge spaces, a forbidden character. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", "",
	    SERVER_TTL, &r), TSR_AUTHZ_SCOPE_MALFORMED);
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    "stock:read  stock:deduct", SERVER_TTL, &r),
	    TSR_AUTHZ_SCOPE_MALFORMED);
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    " stock:read", SERVER_TTL, &r), TSR_AUTHZ_SCOPE_MALFORMED);
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock",
	    "stock:read\"", SERVER_TTL, &r), TSR_AUTHZ_SCOPE_MALFORMED);
}

static void
test_ttl(const struct tsr_policy *p)
{
	struct tsr_authz_result r;

	/* The grant's, when shorter than the server's. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_INT(r.ttl_s, 60);
	/* The server's, when shorter than the grant's. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", NULL, 30,
	    &r), TSR_AUTHZ_ALLOW);
	CHECK_INT(r.ttl_s, 30);
	CHECK_INT(tsr_authz_decide(p, "orders.example", "ledger", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_INT(r.ttl_s, SERVER_TTL);
	/* Equal: either. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "stock", NULL, 60,
	    &r), TSR_AUTHZ_ALLOW);
	CHECK_INT(r.ttl_s, 60);
	/* A grant TTL of 0 is the server's. */
	CHECK_INT(tsr_authz_decide(p, "orders.example", "billing", NULL,
	    SERVER_TTL, &r), TSR_AUTHZ_ALLOW);
	CHECK_INT(r.ttl_s, SERVER_TTL);
	CHECK_STR(r.client, "orders");
	CHECK_STR(r.scopes, "invoice:write");
}

static void
test_why(void)
{
	CHECK_STR(tsr_authz_why(TSR_AUTHZ_UNKNOWN_CLIENT),
	    "no client with this certificate CN");
	CHECK_STR(tsr_authz_why(TSR_AUTHZ_CLIENT_DISABLED), "client disabled");
	CHECK_STR(tsr_authz_why(TSR_AUTHZ_AUDIENCE_DENIED),
	    "audience not granted");
	CHECK_STR(tsr_authz_why(TSR_AUTHZ_SCOPE_MALFORMED), "malformed scope");
	CHECK_STR(tsr_authz_why(TSR_AUTHZ_SCOPE_DENIED), "scope not granted");
}

int
main(void)
{
	struct fixture f;

	fixture_init(&f);
	load_policy(&f);
	if (f.pol != NULL) {
		test_identify(f.pol);
		test_refused_callers(f.pol);
		test_scopes(f.pol);
		test_ttl(f.pol);
	}
	test_why();
	fixture_finish(&f);
	return check_done();
}
