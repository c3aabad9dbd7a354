/* txn: forwarded requests keyed by our branch + CSeq method, expiring after Timer F (INVITE:
 * Timer C); two queues in insertion order, so expiry never scans. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/log.h"
#include "../hmap/hmap.h"
#include "txn.h"

#define LOG_MODULE "txn"

struct txn {
	struct txn_table *tab;  /* NULL once removed */
	struct hmap_le le;
	struct txn *older, *newer;  /* insertion order == expiry order within one queue */
	int q;                      /* queue: 0 non-INVITE, 1 INVITE */
	uint64_t born_ms;
	uint64_t life_ms;
	bool final;
	bool absorb;
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
};

struct txn_table {
	struct hmap *map;
	struct txn_queue q[2];
	struct event *tmr;
	uint64_t (*now_ms)(void);
	unsigned life_ms[2];
	txn_timeout_h *th;
	void *th_arg;
};

static uint64_t txn_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

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

void txn_remove(struct txn_table *t, struct txn *x)
{
	struct txn_queue *q;

	if (!t || !x || x->tab != t)
		return;
	q = &t->q[x->q];
	hmap_unlink(t->map, &x->le);
	if (x->older)
		x->older->newer = x->newer;
	else
		q->oldest = x->newer;
	if (x->newer)
		x->newer->older = x->older;
	else
		q->newest = x->older;
	x->older = x->newer = NULL;
	x->tab = NULL;
	mem_deref(x);
}

static void txn_table_destroy(void *data)
{
	struct txn_table *t = data;

	if (t->tmr)
		event_free(t->tmr);
	while (t->q[0].oldest)
		txn_remove(t, t->q[0].oldest);
	while (t->q[1].oldest)
		txn_remove(t, t->q[1].oldest);
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
	for (i = 0; i < 2; i++) {
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
	t->now_ms = txn_mono_ms;
	t->life_ms[0] = TXN_TIMER_F_MS;
	t->life_ms[1] = TXN_TIMER_C_MS;
	err = hmap_alloc(&t->map, 4096);
	if (err)
		goto out;
	if (base) {
		struct timeval tv = { 1, 0 };

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
		t->now_ms = now_ms ? now_ms : txn_mono_ms;
}

void txn_table_set_timers(struct txn_table *t, unsigned f_ms, unsigned c_ms)
{
	if (!t)
		return;
	if (f_ms)
		t->life_ms[0] = f_ms;
	if (c_ms)
		t->life_ms[1] = c_ms;
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
	x->q = strcmp(method, "INVITE") ? 0 : 1;
	x->born_ms = t->now_ms();
	x->life_ms = t->life_ms[x->q];
	err = hmap_insert(t->map, &x->le, x->key, x);
	if (err) {
		mem_deref(x);
		return err;
	}
	x->tab = t;
	x->older = t->q[x->q].newest;
	if (t->q[x->q].newest)
		t->q[x->q].newest->newer = x;
	else
		t->q[x->q].oldest = x;
	t->q[x->q].newest = x;
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
	if (!x || !c || c == x->srv)
		return;
	mem_deref(x->srv);
	x->srv = mem_ref(c);
}

int txn_set_response(struct txn *x, const char *buf, size_t len)
{
	char *copy;

	if (!x || !buf)
		return EINVAL;
	copy = mem_zalloc(len + 1, NULL);
	if (!copy)
		return ENOMEM;
	memcpy(copy, buf, len);
	mem_deref(x->rsp);
	x->rsp = copy;
	x->rsp_len = len;
	return 0;
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

	if (!t || !buf || !size)
		return 0;
	buf[0] = '\0';
	now = t->now_ms();
	for (x = t->q[0].oldest ? t->q[0].oldest : t->q[1].oldest; x && off < size;
	     x = x->newer ? x->newer : (x->q == 0 ? t->q[1].oldest : NULL)) {
		int n = snprintf(buf + off, size - off, "%s edge=%s age_ms=%llu via=%s;%s\n",
				 x->key, conf_edge_name(x->edge),
				 (unsigned long long)(now - x->born_ms), x->via_host,
				 x->via_branch);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return off < size ? off : size - 1;
}
