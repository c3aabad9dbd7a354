/* lduac: the load generator: connects, sends MESSAGE open-loop (rate) or closed-loop (window),
 * matches each 200 to its send time by CSeq and keeps the latencies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "ldlat.h"
#include "lduac.h"

#define LOG_MODULE "lduac"

#define LDUAC_TICK_US 1000            /* phase checks; open loop ticks faster (below) */
#define LDUAC_TICK_MIN_US 50
#define LDUAC_CONNECT_MS 30000        /* the whole connect phase, plus 30 ms a connection */
#define LDUAC_MAX_PENDING (1u << 20)  /* bytes queued on a conn before it is skipped */
#define LDUAC_MAX_SAMPLES 50000000u

enum lduac_phase { LDUAC_CONNECTING = 0, LDUAC_SENDING, LDUAC_DRAINING, LDUAC_HOLDING,
		   LDUAC_DONE };

struct lduac_slot {
	uint64_t t_ns;
	uint32_t seq;
	bool busy;
};

struct lduac_conn {
	struct lduac *u;
	struct conn *c;
	unsigned idx;
	uint32_t seq;
	struct lduac_slot *ring;
	char via_host[64];            /* our address as the Via sent-by */
	bool up, gone;
};

struct lduac {
	struct event_base *base;
	struct lduac_conf cf;
	struct lduac_conn *cs;
	uint32_t mask;                /* ring size - 1 */
	struct event *tick;
	struct ldlat *lat;
	struct ldlat *ilat;           /* this interval's latencies (interval_ms) */
	uint64_t t_int, ok_int, err_int, to_int;
	lduac_done_h *dh;
	void *arg;
	enum lduac_phase phase;
	unsigned run;                 /* makes branch, tag and Call-ID unique across runs */
	char body[65536];
	unsigned opened, connecting, up, failed, closed, next_rr;
	uint64_t t_start, t_phase, t_stop, t_last;
	uint64_t sent, ok, ok_in_window, errors, timeouts, outstanding, blocked;
	uint64_t ka_sent;             /* idle: keep-alive MESSAGEs due so far */
};

static uint64_t lduac_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void lduac_destroy(void *data)
{
	struct lduac *u = data;
	unsigned i;

	if (u->tick)
		event_free(u->tick);
	for (i = 0; u->cs && i < u->cf.conns; i++) {
		if (u->cs[i].c)
			conn_close(u->cs[i].c);
		mem_deref(u->cs[i].c);
		free(u->cs[i].ring);
	}
	free(u->cs);
	mem_deref(u->lat);
	mem_deref(u->ilat);
}

static void lduac_finish(struct lduac *u)
{
	if (u->phase == LDUAC_DONE)
		return;
	u->phase = LDUAC_DONE;
	if (u->t_stop == 0)
		u->t_stop = lduac_now();
	event_del(u->tick);
	if (u->dh)
		u->dh(u->arg);
}

/* One MESSAGE (RFC 3428) on cc; its CSeq number keys the send time. */
static int lduac_send(struct lduac *u, struct lduac_conn *cc)
{
	char buf[70000];
	struct lduac_slot *sl;
	uint32_t seq = ++cc->seq;
	int n, err;

	if (conn_pending_out(cc->c) > LDUAC_MAX_PENDING) {
		u->blocked++;
		cc->seq--;
		return EAGAIN;
	}
	{
		const char *m = u->cf.method ? u->cf.method : "MESSAGE";
		bool sub = !strcmp(m, "SUBSCRIBE"), notify = !strcmp(m, "NOTIFY");
		char extra[256] = "";

		/* presence (RFC 3856): a subscription of a minute, or a NOTIFY carrying state */
		if (sub || notify)
			snprintf(extra, sizeof(extra), "Event: presence\r\n%s\r\nContact: <sip:load@%s>\r\n",
				 sub ? "Expires: 60" : "Subscription-State: active;expires=60",
				 cc->via_host);
		n = snprintf(buf, sizeof(buf),
			     "%s %s SIP/2.0\r\n"
			     "Via: SIP/2.0/%s %s;branch=z9hG4bKld%x.%u.%u\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <%s>;tag=ld%x.%u\r\n"
			     "To: <%s>\r\n"
			     "Call-ID: ld%x.%u.%u@load.test\r\n"
			     "CSeq: %u %s\r\n%s"
			     "Content-Type: %s\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     m, u->cf.ruri, u->cf.tls ? "TLS" : "TCP", cc->via_host, u->run, cc->idx,
			     seq, u->cf.from, u->run, cc->idx, u->cf.ruri, u->run, cc->idx, seq, seq,
			     m, extra, notify ? "application/pidf+xml" : "text/plain",
			     sub ? (size_t)0 : u->cf.body, sub ? "" : u->body);
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EMSGSIZE;
	sl = &cc->ring[seq & u->mask];
	if (sl->busy) { /* the ring wrapped over an unanswered one */
		u->timeouts++;
		u->to_int++;
		u->outstanding--;
	}
	sl->seq = seq;
	sl->busy = true;
	sl->t_ns = lduac_now();
	err = conn_send(cc->c, buf, (size_t)n);
	if (err) {
		sl->busy = false;
		return err;
	}
	u->sent++;
	u->outstanding++;
	return 0;
}

static bool lduac_may_send(const struct lduac *u, uint64_t now)
{
	return u->phase == LDUAC_SENDING && (!u->cf.count || u->sent < u->cf.count) &&
	       now - u->t_phase < (uint64_t)u->cf.duration_ms * 1000000u;
}

/* Status code and CSeq number of a response; false if it is not one. */
static bool lduac_parse(const char *buf, size_t len, unsigned *status, uint32_t *cseq)
{
	const char *p = buf, *end = buf + len, *eol;

	if (len < 12 || strncmp(buf, "SIP/2.0 ", 8))
		return false;
	*status = (unsigned)strtoul(buf + 8, NULL, 10);
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol || eol - p <= 1)
			return false;
		if (eol - p > 5 && !strncasecmp(p, "cseq", 4) && (p[4] == ':' || p[4] == ' ')) {
			const char *v = memchr(p, ':', (size_t)(eol - p));

			if (!v)
				return false;
			*cseq = (uint32_t)strtoul(v + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static void lduac_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct lduac_conn *cc = arg;
	struct lduac *u = cc->u;
	struct lduac_slot *sl;
	unsigned status;
	uint32_t seq;
	uint64_t now;

	if (!lduac_parse(buf, len, &status, &seq) || status < 200)
		return;
	sl = &cc->ring[seq & u->mask];
	if (!sl->busy || sl->seq != seq)
		return; /* late: already counted as a timeout */
	sl->busy = false;
	u->outstanding--;
	now = lduac_now();
	u->t_last = now;
	if (status >= 300) {
		u->errors++;
		u->err_int++;
	} else {
		u->ok++;
		u->ok_int++;
		ldlat_add(u->ilat, now - sl->t_ns);
		if (u->cf.latencies && u->cf.interval_ms && now >= u->t_phase)
			fprintf(u->cf.latencies, "%llu %.1f\n", (unsigned long long)
				((now - u->t_phase) / ((uint64_t)u->cf.interval_ms * 1000000u) + 1),
				(double)(now - sl->t_ns) / 1e3);
		if (u->phase == LDUAC_SENDING)
			u->ok_in_window++;
		if (sl->t_ns >= u->t_phase + (uint64_t)u->cf.warmup_ms * 1000000u)
			ldlat_add(u->lat, now - sl->t_ns);
	}
	if (!u->cf.rate && lduac_may_send(u, now))
		lduac_send(u, cc);
}

static void lduac_start_sending(struct lduac *u);
static void lduac_connect_more(struct lduac *u);

static void lduac_estab(struct conn *c, void *arg)
{
	struct lduac_conn *cc = arg;
	struct lduac *u = cc->u;

	sa_fmt(conn_local_addr(c), cc->via_host, sizeof(cc->via_host));
	cc->up = true;
	u->up++;
	u->connecting--;
	lduac_connect_more(u);
}

static void lduac_close(struct conn *c, int err, void *arg)
{
	struct lduac_conn *cc = arg;
	struct lduac *u = cc->u;

	if (cc->up) {
		u->up--;
		u->closed++;
		log_warn("connection %u closed: %s", cc->idx, err ? strerror(err) : "by peer");
	} else {
		u->connecting--;
		u->failed++;
		log_warn("connection %u failed: %s", cc->idx, strerror(err ? err : ECONNRESET));
	}
	cc->up = false;
	cc->gone = true;
	lduac_connect_more(u);
}

/* Keeps at most connect_parallel handshakes in flight; when all are settled, moves on. */
static void lduac_connect_more(struct lduac *u)
{
	struct conn_handlers h = { lduac_estab, lduac_msg, lduac_close, NULL };

	if (u->phase != LDUAC_CONNECTING)
		return;
	while (u->opened < u->cf.conns && u->connecting < u->cf.connect_parallel) {
		struct lduac_conn *cc = &u->cs[u->opened];
		int err;

		h.arg = cc;
		const struct sockaddr *la = u->cf.local;

		if (la && u->cf.nlocal > 1) /* spread over source addresses (per-IP caps) */
			la = (const struct sockaddr *)&((const struct sockaddr_storage *)la)
				[u->opened % u->cf.nlocal];
		err = conn_connect(&cc->c, u->base, u->cf.tls, la, u->cf.target,
				   u->cf.expect_cn, &h);
		u->opened++;
		if (err) {
			log_warn("connection %u: %s", cc->idx, strerror(err));
			u->failed++;
			cc->gone = true;
			continue;
		}
		u->connecting++;
	}
	if (u->opened == u->cf.conns && u->connecting == 0)
		lduac_start_sending(u);
}

static void lduac_start_sending(struct lduac *u)
{
	unsigned i, k;

	u->t_phase = lduac_now();
	if (u->cf.progress) {
		fprintf(u->cf.progress, "established %u of %u (%u failed) in %.3f s\n", u->up,
			u->cf.conns, u->failed, (double)(u->t_phase - u->t_start) / 1e9);
		fflush(u->cf.progress);
	}
	if (!u->up) {
		lduac_finish(u);
		return;
	}
	if (u->cf.idle) {
		u->phase = LDUAC_HOLDING;
		return;
	}
	u->phase = LDUAC_SENDING;
	u->t_int = u->t_phase;
	if (u->cf.rate)
		return; /* the tick paces */
	for (k = 0; k < u->cf.window; k++)
		for (i = 0; i < u->cf.conns; i++)
			if (u->cs[i].up && lduac_may_send(u, u->t_phase))
				lduac_send(u, &u->cs[i]);
}

/* Open loop: everything due by now goes out, spread round robin over the live conns. */
static void lduac_pace(struct lduac *u, uint64_t now)
{
	uint64_t due = (uint64_t)(u->cf.rate * (double)(now - u->t_phase) / 1e9);
	unsigned tries;

	while (u->sent < due && lduac_may_send(u, now)) {
		struct lduac_conn *cc = NULL;

		for (tries = 0; tries < u->cf.conns; tries++) {
			cc = &u->cs[u->next_rr++ % u->cf.conns];
			if (cc->up)
				break;
			cc = NULL;
		}
		if (!cc || lduac_send(u, cc) != 0)
			break;
	}
}

/* Interval line: what was answered since the last one (tps, latency of those answers). */
static void lduac_interval(struct lduac *u, uint64_t now, bool last)
{
	double s = (double)(now - u->t_int) / 1e9;

	/* the last one (sending over) counts if it ran for half an interval at least */
	if (!u->cf.interval_ms || !u->cf.progress ||
	    s * 1000 < (last ? u->cf.interval_ms / 2.0 : u->cf.interval_ms))
		return;
	fprintf(u->cf.progress, "interval t_s=%.1f tps=%.0f ok=%llu errors=%llu timeouts=%llu "
		"p50_us=%.1f p99_us=%.1f max_us=%.1f\n", (double)(now - u->t_phase) / 1e9,
		(double)u->ok_int / s, (unsigned long long)u->ok_int,
		(unsigned long long)u->err_int, (unsigned long long)u->to_int,
		ldlat_quantile(u->ilat, 0.50) / 1e3, ldlat_quantile(u->ilat, 0.99) / 1e3,
		ldlat_max(u->ilat) / 1e3);
	fflush(u->cf.progress);
	ldlat_reset(u->ilat);
	u->t_int = now;
	u->ok_int = u->err_int = u->to_int = 0;
}

/* Idle with a rate: a MESSAGE now and then on the connections up, round robin, from the first
 * connect on (connecting thousands takes minutes), so that a server closing connections
 * without a message for a while (ROB-003) keeps them. */
static void lduac_keepalive(struct lduac *u, uint64_t now)
{
	uint64_t due = (uint64_t)(u->cf.rate * (double)(now - u->t_start) / 1e9);
	unsigned tries;

	while (u->ka_sent < due) {
		struct lduac_conn *cc = NULL;

		for (tries = 0; tries < u->cf.conns; tries++) {
			cc = &u->cs[u->next_rr++ % u->cf.conns];
			if (cc->up)
				break;
			cc = NULL;
		}
		if (!cc) {
			u->ka_sent = due; /* none up: what was due is not owed later */
			break;
		}
		u->ka_sent++;
		if (lduac_send(u, cc) != 0)
			break;
	}
}

static void lduac_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lduac *u = arg;
	uint64_t now = lduac_now();

	switch (u->phase) {
	case LDUAC_CONNECTING:
		if (u->cf.idle && u->cf.rate)
			lduac_keepalive(u, now);
		if (now - u->t_start > (LDUAC_CONNECT_MS + 30ull * u->cf.conns) * 1000000u) {
			log_warn("connect phase over %llu ms: going on with %u up",
				 LDUAC_CONNECT_MS + 30ull * u->cf.conns, u->up);
			u->opened = u->cf.conns;
			u->connecting = 0;
			lduac_start_sending(u);
		}
		break;
	case LDUAC_SENDING:
		if (u->cf.rate)
			lduac_pace(u, now);
		lduac_interval(u, now, false);
		if (!lduac_may_send(u, now) || !u->up) {
			lduac_interval(u, now, true);
			u->t_stop = now;
			u->phase = LDUAC_DRAINING;
		}
		break;
	case LDUAC_DRAINING:
		if (!u->outstanding || !u->up ||
		    now - u->t_stop > (uint64_t)u->cf.timeout_ms * 1000000u)
			lduac_finish(u);
		break;
	case LDUAC_HOLDING:
		if (u->cf.rate)
			lduac_keepalive(u, now);
		if (now - u->t_phase > (uint64_t)u->cf.duration_ms * 1000000u)
			lduac_finish(u);
		break;
	case LDUAC_DONE:
		break;
	}
}

int lduac_alloc(struct lduac **up, struct event_base *base, const struct lduac_conf *cf,
		lduac_done_h *dh, void *arg)
{
	struct timeval tv = { 0, LDUAC_TICK_US };
	struct lduac *u;
	uint64_t want;
	unsigned i;
	int err = ENOMEM;

	if (!up || !base || !cf || !cf->target || !cf->ruri || !cf->from || !cf->conns ||
	    cf->conns > LDUAC_MAX_CONNS || (!cf->idle && !cf->rate && !cf->window) ||
	    cf->body >= sizeof(u->body) || !cf->duration_ms)
		return EINVAL;
	u = mem_zalloc(sizeof(*u), lduac_destroy);
	if (!u)
		return ENOMEM;
	u->base = base;
	u->cf = *cf;
	if (!u->cf.connect_parallel)
		u->cf.connect_parallel = 64;
	u->dh = dh;
	u->arg = arg;
	memset(u->body, 'x', cf->body);
	/* ring per conn: twice what can be outstanding, bounded in total */
	want = cf->rate ? (uint64_t)(cf->rate / cf->conns * (cf->timeout_ms / 1000.0 + 1)) * 2
			: (uint64_t)cf->window * 2;
	for (u->mask = 63; u->mask < want && u->mask < 65535; u->mask = u->mask * 2 + 1)
		;
	while (u->mask > 63 && (uint64_t)(u->mask + 1) * cf->conns > (1u << 24))
		u->mask >>= 1;
	u->cs = calloc(cf->conns, sizeof(*u->cs));
	if (!u->cs)
		goto out;
	for (i = 0; i < cf->conns; i++) {
		u->cs[i].u = u;
		u->cs[i].idx = i;
		if ((!cf->idle || cf->rate) &&
		    !(u->cs[i].ring = calloc(u->mask + 1, sizeof(struct lduac_slot))))
			goto out;
	}
	err = ldlat_alloc(&u->lat, LDUAC_MAX_SAMPLES);
	if (!err)
		err = ldlat_alloc(&u->ilat, LDUAC_MAX_SAMPLES);
	if (err)
		goto out;
	err = ENOMEM;
	/* Open loop: about one transaction per tick, so the load arrives evenly rather than in
	 * bursts that queue in front of the proxy and count as its latency. */
	if (cf->rate && 1e6 / cf->rate < LDUAC_TICK_US)
		tv.tv_usec = 1e6 / cf->rate < LDUAC_TICK_MIN_US ? LDUAC_TICK_MIN_US :
			     (suseconds_t)(1e6 / cf->rate);
	u->tick = event_new(base, -1, EV_PERSIST, lduac_tick, u);
	if (!u->tick || event_add(u->tick, &tv) != 0)
		goto out;
	u->t_start = lduac_now();
	/* RFC 3261 8.1.1.7/8.1.1.4: branch and Call-ID must be unique in space and time */
	u->run = (unsigned)(u->t_start ^ (u->t_start >> 32) ^ ((uint64_t)getpid() << 16));
	lduac_connect_more(u);
	*up = u;
	return 0;
out:
	mem_deref(u);
	return err;
}

void lduac_result(struct lduac *u, struct lduac_result *r)
{
	uint64_t late = 0;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (!u)
		return;
	for (i = 0; !u->cf.idle && i < u->cf.conns; i++)
		for (uint32_t k = 0; u->cs[i].ring && k <= u->mask; k++)
			late += u->cs[i].ring[k].busy;
	r->up = u->up;
	r->failed = u->failed;
	r->closed = u->closed;
	r->sent = u->sent;
	r->ok = u->ok;
	r->errors = u->errors;
	r->timeouts = u->timeouts + late;
	r->window_s = u->t_stop > u->t_phase ? (double)(u->t_stop - u->t_phase) / 1e9 : 0;
	r->tps = r->window_s > 0 ? (double)u->ok_in_window / r->window_s : 0;
	r->p50_ns = ldlat_quantile(u->lat, 0.50);
	r->p90_ns = ldlat_quantile(u->lat, 0.90);
	r->p99_ns = ldlat_quantile(u->lat, 0.99);
	r->max_ns = ldlat_max(u->lat);
	r->samples = ldlat_count(u->lat);
}

void lduac_report(struct lduac *u, const char *label, FILE *f)
{
	struct lduac_result r;

	lduac_result(u, &r);
	fprintf(f,
		"result mode=%s conns=%u up=%u failed=%u closed=%u rate=%.0f window=%u sent=%llu "
		"ok=%llu errors=%llu timeouts=%llu blocked=%llu window_s=%.3f tps=%.0f "
		"p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f samples=%zu\n",
		label, u->cf.conns, r.up, r.failed, r.closed, u->cf.rate, u->cf.window,
		(unsigned long long)r.sent, (unsigned long long)r.ok,
		(unsigned long long)r.errors, (unsigned long long)r.timeouts,
		(unsigned long long)u->blocked, r.window_s, r.tps, r.p50_ns / 1e3, r.p90_ns / 1e3,
		r.p99_ns / 1e3, r.max_ns / 1e3, r.samples);
	fflush(f);
}
