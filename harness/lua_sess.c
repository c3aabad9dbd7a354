/* lua_sess: the Session class — INVITE-based text IM sessions (IM-002) — and the User methods
 * that start and expect them. */
#define LOG_MODULE "lua_im"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/im/imsess.h"
#include "../fakes/im/imsrv.h"
#include "../fakes/ua/ua.h"
#include "lab.h"
#include "lua_im.h"
#include "scen.h"

/* The continuation of a wait on a final response (lua_resp_h pushed status, reason). */
static int resp_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L))
		return scen_fail(L, 1, "no final response to %s within 40 s", (const char *)ctx);
	return 2;
}

struct lsess {
	struct imsess *x;
	char owner[256];          /* AOR of the user whose session it is */
};


static int sess_gc(lua_State *L)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	ls->x = mem_deref(ls->x);
	return 0;
}

static struct lsess *sess_check(lua_State *L, int i)
{
	struct lsess *ls = luaL_checkudata(L, i, MT_SESS);

	if (!ls->x)
		luaL_error(L, "session is gone");
	return ls;
}

static struct lsess *sess_push(lua_State *L, struct imsess *x, const char *owner)
{
	struct lsess *ls = lua_newuserdatauv(L, sizeof(*ls), 0);

	ls->x = x;
	snprintf(ls->owner, sizeof(ls->owner), "%s", owner);
	luaL_setmetatable(L, MT_SESS);
	return ls;
}

/* user:start_session(other) -> Session in state "calling" (session:expect_established() waits) */
static int user_l_start_session(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *to = aor_arg(L, 2);
	struct imsess *x = NULL;
	int err = ua_session_start(&x, u, to, NULL, NULL);

	if (err)
		return luaL_error(L, "start_session(%s): %s", to, strerror(err));
	sess_push(L, x, ua_aor(u));
	return 1;
}

static int offer_cond(lua_State *L, struct ua *u)
{
	struct imsess *x = NULL;

	if (ua_session_take_offer(u, lua_tostring(L, 2), &x))
		return -1;
	sess_push(L, x, ua_aor(u));
	return 1;
}

static int offer_failed(lua_State *L, struct ua *u)
{
	return scen_fail(L, 1, "%s: expected a session offered by %s, none came", ua_aor(u),
			 lua_tostring(L, 2));
}

static const struct evwait offer_wait = { offer_cond, offer_failed, "a session offer" };

/* user:expect_session(from, {timeout=10}) -> Session (offered; :accept() it) */
static int user_l_expect_session(lua_State *L)
{
	const char *from = aor_arg(L, 2);
	double t = opt_timeout(L, 3, 10);

	lua_settop(L, 1);
	lua_pushstring(L, from);
	return ev_wait(L, &offer_wait, user_ua(L, 1), t);
}

static int sess_l_accept(lua_State *L)
{
	struct lsess *ls = sess_check(L, 1);
	int err = imsess_answer(ls->x, 0);

	if (err)
		return luaL_error(L, "accept: the session is %s",
				  imsess_state_str(imsess_state(ls->x)));
	return 0;
}

static int sess_l_reject(lua_State *L)
{
	struct lsess *ls = sess_check(L, 1);
	int st = (int)luaL_optinteger(L, 2, 486);
	int err = imsess_answer(ls->x, st);

	if (err)
		return luaL_error(L, "reject(%d): the session is %s", st,
				  imsess_state_str(imsess_state(ls->x)));
	return 0;
}

/* session:send(text) -> status, reason */
static int sess_l_send(lua_State *L)
{
	struct lsess *ls = sess_check(L, 1);
	const char *text = luaL_checkstring(L, 2);
	struct scen_waiter *w;
	int err;

	if (imsess_state(ls->x) != IMSESS_ESTABLISHED)
		return scen_fail(L, 1, "session with %s: expected it established to send, it is %s",
				 imsess_peer(ls->x), imsess_state_str(imsess_state(ls->x)));
	w = scen_wait_begin(L, "a response to MESSAGE in a session", 40);
	err = imsess_send(ls->x, text, lua_resp_h, mem_ref(w));
	if (err) {
		mem_deref(w);
		return luaL_error(L, "send: %s", strerror(err));
	}
	return scen_yield(L, w, resp_k);
}

static int sess_l_bye(lua_State *L)
{
	struct lsess *ls = sess_check(L, 1);
	struct scen_waiter *w;
	int err;

	if (imsess_state(ls->x) != IMSESS_ESTABLISHED)
		return scen_fail(L, 1, "session with %s: expected it established to end, it is %s",
				 imsess_peer(ls->x), imsess_state_str(imsess_state(ls->x)));
	w = scen_wait_begin(L, "a response to BYE", 40);
	err = imsess_bye(ls->x, lua_resp_h, mem_ref(w));
	if (err) {
		mem_deref(w);
		return luaL_error(L, "bye: %s", strerror(err));
	}
	return scen_yield(L, w, resp_k);
}

/* Session waits run on the owner's events: 1 the Session, 2 the options. */
static int sessmsg_cond(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);
	struct ua_msg m;
	const char *contains;

	if (imsess_take(ls->x, &m))
		return -1;
	lua_getfield(L, 2, "contains");
	contains = lua_tostring(L, -1);
	if (contains && !strstr(m.body, contains))
		return scen_fail(L, 1, "session MESSAGE to %s: expected a body containing \"%s\", "
				 "got \"%s\"", ua_aor(u), contains, m.body);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, m.from);
	lua_setfield(L, -2, "from");
	lua_pushstring(L, m.body);
	lua_setfield(L, -2, "body");
	lua_pushstring(L, m.call_id);
	lua_setfield(L, -2, "call_id");
	lua_pushstring(L, m.trust);
	lua_setfield(L, -2, "trust");
	return 1;
}

static int sessmsg_failed(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	return scen_fail(L, 1, "%s: expected a MESSAGE in the session with %s, none came "
			 "(session %s)", ua_aor(u), imsess_peer(ls->x),
			 imsess_state_str(imsess_state(ls->x)));
}

static const struct evwait sessmsg_wait = { sessmsg_cond, sessmsg_failed,
					    "a MESSAGE in a session" };

static int sessend_cond(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	if (imsess_state(ls->x) != IMSESS_ENDED)
		return -1;
	lua_pushstring(L, imsess_end_reason(ls->x));
	return 1;
}

static int sessend_failed(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	return scen_fail(L, 1, "session of %s with %s: expected it to end, it is %s", ua_aor(u),
			 imsess_peer(ls->x), imsess_state_str(imsess_state(ls->x)));
}

static const struct evwait sessend_wait = { sessend_cond, sessend_failed, "a session's end" };

static int sessup_cond(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	if (imsess_state(ls->x) == IMSESS_ESTABLISHED) {
		lua_pushvalue(L, 1);
		return 1;
	}
	if (imsess_state(ls->x) == IMSESS_ENDED)
		return scen_fail(L, 1, "session of %s with %s: expected it established, it ended (%s)",
				 ua_aor(u), imsess_peer(ls->x), imsess_end_reason(ls->x));
	return -1;
}

static int sessup_failed(lua_State *L, struct ua *u)
{
	struct lsess *ls = luaL_checkudata(L, 1, MT_SESS);

	return scen_fail(L, 1, "session of %s with %s: expected it established, it is %s",
			 ua_aor(u), imsess_peer(ls->x), imsess_state_str(imsess_state(ls->x)));
}

static const struct evwait sessup_wait = { sessup_cond, sessup_failed, "a session's 200" };

static int sess_wait(lua_State *L, const struct evwait *ew)
{
	struct lsess *ls = sess_check(L, 1);
	struct ua *u = ua_of_aor(L, ls->owner);
	double t = opt_timeout(L, 2, 10);

	if (!u)
		return luaL_error(L, "user %s is gone", ls->owner);
	lua_settop(L, 2);
	if (!lua_istable(L, 2)) {
		lua_newtable(L);
		lua_replace(L, 2);
	}
	return ev_wait(L, ew, u, t);
}

static int sess_l_expect_message(lua_State *L)
{
	return sess_wait(L, &sessmsg_wait);
}

static int sess_l_expect_established(lua_State *L)
{
	return sess_wait(L, &sessup_wait);
}

static int sess_l_expect_end(lua_State *L)
{
	return sess_wait(L, &sessend_wait);
}

static int sess_l_index(lua_State *L)
{
	struct lsess *ls = sess_check(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (!strcmp(k, "state"))
		lua_pushstring(L, imsess_state_str(imsess_state(ls->x)));
	else if (!strcmp(k, "peer"))
		lua_pushstring(L, imsess_peer(ls->x));
	else if (!strcmp(k, "end_reason"))
		lua_pushstring(L, imsess_end_reason(ls->x));
	else if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE &&
		 lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	else
		return luaL_error(L, "Session has no field '%s'", k);
	return 1;
}


void lua_sess_open(lua_State *L)
{
	static const luaL_Reg user_methods[] = {
		{ "start_session", user_l_start_session },
		{ "expect_session", user_l_expect_session },
		{ NULL, NULL },
	};
	static const luaL_Reg sess_mt[] = {
		{ "__index", sess_l_index }, { "__gc", sess_gc }, { NULL, NULL },
	};
	static const luaL_Reg sess_methods[] = {
		{ "accept", sess_l_accept }, { "reject", sess_l_reject },
		{ "send", sess_l_send }, { "bye", sess_l_bye },
		{ "expect_message", sess_l_expect_message },
		{ "expect_end", sess_l_expect_end },
		{ "expect_established", sess_l_expect_established },
		{ NULL, NULL },
	};

	lua_class_extend(L, MT_USER, user_methods);
	luaL_newmetatable(L, MT_SESS);
	luaL_setfuncs(L, sess_mt, 0);
	luaL_newlib(L, sess_methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
