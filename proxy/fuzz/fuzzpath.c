/* fuzzpath: a detached spine per run, fed through a socketpair connection, drained by hand. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipframe.h"
#include "sip/sipscan.h"
#include "../spine.h"
#include "../state/state.h"
#include "../store/store.h"
#include "fuzzpath.h"

#define LOG_MODULE "fuzzpath"

#define FUZZPATH_FWD_MAX 64     /* forwarded requests kept per run for answering */
#define FUZZPATH_PIECE 1400     /* input written in pieces of this size, a loop turn each */
#define FUZZPATH_IDLE_TURNS 4   /* loop turns without progress that end a run */

/* One connection of the run: its edge, so the receive handler knows where it is. */
struct fuzzpath_side {
	struct fuzzpath *fp;
	enum conf_edge_id edge;
};

struct fuzzpath {
	struct event_base *base;
	const struct conf *cfg;
	struct state *st;
	struct spine *spine;              /* during a run */
	struct fuzzpath_side side[CONF_NEDGES];
	struct evbuffer *answers, *fwd;
	size_t fwd_off[FUZZPATH_FWD_MAX + 1];
	char fwd_edge[FUZZPATH_FWD_MAX + 1];
	size_t nfwd;
};

static void fuzzpath_destroy(void *data)
{
	struct fuzzpath *fp = data;

	mem_deref(fp->spine);
	mem_deref(fp->st);
	mem_deref((void *)fp->cfg);
	if (fp->answers)
		evbuffer_free(fp->answers);
	if (fp->fwd)
		evbuffer_free(fp->fwd);
	if (fp->base)
		event_base_free(fp->base);
}

/* The snapshot a running proxy would load from its database. */
static int fuzzpath_state(struct fuzzpath *fp, const char *const *users)
{
	struct store *s = NULL;
	char why[256] = "";
	int err = store_open(&s, ":memory:", false, fp->cfg, why, sizeof(why));

	for (; !err && users && *users; users++)
		err = store_user_set(s, *users, 1, 0, why, sizeof(why));
	if (!err)
		err = store_load_state(s, fp->cfg, &fp->st);
	if (err)
		log_error("no policy snapshot: %s", *why ? why : strerror(err));
	mem_deref(s);
	return err;
}

int fuzzpath_alloc(struct fuzzpath **fpp, const struct conf *cfg, const char *const *users)
{
	struct fuzzpath *fp;
	int err;

	if (!fpp || !cfg)
		return EINVAL;
	fp = mem_zalloc(sizeof(*fp), fuzzpath_destroy);
	if (!fp)
		return ENOMEM;
	fp->cfg = mem_ref((void *)cfg);
	fp->base = event_base_new();
	fp->answers = evbuffer_new();
	fp->fwd = evbuffer_new();
	if (!fp->base || !fp->answers || !fp->fwd) {
		err = ENOMEM;
		goto out;
	}
	err = fuzzpath_state(fp, users);
out:
	if (err)
		mem_deref(fp);
	else
		*fpp = fp;
	return err;
}

static void fuzzpath_sink(enum conf_edge_id out, const char *dest, const char *buf, size_t len,
			  void *arg)
{
	struct fuzzpath *fp = arg;

	if (fp->nfwd < FUZZPATH_FWD_MAX) {
		fp->fwd_edge[fp->nfwd] = out == CONF_INTERNAL ? 'i' : 'e';
		fp->fwd_off[++fp->nfwd] = evbuffer_get_length(fp->fwd) + len;
	}
	evbuffer_add(fp->fwd, buf, len);
}

static void fuzzpath_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct fuzzpath_side *sd = arg;

	spine_input(sd->fp->spine, c, sd->edge, buf, len);
}

/* Unread bytes on fd (what the proxy's connection has not taken in yet). */
static int fuzzpath_unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

/* Loop turns: the rest of the input goes in, answers come out into fp->answers, until the
 * connection takes nothing more for a few turns. */
static void fuzzpath_pump(struct fuzzpath *fp, int us, int them, const uint8_t *data,
			  size_t len)
{
	size_t off = 0;
	unsigned idle = 0;
	char buf[4096];
	ssize_t n;

	while (idle < FUZZPATH_IDLE_TURNS) {
		int before = fuzzpath_unread(us);
		bool moved = false;

		if (off < len) {
			n = write(them, data + off, len - off < FUZZPATH_PIECE ? len - off :
				  FUZZPATH_PIECE);
			if (n > 0) {
				off += (size_t)n;
				moved = true;
			}
		}
		event_base_loop(fp->base, EVLOOP_NONBLOCK);
		while ((n = read(them, buf, sizeof(buf))) > 0) {
			evbuffer_add(fp->answers, buf, (size_t)n);
			moved = true;
		}
		if (fuzzpath_unread(us) != before)
			moved = true;
		idle = moved ? 0 : idle + 1;
	}
}

/* The destination's answer to each forwarded request, through the response path. */
static void fuzzpath_answer_fwd(struct fuzzpath *fp, struct conn *out[CONF_NEDGES], int status)
{
	const char *all = (const char *)evbuffer_pullup(fp->fwd, -1);
	size_t i;

	for (i = 0; all && i < fp->nfwd; i++) {
		const char *m = all + fp->fwd_off[i];
		size_t mlen = fp->fwd_off[i + 1] - fp->fwd_off[i];
		enum conf_edge_id e = fp->fwd_edge[i] == 'i' ? CONF_INTERNAL : CONF_EXTERNAL;
		struct sipscan sc;
		char *rsp = NULL;
		size_t rlen;

		if (sipscan_parse(&sc, m, mlen) || !sipscan_answerable(&sc) ||
		    (sc.method.l == 3 && !memcmp(sc.method.p, "ACK", 3)))
			continue;
		if (sipscan_response(&sc, status, NULL, "dest.test", NULL, "fuzzdest", &rsp,
				     &rlen))
			continue;
		spine_input(fp->spine, out[e], e, rsp, rlen);
		mem_deref(rsp);
	}
}

static int fuzzpath_conn(struct fuzzpath *fp, enum conf_edge_id edge, const char *peer_cn,
			 int fd, struct conn **cp)
{
	struct conn_handlers h = { NULL, fuzzpath_msg, NULL, &fp->side[edge] };
	struct sockaddr_storage sa;

	sa_set(&sa, edge == CONF_EXTERNAL ? "127.77.130.10" : "127.77.130.2", 40000);
	fp->side[edge] = (struct fuzzpath_side){ fp, edge };
	return conn_adopt(cp, fp->base, fd, peer_cn, (struct sockaddr *)&sa, &h);
}

int fuzzpath_run(struct fuzzpath *fp, enum conf_edge_id edge, const char *peer_cn,
		 const uint8_t *data, size_t len, int status)
{
	struct conn *c[CONF_NEDGES] = { NULL, NULL };
	enum conf_edge_id other = edge == CONF_INTERNAL ? CONF_EXTERNAL : CONF_INTERNAL;
	int sv[2] = { -1, -1 }, ov[2] = { -1, -1 }, us, err;

	if (!fp || edge >= CONF_NEDGES || (!data && len))
		return EINVAL;
	evbuffer_drain(fp->answers, evbuffer_get_length(fp->answers));
	evbuffer_drain(fp->fwd, evbuffer_get_length(fp->fwd));
	fp->nfwd = 0;
	err = spine_alloc_detached(&fp->spine, fp->base, fp->cfg, fuzzpath_sink, fp);
	if (err)
		return err;
	spine_set_state(fp->spine, fp->st);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, ov)) {
		err = errno;
		goto out;
	}
	us = sv[0];
	err = fuzzpath_conn(fp, edge, peer_cn, sv[0], &c[edge]);
	sv[0] = -1; /* the conn's now, also on failure */
	if (!err)
		err = fuzzpath_conn(fp, other, "", ov[0], &c[other]);
	ov[0] = -1;
	if (err)
		goto out;
	fuzzpath_pump(fp, us, sv[1], data, len);
	if (status >= 100 && status <= 699 && fp->nfwd) {
		struct conn *out[CONF_NEDGES];

		out[edge] = c[edge];
		out[other] = c[other];
		fuzzpath_answer_fwd(fp, out, status);
		fuzzpath_pump(fp, -1, sv[1], NULL, 0);
	}
out:
	/* the spine first: its transactions hold the connections */
	fp->spine = mem_deref(fp->spine);
	mem_deref(c[CONF_INTERNAL]);
	mem_deref(c[CONF_EXTERNAL]);
	event_base_loop(fp->base, EVLOOP_NONBLOCK);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (ov[0] >= 0)
		close(ov[0]);
	if (ov[1] >= 0)
		close(ov[1]);
	return err;
}

const char *fuzzpath_answers(const struct fuzzpath *fp, size_t *lenp)
{
	size_t n = fp ? evbuffer_get_length(fp->answers) : 0;

	if (lenp)
		*lenp = n;
	return n ? (const char *)evbuffer_pullup(fp->answers, -1) : "";
}

const char *fuzzpath_forwarded(const struct fuzzpath *fp, size_t *lenp)
{
	size_t n = fp ? evbuffer_get_length(fp->fwd) : 0;

	if (lenp)
		*lenp = n;
	return n ? (const char *)evbuffer_pullup(fp->fwd, -1) : "";
}

const char *fuzzpath_forwarded_edges(const struct fuzzpath *fp)
{
	struct fuzzpath *w = (struct fuzzpath *)fp;

	if (!fp)
		return "";
	w->fwd_edge[fp->nfwd] = '\0';
	return fp->fwd_edge;
}
