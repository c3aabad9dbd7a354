/* lua_raw: raw SIP bytes from a lab site straight to the proxy edge it faces, over the site's own
 * mutual TLS — for torture tests and protocol probes the user agents would never send. */
#define LOG_MODULE "raw"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "lab.h"
#include "scen.h"

#define RAW_MAX_RESP 16

struct raw {
	struct conn *c;
	struct scen_waiter *w;
	struct event *timer;
	struct {
		int status;
		char reason[128];
		char *text;
	} resp[RAW_MAX_RESP];
	int nresp;
	int close_err;
	bool closed;
	bool established;
	bool done;
};

static void raw_destroy(void *data)
{
	struct raw *r = data;
	int i;

	if (r->timer)
		event_free(r->timer);
	if (r->c)
		conn_close(r->c);
	mem_deref(r->c);
	for (i = 0; i < r->nresp; i++)
		mem_deref(r->resp[i].text);
	mem_deref(r->w);
}

/* Pushes { responses = {...}, final = <first final or nil>, closed = bool, error = str } on co
 * and resumes the scenario. */
static void raw_finish(struct raw *r)
{
	lua_State *co;
	int i, final = -1;

	if (r->done)
		return;
	r->done = true;
	if (r->timer)
		event_del(r->timer);
	co = scen_waiter_thread(r->w);
	if (!co)
		return;
	lua_createtable(co, 0, 5);
	lua_createtable(co, r->nresp, 0);
	for (i = 0; i < r->nresp; i++) {
		lua_createtable(co, 0, 3);
		lua_pushinteger(co, r->resp[i].status);
		lua_setfield(co, -2, "status");
		lua_pushstring(co, r->resp[i].reason);
		lua_setfield(co, -2, "reason");
		lua_pushstring(co, r->resp[i].text ? r->resp[i].text : "");
		lua_setfield(co, -2, "text");
		if (final < 0 && r->resp[i].status >= 200) {
			final = i;
			lua_pushvalue(co, -1);
			lua_setfield(co, -4, "final");
		}
		lua_rawseti(co, -2, i + 1);
	}
	lua_setfield(co, -2, "responses");
	lua_pushboolean(co, r->closed);
	lua_setfield(co, -2, "closed");
	lua_pushboolean(co, r->established);
	lua_setfield(co, -2, "established");
	if (r->closed && r->close_err) {
		lua_pushstring(co, strerror(r->close_err));
		lua_setfield(co, -2, "error");
	}
	scen_wake(r->w, 1);
}

static void raw_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct raw *r = arg;
	struct sipmsg *m = NULL;

	if (r->done || sipmsg_decode(&m, buf, len) != 0)
		return;
	if (!sipmsg_is_request(m) && r->nresp < RAW_MAX_RESP) {
		r->resp[r->nresp].status = sipmsg_status(m);
		snprintf(r->resp[r->nresp].reason, sizeof(r->resp[0].reason), "%s",
			 sipmsg_reason(m));
		r->resp[r->nresp].text = mem_strndup(buf, len);
		r->nresp++;
		if (sipmsg_status(m) >= 200) {
			mem_deref(m);
			raw_finish(r);
			return;
		}
	}
	mem_deref(m);
}

static void raw_estab(struct conn *c, void *arg)
{
	((struct raw *)arg)->established = true;
}

static void raw_close(struct conn *c, int err, void *arg)
{
	struct raw *r = arg;

	r->closed = true;
	r->close_err = err;
	raw_finish(r);
}

static void raw_timeout(evutil_socket_t fd, short what, void *arg)
{
	raw_finish(arg);
}

static int raw_k(lua_State *L, int status, lua_KContext ctx)
{
	return 1;
}

/* site:send_raw(bytes, { timeout = 2 }) -> { responses = {{status, reason, text}...},
 *   final = first final response or nil, closed = did the proxy close the connection,
 *   established = did TLS come up, error = why it closed }
 * Opens a fresh mutual-TLS connection from the site's address and certificate to the proxy edge
 * it faces, sends the bytes exactly as given, and waits for a final response, the connection's
 * end, or the timeout. */
static int raw_l_send_raw(lua_State *L)
{
	struct imsrv *srv = lua_site_srv(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	double timeout = 2;
	struct scen *s = scen_of(L);
	struct conn_handlers h = { raw_estab, raw_msg, raw_close, NULL };
	struct sockaddr_storage local, peer;
	const char *ip, *pip, *pfqdn;
	struct tlsctx *cli;
	struct raw *r;
	int err;

	if (lua_istable(L, 3) && lua_getfield(L, 3, "timeout") == LUA_TNUMBER)
		timeout = lua_tonumber(L, -1);
	luaL_argcheck(L, timeout > 0 && timeout <= 60, 3, "timeout between 0 and 60 s");
	if (lab_site_peer(scen_lab(s), srv, &cli, &ip, &pip, &pfqdn))
		return luaL_error(L, "send_raw: not a site of this lab");
	lua_settop(L, 2);
	r = mem_zalloc(sizeof(*r), raw_destroy);
	if (!r)
		return luaL_error(L, "out of memory");
	sa_set(&local, ip, 0);
	sa_set(&peer, pip, 5061);
	h.arg = r;
	err = conn_connect(&r->c, scen_base(s), cli, (struct sockaddr *)&local,
			   (struct sockaddr *)&peer, pfqdn, &h);
	if (!err)
		err = conn_send(r->c, bytes, len);
	if (err) {
		mem_deref(r);
		return luaL_error(L, "send_raw: cannot connect to %s: %s", pip, strerror(err));
	}
	r->w = mem_ref(scen_wait_begin(L, "responses to a raw message", 0));
	scen_waiter_set_data(r->w, r);
	{
		struct timeval tv = { (time_t)timeout,
				      (suseconds_t)((timeout - (time_t)timeout) * 1e6) };

		r->timer = evtimer_new(scen_base(s), raw_timeout, r);
		evtimer_add(r->timer, &tv);
	}
	return scen_yield(L, r->w, raw_k);
}

void lua_raw_open(lua_State *L)
{
	static const luaL_Reg site_methods[] = { { "send_raw", raw_l_send_raw }, { NULL, NULL } };

	lua_class_extend(L, "piclab.Site", site_methods);
}
