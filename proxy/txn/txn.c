/* txn: forwarded requests keyed by our branch + CSeq method, expiring after Timer F (INVITE:
 * Timer C) or, once answered, after a short absorption window; one FIFO queue per lifetime,
 * so expiry never scans. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/log.h"
#include "../hmap/hmap.h"
#include "txn.h"

#define LOG_MODULE "txn"

struct txn {
	struct txn_table *tab;  /* NULL once removed */
	struct hmap_le le;
	struct txn *older, *newer;  /* insertion order == expiry order within one queue */
	int q;                      /* enum txn_q */
	uint64_t born_ms;
	uint64_t life_ms;
	bool final;
	bool absorb;
	bool invite;
	bool done;                  /* txn_complete ran: a compact record */
	char *hid_vias, *hid_rrs, *dest;
	char *key;                  /* "branch method" */
	char *branch;
	const char *method;         /* points into key */
	struct conn *srv;
	enum conf_edge_id edge;
	struct sipmsg *req;
	char *via_branch;
	char *via_host;
	char *rsp;                  /* the final response sent upstream, for retransmissions */
	size_t rsp_len;
};

struct txn_queue {
	struct txn *oldest, *newest;
	size_t n;
};

/* One queue per lifetime, so that the oldest entry of each is the next to expire. */
enum txn_q {
	TXN_Q_PENDING = 0,          /* non-INVITE waiting for its final response: Timer F */
	TXN_Q_PENDING_INV,          /* INVITE waiting: Timer C */
	TXN_Q_DONE,                 /* non-INVITE answered: TXN_ABSORB_MS */
	TXN_Q_DONE_INV,             /* INVITE answered: TXN_INV_DONE_MS */
	TXN_NQ
};

struct txn_table {
	struct hmap *map;
	struct txn_queue q[TXN_NQ];
	struct event *tmr;
	uint64_t (*now_ms)(void);
	unsigned life_ms[TXN_NQ];
	txn_timeout_h *th;
	void *th_arg;
};

static void txn_destroy(void *data)
{
	struct txn *x = data;

	mem_deref(x->key);
	mem_deref(x->branch);
	mem_deref(x->srv);
	mem_deref(x->req);
	mem_deref(x->via_branch);
	mem_deref(x->via_host);
	mem_deref(x->hid_vias);
	mem_deref(x->hid_rrs);
	mem_deref(x->dest);
	mem_deref(x->rsp);
}

/* Takes x out of its queue (not out of the map). */
static void txn_unqueue(struct txn_table *t, struct txn *x)
{
	struct txn_queue *q = &t->q[x->q];

	q->n--;
	if (x->older)
		x->older->newer = x->newer;
	else
		q->oldest = x->newer;
	if (x->newer)
		x->newer->older = x->older;
	else
		q->newest = x->older;
	x->older = x->newer = NULL;
}

/* Appends x to queue qi, its life starting now. */
static void txn_enqueue(struct txn_table *t, struct txn *x, int qi)
{
	x->q = qi;
	x->born_ms = t->now_ms();
	x->life_ms = t->life_ms[qi];
	x->older = t->q[qi].newest;
	if (t->q[qi].newest)
		t->q[qi].newest->newer = x;
	else
		t->q[qi].oldest = x;
	t->q[qi].newest = x;
	t->q[qi].n++;
}

void txn_remove(struct txn_table *t, struct txn *x)
{
	if (!t || !x || x->tab != t)
		return;
	hmap_unlink(t->map, &x->le);
	txn_unqueue(t, x);
	x->tab = NULL;
	mem_deref(x);
}

static void txn_table_destroy(void *data)
{
	struct txn_table *t = data;

	int i;

	if (t->tmr)
		event_free(t->tmr);
	for (i = 0; i < TXN_NQ; i++)
		while (t->q[i].oldest)
			txn_remove(t, t->q[i].oldest);
	mem_deref(t->map);
}

size_t txn_expire(struct txn_table *t)
{
	uint64_t now;
	size_t n = 0;
	int i;

	if (!t)
		return 0;
	now = t->now_ms();
	for (i = 0; i < TXN_NQ; i++) {
		struct txn *x;

		while ((x = t->q[i].oldest) && now - x->born_ms >= x->life_ms) {
			log_debug("expired %s%s", x->key, x->final ? "" : " without final response");
			mem_ref(x);
			if (!x->final && t->th)
				t->th(x, t->th_arg);
			txn_remove(t, x);
			mem_deref(x);
			n++;
		}
	}
	return n;
}

static void txn_tick(evutil_socket_t fd, short what, void *arg)
{
	txn_expire(arg);
}

int txn_table_alloc(struct txn_table **tp, struct event_base *base)
{
	struct txn_table *t;
	int err;

	if (!tp)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), txn_table_destroy);
	if (!t)
		return ENOMEM;
	t->now_ms = clock_mono_ms;
	t->life_ms[TXN_Q_PENDING] = TXN_TIMER_F_MS;
	t->life_ms[TXN_Q_PENDING_INV] = TXN_TIMER_C_MS;
	t->life_ms[TXN_Q_DONE] = TXN_ABSORB_MS;
	t->life_ms[TXN_Q_DONE_INV] = TXN_INV_DONE_MS;
	err = hmap_alloc(&t->map, 4096);
	if (err)
		goto out;
	if (base) {
		struct timeval tv = { 0, TXN_TICK_MS * 1000 };

		t->tmr = event_new(base, -1, EV_PERSIST, txn_tick, t);
		if (!t->tmr || event_add(t->tmr, &tv) != 0) {
			err = ENOMEM;
			goto out;
		}
	}
out:
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}

void txn_table_set_clock(struct txn_table *t, uint64_t (*now_ms)(void))
{
	if (t)
		t->now_ms = now_ms ? now_ms : clock_mono_ms;
}

void txn_table_set_timers(struct txn_table *t, unsigned f_ms, unsigned c_ms)
{
	if (!t)
		return;
	if (f_ms)
		t->life_ms[TXN_Q_PENDING] = f_ms;
	if (c_ms)
		t->life_ms[TXN_Q_PENDING_INV] = c_ms;
}

void txn_table_set_done_timers(struct txn_table *t, unsigned absorb_ms, unsigned inv_ms)
{
	if (!t)
		return;
	if (absorb_ms)
		t->life_ms[TXN_Q_DONE] = absorb_ms;
	if (inv_ms)
		t->life_ms[TXN_Q_DONE_INV] = inv_ms;
}

void txn_table_set_timeout_handler(struct txn_table *t, txn_timeout_h *th, void *arg)
{
	if (!t)
		return;
	t->th = th;
	t->th_arg = arg;
}

static int txn_key(char *buf, size_t size, const char *branch, const char *method)
{
	int n = snprintf(buf, size, "%s %s", branch, method);

	return n < 0 || (size_t)n >= size ? EINVAL : 0;
}

int txn_insert(struct txn_table *t, struct txn **txp, const char *branch, const char *method,
	       struct conn *srv, enum conf_edge_id edge, struct sipmsg *req,
	       const char *via_branch, const char *via_host)
{
	struct txn *x;
	char key[512];
	int err;

	if (!t || !branch || !method || txn_key(key, sizeof(key), branch, method))
		return EINVAL;
	x = hmap_find(t->map, key);
	if (x) {
		if (txp)
			*txp = x;
		return EEXIST;
	}
	x = mem_zalloc(sizeof(*x), txn_destroy);
	if (!x)
		return ENOMEM;
	x->key = mem_strdup(key);
	x->branch = mem_strdup(branch);
	x->via_branch = mem_strdup(via_branch ? via_branch : "");
	x->via_host = mem_strdup(via_host ? via_host : "");
	if (!x->key || !x->branch || !x->via_branch || !x->via_host) {
		mem_deref(x);
		return ENOMEM;
	}
	x->method = x->key + strlen(branch) + 1;
	x->srv = mem_ref(srv);
	x->req = mem_ref(req);
	x->edge = edge;
	x->invite = !strcmp(method, "INVITE");
	err = hmap_insert(t->map, &x->le, x->key, x);
	if (err) {
		mem_deref(x);
		return err;
	}
	x->tab = t;
	txn_enqueue(t, x, x->invite ? TXN_Q_PENDING_INV : TXN_Q_PENDING);
	if (txp)
		*txp = x;
	return 0;
}

struct txn *txn_lookup(const struct txn_table *t, const char *branch, const char *method)
{
	char key[512];

	if (!t || !branch || !method || txn_key(key, sizeof(key), branch, method))
		return NULL;
	return hmap_find(t->map, key);
}

size_t txn_count(const struct txn_table *t)
{
	return t ? hmap_count(t->map) : 0;
}

void txn_pending_each(struct txn_table *t, txn_each_h *h, void *arg)
{
	int qs[2] = { TXN_Q_PENDING, TXN_Q_PENDING_INV }, i;

	for (i = 0; t && h && i < 2; i++) {
		struct txn *x, *next;

		for (x = t->q[qs[i]].oldest; x; x = next) {
			next = x->newer;
			h(x, arg);
		}
	}
}

size_t txn_pending(const struct txn_table *t)
{
	return t ? t->q[TXN_Q_PENDING].n + t->q[TXN_Q_PENDING_INV].n : 0;
}

struct conn *txn_conn(const struct txn *x)
{
	return x ? x->srv : NULL;
}

enum conf_edge_id txn_edge(const struct txn *x)
{
	return x ? x->edge : CONF_INTERNAL;
}

struct sipmsg *txn_request(const struct txn *x)
{
	return x ? x->req : NULL;
}

const char *txn_branch(const struct txn *x)
{
	return x ? x->branch : NULL;
}

const char *txn_method(const struct txn *x)
{
	return x ? x->method : NULL;
}

const char *txn_via_branch(const struct txn *x)
{
	return x ? x->via_branch : NULL;
}

const char *txn_via_host(const struct txn *x)
{
	return x ? x->via_host : NULL;
}

void txn_set_final(struct txn *x)
{
	if (x)
		x->final = true;
}

bool txn_has_final(const struct txn *x)
{
	return x && x->final;
}

static int txn_setstr(char **dst, const char *s)
{
	char *c = NULL;

	if (s && *s) {
		c = mem_strdup(s);
		if (!c)
			return ENOMEM;
	}
	mem_deref(*dst);
	*dst = c;
	return 0;
}

int txn_set_hidden(struct txn *x, const char *vias, const char *rrs)
{
	int err;

	if (!x)
		return EINVAL;
	err = txn_setstr(&x->hid_vias, vias);
	return err ? err : txn_setstr(&x->hid_rrs, rrs);
}

const char *txn_hidden_vias(const struct txn *x)
{
	return x ? x->hid_vias : NULL;
}

const char *txn_hidden_rrs(const struct txn *x)
{
	return x ? x->hid_rrs : NULL;
}

int txn_set_dest(struct txn *x, const char *fqdn)
{
	return x ? txn_setstr(&x->dest, fqdn) : EINVAL;
}

const char *txn_dest(const struct txn *x)
{
	return x ? x->dest : NULL;
}

void txn_set_conn(struct txn *x, struct conn *c)
{
	if (!x || !c || c == x->srv || x->done)
		return;
	mem_deref(x->srv);
	x->srv = mem_ref(c);
}

/* RFC 3261 17.2.2 / 17.2.1 over TLS/TCP (Timers J and I are 0): the server transaction could
 * end with its final response. What stays is a compact record, only so that a sender that
 * lost its connection and sends the request again on a new one gets the same answer instead
 * of a second forwarded copy (16.11): the key, and the encoded final response if it is small.
 * The parsed request, the connection and the hidden headers go now; an INVITE keeps its
 * connection and hidden headers, which 2xx retransmissions and the ACK of a non-2xx still
 * need (RFC 6026 Timer L, RFC 3261 Timer H: 64*T1), and repeats only a non-2xx. */
void txn_complete(struct txn *x, int status, const char *rsp, size_t len)
{
	struct txn_table *t;

	if (!x || x->done)
		return;
	x->final = true;
	x->done = true;
	x->req = mem_deref(x->req);
	x->dest = mem_deref(x->dest);
	x->via_branch = mem_deref(x->via_branch);
	x->via_host = mem_deref(x->via_host);
	if (!x->invite) {
		x->srv = mem_deref(x->srv);
		x->hid_vias = mem_deref(x->hid_vias);
		x->hid_rrs = mem_deref(x->hid_rrs);
	}
	if (rsp && len <= TXN_RSP_MAX && (!x->invite || status >= 300)) {
		x->rsp = mem_zalloc(len + 1, NULL);
		if (x->rsp) {
			memcpy(x->rsp, rsp, len);
			x->rsp_len = len;
		}
	}
	t = x->tab;
	if (!t)
		return;
	txn_unqueue(t, x);
	txn_enqueue(t, x, x->invite ? TXN_Q_DONE_INV : TXN_Q_DONE);
}

bool txn_is_complete(const struct txn *x)
{
	return x && x->done;
}

const char *txn_response(const struct txn *x, size_t *lenp)
{
	if (!x || !x->rsp)
		return NULL;
	if (lenp)
		*lenp = x->rsp_len;
	return x->rsp;
}

void txn_set_absorb(struct txn *x)
{
	if (x)
		x->absorb = true;
}

bool txn_absorbs(const struct txn *x)
{
	return x && x->absorb;
}

bool txn_is_live(const struct txn *x)
{
	return x && x->tab != NULL;
}

size_t txn_debug(const struct txn_table *t, char *buf, size_t size)
{
	const struct txn *x;
	size_t off = 0;
	uint64_t now;
	int i;

	if (!t || !buf || !size)
		return 0;
	buf[0] = '\0';
	now = t->now_ms();
	for (i = 0, x = NULL; i < TXN_NQ && off < size; i++) {
		for (x = t->q[i].oldest; x && off < size; x = x->newer) {
			int n = snprintf(buf + off, size - off,
					 "%s edge=%s age_ms=%llu via=%s;%s%s\n", x->key,
					 conf_edge_name(x->edge),
					 (unsigned long long)(now - x->born_ms),
					 x->via_host ? x->via_host : "",
					 x->via_branch ? x->via_branch : "",
					 x->done ? " done" : "");

			if (n < 0)
				return off;
			off += (size_t)n;
		}
	}
	return off < size ? off : size - 1;
}
