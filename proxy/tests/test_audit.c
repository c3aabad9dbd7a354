/* test_audit: the queued writer: every record lands, group commit, durable callbacks, failures,
 * archiving per settings, the usage report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "tests/testreg.h"
#include "testconf.h"
#include "base/mem.h"
#include "../audit/audit.h"
#include "../store/store.h"
#include "../state/state.h"

static long audit_test_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = -1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

struct audit_test_done {
	int calls;
	int err;
	long rows_at_callback;
	const char *path;
};

static void audit_test_done_h(int err, void *arg)
{
	struct audit_test_done *d = arg;

	d->calls++;
	d->err = err;
	d->rows_at_callback = audit_test_count(d->path, "SELECT count(*) FROM audit");
}

static void test_audit_bulk(void)
{
	const char *path = testconf_db("audit-test", "bulk");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .queue_max = 4096, .batch_max = 128, .batch_ms = 2 };
	struct audit *a = NULL;
	struct audit_stats st;
	struct audit_test_done d = { .path = path };
	size_t live = mem_live();
	char cid[32];
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	for (i = 0; i < 1000; i++) {
		struct audit_rec r = {
			.direction = i % 2 ? AUDIT_OUT : AUDIT_IN, .provider = "aol",
			.from = "sip:x@aol.test", .to = "sip:alice@contoso.test",
			.method = "MESSAGE", .call_id = cid, .decision = AUDIT_FORWARDED,
			.status = 200,
		};

		snprintf(cid, sizeof(cid), "c%d", i);
		CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	}
	{
		struct audit_rec r = { .direction = AUDIT_IN, .method = "MESSAGE",
				       .call_id = "last", .decision = AUDIT_REFUSED,
				       .status = 403, .reason = "user not enabled" };

		CU_ASSERT_EQUAL(audit_record_durable(a, &r, audit_test_done_h, &d), 0);
	}
	CU_ASSERT_EQUAL(d.calls, 0); /* only ever on the loop */
	testconf_loop_until(base, &d.calls, 1);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.err, 0);
	CU_ASSERT_EQUAL(d.rows_at_callback, 1001); /* durable before the callback */
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.written, 1001);
	CU_ASSERT_EQUAL(st.dropped, 0);
	CU_ASSERT_TRUE(st.transactions >= 8 && st.transactions < 1001 / 2);
	CU_ASSERT_EQUAL(audit_test_count(path, "SELECT count(DISTINCT call_id) FROM audit"), 1001);
	CU_ASSERT_EQUAL(audit_test_count(path, "SELECT count(*) FROM audit WHERE decision = "
					 "'refused' AND reason = 'user not enabled'"), 1);
	mem_deref(a);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_audit_failure(void)
{
	const char *path = testconf_db("audit-test", "fail");
	struct event_base *base = event_base_new();
	struct audit_test_done d = { .path = path };
	struct audit_rec r = { .direction = AUDIT_IN, .method = "MESSAGE", .call_id = "x" };
	struct audit *a = NULL;
	struct audit_stats st;
	size_t live = mem_live();
	sqlite3 *db;

	CU_ASSERT_EQUAL_FATAL(audit_alloc(&a, base, path), 0);
	/* a database that refuses the write (works as root, unlike a read-only file) */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "CREATE TRIGGER fail BEFORE INSERT ON audit BEGIN "
				     "SELECT RAISE(ABORT, 'disk says no'); END", 0, 0, 0),
			SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(audit_record_durable(a, &r, audit_test_done_h, &d), 0);
	testconf_loop_until(base, &d.calls, 1);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_NOT_EQUAL(d.err, 0); /* AUD-003: the holder answers 503 */
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.failed, 1);
	CU_ASSERT_EQUAL(st.written, 0);
	mem_deref(a);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The writer is woken when the queue stops being empty and when a batch is full, not for every
 * record: a full batch commits at once (one transaction) without waiting out its window, and a
 * lone record after it is still written and reported. */
static void test_audit_wakeups(void)
{
	const char *path = testconf_db("audit-test", "wake");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .queue_max = 64, .batch_max = 3, .batch_ms = 60000 };
	struct audit_rec r = { .direction = AUDIT_OUT, .method = "MESSAGE", .call_id = "w" };
	struct audit_test_done d = { .path = path };
	struct audit *a = NULL;
	struct audit_stats st;
	size_t live = mem_live();
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	for (i = 0; i < 3; i++) { /* spaced so that the writer is waiting for the batch to fill */
		CU_ASSERT_EQUAL(audit_record_durable(a, &r, audit_test_done_h, &d), 0);
		usleep(20000);
	}
	testconf_loop_until(base, &d.calls, 3); /* bounded: 5 s, far less than the window */
	CU_ASSERT_EQUAL(d.calls, 3);
	CU_ASSERT_EQUAL(d.err, 0);
	CU_ASSERT_EQUAL(d.rows_at_callback, 3);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.written, 3);
	CU_ASSERT_EQUAL(st.transactions, 1);
	mem_deref(a);

	/* no window: one record alone wakes the writer */
	o.batch_ms = 0;
	d.calls = 0;
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	CU_ASSERT_EQUAL(audit_record_durable(a, &r, audit_test_done_h, &d), 0);
	testconf_loop_until(base, &d.calls, 1);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.rows_at_callback, 4);
	mem_deref(a);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Plain records wait out the longer window and share one commit; the first durable record
 * ends the wait at once (batch_ms 0), taking the plain ones along. */
static void test_audit_lazy_window(void)
{
	const char *path = testconf_db("audit-test", "lazy");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .queue_max = 64, .batch_max = 64, .batch_ms = 0,
				.lazy_ms = 60000 };
	struct audit_rec r = { .direction = AUDIT_IN, .method = "MESSAGE", .call_id = "l" };
	struct audit_test_done d = { .path = path };
	struct audit *a = NULL;
	struct audit_stats st;
	size_t live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	usleep(20000);
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	usleep(50000);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.transactions, 0); /* still waiting for the batch */
	CU_ASSERT_EQUAL(st.pending, 2);
	CU_ASSERT_EQUAL(audit_record_durable(a, &r, audit_test_done_h, &d), 0);
	testconf_loop_until(base, &d.calls, 1); /* bounded: 5 s, far less than the window */
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.err, 0);
	CU_ASSERT_EQUAL(d.rows_at_callback, 3);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.written, 3);
	CU_ASSERT_EQUAL(st.transactions, 1);
	/* the durable record is gone from the queue: plain ones wait the long window again */
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	usleep(50000);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.transactions, 1);
	CU_ASSERT_EQUAL(st.pending, 1);
	mem_deref(a); /* stopping ends the wait and writes it */
	CU_ASSERT_EQUAL(audit_test_count(path, "SELECT count(*) FROM audit"), 4);

	/* without options: plain records still land, within the default window */
	CU_ASSERT_EQUAL_FATAL(audit_alloc(&a, base, path), 0);
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	CU_ASSERT_EQUAL(audit_test_count(path, "SELECT count(*) FROM audit"), 5);
	mem_deref(a);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_audit_full_queue(void)
{
	const char *path = testconf_db("audit-test", "full");
	struct event_base *base = event_base_new();
	struct audit_opts o = { .queue_max = 4, .batch_max = 4, .batch_ms = 200 };
	struct audit_rec r = { .direction = AUDIT_OUT, .method = "MESSAGE" };
	struct audit *a = NULL;
	struct audit_stats st;
	int i, refused = 0;

	CU_ASSERT_EQUAL_FATAL(audit_alloc_opts(&a, base, path, &o), 0);
	for (i = 0; i < 100; i++)
		refused += audit_record(a, &r) == ENOSPC;
	audit_flush(a);
	audit_stats(a, &st);
	CU_ASSERT_TRUE(refused > 0);
	CU_ASSERT_EQUAL(st.dropped, (uint64_t)refused);
	CU_ASSERT_EQUAL(st.written + st.dropped, 100);
	mem_deref(a);
	event_base_free(base);
}

struct audit_test_usage {
	uint64_t alice_out, aol_in, aol_refused;
	int rows;
};

static void audit_test_usage_h(const char *kind, const char *name, uint64_t in, uint64_t out,
			       uint64_t refused, void *arg)
{
	struct audit_test_usage *u = arg;

	u->rows++;
	if (!strcmp(kind, "user") && !strcmp(name, "alice@contoso.test"))
		u->alice_out = out;
	if (!strcmp(kind, "provider") && !strcmp(name, "aol")) {
		u->aol_in = in;
		u->aol_refused = refused;
	}
}

static void audit_test_row_h(const struct audit_row *r, void *arg)
{
	int *n = arg;

	if (r->archived && r->rec.body_len == 5)
		*n += r->rec.body ? 100 : 1;
}

struct audit_test_rows {
	int rows, stored;            /* rows seen; bytes of body kept over all of them */
	int64_t last_id;
};

static void audit_test_rows_h(const struct audit_row *r, void *arg)
{
	struct audit_test_rows *t = arg;

	t->rows++;
	t->stored += (int)r->body_stored;
	t->last_id = r->id;
}

static void test_audit_archive_usage(void)
{
	const char *path = testconf_db("audit-test", "arc");
	struct event_base *base = event_base_new();
	struct state *st = NULL;
	struct state_settings set = { .pic_enabled = true, .archive = STATE_ARCHIVE_OFF };
	struct audit *a = NULL;
	struct store *s = NULL;
	struct audit_test_usage u = { 0 };
	struct audit_filter f = { .direction = -1, .decision = -1 };
	struct audit_rec r = { .time = 1000, .direction = AUDIT_OUT, .provider = "aol",
			       .from = "sip:alice@contoso.test", .to = "sip:x@aol.test",
			       .method = "MESSAGE", .body = "hello", .body_len = 5,
			       .content_type = "text/plain" };
	size_t live = mem_live();
	char why[128];
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(audit_alloc(&a, base, path), 0);
	CU_ASSERT_EQUAL_FATAL(state_alloc(&st), 0);
	CU_ASSERT_EQUAL(state_set_user_archive(st, "alice@contoso.test", true), 0);
	CU_ASSERT_EQUAL(state_set_settings(st, &set), 0);
	audit_set_state(a, st);
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);          /* per-user flag: with body */
	r.from = "sip:bob@contoso.test";
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);          /* off, no flag: none */
	set.archive = STATE_ARCHIVE_NO_BODIES;
	CU_ASSERT_EQUAL(state_set_settings(st, &set), 0);
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);          /* metadata only */
	r.direction = AUDIT_IN;
	r.from = "sip:x@aol.test";
	r.to = "sip:alice@contoso.test";
	r.decision = AUDIT_REFUSED;
	r.time = 5000;
	CU_ASSERT_EQUAL(audit_record(a, &r), 0);
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, path, true, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(audit_query(s, &f, audit_test_row_h, &n), 0);
	CU_ASSERT_EQUAL(n, 100 + 1 + 1);
	{
		/* apctl archive: only archived rows, one by id, a user without "sip:" */
		struct audit_test_rows t = { 0 };

		f.archived = true;
		CU_ASSERT_EQUAL(audit_query(s, &f, audit_test_rows_h, &t), 0);
		CU_ASSERT_EQUAL(t.rows, 3);               /* bob's, archive off, has none */
		CU_ASSERT_EQUAL(t.stored, 5);             /* only alice's first kept its body */
		f.id = t.last_id;                         /* newest first: the last is the oldest */
		memset(&t, 0, sizeof(t));
		CU_ASSERT_EQUAL(audit_query(s, &f, audit_test_rows_h, &t), 0);
		CU_ASSERT_EQUAL(t.rows, 1);
		CU_ASSERT_EQUAL(t.stored, 5);
		f.id = 0;
		f.user = "alice@contoso.test";
		memset(&t, 0, sizeof(t));
		CU_ASSERT_EQUAL(audit_query(s, &f, audit_test_rows_h, &t), 0);
		CU_ASSERT_EQUAL(t.rows, 2);               /* her outbound and her inbound */
		f.user = "sip:ALICE@contoso.test";
		memset(&t, 0, sizeof(t));
		CU_ASSERT_EQUAL(audit_query(s, &f, audit_test_rows_h, &t), 0);
		CU_ASSERT_EQUAL(t.rows, 2);
		f = (struct audit_filter){ .direction = -1, .decision = -1 };
	}
	CU_ASSERT_EQUAL(audit_usage(s, 0, 2000, audit_test_usage_h, &u), 0);
	CU_ASSERT_EQUAL(u.alice_out, 1);
	CU_ASSERT_EQUAL(u.aol_in, 0);
	memset(&u, 0, sizeof(u));
	CU_ASSERT_EQUAL(audit_usage(s, 0, 0, audit_test_usage_h, &u), 0);
	CU_ASSERT_EQUAL(u.aol_in, 1);
	CU_ASSERT_EQUAL(u.aol_refused, 1);
	CU_ASSERT_EQUAL(u.rows, 3); /* alice, bob, aol */
	mem_deref(s);
	mem_deref(st);
	mem_deref(a);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* A figure, not an assertion: AUDIT_BENCH=N runs N records through the queue and prints the
 * sustained rate (group commit); without it only a small run is checked. */
static void test_audit_rate(void)
{
	const char *env = getenv("AUDIT_BENCH");
	long n = env ? atol(env) : 2000, i, refused = 0;
	const char *path = testconf_db("audit-test", "rate");
	struct event_base *base = event_base_new();
	struct audit *a = NULL;
	struct audit_stats st;
	struct timespec t0, t1;
	double s;
	char cid[32];

	CU_ASSERT_EQUAL_FATAL(audit_alloc(&a, base, path), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		struct audit_rec r = {
			.direction = AUDIT_IN, .provider = "aol", .from = "sip:x@aol.test",
			.to = "sip:alice@contoso.test", .method = "MESSAGE", .call_id = cid,
			.decision = AUDIT_FORWARDED, .status = 200,
		};

		snprintf(cid, sizeof(cid), "bench-%ld", i);
		while (audit_record(a, &r) == ENOSPC) { /* producer faster than the disk */
			refused++;
			usleep(100);
		}
	}
	CU_ASSERT_EQUAL(audit_flush(a), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	audit_stats(a, &st);
	CU_ASSERT_EQUAL(st.written, (uint64_t)n);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (env)
		printf("\naudit: %ld records in %.3f s = %.0f records/s, %llu transactions "
		       "(%.1f records each), %ld full-queue retries\n", n, s, (double)n / s,
		       (unsigned long long)st.transactions,
		       (double)n / (double)(st.transactions ? st.transactions : 1), refused);
	mem_deref(a);
	event_base_free(base);
	testconf_db("audit-test", "rate");
}

static CU_TestInfo audit_tests[] = {
	{ "sustained rate (AUDIT_BENCH=N prints it)", test_audit_rate },
	{ "1000 records land, group commit, durable callback after commit", test_audit_bulk },
	{ "a failing database reports an error to the durable callback", test_audit_failure },
	{ "the writer wakes for an empty queue and a full batch", test_audit_wakeups },
	{ "plain records wait longer; a durable one ends the wait", test_audit_lazy_window },
	{ "a full queue drops and counts", test_audit_full_queue },
	{ "archive per settings and user flag; usage report", test_audit_archive_usage },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("audit", audit_tests);
