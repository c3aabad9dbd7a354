/* lduac: the load generator: N connections sending MESSAGE transactions, timing each one. */
#ifndef PIC_LDUAC_H
#define PIC_LDUAC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <event2/event.h>
#include <sys/socket.h>

struct lduac;
struct tlsctx;

struct lduac_conf {
	const struct sockaddr *target;  /* where MESSAGEs go (the proxy, or the responder) */
	const struct sockaddr *local;   /* source address (NULL: any) */
	unsigned nlocal;                /* with local: connection i binds local[i % nlocal]; */
	                                /* local then points at an array of sockaddr_storage */
	struct tlsctx *tls;             /* client context (mutual TLS); NULL: plain TCP */
	const char *expect_cn;          /* server certificate CN to insist on (NULL: any) */
	unsigned conns;                 /* connections, 1..LDUAC_MAX_CONNS */
	double rate;                    /* open loop: transactions/s over all conns (0: closed) */
	unsigned window;                /* closed loop: outstanding per connection */
	unsigned duration_ms;           /* sending time (or, idle, holding time) */
	uint64_t count;                 /* stop after this many sent (0: duration only) */
	unsigned timeout_ms;            /* unanswered this long after sending stops: timeout */
	unsigned warmup_ms;             /* latencies of the first ms are not kept */
	unsigned connect_parallel;      /* handshakes in flight while connecting */
	const char *ruri;               /* Request-URI, To */
	const char *from;               /* From */
	const char *method;             /* MESSAGE (default), SUBSCRIBE or NOTIFY (presence) */
	size_t body;                    /* text/plain body size */
	bool idle;                      /* connect, report, hold, send nothing */
	FILE *progress;                 /* "established N of M ..." goes here (NULL: nowhere) */
	unsigned interval_ms;           /* while sending, an "interval ..." line this often */
	                                /* to progress (0: none) */
	FILE *latencies;                /* with interval_ms: "N US" for each 2xx (N: its */
	                                /* interval, from 1), or NULL */
};

#define LDUAC_MAX_CONNS 50000

/* Connects and runs; done is called once when finished (all bounded by the conf's times). */
typedef void (lduac_done_h)(void *arg);
int lduac_alloc(struct lduac **up, struct event_base *base, const struct lduac_conf *cf,
		lduac_done_h *dh, void *arg);
/* What a finished run measured. */
struct lduac_result {
	unsigned up, failed, closed;      /* connections */
	uint64_t sent, ok, errors, timeouts;
	double window_s, tps;             /* 2xx received while sending, per second of sending */
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;
	size_t samples;
};
void lduac_result(struct lduac *u, struct lduac_result *r);
/* One "result key=value ..." line. */
void lduac_report(struct lduac *u, const char *label, FILE *f);

#endif
