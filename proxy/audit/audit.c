/* audit: a bounded queue of audit records drained by a writer thread that commits them in
 * groups on its own SQLite connection; completions come back to the event loop by eventfd. */
#define LOG_MODULE "audit"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "base/log.h"
#include "base/mem.h"
#include "../state/state.h"
#include "../store/store.h"
#include "audit.h"

#ifndef AUDIT_NICE
#define AUDIT_NICE 10
#endif

/* One queued record: the struct and every string it points to live in one malloc block, so
 * the writer thread owns it outright (no refcounts cross threads). */
struct audit_item {
	struct audit_item *next;
	struct audit_rec rec;
	bool archive, archive_body;
	audit_done_h *dh;
	void *arg;
	int err;
	uint64_t seq;
};

struct audit {
	struct event_base *base;
	struct store *store;          /* the writer thread's connection */
	struct state *state;          /* loop thread only */
	struct audit_opts opts;
	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t work;          /* queue not empty, or stopping */
	pthread_cond_t flushed;       /* a batch finished */
	struct audit_item *head, *tail;
	size_t depth;
	size_t durable;               /* durable records (dh set) in the queue */
	struct audit_item *done_head, *done_tail; /* to call back (and free) on the loop */
	size_t done_n;
	uint64_t seq, done_seq;
	bool stop;
	int efd;
	struct event *ev;
	struct audit_stats st;
	time_t last_drop_log;
	/* the writer thread's own */
	sqlite3_stmt *ins, *arc;      /* prepared once, reused by every batch */
	int wal_pages;                /* frames in the WAL after the last commit */
	int ckpt_at;                  /* checkpoint when wal_pages reaches it */
	bool sync_full;               /* the connection's synchronous mode now */
	bool in_ckpt;                 /* in audit_checkpoint (a shorter busy wait) */
	uint64_t lock_waits;          /* folded into st after each batch */
};

/* --- the writer thread --- */

/* Every worker process has a writer on the same database, and only one may write at a time.
 * SQLite's own busy timeout sleeps 1, 2, 5 ... up to 100 ms between tries, so a writer that
 * met the lock of the other often slept far longer than that one's commit took, its queue
 * growing meanwhile. Trying again every millisecond (for up to 5 s, as before) keeps both
 * writers near their disk's pace. */
#define AUDIT_BUSY_STEP_US 1000
#define AUDIT_BUSY_MAX_MS 5000
#define AUDIT_CKPT_BUSY_MAX_MS 200  /* a checkpoint waits this long for writers and readers */

static int audit_busy(void *arg, int tries)
{
	struct audit *a = arg;

	if ((long)tries * AUDIT_BUSY_STEP_US / 1000 >=
	    (a->in_ckpt ? AUDIT_CKPT_BUSY_MAX_MS : AUDIT_BUSY_MAX_MS))
		return 0;
	a->lock_waits++;
	usleep(AUDIT_BUSY_STEP_US);
	return 1;
}

static uint64_t audit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* SQLite calls this after every commit with the WAL's length in frames (pages). */
static int audit_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct audit *a = arg;

	a->wal_pages = pages;
	return SQLITE_OK;
}

static int audit_insert(sqlite3 *db, sqlite3_stmt *ins, sqlite3_stmt *arc,
			const struct audit_item *it)
{
	const struct audit_rec *r = &it->rec;
	int rc;

	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, (sqlite3_int64)r->time);
	sqlite3_bind_text(ins, 2, audit_dir_name(r->direction), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, r->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, r->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, r->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, r->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, r->call_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, audit_decision_name(r->decision), -1, SQLITE_STATIC);
	sqlite3_bind_int(ins, 9, r->status);
	sqlite3_bind_text(ins, 10, r->reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	if (rc != SQLITE_DONE)
		return rc;
	if (!it->archive)
		return SQLITE_OK;
	sqlite3_reset(arc);
	sqlite3_bind_int64(arc, 1, sqlite3_last_insert_rowid(db));
	sqlite3_bind_text(arc, 2, r->content_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(arc, 3, (sqlite3_int64)r->body_len);
	if (it->archive_body && r->body)
		sqlite3_bind_blob(arc, 4, r->body, (int)r->body_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(arc, 4);
	rc = sqlite3_step(arc);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One transaction for the whole batch (group commit).
 *
 * Durability follows what was promised. A batch holding a record somebody waits for
 * (audit_record_durable: critical archiving, AUD-003) commits with synchronous = FULL: the WAL
 * is synced before the COMMIT returns, so the record survives a power loss, not only a killed
 * process, before the request is forwarded; the sync covers every earlier frame of the WAL
 * too. Any other batch commits with synchronous = NORMAL: the COMMIT has written the WAL (a
 * kill -9 of the proxy loses nothing committed) and the next checkpoint or FULL commit syncs
 * it. Those records were never acknowledged as durable (audit_record returns before the
 * write), and a sync per batch was most of the writer's time: at 1,900 records/s over two
 * workers, about 300 fsyncs a second. */
static int audit_sync(struct audit *a, bool full)
{
	int rc;

	if (a->sync_full == full)
		return SQLITE_OK;
	rc = sqlite3_exec(store_sqlite(a->store), full ? "PRAGMA synchronous = FULL" :
			  "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		a->sync_full = full;
	return rc;
}

static int audit_write_batch(struct audit *a, struct audit_item *batch)
{
	sqlite3 *db = store_sqlite(a->store);
	struct audit_item *it;
	bool waited = false;
	int rc = SQLITE_OK;

	for (it = batch; it && !waited; it = it->next)
		waited = it->dh != NULL;
	rc = audit_sync(a, waited);

	if (rc == SQLITE_OK && !a->ins)
		rc = sqlite3_prepare_v3(db, "INSERT INTO audit (time, direction, provider, "
					"from_aor, to_aor, method, call_id, decision, status, "
					"reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
					SQLITE_PREPARE_PERSISTENT, &a->ins, NULL);
	if (rc == SQLITE_OK && !a->arc)
		rc = sqlite3_prepare_v3(db, "INSERT INTO archive (audit_id, content_type, "
					"body_len, body) VALUES (?, ?, ?, ?)", -1,
					SQLITE_PREPARE_PERSISTENT, &a->arc, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (it = batch; rc == SQLITE_OK && it; it = it->next)
		rc = audit_insert(db, a->ins, a->arc, it);
	/* the bindings point into the batch, which is freed next */
	sqlite3_reset(a->ins);
	sqlite3_clear_bindings(a->ins);
	sqlite3_reset(a->arc);
	sqlite3_clear_bindings(a->arc);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("%s: audit batch lost: %s", store_path(a->store), sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return store_errno(rc) ? store_errno(rc) : EIO;
	}
	return 0;
}

/* Takes up to batch_max records. Waits for the batch to fill: up to lazy_ms while the queue
 * holds plain records only, up to batch_ms (from the same start) once a durable record is in
 * it; audit_enqueue wakes the wait for the first durable record. At 1,900 records a second
 * over two writers a 2 ms window gave commits of 4 records at ~100 us of writer time per
 * record, about 45 % of a core; each commit and its share of the checkpoints costs about as
 * much as a hundred records, so plain records wait longer and share one. */
static struct audit_item *audit_take(struct audit *a)
{
	struct audit_item *batch, *last;
	struct timespec t0, dl;
	unsigned ms, durable;
	size_t n;

	while (!a->head && !a->stop)
		pthread_cond_wait(&a->work, &a->mtx);
	if (!a->head)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &t0);
	for (;;) {
		ms = a->durable ? a->opts.batch_ms : a->opts.lazy_ms;
		if (!ms || a->depth >= a->opts.batch_max || a->stop)
			break;
		dl = t0;
		dl.tv_nsec += (long)(ms % 1000) * 1000000L;
		dl.tv_sec += ms / 1000 + dl.tv_nsec / 1000000000L;
		dl.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&a->work, &a->mtx, &dl) != 0)
			break;
	}
	batch = last = a->head;
	durable = last->dh != NULL;
	for (n = 1; n < a->opts.batch_max && last->next; n++) {
		last = last->next;
		durable += last->dh != NULL;
	}
	a->head = last->next;
	if (!a->head)
		a->tail = NULL;
	last->next = NULL;
	a->depth -= n;
	a->durable -= durable;
	return batch;
}

/* The WAL is copied back into the database by the writer itself, between batches, once it
 * holds AUDIT_CKPT_PAGES frames; timed and counted (audit_stats).
 *
 * SQLite's automatic checkpoint is PASSIVE, and PASSIVE never ends the WAL when the workers'
 * writers take turns: the log starts over from its beginning only when a checkpoint copied
 * all of it and nobody reads it, and the other worker has always committed more frames in
 * between. The WAL then grew for as long as the proxy ran (200 MB in 30 s of full load), each
 * commit found it over the threshold, and a checkpoint (two fsyncs) followed every commit:
 * the writer's time per record grew with the log. RESTART takes the write lock, copies
 * everything, and waits (briefly, AUDIT_CKPT_BUSY_MAX_MS) until no reader uses the log, so
 * that the next commit writes it from the start; when a reader holds it longer, what was
 * copied stays copied and the next checkpoint tries again. journal_size_limit (audit_alloc)
 * gives the disk back. */
#define AUDIT_CKPT_PAGES 1000

static void audit_checkpoint(struct audit *a)
{
	int rc;

	a->in_ckpt = true;
	rc = sqlite3_wal_checkpoint_v2(store_sqlite(a->store), NULL, SQLITE_CHECKPOINT_RESTART,
				       NULL, NULL);
	a->in_ckpt = false;
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("%s: checkpoint: %s", store_path(a->store),
			 sqlite3_errmsg(store_sqlite(a->store)));
	/* not done (a reader held the log): the next try after as many frames again, not after
	 * every commit, each waiting out AUDIT_CKPT_BUSY_MAX_MS */
	a->ckpt_at = rc == SQLITE_OK ? AUDIT_CKPT_PAGES : a->wal_pages + AUDIT_CKPT_PAGES;
	a->wal_pages = 0;
}

#define AUDIT_SPENT_WAKE 64

static void *audit_thread(void *arg)
{
	struct audit *a = arg;
	struct audit_item *batch, *it, *next;
	uint64_t one = 1, n;
	bool signal;
	int err;

	/* Latency: the event loop threads answer messages, this one only makes them durable and
	 * commits in groups anyway; on few cores a SQLite batch must not hold a loop thread off
	 * the CPU for a whole time slice, so the scheduler prefers the loops (nice is per thread
	 * on Linux). A backlog only makes the batches larger. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), AUDIT_NICE) != 0)
		log_debug("audit writer priority: %s", strerror(errno));
	pthread_mutex_lock(&a->mtx);
	while ((batch = audit_take(a))) {
		uint64_t t0, t1, t2;

		pthread_mutex_unlock(&a->mtx);
		t0 = audit_now_us();
		err = audit_write_batch(a, batch);
		t1 = t2 = audit_now_us();
		if (!err && a->wal_pages >= a->ckpt_at) {
			audit_checkpoint(a);
			t2 = audit_now_us();
		}
		pthread_mutex_lock(&a->mtx);
		a->st.busy_us += t2 - t0;
		if (t1 - t0 > a->st.batch_us_max)
			a->st.batch_us_max = t1 - t0;
		if (t2 != t1) {
			a->st.checkpoints++;
			a->st.ckpt_us += t2 - t1;
			if (t2 - t1 > a->st.ckpt_us_max)
				a->st.ckpt_us_max = t2 - t1;
		}
		a->st.lock_waits = a->lock_waits;
		/* Every record goes back to the loop, which frees what it allocated: freed here,
		 * each would go to the loop thread's malloc arena under its lock, from a niced
		 * thread that may be descheduled holding it, and the loop's next allocations
		 * would miss its own cache. The loop is woken for a callback at once, for plain
		 * records once AUDIT_SPENT_WAKE of them are waiting. */
		signal = false;
		for (n = 0, it = batch; it; it = next) {
			next = it->next;
			n++;
			a->done_seq = it->seq;
			it->err = err;
			it->next = NULL;
			if (a->done_tail)
				a->done_tail->next = it;
			else
				a->done_head = it;
			a->done_tail = it;
			a->done_n++;
			signal = signal || it->dh;
		}
		signal = signal || a->done_n >= AUDIT_SPENT_WAKE;
		if (err) {
			a->st.failed += n;
		} else {
			a->st.written += n;
			a->st.transactions++;
		}
		pthread_cond_broadcast(&a->flushed);
		if (signal && write(a->efd, &one, sizeof(one)) < 0)
			log_error("eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&a->mtx);
	sqlite3_finalize(a->ins);
	sqlite3_finalize(a->arc);
	a->ins = a->arc = NULL;
	return NULL;
}

/* --- the event loop side --- */

static void audit_deliver(struct audit *a)
{
	struct audit_item *list, *it;

	pthread_mutex_lock(&a->mtx);
	list = a->done_head;
	a->done_head = a->done_tail = NULL;
	a->done_n = 0;
	pthread_mutex_unlock(&a->mtx);
	while ((it = list)) {
		list = it->next;
		if (it->dh)
			it->dh(it->err, it->arg);
		free(it);
	}
}

static void audit_wakeup(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("eventfd: %s", strerror(errno));
	audit_deliver(arg);
}

static void audit_destroy(void *data)
{
	struct audit *a = data;

	if (a->started) {
		pthread_mutex_lock(&a->mtx);
		a->stop = true;
		pthread_cond_signal(&a->work);
		pthread_mutex_unlock(&a->mtx);
		pthread_join(a->thread, NULL); /* drains the queue first */
		/* results already known are still reported, so holders release what they hold */
		audit_deliver(a);
	}
	if (a->ev)
		event_free(a->ev);
	if (a->efd >= 0)
		close(a->efd);
	pthread_mutex_destroy(&a->mtx);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->flushed);
	mem_deref(a->store);
	mem_deref(a->state);
}

int audit_alloc_opts(struct audit **ap, struct event_base *base, const char *db_path,
		     const struct audit_opts *opts)
{
	struct audit *a;
	char why[512];
	int err;

	if (!ap || !base || !db_path)
		return EINVAL;
	a = mem_zalloc(sizeof(*a), audit_destroy);
	if (!a)
		return ENOMEM;
	a->efd = -1;
	pthread_mutex_init(&a->mtx, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->flushed, NULL);
	a->base = base;
	a->opts.queue_max = opts && opts->queue_max ? opts->queue_max : 65536;
	a->opts.batch_max = opts && opts->batch_max ? opts->batch_max : 512;
	a->opts.batch_ms = opts ? opts->batch_ms : 2;
	a->opts.lazy_ms = opts ? opts->lazy_ms : 50;
	if (a->opts.lazy_ms < a->opts.batch_ms)
		a->opts.lazy_ms = a->opts.batch_ms;
	err = store_open(&a->store, db_path, false, NULL, why, sizeof(why));
	if (err) {
		log_error("audit: %s", why);
		goto out;
	}
	sqlite3_busy_handler(store_sqlite(a->store), audit_busy, a);
	/* checkpoints: audit_checkpoint, between batches; a WAL file grown past the limit is
	 * truncated to it when the log starts over */
	sqlite3_wal_autocheckpoint(store_sqlite(a->store), 0);
	sqlite3_wal_hook(store_sqlite(a->store), audit_wal_hook, a);
	a->sync_full = true; /* store_open's */
	a->ckpt_at = AUDIT_CKPT_PAGES;
	if (sqlite3_exec(store_sqlite(a->store), "PRAGMA journal_size_limit = 16777216", NULL,
			 NULL, NULL) != SQLITE_OK) {
		log_error("audit: %s: journal_size_limit: %s", db_path,
			  sqlite3_errmsg(store_sqlite(a->store)));
		err = EIO;
		goto out;
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		err = errno;
		goto out;
	}
	a->ev = event_new(base, a->efd, EV_READ | EV_PERSIST, audit_wakeup, a);
	if (!a->ev || event_add(a->ev, NULL) != 0) {
		err = ENOMEM;
		goto out;
	}
	err = pthread_create(&a->thread, NULL, audit_thread, a);
	a->started = err == 0;
	if (a->started)
		pthread_setname_np(a->thread, "ap-audit");
out:
	if (err)
		mem_deref(a);
	else
		*ap = a;
	return err;
}

int audit_alloc(struct audit **ap, struct event_base *base, const char *db_path)
{
	return audit_alloc_opts(ap, base, db_path, NULL);
}

void audit_set_state(struct audit *a, struct state *st)
{
	if (!a)
		return;
	mem_ref(st);
	mem_deref(a->state);
	a->state = st;
}

/* "sip:alice@x;p" or "<sip:alice@x>" -> "alice@x" in buf. */
static const char *audit_aor(const char *uri, char *buf, size_t size)
{
	size_t n;

	if (!uri)
		return NULL;
	if (*uri == '<')
		uri++;
	if (!strncasecmp(uri, "sip:", 4))
		uri += 4;
	else if (!strncasecmp(uri, "sips:", 5))
		uri += 5;
	n = strcspn(uri, ";>?");
	if (n >= size)
		return NULL;
	memcpy(buf, uri, n);
	buf[n] = '\0';
	return buf;
}

/* AUD-002: archive when globally on, or when our user has the archive flag. */
static void audit_archive_policy(const struct audit *a, const struct audit_rec *r, bool *arc,
				 bool *body)
{
	const struct state_settings *set = state_settings(a->state);
	char buf[256];
	const char *ours;

	*arc = *body = false;
	if (!set || (!r->body_len && !r->content_type))
		return;
	ours = audit_aor(r->direction == AUDIT_IN ? r->to : r->from, buf, sizeof(buf));
#ifdef AP_MUTANT_AUD_USER_ARCHIVE_IGNORED
	if (set->archive == STATE_ARCHIVE_OFF && (ours || !ours)) /* the per-user flag ignored */
#else
	if (set->archive == STATE_ARCHIVE_OFF && !(ours && state_user_archive(a->state, ours)))
#endif
		return;
	*arc = true;
	*body = set->archive != STATE_ARCHIVE_NO_BODIES;
}

static size_t audit_slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *audit_scopy(char **p, const char *s)
{
	char *d = *p;
	size_t n = audit_slen(s);

	if (!s)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	return d;
}

static int audit_enqueue(struct audit *a, const struct audit_rec *rec, audit_done_h *dh,
			 void *arg)
{
	struct audit_item *it;
	bool arc, body;
	size_t len;
	char *p;

	if (!a || !rec)
		return EINVAL;
	audit_archive_policy(a, rec, &arc, &body);
	len = sizeof(*it) + audit_slen(rec->provider) + audit_slen(rec->from) +
	      audit_slen(rec->to) + audit_slen(rec->method) + audit_slen(rec->call_id) +
	      audit_slen(rec->reason) + audit_slen(rec->content_type) +
	      (arc && body && rec->body ? rec->body_len : 0);
	it = malloc(len);
	if (!it)
		return ENOMEM;
	memset(it, 0, sizeof(*it));
	p = (char *)(it + 1);
	it->rec = *rec;
	it->rec.time = rec->time ? rec->time : time(NULL);
	it->rec.provider = audit_scopy(&p, rec->provider);
	it->rec.from = audit_scopy(&p, rec->from);
	it->rec.to = audit_scopy(&p, rec->to);
	it->rec.method = audit_scopy(&p, rec->method);
	it->rec.call_id = audit_scopy(&p, rec->call_id);
	it->rec.reason = audit_scopy(&p, rec->reason);
	it->rec.content_type = audit_scopy(&p, rec->content_type);
	it->rec.body = NULL;
	if (arc && body && rec->body) {
		memcpy(p, rec->body, rec->body_len);
		it->rec.body = p;
	}
	it->archive = arc;
	it->archive_body = body;
	it->dh = dh;
	it->arg = arg;
	/* one lock round per record: the copy above is made before knowing there is room */
	pthread_mutex_lock(&a->mtx);
	if (a->depth >= a->opts.queue_max) {
		time_t now = time(NULL);
		bool say = now != a->last_drop_log;
		unsigned long long dropped = ++a->st.dropped;

		a->last_drop_log = now;
		pthread_mutex_unlock(&a->mtx);
		if (say)
			log_error("audit queue full (%zu): record dropped (%llu so far)",
				  a->opts.queue_max, dropped);
		free(it);
		return ENOSPC;
	}
	it->seq = ++a->seq;
	if (a->tail)
		a->tail->next = it;
	else
		a->head = it;
	a->tail = it;
	a->depth++;
	a->durable += dh != NULL;
	a->st.queued++;
	if (a->st.queued - a->st.written - a->st.failed > a->st.pending_max)
		a->st.pending_max = a->st.queued - a->st.written - a->st.failed;
	/* The writer waits only on an empty queue, or for a batch to fill: waking it for every
	 * record costs the loop a futex call and the writer a context switch each time. The
	 * first durable record shortens the wait (audit_take). */
	if (a->depth == 1 || a->depth == a->opts.batch_max || (dh && a->durable == 1))
		pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mtx);
	return 0;
}

int audit_record(struct audit *a, const struct audit_rec *rec)
{
	return audit_enqueue(a, rec, NULL, NULL);
}

int audit_record_durable(struct audit *a, const struct audit_rec *rec, audit_done_h *dh,
			 void *arg)
{
	if (!dh)
		return EINVAL;
	return audit_enqueue(a, rec, dh, arg);
}

int audit_flush(struct audit *a)
{
	uint64_t target;
	int err = 0;

	if (!a)
		return EINVAL;
	pthread_mutex_lock(&a->mtx);
	target = a->seq;
	while (a->done_seq < target)
		pthread_cond_wait(&a->flushed, &a->mtx);
	if (a->st.failed)
		err = EIO;
	pthread_mutex_unlock(&a->mtx);
	return err;
}

void audit_stats(const struct audit *a, struct audit_stats *st)
{
	struct audit *m = (struct audit *)a; /* the lock is not part of the value */

	if (!a || !st)
		return;
	pthread_mutex_lock(&m->mtx);
	*st = a->st;
	st->depth = a->depth;
	st->pending = a->st.queued - a->st.written - a->st.failed;
	pthread_mutex_unlock(&m->mtx);
}

int audit_debug(const struct audit *a, char *buf, size_t size)
{
	struct audit_stats st = { 0 };

	audit_stats(a, &st);
	return snprintf(buf, size, "{\"queued\":%llu,\"written\":%llu,\"failed\":%llu,"
			"\"dropped\":%llu,\"transactions\":%llu,\"depth\":%zu,\"pending\":%zu,"
			"\"pending_max\":%zu,\"busy_us\":%llu,\"batch_us_max\":%llu,"
			"\"lock_waits\":%llu,\"checkpoints\":%llu,\"ckpt_us\":%llu,"
			"\"ckpt_us_max\":%llu}",
			(unsigned long long)st.queued, (unsigned long long)st.written,
			(unsigned long long)st.failed, (unsigned long long)st.dropped,
			(unsigned long long)st.transactions, st.depth, st.pending, st.pending_max,
			(unsigned long long)st.busy_us, (unsigned long long)st.batch_us_max,
			(unsigned long long)st.lock_waits, (unsigned long long)st.checkpoints,
			(unsigned long long)st.ckpt_us, (unsigned long long)st.ckpt_us_max);
}

const char *audit_dir_name(enum audit_dir d)
{
	return d == AUDIT_OUT ? "out" : "in";
}

const char *audit_decision_name(enum audit_decision d)
{
	return d == AUDIT_REFUSED ? "refused" : "forwarded";
}
