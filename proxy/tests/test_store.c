/* test_store: migrations, default rows, CONF-003/CONF-004 refusals, users, CSV, snapshots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sqlite3.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../store/store.h"
#include "../state/state.h"

static const char *store_test_db(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "/tmp/ap-store-test-%ld-%s.db", (long)getpid(), name);
	unlink(path);
	strcat(path, "-wal");
	unlink(path);
	path[strlen(path) - 4] = '\0';
	return path;
}

static void store_test_rm(const char *path)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void test_store_migrate(void)
{
	const char *path = store_test_db("mig");
	size_t live = mem_live(), n = 0;
	struct store *s = NULL;
	struct state *st = NULL;
	const struct state_provider *p;
	char why[256];

	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(store_created(s));
	CU_ASSERT_EQUAL(store_schema_version(s), STORE_SCHEMA_VERSION);
	s = mem_deref(s);
	/* re-opening migrates nothing and keeps the rows */
	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_FALSE(store_created(s));
	CU_ASSERT_EQUAL(store_schema_version(s), STORE_SCHEMA_VERSION);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_EQUAL(state_provider_count(st), 3);
	/* CONF-001: AOL, Yahoo! and MSN exist, none allowed */
	p = state_provider_by_name(st, "AOL");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->fqdn, "sip.aol.test");
	CU_ASSERT_FALSE(p->allowed);
	CU_ASSERT_FALSE(state_provider_by_name(st, "yahoo")->allowed);
	CU_ASSERT_FALSE(state_provider_by_name(st, "msn")->allowed);
	CU_ASSERT_PTR_EQUAL(state_provider_by_domain(st, "msn.test"),
			    state_provider_by_name(st, "msn"));
	CU_ASSERT_TRUE(state_settings(st)->pic_enabled);
	CU_ASSERT_PTR_NULL(state_settings(st)->default_route);
	/* users not in the store are not enabled */
	CU_ASSERT_FALSE(state_user_enabled(st, "nobody@contoso.test"));
	CU_ASSERT_EQUAL(store_users_enabled(s, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	mem_deref(st);
	mem_deref(s);
	/* a newer schema is refused */
	{
		sqlite3 *db;

		CU_ASSERT_EQUAL(sqlite3_open(path, &db), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_exec(db, "PRAGMA user_version = 99", 0, 0, 0), SQLITE_OK);
		sqlite3_close(db);
		s = NULL;
		CU_ASSERT_EQUAL(store_open(&s, path, false, NULL, why, sizeof(why)), EPROTO);
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "newer"));
	}
	CU_ASSERT_EQUAL(store_open(&s, "/nonexistent/dir/x.db", true, NULL, why, sizeof(why)),
			ENOENT);
	store_test_rm(path);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* CONF-003 and CONF-004 refusals: each row names the rule and the reason's key words. */
static void test_store_refusals(void)
{
	static const char *const aol[] = { "aol.test" };
	static const char *const ours[] = { "contoso.test" };
	static const char *const fresh[] = { "new.test" };
	static const char *const twice[] = { "new.test", "NEW.test" };
	static const char *const wild[] = { "*.new.test" };
	static const struct {
		struct state_provider p;
		int err;
		const char *why;
	} rows[] = {
		{ { .name = "aol", .fqdn = "sip.new.test", .port = 5061, .domains = fresh,
		    .ndomains = 1 }, EEXIST, "name aol is taken" },
		{ { .name = "new", .fqdn = "SIP.AOL.TEST", .port = 5061, .domains = fresh,
		    .ndomains = 1 }, EEXIST, "already provider aol's" },
		{ { .name = "new", .fqdn = "", .port = 5061, .domains = fresh, .ndomains = 1 },
		  EINVAL, "is empty" },
		{ { .name = "new", .fqdn = "*.new.test", .port = 5061, .domains = fresh,
		    .ndomains = 1 }, EINVAL, "is a wildcard" },
		{ { .name = "new", .fqdn = "192.0.2.1", .port = 5061, .domains = fresh,
		    .ndomains = 1 }, EINVAL, "is an IP address" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .domains = aol,
		    .ndomains = 1 }, EEXIST, "served by provider aol" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .domains = ours,
		    .ndomains = 1 }, EEXIST, "one of our domains" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .domains = twice,
		    .ndomains = 2 }, EINVAL, "listed twice" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .domains = wild,
		    .ndomains = 1 }, EINVAL, "wildcard" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .ndomains = 0 },
		  EINVAL, "no SIP domain" },
		{ { .name = "bad name", .fqdn = "sip.new.test", .port = 5061, .domains = fresh,
		    .ndomains = 1 }, EINVAL, "provider name" },
		{ { .name = "new", .fqdn = "sip.new.test", .port = 5061, .domains = fresh,
		    .ndomains = 1, .public_provider = true, .allowed = true }, EPERM, "CONF-004" },
	};
	const char *path = store_test_db("ref");
	size_t live = mem_live(), i;
	struct store *s = NULL;
	struct state *st = NULL;
	struct state_provider p;
	char why[256];

	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_domain_add(s, "contoso.test", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_domain_add(s, "aol.test", why, sizeof(why)), EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "provider aol"));
	CU_ASSERT_EQUAL(store_setting_set(s, "default_route", "ch.clearing.test", why,
					  sizeof(why)), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why[0] = '\0';
		CU_ASSERT_EQUAL(store_provider_add(s, &rows[i].p, why, sizeof(why)), rows[i].err);
		if (!strstr(why, rows[i].why))
			fprintf(stderr, "row %zu: '%s' lacks '%s'\n", i, why, rows[i].why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, rows[i].why));
	}
	/* CONF-004 the other way round: allowing a public provider with a route set */
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	p = *state_provider_by_name(st, "aol");
	p.allowed = true;
	CU_ASSERT_EQUAL(store_provider_update(s, "aol", &p, why, sizeof(why)), EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "CONF-004"));
	CU_ASSERT_EQUAL(store_setting_set(s, "default_route", "", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_provider_update(s, "aol", &p, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_setting_set(s, "default_route", "ch.clearing.test", why,
					  sizeof(why)), EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "public provider aol is allowed"));
	CU_ASSERT_EQUAL(store_setting_set(s, "archive", "maybe", why, sizeof(why)), EINVAL);
	CU_ASSERT_EQUAL(store_setting_set(s, "nosuch", "1", why, sizeof(why)), EINVAL);
	CU_ASSERT_EQUAL(store_provider_update(s, "nosuch", &p, why, sizeof(why)), ENOENT);
	CU_ASSERT_EQUAL(store_provider_remove(s, "nosuch", why, sizeof(why)), ENOENT);
	CU_ASSERT_EQUAL(store_provider_remove(s, "msn", why, sizeof(why)), 0);
	mem_deref(st);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_EQUAL(state_provider_count(st), 2);
	CU_ASSERT_TRUE(state_provider_by_name(st, "aol")->allowed);
	CU_ASSERT_PTR_NULL(state_provider_by_domain(st, "msn.test"));
	mem_deref(st);
	mem_deref(s);
	store_test_rm(path);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_store_users(void)
{
	const char *path = store_test_db("usr");
	char csv[160], why[512];
	size_t live = mem_live(), n = 99;
	struct store *s = NULL;
	struct state *st = NULL;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "alice@contoso.test", 1, -1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "bob@contoso.test", 1, 1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "carol@contoso.test", 0, -1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "nobody", 1, -1, why, sizeof(why)), EINVAL);
	CU_ASSERT_EQUAL(store_users_enabled(s, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(store_user_set(s, "ALICE@contoso.test", 0, -1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_users_enabled(s, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* one bad line imports nothing */
	snprintf(csv, sizeof(csv), "%s.csv", path);
	f = fopen(csv, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("aor,enabled,archive\ndave@contoso.test,yes\neve@contoso.test,perhaps\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(store_user_import_csv(s, csv, &n, why, sizeof(why)), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "line 3"));
	CU_ASSERT_EQUAL(store_users_enabled(s, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	f = fopen(csv, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("dave@contoso.test,yes\neve@contoso.test, no ,yes\n\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(store_user_import_csv(s, csv, &n, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_EQUAL(state_users_enabled(st), 2);
	CU_ASSERT_TRUE(state_user_enabled(st, "Dave@Contoso.test"));
	CU_ASSERT_FALSE(state_user_enabled(st, "eve@contoso.test"));
	CU_ASSERT_TRUE(state_user_archive(st, "eve@contoso.test"));
	CU_ASSERT_TRUE(state_user_archive(st, "bob@contoso.test"));
	CU_ASSERT_FALSE(state_user_enabled(st, "zed@contoso.test"));
	mem_deref(st);
	unlink(csv);
	mem_deref(s);
	store_test_rm(path);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* CONT-005: one secret per installation, created by the migration, the same on every open
 * and in every snapshot; another database has another. */
static void test_store_secret(void)
{
	const char *p1 = store_test_db("sec1");
	char path[128], why[256];
	unsigned char first[STATE_SECRET_LEN];
	size_t live = mem_live();
	struct store *s = NULL;
	struct state *st = NULL;

	snprintf(path, sizeof(path), "%s", p1);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state_secret(st));
	memcpy(first, state_secret(st), sizeof(first));
	st = mem_deref(st);
	s = mem_deref(s);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, true, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state_secret(st));
	CU_ASSERT_EQUAL(memcmp(state_secret(st), first, sizeof(first)), 0);
	st = mem_deref(st);
	s = mem_deref(s);
	store_test_rm(path);
	p1 = store_test_db("sec2");
	CU_ASSERT_EQUAL_FATAL(store_open(&s, p1, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(store_load_state(s, NULL, &st), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state_secret(st));
	CU_ASSERT_NOT_EQUAL(memcmp(state_secret(st), first, sizeof(first)), 0);
	mem_deref(st);
	mem_deref(s);
	store_test_rm(p1);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Two processes creating the same new database at once: both succeed, one migrates. */
static void test_store_concurrent_create(void)
{
	const char *path = store_test_db("race");
	struct store *s = NULL;
	char why[256];
	int i, status = -1, ok = 0;

	for (i = 0; i < 3; i++) {
		pid_t pid;

		store_test_rm(path);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			int err = store_open(&s, path, false, NULL, why, sizeof(why));

			mem_deref(s);
			_exit(err ? 1 : 0);
		}
		if (!store_open(&s, path, false, NULL, why, sizeof(why)) &&
		    store_schema_version(s) == STORE_SCHEMA_VERSION)
			ok++;
		s = mem_deref(s);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CU_ASSERT_EQUAL(ok, 3);
	store_test_rm(path);
}

static CU_TestInfo store_tests[] = {
	{ "the installation secret", test_store_secret },
	{ "two processes create one database", test_store_concurrent_create },
	{ "migrations from empty, idempotent re-open, default rows", test_store_migrate },
	{ "CONF-003 and CONF-004 refusals", test_store_refusals },
	{ "users, licences, CSV import all or nothing", test_store_users },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("store", store_tests);
