/* test_backup: hot backup, verify, refused restores leave the state alone, restore in place
 * and onto a fresh install, export equality (BAK-001..005). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../backup/backup.h"
#include "../store/store.h"

struct bk_text {
	char *buf;
	size_t len;
};

static void bk_collect(const char *line, size_t len, void *arg)
{
	struct bk_text *t = arg;
	char *nb = realloc(t->buf, t->len + len + 2);

	if (!nb)
		return;
	t->buf = nb;
	memcpy(t->buf + t->len, line, len);
	t->len += len;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
}

/* The export of the database at path, malloc'd. */
static char *bk_export_path(const char *path)
{
	struct bk_text t = { NULL, 0 };
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		backup_export(db, bk_collect, &t);
	sqlite3_close(db);
	return t.buf;
}

static char *bk_export_backup(const char *path)
{
	struct bk_text t = { NULL, 0 };
	char why[256];

	if (backup_export_file(path, bk_collect, &t, why, sizeof(why)))
		fprintf(stderr, "\nexport of %s: %s\n", path, why);
	return t.buf;
}

static void bk_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	CU_ASSERT_EQUAL(sqlite3_open(path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void bk_copy(const char *from, const char *to, long cut)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[4096];
	long total = 0;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (cut >= 0 && total + (long)n > cut)
			n = (size_t)(cut - total);
		fwrite(buf, 1, n, out);
		total += (long)n;
		if (cut >= 0 && total >= cut)
			break;
	}
	fclose(in);
	fclose(out);
}

static void test_backup_cycle(void)
{
	char dir[] = "/tmp/ap-backup-test-XXXXXX", db[128], bk[128], bad[128], why[512],
	     fresh[128], fdb[256], cmd[300];
	struct store *s = NULL;
	char *before, *after;
	size_t live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/state.db", dir);
	snprintf(bk, sizeof(bk), "%s/state.backup", dir);
	snprintf(bad, sizeof(bad), "%s/bad.backup", dir);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, db, false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "alice@contoso.test", 1, 0, why, sizeof(why)), 0);
	/* BAK-001: taken while the store is open */
	CU_ASSERT_EQUAL(backup_create(store_sqlite(s), db, NULL, bk, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(backup_verify(bk, why, sizeof(why)), 0);
	before = bk_export_backup(bk);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	CU_ASSERT_PTR_NOT_NULL(strstr(before, "users\tid=1\taor='alice@contoso.test'"));
	/* a change after the backup */
	CU_ASSERT_EQUAL(store_user_set(s, "alice@contoso.test", 0, 0, why, sizeof(why)), 0);
	s = mem_deref(s);
	after = bk_export_path(db);
	CU_ASSERT(after && strcmp(before, after));

	/* BAK-002/003: truncated, other version, tampered state: refused, state untouched */
	bk_copy(bk, bad, 3000);
	CU_ASSERT_EQUAL(backup_verify(bad, why, sizeof(why)), EBADMSG);
	CU_ASSERT_NOT_EQUAL(backup_restore(bad, db, NULL, why, sizeof(why)), 0);
	bk_copy(bk, bad, -1);
	bk_sql(bad, "UPDATE backup_meta SET value = '2' WHERE key = 'format_version'");
	CU_ASSERT_EQUAL(backup_verify(bad, why, sizeof(why)), ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "version 2"));
	CU_ASSERT_EQUAL(backup_restore(bad, db, NULL, why, sizeof(why)), ENOTSUP);
	bk_copy(bk, bad, -1);
	bk_sql(bad, "UPDATE users SET pic_enabled = 0");
	CU_ASSERT_EQUAL(backup_verify(bad, why, sizeof(why)), EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "state checksum"));
	CU_ASSERT_NOT_EQUAL(backup_restore(bad, db, NULL, why, sizeof(why)), 0);
	{
		char *still = bk_export_path(db);

		CU_ASSERT(still && !strcmp(still, after));
		free(still);
	}
	/* BAK-004: restored in place, the export equals the backup's */
	CU_ASSERT_EQUAL(backup_restore(bk, db, NULL, why, sizeof(why)), 0);
	free(after);
	after = bk_export_path(db);
	CU_ASSERT(after && !strcmp(before, after));
	/* BAK-005: onto a fresh install elsewhere */
	snprintf(fresh, sizeof(fresh), "%s/fresh", dir);
	CU_ASSERT_EQUAL(backup_restore(bk, NULL, fresh, why, sizeof(why)), 0);
	snprintf(fdb, sizeof(fdb), "%s%s", fresh, db);
	free(after);
	after = bk_export_path(fdb);
	CU_ASSERT(after && !strcmp(before, after));
	free(before);
	free(after);
	CU_ASSERT_EQUAL(mem_live(), live);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static CU_TestInfo backup_tests[] = {
	{ "backup, verify, refused and good restores, export", test_backup_cycle },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("backup", backup_tests);
