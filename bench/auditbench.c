/* piclab-auditbench: the audit writer's own capacity, without the proxy around it. K writers
 * (one per worker process, on one database, as accessproxy runs them) take the records of the
 * soak (inbound MESSAGE, SUBSCRIBE and NOTIFY from three providers) either as fast as they can
 * commit them (--rate 0: each queue kept full) or at a fixed total rate. One line a second:
 * records committed per second, the writers' busy share, the mean transaction and its size,
 * checkpoints, the backlog, the database and WAL size. Prints, asserts nothing. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <event2/event.h>

#include "base/mem.h"
#include "../proxy/audit/audit.h"

#define AB_MAX_WRITERS 8

struct ab {
	struct event_base *base;
	struct audit *w[AB_MAX_WRITERS];
	struct audit_stats last[AB_MAX_WRITERS];
	unsigned writers, users, seconds;
	double rate;
	bool critical;
	bool set_opts;               /* --batch-ms / --lazy-ms given: audit_opts, else the defaults */
	struct audit_opts opts;
	const char *db;
	uint64_t t0, t_last, sent, durable_pending, cpu_last;
	unsigned ticks;
};

static uint64_t ab_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long long ab_size_kb(const char *db, const char *suffix)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", db, suffix);
	return stat(p, &st) == 0 ? (long long)st.st_size / 1024 : 0;
}

static void ab_durable(int err, void *arg)
{
	struct ab *b = arg;

	b->durable_pending--;
	if (err)
		fprintf(stderr, "auditbench: a durable record failed: %s\n", strerror(err));
}

static int ab_one(struct ab *b, unsigned w)
{
	static const char *const prov[] = { "aol", "msn", "yahoo" };
	static const char *const meth[] = { "MESSAGE", "MESSAGE", "MESSAGE", "SUBSCRIBE",
					    "NOTIFY" };
	char from[64], to[64], cid[64];
	struct audit_rec r = { 0 };
	uint64_t n = b->sent;
	int err;

	snprintf(from, sizeof(from), "bob%u@%s.test", (unsigned)(n % 7), prov[n % 3]);
	snprintf(to, sizeof(to), "alice%u@contoso.test", (unsigned)(n % b->users));
	snprintf(cid, sizeof(cid), "ld%x.%u.%llu@load.test", (unsigned)getpid(), w,
		 (unsigned long long)n);
	r.direction = AUDIT_IN;
	r.provider = prov[n % 3];
	r.from = from;
	r.to = to;
	r.method = meth[n % 5];
	r.call_id = cid;
	r.decision = AUDIT_FORWARDED;
	if (b->critical) {
		err = audit_record_durable(b->w[w], &r, ab_durable, b);
		if (!err)
			b->durable_pending++;
	} else {
		err = audit_record(b->w[w], &r);
	}
	if (!err)
		b->sent++;
	return err;
}

/* user and system time of the whole process (the writers and this loop), in microseconds */
static uint64_t ab_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void ab_report(struct ab *b, uint64_t now)
{
	uint64_t cpu = ab_cpu_us();
	double secs = (double)(now - b->t_last) / 1e6, busy = 0;
	uint64_t wr = 0, tx = 0, busy_us = 0, ck = 0, ck_us = 0, ck_max = 0, bmax = 0, waits = 0;
	size_t pend = 0;
	unsigned i;

	for (i = 0; i < b->writers; i++) {
		struct audit_stats s;

		audit_stats(b->w[i], &s);
		wr += s.written - b->last[i].written;
		tx += s.transactions - b->last[i].transactions;
		busy_us += s.busy_us - b->last[i].busy_us;
		ck += s.checkpoints - b->last[i].checkpoints;
		ck_us += s.ckpt_us - b->last[i].ckpt_us;
		waits += s.lock_waits - b->last[i].lock_waits;
		if (s.ckpt_us_max > ck_max)
			ck_max = s.ckpt_us_max;
		if (s.batch_us_max > bmax)
			bmax = s.batch_us_max;
		pend += s.pending;
		b->last[i] = s;
	}
	busy = secs > 0 ? (double)busy_us / 1e6 / secs / b->writers * 100 : 0;
	printf("t=%.0f rec_s=%.0f cpu_us_per_rec=%.1f busy_pct=%.0f tx=%llu rec_per_tx=%.1f tx_ms=%.2f "
	       "batch_ms_max=%.1f ckpt=%llu ckpt_ms=%.1f ckpt_ms_max=%.1f lock_waits=%llu "
	       "pending=%zu db_kb=%lld wal_kb=%lld\n",
	       (double)(now - b->t0) / 1e6, secs > 0 ? (double)wr / secs : 0,
	       wr ? (double)(cpu - b->cpu_last) / (double)wr : 0, busy,
	       (unsigned long long)tx, tx ? (double)wr / (double)tx : 0,
	       tx ? (double)(busy_us - ck_us) / 1e3 / (double)tx : 0, (double)bmax / 1e3,
	       (unsigned long long)ck, (double)ck_us / 1e3, (double)ck_max / 1e3,
	       (unsigned long long)waits, pend, ab_size_kb(b->db, ""), ab_size_kb(b->db, "-wal"));
	fflush(stdout);
	b->t_last = now;
	b->cpu_last = cpu;
}

static void ab_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ab *b = arg;
	uint64_t now = ab_now_us();
	unsigned i;

	if (b->rate > 0) {
		uint64_t due = (uint64_t)(b->rate * (double)(now - b->t0) / 1e6);

		while (b->sent < due && ab_one(b, (unsigned)(b->sent % b->writers)) == 0)
			;
	} else {
		for (i = 0; i < b->writers; i++) {
			struct audit_stats s;

			audit_stats(b->w[i], &s);
			while (s.pending < 2048 && ab_one(b, i) == 0)
				s.pending++;
		}
	}
	if (now - b->t_last >= 1000000)
		ab_report(b, now);
	if (now - b->t0 >= (uint64_t)b->seconds * 1000000u)
		event_base_loopbreak(b->base);
}

static void ab_usage(void)
{
	fprintf(stderr, "usage: piclab-auditbench --db PATH [--writers K (2)] [--rate R "
		"(records/s in total; 0: as fast as they commit)] [--seconds S (30)] "
		"[--users N (1)] [--critical] [--batch-ms MS (2: a batch with a durable "
		"record)] [--lazy-ms MS (50: plain records)]\n");
}

int main(int argc, char **argv)
{
	struct ab b = { .writers = 2, .users = 1, .seconds = 30,
			.opts = { .batch_ms = 2, .lazy_ms = 50 } };
	struct timeval tv = { 0, 1000 };
	struct event *tick = NULL;
	char p[512];
	unsigned i;
	int err = 0;

	for (i = 1; i < (unsigned)argc; i++) {
		const char *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--critical")) {
			b.critical = true;
			continue;
		}
		if (!v) {
			ab_usage();
			return 2;
		}
		if (!strcmp(argv[i], "--db"))
			b.db = v;
		else if (!strcmp(argv[i], "--writers"))
			b.writers = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--rate"))
			b.rate = atof(v);
		else if (!strcmp(argv[i], "--seconds"))
			b.seconds = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--users"))
			b.users = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--batch-ms"))
			b.opts.batch_ms = (unsigned)atoi(v), b.set_opts = true;
		else if (!strcmp(argv[i], "--lazy-ms"))
			b.opts.lazy_ms = (unsigned)atoi(v), b.set_opts = true;
		else {
			fprintf(stderr, "piclab-auditbench: unknown option %s\n", argv[i]);
			ab_usage();
			return 2;
		}
		i++;
	}
	if (!b.db || !b.writers || b.writers > AB_MAX_WRITERS || !b.users || !b.seconds) {
		ab_usage();
		return 2;
	}
	unlink(b.db);
	snprintf(p, sizeof(p), "%s-wal", b.db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", b.db);
	unlink(p);
	b.base = event_base_new();
	if (!b.base)
		return 1;
	for (i = 0; i < b.writers && !err; i++) {
		err = b.set_opts ? audit_alloc_opts(&b.w[i], b.base, b.db, &b.opts) :
				   audit_alloc(&b.w[i], b.base, b.db);
		if (err)
			fprintf(stderr, "piclab-auditbench: %s: %s\n", b.db, strerror(err));
	}
	if (!err) {
		tick = event_new(b.base, -1, EV_PERSIST, ab_tick, &b);
		b.t0 = b.t_last = ab_now_us();
		b.cpu_last = ab_cpu_us();
		printf("auditbench: %u writers on %s, %s, %u users, %s records\n", b.writers, b.db,
		       b.rate > 0 ? "open loop" : "as fast as they commit", b.users,
		       b.critical ? "durable (critical)" : "plain");
		if (b.rate > 0)
			printf("rate=%.0f\n", b.rate);
		event_add(tick, &tv);
		event_base_dispatch(b.base);
	}
	if (tick)
		event_free(tick);
	for (i = 0; i < b.writers; i++)
		mem_deref(b.w[i]);
	event_base_free(b.base);
	return err ? 1 : 0;
}
