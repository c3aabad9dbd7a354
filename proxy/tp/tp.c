/* tp: the two edge listeners (mutual TLS; plain TCP only where allowed) and accepted conns. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "../hmap/hmap.h"
#include "tp.h"

#define LOG_MODULE "tp"

/* Connections per source address of one edge (the per-peer cap). */
struct tp_src {
	struct hmap_le le;
	unsigned n;
	size_t partial;              /* bytes of incomplete messages over its connections */
	char ip[64];
};

struct tp_conn {
	struct tp *tp;
	struct conn *c;
	enum conf_edge_id edge;
	struct tp_src *src;
	size_t held;                 /* its share of src->partial */
	uint64_t last_ms;            /* its last complete message (or its accept), monotonic */
	struct tp_conn *prev, *next; /* tp->conns, the most recently active first */
};

struct tp_edge {
	struct tp *tp;
	enum conf_edge_id id;
	struct tlsctx *server_tls;
	struct tlsctx *client_tls;
	struct hmap *srcs;           /* tp_src by IP */
	struct listener *tls_listener;
	struct listener *tcp_listener;
	size_t nconns;
};

struct tp {
	struct event_base *base;
	struct tp_edge edge[CONF_NEDGES];
	struct tp_conn *conns, *oldest; /* ordered by last activity: one idle sweep for all */
	struct event *sweep;         /* at the oldest connection's idle deadline */
	unsigned idle_ms;
	struct conf_limits lim;
	struct tp_stats st;
	tp_bad_h *bh;
	tp_recv_h *rh;
	void *arg;
};

/* Set before tp_alloc when several worker processes share the listening addresses. */
static bool tp_reuseport;

void tp_set_reuseport(bool on)
{
	tp_reuseport = on;
}

static void tp_list_remove(struct tp *tp, struct tp_conn *tc)
{
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		tp->conns = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
	else
		tp->oldest = tc->prev;
	tc->prev = tc->next = NULL;
}

static void tp_list_push(struct tp *tp, struct tp_conn *tc)
{
	tc->prev = NULL;
	tc->next = tp->conns;
	if (tp->conns)
		tp->conns->prev = tc;
	else
		tp->oldest = tc;
	tp->conns = tc;
}

/* The sweep waits for the oldest connection's deadline; armed only when it is not already
 * (activity only moves deadlines later, so an early wake-up just re-arms). */
static void tp_sweep_arm(struct tp *tp, uint64_t now)
{
	uint64_t due, wait;
	struct timeval tv;

	if (!tp->oldest || !tp->sweep || evtimer_pending(tp->sweep, NULL))
		return;
	due = tp->oldest->last_ms + tp->idle_ms;
	wait = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(tp->sweep, &tv);
}

static void tp_conn_unlink(struct tp_conn *tc)
{
	struct tp *tp = tc->tp;
	bool linked = tc->prev || tc->next || tp->conns == tc;

	if (!linked)
		return;
	tp_list_remove(tp, tc);
	tp->edge[tc->edge].nconns--;
	if (tc->src)
		tc->src->partial -= tc->held;
	tc->held = 0;
	if (tc->src && !--tc->src->n) {
		hmap_unlink(tp->edge[tc->edge].srcs, &tc->src->le);
		mem_deref(tc->src);
	}
	tc->src = NULL;
}

static void tp_conn_destroy(void *data)
{
	struct tp_conn *tc = data;

	mem_deref(tc->c);
}

static void tp_destroy(void *data)
{
	struct tp *tp = data;
	int i;

	while (tp->conns) {
		struct tp_conn *tc = tp->conns;

		tp_conn_unlink(tc);
		conn_close(tc->c);
		mem_deref(tc);
	}
	for (i = 0; i < CONF_NEDGES; i++) {
		mem_deref(tp->edge[i].tls_listener);
		mem_deref(tp->edge[i].tcp_listener);
		mem_deref(tp->edge[i].server_tls);
		mem_deref(tp->edge[i].client_tls);
		mem_deref(tp->edge[i].srcs);
	}
	if (tp->sweep)
		event_free(tp->sweep);
}

/* ROB-003: a complete message (or the accept) restarts the connection's idle time: it moves
 * to the front of the activity order, which the one sweep timer walks from the back. */
static void tp_idle_arm(struct tp_conn *tc)
{
	struct tp *tp = tc->tp;
	uint64_t now = clock_mono_ms();

#ifdef AP_MUTANT_ROB_IDLE_BY_AGE
	if (tc->last_ms)  /* the deadline counts from the accept, not the last message */
		return;
#endif
	tc->last_ms = now;
	if (tp->conns != tc) {
		tp_list_remove(tp, tc);
		tp_list_push(tp, tc);
	}
	tp_sweep_arm(tp, now);
}

static void tp_conn_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct tp_conn *tc = arg;

	tp_idle_arm(tc);
	tc->tp->rh(c, tc->edge, buf, len, tc->tp->arg);
}

static void tp_conn_bad(struct conn *c, int err, const char *buf, size_t len, bool keep,
			void *arg)
{
	struct tp_conn *tc = arg;
	char peer[64];

	if (err == ETIMEDOUT) {
		tc->tp->st.msg_timeouts++;
		log_info("%s edge: connection from %s: a message incomplete after %u ms (%zu "
			 "bytes held): closed", conf_edge_name(tc->edge),
			 sa_fmt(conn_peer_addr(c), peer, sizeof(peer)),
			 tc->tp->lim.msg_timeout_ms, len);
		return;
	}
	tc->tp->st.refused_input++;
	if (tc->tp->bh)
		tc->tp->bh(c, tc->edge, err, buf, len, keep, tc->tp->arg);
}

/* ROB-003: what one source address holds of messages not yet complete, over all its
 * connections; the connection that takes it over the cap closes (its answers still go). */
static void tp_conn_partial(struct conn *c, size_t held, void *arg)
{
	struct tp_conn *tc = arg;
	char peer[64];

	if (!tc->src)
		return;
	tc->src->partial = tc->src->partial - tc->held + held;
	tc->held = held;
	if (tc->src->partial <= tc->tp->lim.peer_partial_max)
		return;
	tc->tp->st.partial_closes++;
	log_warn("%s edge: %s holds %zu bytes of incomplete messages, over peer_partial_max "
		 "%u: connection closed", conf_edge_name(tc->edge),
		 sa_fmt(conn_peer_addr(c), peer, sizeof(peer)), tc->src->partial,
		 tc->tp->lim.peer_partial_max);
	conn_shutdown(c, ENOBUFS);
}

/* The conn may still be on the stack of its own close callback: release it from the loop. */
static void tp_conn_release(evutil_socket_t fd, short what, void *arg)
{
	mem_deref(arg);
}

static void tp_conn_closed(struct conn *c, int err, void *arg)
{
	struct tp_conn *tc = arg;
	char peer[64];
	struct timeval now = { 0, 0 };

	log_info("%s edge: connection from %s (%s) closed: %s", conf_edge_name(tc->edge),
		 sa_fmt(conn_peer_addr(c), peer, sizeof(peer)), conn_peer_cn(c),
		 err ? strerror(err) : "by peer");
	tp_conn_unlink(tc);
	if (event_base_once(tc->tp->base, -1, EV_TIMEOUT, tp_conn_release, tc, &now) != 0)
		log_warn("cannot defer connection release; keeping it");
}

/* ROB-003: nothing complete for idle_ms (idle, or a partial message that stalled). */
static void tp_conn_idle(struct tp_conn *tc)
{
	struct timeval now = { 0, 0 };
	char peer[64];

	tc->tp->st.idle_closes++;
	log_info("%s edge: connection from %s idle or stalled for %u ms: closed",
		 conf_edge_name(tc->edge), sa_fmt(conn_peer_addr(tc->c), peer, sizeof(peer)),
		 tc->tp->idle_ms);
	conn_close(tc->c);
	tp_conn_unlink(tc);
	if (event_base_once(tc->tp->base, -1, EV_TIMEOUT, tp_conn_release, tc, &now) != 0)
		log_warn("cannot defer connection release; keeping it");
}

/* One timer for every connection (a libevent timer each cost ~150 B of an idle connection):
 * closes those at the back of the activity order whose idle time is up, then waits for the
 * next one. */
static void tp_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tp *tp = arg;
	uint64_t now = clock_mono_ms();

	while (tp->oldest && tp->oldest->last_ms + tp->idle_ms <= now)
		tp_conn_idle(tp->oldest);
	tp_sweep_arm(tp, now);
}

/* ROB-003: one more connection from this address, unless it has its share already. */
static int tp_src_take(struct tp_edge *e, struct tp_conn *tc, const struct sockaddr *sa)
{
	char ip[64];
	struct tp_src *src;

	sa_ip(sa, ip, sizeof(ip));
	src = hmap_find(e->srcs, ip);
	if (src && src->n >= TP_MAX_CONNS_PER_IP)
		return EMFILE;
	if (!src) {
		src = mem_zalloc(sizeof(*src), NULL);
		if (!src)
			return ENOMEM;
		snprintf(src->ip, sizeof(src->ip), "%s", ip);
		if (hmap_insert(e->srcs, &src->le, src->ip, src)) {
			mem_deref(src);
			return ENOMEM;
		}
	}
	src->n++;
	tc->src = src;
	return 0;
}

static void tp_accept(struct conn *c, void *arg)
{
	struct tp_edge *e = arg;
	struct tp *tp = e->tp;
	struct tp_conn *tc = mem_zalloc(sizeof(*tc), tp_conn_destroy);
	struct conn_handlers h = { .msg = tp_conn_msg, .close = tp_conn_closed };
	/* lenient framing: what can be answered reaches the spine, which refuses it with a
	 * status (RFC 4475) rather than a silently closed connection; what is too large reaches
	 * it too, to be answered 413/513 (issue 11) */
	struct sipframe_limits lim = { .max_head = TP_HEAD_SLACK * tp->lim.max_header,
					.max_body = tp->lim.max_body, .lenient = true,
					.max_discard = tp->lim.max_discard };
	/* the body limit (IM-004) is enforced here first (413 from spine_refused), then in the
	 * spine for messages on outgoing connections: its mutants bend both */
#ifdef AP_MUTANT_IM_NO_BODY_LIMIT
	lim.max_body = lim.max_discard > lim.max_body ? lim.max_discard : 4 * lim.max_body;
#elif defined(AP_MUTANT_IM_BODY_LIMIT_OFF_BY_ONE)
	lim.max_body--;
#endif
	char peer[64];
	int err;

	err = tc ? tp_src_take(e, tc, conn_peer_addr(c)) : ENOMEM;
	if (err) {
		log_warn("%s edge: connection from %s refused: %s", conf_edge_name(e->id),
			 sa_fmt(conn_peer_addr(c), peer, sizeof(peer)),
			 err == EMFILE ? "per-address connection cap reached (ROB-003)" :
			 strerror(err));
		conn_close(c);
		mem_deref(c);
		mem_deref(tc);
		return;
	}
	conn_set_limits(c, &lim);
	conn_set_msg_timeout(c, tp->lim.msg_timeout_ms);
	tc->tp = tp;
	tc->c = c;
	tc->edge = e->id;
	tp_list_push(tp, tc);
	e->nconns++;
	h.arg = tc;
	conn_set_handlers(c, &h);
	conn_set_guard(c, tp_conn_bad, tp_conn_partial);
	tp_idle_arm(tc);
	log_info("%s edge: accepted %s connection from %s", conf_edge_name(e->id),
		 conn_is_tls(c) ? "TLS" : "TCP", sa_fmt(conn_peer_addr(c), peer, sizeof(peer)));
}

static int tp_edge_init(struct tp *tp, const struct conf *cfg, enum conf_edge_id id)
{
	const struct conf_edge *ce = conf_edge(cfg, id);
	struct tp_edge *e = &tp->edge[id];
	struct tlsctx_conf tc = {
		.cert_file = ce->cert,
		.key_file = ce->key,
		.ca_file = ce->ca,
		.keylog_file = conf_keylog_file(cfg),
		.require_peer_cert = true, /* TLS-001, TLS-006: mutual TLS on both edges */
		.min_version = ce->tls_min_version, /* TLS-008 */
		.cipher_list = ce->ciphers,
		.ciphersuites = ce->ciphersuites,
	};
	char addr[64];
	int err;

	e->tp = tp;
	e->id = id;
	err = hmap_alloc(&e->srcs, 64);
	if (!err)
		err = tlsctx_alloc(&e->server_tls, true, &tc);
	if (!err)
		err = tlsctx_alloc(&e->client_tls, false, &tc);
	if (err) {
		log_error("%s edge: TLS context: %s", conf_edge_name(id), strerror(err));
		return err;
	}
	err = listener_alloc(&e->tls_listener, tp->base, e->server_tls,
			     (const struct sockaddr *)&ce->listen_sa, tp_reuseport, tp_accept,
			     e);
	if (err) {
		log_error("%s edge: cannot listen on %s: %s", conf_edge_name(id), ce->listen,
			  strerror(err));
		return err;
	}
	log_info("%s edge: MTLS on %s as %s", conf_edge_name(id),
		 sa_fmt(listener_addr(e->tls_listener), addr, sizeof(addr)), ce->fqdn);
	if (ce->tcp_listen && conf_allow_tcp(cfg)) {
		err = listener_alloc(&e->tcp_listener, tp->base, NULL,
				     (const struct sockaddr *)&ce->tcp_listen_sa, tp_reuseport,
				     tp_accept,
				     e);
		if (err) {
			log_error("%s edge: cannot listen (TCP) on %s: %s", conf_edge_name(id),
				  ce->tcp_listen, strerror(err));
			return err;
		}
		log_warn("%s edge: plain TCP on %s (allow_tcp)", conf_edge_name(id),
			 ce->tcp_listen);
	}
	return 0;
}

int tp_alloc(struct tp **tpp, struct event_base *base, const struct conf *cfg, tp_recv_h *rh,
	     void *arg)
{
	struct tp *tp;
	int err, i;

	if (!tpp || !base || !cfg || !rh)
		return EINVAL;
	tp = mem_zalloc(sizeof(*tp), tp_destroy);
	if (!tp)
		return ENOMEM;
	tp->base = base;
	tp->lim = *conf_limits(cfg);
	tp->idle_ms = tp->lim.idle_ms ? tp->lim.idle_ms : TP_IDLE_MS;
	tp->sweep = evtimer_new(base, tp_sweep_cb, tp);
	if (!tp->sweep) {
		mem_deref(tp);
		return ENOMEM;
	}
	tp->rh = rh;
	tp->arg = arg;
	for (i = 0, err = 0; i < CONF_NEDGES && !err; i++)
		err = tp_edge_init(tp, cfg, (enum conf_edge_id)i);
	if (err)
		mem_deref(tp);
	else
		*tpp = tp;
	return err;
}

struct tlsctx *tp_client_tls(const struct tp *tp, enum conf_edge_id edge)
{
	return tp && edge < CONF_NEDGES ? tp->edge[edge].client_tls : NULL;
}

void tp_set_bad_handler(struct tp *tp, tp_bad_h *bh)
{
	if (tp)
		tp->bh = bh;
}

void tp_stats(const struct tp *tp, struct tp_stats *st)
{
	if (tp && st)
		*st = tp->st;
}

void tp_set_idle_timeout(struct tp *tp, unsigned ms)
{
	if (!tp)
		return;
	tp->idle_ms = ms ? ms : tp->lim.idle_ms ? tp->lim.idle_ms : TP_IDLE_MS;
	if (tp->sweep)
		evtimer_del(tp->sweep);
	tp_sweep_arm(tp, clock_mono_ms());
}

int tp_set_tls(struct tp *tp, enum conf_edge_id edge, struct tlsctx *server_tls)
{
	struct tp_edge *e;

	if (!tp || edge >= CONF_NEDGES || !server_tls || !tlsctx_is_server(server_tls))
		return EINVAL;
	e = &tp->edge[edge];
	listener_set_tls(e->tls_listener, server_tls);
	mem_deref(e->server_tls);
	e->server_tls = mem_ref(server_tls);
	log_info("%s edge: new server certificate for future connections", conf_edge_name(edge));
	return 0;
}

size_t tp_conn_count(const struct tp *tp, enum conf_edge_id edge)
{
	return tp && edge < CONF_NEDGES ? tp->edge[edge].nconns : 0;
}
