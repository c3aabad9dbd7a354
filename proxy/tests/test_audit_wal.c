/* test_audit_wal: what the audit writer does to the disk. A record somebody waits on
 * (audit_record_durable, critical archiving) has its WAL synced before the callback; plain
 * records do not cost a sync each; two writers taking turns on one database (two workers) keep
 * the WAL bounded. The syncs are counted by a VFS that wraps the default one. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "tests/testreg.h"
#include "testconf.h"
#include "base/mem.h"
#include "../audit/audit.h"

/* --- a VFS that counts xSync on WAL files and forwards everything else --- */
struct cnt_file {
	sqlite3_file base;
	sqlite3_file *real;
	bool wal;
};

static sqlite3_vfs *cnt_real_vfs;
static sqlite3_vfs cnt_vfs;
static sqlite3_io_methods cnt_io;
static int cnt_wal_syncs; /* the writer thread increments, the test reads after a callback */

#define CNT_REAL(f) (((struct cnt_file *)(f))->real)

static int cnt_close(sqlite3_file *f)
{
	int rc = CNT_REAL(f)->pMethods->xClose(CNT_REAL(f));

	return rc;
}
static int cnt_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return CNT_REAL(f)->pMethods->xRead(CNT_REAL(f), b, n, o);
}
static int cnt_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return CNT_REAL(f)->pMethods->xWrite(CNT_REAL(f), b, n, o);
}
static int cnt_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return CNT_REAL(f)->pMethods->xTruncate(CNT_REAL(f), n);
}
static int cnt_sync(sqlite3_file *f, int flags)
{
	if (((struct cnt_file *)f)->wal)
		__atomic_add_fetch(&cnt_wal_syncs, 1, __ATOMIC_SEQ_CST);
	return CNT_REAL(f)->pMethods->xSync(CNT_REAL(f), flags);
}
static int cnt_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return CNT_REAL(f)->pMethods->xFileSize(CNT_REAL(f), n);
}
static int cnt_lock(sqlite3_file *f, int l)
{
	return CNT_REAL(f)->pMethods->xLock(CNT_REAL(f), l);
}
static int cnt_unlock(sqlite3_file *f, int l)
{
	return CNT_REAL(f)->pMethods->xUnlock(CNT_REAL(f), l);
}
static int cnt_reserved(sqlite3_file *f, int *r)
{
	return CNT_REAL(f)->pMethods->xCheckReservedLock(CNT_REAL(f), r);
}
static int cnt_fcntl(sqlite3_file *f, int op, void *arg)
{
	return CNT_REAL(f)->pMethods->xFileControl(CNT_REAL(f), op, arg);
}
static int cnt_sector(sqlite3_file *f)
{
	return CNT_REAL(f)->pMethods->xSectorSize(CNT_REAL(f));
}
static int cnt_devchar(sqlite3_file *f)
{
	return CNT_REAL(f)->pMethods->xDeviceCharacteristics(CNT_REAL(f));
}
static int cnt_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return CNT_REAL(f)->pMethods->xShmMap(CNT_REAL(f), pg, sz, ext, pp);
}
static int cnt_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return CNT_REAL(f)->pMethods->xShmLock(CNT_REAL(f), off, n, flags);
}
static void cnt_shmbarrier(sqlite3_file *f)
{
	CNT_REAL(f)->pMethods->xShmBarrier(CNT_REAL(f));
}
static int cnt_shmunmap(sqlite3_file *f, int del)
{
	return CNT_REAL(f)->pMethods->xShmUnmap(CNT_REAL(f), del);
}

static int cnt_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		    int *out)
{
	struct cnt_file *f = (struct cnt_file *)file;
	int rc;

	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = cnt_real_vfs->xOpen(cnt_real_vfs, name, f->real, flags, out);
	f->base.pMethods = rc == SQLITE_OK && f->real->pMethods ? &cnt_io : NULL;
	return rc;
}

/* Makes the counting VFS the default (store_open, so the audit writer, opens through it). */
static void cnt_install(void)
{
	cnt_real_vfs = sqlite3_vfs_find(NULL);
	cnt_vfs = *cnt_real_vfs;
	cnt_vfs.zName = "piclab-count";
	cnt_vfs.szOsFile = (int)sizeof(struct cnt_file) + cnt_real_vfs->szOsFile;
	cnt_vfs.xOpen = cnt_open;
	cnt_vfs.pNext = NULL;
	memset(&cnt_io, 0, sizeof(cnt_io));
	cnt_io.iVersion = 2; /* WAL's shared memory; no memory-mapped I/O */
	cnt_io.xClose = cnt_close;
	cnt_io.xRead = cnt_read;
	cnt_io.xWrite = cnt_write;
	cnt_io.xTruncate = cnt_truncate;
	cnt_io.xSync = cnt_sync;
	cnt_io.xFileSize = cnt_size;
	cnt_io.xLock = cnt_lock;
	cnt_io.xUnlock = cnt_unlock;
	cnt_io.xCheckReservedLock = cnt_reserved;
	cnt_io.xFileControl = cnt_fcntl;
	cnt_io.xSectorSize = cnt_sector;
	cnt_io.xDeviceCharacteristics = cnt_devchar;
	cnt_io.xShmMap = cnt_shmmap;
	cnt_io.xShmLock = cnt_shmlock;
	cnt_io.xShmBarrier = cnt_shmbarrier;
	cnt_io.xShmUnmap = cnt_shmunmap;
	sqlite3_vfs_register(&cnt_vfs, 1);
	cnt_wal_syncs = 0;
}

static void cnt_remove(void)
{
	sqlite3_vfs_unregister(&cnt_vfs);
	sqlite3_vfs_register(cnt_real_vfs, 1);
}

static int cnt_syncs(void)
{
	return __atomic_load_n(&cnt_wal_syncs, __ATOMIC_SEQ_CST);
}

/* --- the tests --- */
static void wal_test_rec(struct audit_rec *r, char *cid, size_t size, long i)
{
	memset(r, 0, sizeof(*r));
	snprintf(cid, size, "wal%ld", i);
	r->direction = AUDIT_IN;
	r->provider = "aol";
	r->from = "bob@aol.test";
	r->to = "alice@contoso.test";
	r->method = i % 5 == 3 ? "SUBSCRIBE" : i % 5 == 4 ? "NOTIFY" : "MESSAGE";
	r->call_id = cid;
	r->decision = AUDIT_FORWARDED;
}

struct wal_test_done {
	int calls, err;
	int syncs_at_callback;
};

static void wal_test_done_h(int err, void *arg)
{
	struct wal_test_done *d = arg;

	d->calls++;
	d->err = err;
	d->syncs_at_callback = cnt_syncs();
}

/* AUD-003/AUD-004: a durable record's callback comes after its WAL was synced (a power loss
 * keeps it), every time; plain records share syncs (at checkpoints), far fewer than commits. */
static void test_audit_wal_sync(void)
{
	const char *path = testconf_db("audit-wal", "sync");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .batch_max = 16, .batch_ms = 1 };
	struct audit *a = NULL;
	struct audit_stats st;
	struct audit_rec r;
	size_t live = mem_live();
	char cid[32];
	int i, before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	cnt_install();
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	for (i = 0; i < 5; i++) {
		struct wal_test_done d = { 0 };

		wal_test_rec(&r, cid, sizeof(cid), i);
		before = cnt_syncs();
		CU_ASSERT_EQUAL(audit_record_durable(a, &r, wal_test_done_h, &d), 0);
		testconf_loop_until(base, &d.calls, 1);
		CU_ASSERT_EQUAL(d.calls, 1);
		CU_ASSERT_EQUAL(d.err, 0);
		if (d.syncs_at_callback <= before)
			fprintf(stderr, "\ndurable record %d: its callback came with no WAL sync "
				"since it was queued (%d syncs before, %d at the callback)\n", i,
				before, d.syncs_at_callback);
		CU_ASSERT_TRUE(d.syncs_at_callback > before);
	}
	/* plain records, a batch at a time: commits without a sync each */
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	audit_stats(a, &st);
	before = cnt_syncs();
	{
		uint64_t tx0 = st.transactions;

		for (i = 0; i < 400; i++) {
			wal_test_rec(&r, cid, sizeof(cid), 100 + i);
			CU_ASSERT_EQUAL(audit_record(a, &r), 0);
			if (i % 8 == 7)
				CU_ASSERT_EQUAL(audit_flush(a), 0);
		}
		CU_ASSERT_EQUAL(audit_flush(a), 0);
		audit_stats(a, &st);
		CU_ASSERT_EQUAL(st.written, 405);
		CU_ASSERT_TRUE(st.transactions - tx0 >= 50);
		if ((uint64_t)(cnt_syncs() - before) * 4 >= st.transactions - tx0)
			fprintf(stderr, "\nplain records: %d WAL syncs for %llu commits\n",
				cnt_syncs() - before,
				(unsigned long long)(st.transactions - tx0));
		CU_ASSERT_TRUE((uint64_t)(cnt_syncs() - before) * 4 < st.transactions - tx0);
	}
	mem_deref(a);
	cnt_remove();
	event_base_free(base);
	testconf_db("audit-wal", "sync");
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Two writers on one database, as two workers run them, both busy at once: the WAL starts over
 * instead of growing with every record written (it grew to 200 MB in 30 s). 2 x 50,000 plain
 * records are about 20 MB of WAL frames when the log never starts over; a writer that only
 * checkpoints PASSIVE ends at the 16 MB size cap. The WAL it leaves is 4 MB on a quiet box and
 * up to 8.4 MB under ASan on a loaded one (the RESTART waits are bounded), hence 12 MB. */
#define WAL_BOUND (12 * 1024 * 1024)
static void test_audit_wal_bounded(void)
{
	const char *path = testconf_db("audit-wal", "bounded");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .queue_max = 60000, .batch_max = 512, .batch_ms = 2 };
	struct audit *a = NULL, *b = NULL;
	struct audit_stats sa, sb;
	struct audit_rec r;
	struct stat wst;
	size_t live = mem_live();
	char cid[32], wal[160];
	long i, n = 50000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&b, base, path, &o), 0);
	for (i = 0; i < 2 * n; i++) {
		wal_test_rec(&r, cid, sizeof(cid), i);
		CU_ASSERT_EQUAL(audit_record(i % 2 ? b : a, &r), 0);
	}
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	CU_ASSERT_EQUAL(audit_flush(b), 0);
	audit_stats(a, &sa);
	audit_stats(b, &sb);
	CU_ASSERT_EQUAL(sa.written + sb.written, (uint64_t)(2 * n));
	CU_ASSERT_TRUE(sa.checkpoints + sb.checkpoints >= 1);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	CU_ASSERT_EQUAL_FATAL(stat(wal, &wst), 0);
	if (wst.st_size > WAL_BOUND)
		fprintf(stderr, "\nWAL after 2 x %ld records from two writers: %lld kB "
			"(%llu + %llu checkpoints, %llu + %llu transactions)\n", n,
			(long long)wst.st_size / 1024,
			(unsigned long long)sa.checkpoints, (unsigned long long)sb.checkpoints,
			(unsigned long long)sa.transactions, (unsigned long long)sb.transactions);
	CU_ASSERT_TRUE(wst.st_size <= WAL_BOUND);
	mem_deref(a);
	mem_deref(b);
	event_base_free(base);
	testconf_db("audit-wal", "bounded");
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo audit_wal_tests[] = {
	{ "a durable record's WAL is synced before its callback; plain ones share syncs",
	  test_audit_wal_sync },
	{ "two writers taking turns keep the WAL bounded", test_audit_wal_bounded },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("audit WAL", audit_wal_tests);
