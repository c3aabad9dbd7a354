/* lua_load: pressure on the proxy from one lab site — a flood of requests on one connection, and
 * many connections held open at once (ROB-003, ROB-004). Bounded in count and time. */
#define LOG_MODULE "load"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "lab.h"
#include "scen.h"

#define FLOOD_MAX 20000
#define HOLD_MAX 256
#define MT_HOLD "piclab.Held"
#define MT_FLOOD "piclab.Flood"

/* --- flood --- */

struct flood {
	struct conn *c;
	struct scen_waiter *w;   /* borrowed: the waiter owns us */
	struct event *timer;
	unsigned sent, finals, provisional, retry_after;
	unsigned by_class[7];    /* 1xx..6xx */
	unsigned n200, n503;
	bool closed, done;
	/* { answers = true }: every final answer by Call-ID (AUD-004: which copies were
	 * acknowledged before a crash) */
	bool keep;
	bool owned;              /* by a Flood userdata (flood_start): w is a reference then */
	struct flood_answer {
		char *call_id;
		int status;
	} *ans;
	size_t nans, cap;
};

static void flood_destroy(void *data)
{
	struct flood *f = data;

	if (f->timer)
		event_free(f->timer);
	if (f->c)
		conn_close(f->c);
	mem_deref(f->c);
	if (f->owned)
		mem_deref(f->w);
	for (size_t i = 0; i < f->nans; i++)
		free(f->ans[i].call_id);
	free(f->ans);
}

static void flood_keep(struct flood *f, const struct sipmsg *m, int status)
{
	const char *cid = sipmsg_callid(m);
	struct flood_answer *a;

	if (!f->keep || !cid)
		return;
	if (f->nans == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;

		a = realloc(f->ans, cap * sizeof(*a));
		if (!a)
			return;
		f->ans = a;
		f->cap = cap;
	}
	f->ans[f->nans].call_id = strdup(cid);
	if (f->ans[f->nans].call_id)
		f->ans[f->nans++].status = status;
}

/* Pushes the flood's result table on L. */
static void flood_push(lua_State *L, const struct flood *f)
{
	int i;

	lua_createtable(L, 0, 9);
	lua_pushinteger(L, f->sent);
	lua_setfield(L, -2, "sent");
	lua_pushinteger(L, f->finals);
	lua_setfield(L, -2, "answered");
	lua_pushinteger(L, f->n200);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, f->n503);
	lua_setfield(L, -2, "throttled");
	lua_pushinteger(L, f->retry_after);
	lua_setfield(L, -2, "retry_after");
	lua_pushboolean(L, f->closed);
	lua_setfield(L, -2, "closed");
	lua_createtable(L, 0, 6);
	for (i = 1; i < 7; i++) {
		lua_pushinteger(L, f->by_class[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setfield(L, -2, "classes");
	if (f->keep) {
		lua_createtable(L, 0, (int)f->nans);
		for (size_t k = 0; k < f->nans; k++) {
			lua_pushinteger(L, f->ans[k].status);
			lua_setfield(L, -2, f->ans[k].call_id);
		}
		lua_setfield(L, -2, "answers");
	}
}

/* Every answer in, the connection gone or the time up: the result goes to whoever waits. */
static void flood_finish(struct flood *f)
{
	lua_State *co;

	if (f->done)
		return;
	f->done = true;
	if (f->timer)
		event_del(f->timer);
	co = f->w ? scen_waiter_thread(f->w) : NULL;
	if (!co)
		return;
	flood_push(co, f);
	scen_wake(f->w, 1);
}

static void flood_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct flood *f = arg;
	struct sipmsg *m = NULL;
	int st;

	if (f->done || sipmsg_decode(&m, buf, len) != 0)
		return;
	if (!sipmsg_is_request(m)) {
		st = sipmsg_status(m);
		if (st >= 200) {
			f->finals++;
			f->by_class[st / 100 < 7 ? st / 100 : 6]++;
			f->n200 += st == 200;
			flood_keep(f, m, st);
			if (st == 503) {
				f->n503++;
				f->retry_after += sipmsg_header(m, "Retry-After", 0) != NULL;
			}
		}
	}
	mem_deref(m);
	if (f->finals == f->sent)
		flood_finish(f);
}

static void flood_close(struct conn *c, int err, void *arg)
{
	struct flood *f = arg;

	f->closed = true;
	flood_finish(f);
}

static void flood_timeout(evutil_socket_t fd, short what, void *arg)
{
	flood_finish(arg);
}

static int flood_k(lua_State *L, int status, lua_KContext ctx)
{
	return 1;
}

/* Copies template with every "{n}" replaced by i into buf. */
static size_t flood_subst(const char *tpl, size_t tlen, unsigned i, char *buf, size_t size)
{
	size_t o = 0, k;
	char num[16];
	int nl = snprintf(num, sizeof(num), "%u", i);

	for (k = 0; k < tlen && o + 16 < size; k++) {
		if (tpl[k] == '{' && k + 2 < tlen && tpl[k + 1] == 'n' && tpl[k + 2] == '}') {
			memcpy(buf + o, num, (size_t)nl);
			o += (size_t)nl;
			k += 2;
		} else {
			buf[o++] = tpl[k];
		}
	}
	return o;
}

/* The copy of template for number i in out: "{n}" replaced everywhere, and, when "{n}" is in
 * the body, the Content-Length header set to the body's new length (so that every copy is
 * framed right). tmp and out hold size bytes. */
static size_t flood_expand(const char *tpl, size_t tlen, unsigned i, char *tmp, char *out,
			   size_t size)
{
	size_t n = flood_subst(tpl, tlen, i, tmp, size), hend, blen, o;
	const char *eoh = memmem(tmp, n, "\r\n\r\n", 4), *cl = NULL, *p, *eol;
	const char *tbody = memmem(tpl, tlen, "\r\n\r\n", 4);

	/* no "{n}" in the body: the copy goes as written, Content-Length and all (a template may
	 * lie about it on purpose) */
	if (!eoh || !tbody || !memmem(tbody, tlen - (size_t)(tbody - tpl), "{n}", 3)) {
		memcpy(out, tmp, n);
		return n;
	}
	hend = (size_t)(eoh - tmp) + 4;
	blen = n - hend;
	for (p = tmp; p < eoh; p = eol + 2) { /* header lines; the request line never matches */
		eol = memmem(p, (size_t)(eoh + 2 - p), "\r\n", 2);
		if (!strncasecmp(p, "Content-Length:", 15)) {
			cl = p;
			break;
		}
	}
	if (!cl) {
		memcpy(out, tmp, n);
		return n;
	}
	o = (size_t)(cl - tmp);
	memcpy(out, tmp, o);
	o += (size_t)snprintf(out + o, size - o, "Content-Length: %zu", blen);
	memcpy(out + o, eol, n - (size_t)(eol - tmp));
	return o + n - (size_t)(eol - tmp);
}

/* Connects and sends the copies; the timer runs from here. Arguments: 1 site, 2 template,
 * 3 count, 4 options. Raises a Lua error on misuse or when nothing can be sent. */
static struct flood *flood_begin(lua_State *L, const char *fn)
{
	struct imsrv *srv = lua_site_srv(L, 1);
	size_t tlen;
	const char *tpl = luaL_checklstring(L, 2, &tlen);
	lua_Integer count = luaL_checkinteger(L, 3);
	double timeout = 10;
	struct scen *s = scen_of(L);
	struct conn_handlers h = { NULL, flood_msg, flood_close, NULL };
	struct sockaddr_storage local, peer;
	const char *ip, *pip, *pfqdn;
	struct tlsctx *cli;
	struct flood *f;
	bool keep = false;
	char *buf, *tmp;
	size_t bsize = tlen * 2 + 64;
	int err = 0;

	luaL_argcheck(L, count > 0 && count <= FLOOD_MAX, 3, "1.." "20000");
	if (lua_istable(L, 4)) {
		if (lua_getfield(L, 4, "timeout") == LUA_TNUMBER)
			timeout = lua_tonumber(L, -1);
		lua_getfield(L, 4, "answers");
		keep = lua_toboolean(L, -1);
		lua_pop(L, 2);
	}
	luaL_argcheck(L, timeout > 0 && timeout <= 120, 4, "timeout between 0 and 120 s");
	if (lab_site_peer(scen_lab(s), srv, &cli, &ip, &pip, &pfqdn))
		luaL_error(L, "%s: not a site of this lab", fn);
	f = mem_zalloc(sizeof(*f), flood_destroy);
	buf = malloc(bsize);
	tmp = malloc(bsize);
	if (!f || !buf || !tmp) {
		free(buf);
		free(tmp);
		mem_deref(f);
		luaL_error(L, "out of memory");
	}
	f->keep = keep;
	sa_set(&local, ip, 0);
	sa_set(&peer, pip, 5061);
	h.arg = f;
	err = conn_connect(&f->c, scen_base(s), cli, (struct sockaddr *)&local,
			   (struct sockaddr *)&peer, pfqdn, &h);
	for (lua_Integer i = 1; !err && i <= count; i++) {
		size_t n = flood_expand(tpl, tlen, (unsigned)i, tmp, buf, bsize);

		err = conn_send(f->c, buf, n);
		f->sent += !err;
	}
	free(buf);
	free(tmp);
	if (err) {
		mem_deref(f);
		luaL_error(L, "%s: cannot send to %s: %s", fn, pip, strerror(err));
	}
	{
		struct timeval tv = { (time_t)timeout,
				      (suseconds_t)((timeout - (time_t)timeout) * 1e6) };

		f->timer = evtimer_new(scen_base(s), flood_timeout, f);
		evtimer_add(f->timer, &tv);
	}
	return f;
}

/* site:flood(template, count, { timeout = 10, answers = false }) -> { sent, answered, ok,
 *   throttled, retry_after, closed, classes = {n1xx..n6xx}, answers = {[call_id] = status} }
 * Sends count copies of the request template ("{n}" in it replaced by the copy's number, so
 * each copy is a new transaction; in the body too, the Content-Length then follows) back to
 * back on one mutual-TLS connection from the site to the proxy edge it faces, then waits for
 * every final answer, the connection's end or the timeout. answers = true adds every final status by Call-ID. */
static int load_l_flood(lua_State *L)
{
	struct flood *f = flood_begin(L, "flood");

	lua_settop(L, 1);
	f->w = scen_wait_begin(L, "answers to a flood", 0);
	scen_waiter_set_data(f->w, f); /* the waiter owns f */
	return scen_yield(L, f->w, flood_k);
}

/* site:flood_start(template, count, opts) -> Flood with :ok(), :answered(), :done(), :wait()
 * The same flood, but the scenario goes on at once: it can watch the answers come in (a kill
 * at the moment acknowledgements are streaming, AUD-004) and collect the result table later
 * with :wait(). */
static int load_l_flood_start(lua_State *L)
{
	struct flood *f = flood_begin(L, "flood_start");
	struct flood **fp = lua_newuserdatauv(L, sizeof(*fp), 0);

	*fp = f;
	f->owned = true;
	luaL_setmetatable(L, MT_FLOOD);
	return 1;
}

static struct flood *flood_ud(lua_State *L)
{
	struct flood **fp = luaL_checkudata(L, 1, MT_FLOOD);

	if (!*fp)
		luaL_error(L, "flood already collected");
	return *fp;
}

static int flood_l_ok(lua_State *L)
{
	lua_pushinteger(L, flood_ud(L)->n200);
	return 1;
}

static int flood_l_answered(lua_State *L)
{
	lua_pushinteger(L, flood_ud(L)->finals);
	return 1;
}

static int flood_l_done(lua_State *L)
{
	lua_pushboolean(L, flood_ud(L)->done);
	return 1;
}

static int flood_wait_k(lua_State *L, int status, lua_KContext ctx)
{
	struct flood *f = flood_ud(L);

	f->w = mem_deref(f->w);
	return 1;
}

/* flood:wait() -> the result table of site:flood, once every answer is in, the connection
 * gone or the time up (at once if that happened already). */
static int flood_l_wait(lua_State *L)
{
	struct flood *f = flood_ud(L);

	if (f->w)
		return luaL_error(L, "flood:wait() already waiting in another branch");
	lua_settop(L, 1);
	if (f->done) {
		flood_push(L, f);
		return 1;
	}
	f->w = mem_ref(scen_wait_begin(L, "answers to a flood", 0));
	return scen_yield(L, f->w, flood_wait_k);
}

static int flood_l_gc(lua_State *L)
{
	struct flood **fp = luaL_checkudata(L, 1, MT_FLOOD);

	*fp = mem_deref(*fp);
	return 0;
}

/* --- held connections --- */

struct held {
	struct conn *c[HOLD_MAX];
	bool up[HOLD_MAX], down[HOLD_MAX];
	unsigned n, nup, ndown;
	struct scen_waiter *w;   /* only while opening (a reference: ended waits answer NULL) */
	struct event *timer;
	bool done;
};

struct held_ref {
	struct held *h;
	unsigned i;
};

static void held_destroy(void *data)
{
	struct held *h = data;
	unsigned i;

	if (h->timer)
		event_free(h->timer);
	mem_deref(h->w);
	for (i = 0; i < h->n; i++) {
		if (h->c[i])
			conn_close(h->c[i]);
		mem_deref(h->c[i]);
	}
}

static void held_check(struct held *h)
{
	lua_State *co;

	if (h->done || h->nup + h->ndown < h->n)
		return;
	h->done = true;
	if (h->timer)
		event_del(h->timer);
	co = scen_waiter_thread(h->w);
	if (co) {
		lua_pushboolean(co, 1);
		scen_wake(h->w, 1);
	}
}

static void held_estab(struct conn *c, void *arg)
{
	struct held_ref *r = arg;

	if (!r->h->up[r->i] && !r->h->down[r->i]) {
		r->h->up[r->i] = true;
		r->h->nup++;
	}
	held_check(r->h);
}

static void held_close(struct conn *c, int err, void *arg)
{
	struct held_ref *r = arg;
	struct held *h = r->h;

	if (h->up[r->i]) {
		h->up[r->i] = false;
		h->nup--;
	}
	if (!h->down[r->i]) {
		h->down[r->i] = true;
		h->ndown++;
	}
	held_check(h);
}

static void held_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;
	lua_State *co;

	if (h->done)
		return;
	h->done = true;
	co = scen_waiter_thread(h->w);
	if (co) {
		lua_pushboolean(co, 1);
		scen_wake(h->w, 1);
	}
}

/* Stack: 1 site, 2 count, 3 opts, 4 the Held userdata. */
static int held_k(lua_State *L, int status, lua_KContext ctx)
{
	struct held **hp = luaL_checkudata(L, 4, MT_HOLD);
	struct held *h = *hp;

	scen_waiter_timed_out(L);
	h->w = mem_deref(h->w);
	lua_settop(L, 4);
	return 1;
}

/* site:hold_connections(count, { timeout = 5 }) -> Held with :up(), :refused(), :release()
 * Opens count mutual-TLS connections from the site's address to the proxy edge it faces and
 * keeps them open (idle) until released or the scenario ends; waits until each is up (handshake
 * done) or refused/closed by the proxy. Under TLS 1.3 a refusal can come just after the client
 * thinks it is up, so give the proxy a moment (lab:sleep) before reading up(). */
static int load_l_hold(lua_State *L)
{
	struct imsrv *srv = lua_site_srv(L, 1);
	lua_Integer count = luaL_checkinteger(L, 2);
	struct scen *s = scen_of(L);
	struct sockaddr_storage local, peer;
	const char *ip, *pip, *pfqdn;
	struct tlsctx *cli;
	struct held *h, **hp;
	struct held_ref *refs;
	double timeout = 5;
	unsigned i;

	luaL_argcheck(L, count > 0 && count <= HOLD_MAX, 2, "1..256");
	if (lua_istable(L, 3) && lua_getfield(L, 3, "timeout") == LUA_TNUMBER)
		timeout = lua_tonumber(L, -1);
	lua_settop(L, 3);
	if (lab_site_peer(scen_lab(s), srv, &cli, &ip, &pip, &pfqdn))
		return luaL_error(L, "hold_connections: not a site of this lab");
	h = mem_zalloc(sizeof(*h), held_destroy);
	refs = h ? mem_zalloc(sizeof(*refs) * (size_t)count, NULL) : NULL;
	if (!h || !refs) {
		mem_deref(h);
		return luaL_error(L, "out of memory");
	}
	hp = lua_newuserdatauv(L, sizeof(*hp), 1);
	*hp = h;
	luaL_setmetatable(L, MT_HOLD);
	lua_pushlightuserdata(L, refs);
	lua_setiuservalue(L, -2, 1);
	/* refs live as long as h: hand their memory to h via a destructor chain */
	sa_set(&local, ip, 0);
	sa_set(&peer, pip, 5061);
	for (i = 0; i < (unsigned)count; i++) {
		struct conn_handlers ch = { held_estab, NULL, held_close, &refs[i] };

		refs[i] = (struct held_ref){ h, i };
		h->n++;
		if (conn_connect(&h->c[i], scen_base(s), cli, (struct sockaddr *)&local,
				 (struct sockaddr *)&peer, pfqdn, &ch)) {
			h->down[i] = true;
			h->ndown++;
		}
	}
	h->w = mem_ref(scen_wait_begin(L, "held connections to come up", 0));
	{
		struct timeval tv = { (time_t)timeout,
				      (suseconds_t)((timeout - (time_t)timeout) * 1e6) };

		h->timer = evtimer_new(scen_base(s), held_timeout, h);
		evtimer_add(h->timer, &tv);
	}
	held_check(h);
	return scen_yield(L, h->w, held_k);
}

static struct held *held_check_ud(lua_State *L)
{
	struct held **hp = luaL_checkudata(L, 1, MT_HOLD);

	if (!*hp)
		luaL_error(L, "connections already released");
	return *hp;
}

static int held_l_up(lua_State *L)
{
	lua_pushinteger(L, held_check_ud(L)->nup);
	return 1;
}

static int held_l_refused(lua_State *L)
{
	lua_pushinteger(L, held_check_ud(L)->ndown);
	return 1;
}

static int held_l_release(lua_State *L)
{
	struct held **hp = luaL_checkudata(L, 1, MT_HOLD);
	void *refs;

	lua_getiuservalue(L, 1, 1);
	refs = lua_touserdata(L, -1);
	*hp = mem_deref(*hp);
	mem_deref(refs);
	lua_pushlightuserdata(L, NULL);
	lua_setiuservalue(L, 1, 1);
	return 0;
}

void lua_load_open(lua_State *L)
{
	static const luaL_Reg site_methods[] = {
		{ "flood", load_l_flood }, { "flood_start", load_l_flood_start },
		{ "hold_connections", load_l_hold }, { NULL, NULL },
	};
	static const luaL_Reg flood_methods[] = {
		{ "ok", flood_l_ok }, { "answered", flood_l_answered }, { "done", flood_l_done },
		{ "wait", flood_l_wait }, { NULL, NULL },
	};
	static const luaL_Reg held_methods[] = {
		{ "up", held_l_up }, { "refused", held_l_refused }, { "release", held_l_release },
		{ NULL, NULL },
	};

	luaL_newmetatable(L, MT_FLOOD);
	luaL_newlib(L, flood_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, flood_l_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, MT_HOLD);
	luaL_newlib(L, held_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, held_l_release);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_class_extend(L, "piclab.Site", site_methods);
}
