/* audit: the record of every federated request and its decision (AUD-001), with optional
 * message archiving (AUD-002), written to SQLite by a helper thread so the event loop never
 * waits on the disk. */
#ifndef AP_AUDIT_H
#define AP_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct audit;
struct event_base;
struct state;

enum audit_dir { AUDIT_IN = 0, AUDIT_OUT };
enum audit_decision { AUDIT_FORWARDED = 0, AUDIT_REFUSED };

/* One federated request (AUD-001). The caller keeps ownership of every pointer: audit_record()
 * copies what it needs before returning. Strings may be NULL (stored as NULL). The body is
 * archived (AUD-002) only when the snapshot given to audit_set_state() says so: archive = on
 * globally, or our user (To for inbound, From for outbound) has the archive flag; with
 * archive = no-bodies the archive row keeps the content type and length, not the body. */
struct audit_rec {
	time_t time;                 /* 0: now */
	enum audit_dir direction;    /* in: from a provider; out: towards one */
	const char *provider;        /* provider name ("aol"), NULL if none matched */
	const char *from;            /* From AOR */
	const char *to;              /* To AOR */
	const char *method;          /* "MESSAGE" */
	const char *call_id;
	enum audit_decision decision;
	int status;                  /* final status sent or received (0 if none yet) */
	const char *reason;          /* why refused, or NULL */
	const void *body;            /* message body, for archiving (AUD-002) */
	size_t body_len;
	const char *content_type;
};

/* Called on the event loop thread once the record is durable (err 0) or could not be written
 * (err: a positive errno, e.g. EIO). AUD-003: with critical archiving the caller forwards only
 * on err == 0 and answers 503 otherwise. */
typedef void (audit_done_h)(int err, void *arg);

struct audit_opts {
	size_t queue_max;            /* records held at most before dropping (default 65536) */
	size_t batch_max;            /* records per transaction at most (default 512) */
	unsigned batch_ms;           /* a batch holding a durable record (audit_record_durable:
	                              * someone waits on it) waits at most this long to fill
	                              * (default 2) */
	unsigned lazy_ms;            /* a batch of plain records only waits this long (default 50;
	                              * never less than batch_ms): nobody waits on them, and each
	                              * commit costs the writer about as much as 100 records */
};

/* Opens (and creates or migrates, through proxy/store) the database at db_path on the writer's
 * own connection and starts the writer thread. Completion callbacks run on base. */
int audit_alloc(struct audit **ap, struct event_base *base, const char *db_path);
int audit_alloc_opts(struct audit **ap, struct event_base *base, const char *db_path,
		     const struct audit_opts *opts);

/* The policy snapshot whose settings and per-user archive flags decide archiving; held (one
 * reference) until replaced. NULL: archive nothing. Event loop thread only. */
void audit_set_state(struct audit *a, struct state *st);

/* Copies rec into the queue and returns at once; never blocks on I/O. ENOSPC if the queue is
 * full: the record is dropped, counted and logged (rate-limited). */
int audit_record(struct audit *a, const struct audit_rec *rec);

/* Like audit_record, then calls dh(err, arg) on the event loop thread after the transaction
 * holding the record committed (err 0) or failed (err != 0). On a non-zero return dh is never
 * called. */
int audit_record_durable(struct audit *a, const struct audit_rec *rec, audit_done_h *dh,
			 void *arg);

/* Waits until every record queued so far is committed or failed (tests, shutdown); the event
 * loop is not run meanwhile, so pending callbacks fire on its next turn. */
int audit_flush(struct audit *a);

struct audit_stats {
	uint64_t queued;             /* accepted by audit_record* */
	uint64_t written;            /* committed */
	uint64_t failed;             /* could not be written */
	uint64_t dropped;            /* refused because the queue was full */
	uint64_t transactions;       /* commits (group commit: far fewer than written) */
	size_t depth;                /* in the queue now, not yet taken by the writer */
	size_t pending;              /* accepted, not yet committed or failed: the queue and the
	                              * batch being written */
	size_t pending_max;          /* the most pending at any time since the start */
	uint64_t busy_us;            /* the writer's time in transactions (and checkpoints) */
	uint64_t batch_us_max;       /* the slowest transaction */
	uint64_t lock_waits;         /* 1 ms waits for another writer's lock */
	uint64_t checkpoints;        /* WAL checkpoints the writer ran */
	uint64_t ckpt_us;            /* their time in all */
	uint64_t ckpt_us_max;        /* the slowest one */
};
void audit_stats(const struct audit *a, struct audit_stats *st);

/* Multi-line dump for the control socket (status). Returns the bytes written (like snprintf). */
int audit_debug(const struct audit *a, char *buf, size_t size);

struct store;

/* AUD-005: MESSAGE counts per user (ours: To of inbound, From of outbound) and per provider
 * over [since, until) (0: unbounded), one row at a time: kind is "user" or "provider".
 * Runs on the caller's store connection; not for the event loop thread. */
typedef void (audit_usage_h)(const char *kind, const char *name, uint64_t in, uint64_t out,
			     uint64_t refused, void *arg);
int audit_usage(struct store *s, time_t since, time_t until, audit_usage_h *uh, void *arg);

/* Listing for apctl audit: newest first. direction/decision -1: any. */
struct audit_filter {
	time_t since, until;         /* 0: unbounded */
	const char *provider;        /* NULL: any */
	const char *user;            /* From or To equals it (NULL: any) */
	int direction;               /* enum audit_dir or -1 */
	int decision;                /* enum audit_decision or -1 */
	unsigned limit;              /* 0: no limit */
	bool archived;               /* only records with an archive row (AUD-002) */
	int64_t id;                  /* only this record (0: any) */
};
struct audit_row {
	int64_t id;
	struct audit_rec rec;        /* body/body_len/content_type: the archive row, if any;
	                              * body_len is the message's length, kept or not */
	bool archived;
	size_t body_stored;          /* bytes of body kept (0 with archive = no-bodies) */
};
typedef void (audit_row_h)(const struct audit_row *r, void *arg);
int audit_query(struct store *s, const struct audit_filter *f, audit_row_h *rh, void *arg);

const char *audit_dir_name(enum audit_dir d);
const char *audit_decision_name(enum audit_decision d);

#endif
