/* lua_im: contacts, presence, authorizations, allow/block lists, raw requests (User) and faults
 * (Site) of the scenario API (scenarios/README.md); text sessions are in lua_sess.c. */
#define LOG_MODULE "lua_im"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/im/imsess.h"
#include "../fakes/im/imsrv.h"
#include "../fakes/ua/ua.h"
#include "lab.h"
#include "lua_im.h"
#include "scen.h"


struct lauthz {
	char owner[256], from[256];
	bool decided;
};

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- finding the C objects behind the Lua ones ---- */

static struct imsrv *server_of_domain(lua_State *L, const char *domain)
{
	struct lab *lab = scen_lab(scen_of(L));
	struct imsrv *s = lab_enterprise(lab);
	unsigned i;

	if (s && !strcasecmp(imsrv_conf(s)->domain, domain))
		return s;
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		s = lab_provider(lab, i);
		if (s && !strcasecmp(imsrv_conf(s)->domain, domain))
			return s;
	}
	return NULL;
}

struct ua *ua_of_aor(lua_State *L, const char *aor)
{
	const char *at = strchr(aor, '@');
	struct imsrv *s = at ? server_of_domain(L, at + 1) : NULL;

	return s ? imsrv_ua(s, aor) : NULL;
}

/* The User at i: its AOR through its own "aor" field. */
static const char *user_aor(lua_State *L, int i)
{
	const char *aor;

	luaL_checkudata(L, i, MT_USER);
	lua_getfield(L, i, "aor");
	aor = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays alive: the User holds it */
	return aor;
}

struct ua *user_ua(lua_State *L, int i)
{
	const char *aor = user_aor(L, i);
	struct ua *u = aor ? ua_of_aor(L, aor) : NULL;

	if (!u)
		luaL_error(L, "user %s is not registered", aor ? aor : "?");
	return u;
}

/* An address argument: a User or "user@domain". */
const char *aor_arg(lua_State *L, int i)
{
	if (luaL_testudata(L, i, MT_USER))
		return user_aor(L, i);
	if (lua_type(L, i) == LUA_TSTRING && strchr(lua_tostring(L, i), '@'))
		return lua_tostring(L, i);
	luaL_argerror(L, i, "a User or an address 'user@domain'");
	return NULL;
}

double opt_timeout(lua_State *L, int i, double dflt)
{
	double t = dflt;

	if (lua_type(L, i) == LUA_TTABLE) {
		lua_getfield(L, i, "timeout");
		t = luaL_optnumber(L, -1, dflt);
		lua_pop(L, 1);
	} else if (lua_type(L, i) == LUA_TNUMBER) {
		t = lua_tonumber(L, i);
	}
	luaL_argcheck(L, t > 0 && t <= 600, i, "timeout between 0 and 600 seconds");
	return t;
}

/* ---- waiting for a user's events ---- */

static void wake_later_h(evutil_socket_t fd, short what, void *arg)
{
	struct scen_waiter *w = arg;

	if (scen_waiter_thread(w))
		scen_wake(w, 0);
	mem_deref(w);
}

/* Any event of the user wakes the wait, from the loop (never inside the server's own code). */
static void event_h(struct ua *u, enum ua_event ev, const char *aor, void *arg)
{
	struct scen_waiter *w = arg;
	struct timeval tv = { 0, 0 };
	struct scen_waiter *ref = mem_ref(w);

	ua_set_event_handler(u, NULL, NULL);
	if (event_base_once(scen_base(scen_of(scen_waiter_thread(w))), -1, EV_TIMEOUT,
			    wake_later_h, ref, &tv))
		mem_deref(ref);
}


/* The stack ends with [evwait (light userdata), owner AOR, deadline], pushed by ev_wait; the
 * arguments below keep their positions for the condition. */
static int ev_wait_k(lua_State *L, int status, lua_KContext ctx);

static int ev_rewait(lua_State *L)
{
	int top = lua_gettop(L);
	const struct evwait *ew = lua_touserdata(L, top - 2);
	struct ua *u = ua_of_aor(L, lua_tostring(L, top - 1));
	double left = lua_tonumber(L, top) - now_s();
	struct scen_waiter *w;
	int n;

	if (!u)
		return luaL_error(L, "user %s is gone", lua_tostring(L, top - 1));
	n = ew->cond(L, u);
	if (n >= 0)
		return n;
	if (left <= 0)
		return ew->failed(L, u);
	w = scen_wait_begin(L, ew->what, left);
	ua_set_event_handler(u, event_h, w);
	return scen_yield(L, w, ev_wait_k);
}

static int ev_wait_k(lua_State *L, int status, lua_KContext ctx)
{
	bool timed_out = status == LUA_YIELD && scen_waiter_timed_out(L);
	int top = lua_gettop(L);
	const struct evwait *ew = lua_touserdata(L, top - 2);
	struct ua *u = ua_of_aor(L, lua_tostring(L, top - 1));

	if (!u)
		return luaL_error(L, "user %s is gone", lua_tostring(L, top - 1));
	ua_set_event_handler(u, NULL, NULL);
	if (timed_out) {
		int n = ew->cond(L, u); /* a last look: it may have happened meanwhile */

		return n >= 0 ? n : ew->failed(L, u);
	}
	return ev_rewait(L);
}

int ev_wait(lua_State *L, const struct evwait *ew, struct ua *u, double timeout)
{
	lua_pushlightuserdata(L, (void *)ew);
	lua_pushstring(L, ua_aor(u));
	lua_pushnumber(L, now_s() + timeout);
	return ev_rewait(L);
}

/* ---- User: contacts and presence ---- */

static int user_l_add_contact(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *aor = aor_arg(L, 2);
	int err = ua_add_contact(u, aor);

	if (err)
		return luaL_error(L, "add_contact(%s): %s", aor, strerror(err));
	return 0;
}

static int user_l_remove_contact(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *aor = aor_arg(L, 2);
	int err = ua_remove_contact(u, aor);

	if (err)
		return luaL_error(L, "remove_contact(%s): %s", aor,
				  err == ENOENT ? "not a contact" : strerror(err));
	return 0;
}

static int user_l_set_presence(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *st = luaL_checkstring(L, 2);
	enum ua_pres p;

	if (ua_pres_parse(st, &p))
		return luaL_argerror(L, 2, "online, away, busy, in-a-meeting or offline");
	ua_set_presence(u, p);
	return 0;
}

static void push_contact(lua_State *L, const struct ua_contact *c)
{
	lua_createtable(L, 0, 6);
	lua_pushstring(L, ua_pres_str(c->pres));
	lua_setfield(L, -2, "state");
	lua_pushstring(L, c->note);
	lua_setfield(L, -2, "note");
	lua_pushstring(L, c->pidf_note);
	lua_setfield(L, -2, "pidf_note");
	lua_pushstring(L, c->substate);
	lua_setfield(L, -2, "subscription");
	lua_pushstring(L, c->reason);
	lua_setfield(L, -2, "reason");
	lua_pushinteger(L, c->notifies);
	lua_setfield(L, -2, "notifies");
	lua_pushinteger(L, c->refreshes);
	lua_setfield(L, -2, "refreshes");
}

/* user:presence_of(other) -> state, info   (error if other is not a contact) */
static int user_l_presence_of(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *aor = aor_arg(L, 2);
	struct ua_contact c;

	if (ua_contact_info(u, aor, &c))
		return luaL_error(L, "%s is not a contact of %s", aor, ua_aor(u));
	lua_pushstring(L, ua_pres_str(c.pres));
	push_contact(L, &c);
	return 2;
}

/* Stack: 1 user, 2 other, 3 state, 4 opts. A state matches by name or by the shown note. */
static int presence_cond(lua_State *L, struct ua *u)
{
	const char *aor = lua_tostring(L, 2), *want = lua_tostring(L, 3);
	struct ua_contact c;
	const char *sub;
	lua_Integer notifies;

	if (ua_contact_info(u, aor, &c))
		return -1;
	if (strcasecmp(ua_pres_str(c.pres), want) && strcasecmp(c.note, want))
		return -1;
	lua_getfield(L, 4, "subscription");
	sub = lua_tostring(L, -1);
	lua_pop(L, 1);
	if (sub && strcasecmp(sub, c.substate))
		return -1;
	lua_getfield(L, 4, "notifies");
	notifies = lua_tointeger(L, -1);
	lua_pop(L, 1);
	if ((lua_Integer)c.notifies < notifies)
		return -1;
	lua_getfield(L, 4, "refreshes");
	notifies = lua_tointeger(L, -1);
	lua_pop(L, 1);
	if ((lua_Integer)c.refreshes < notifies)
		return -1;
	push_contact(L, &c);
	return 1;
}

static int presence_failed(lua_State *L, struct ua *u)
{
	const char *aor = lua_tostring(L, 2);
	struct ua_contact c;
	char want[160];

	if (ua_contact_info(u, aor, &c))
		return scen_fail(L, 1, "%s: expected to see %s as %s, but it is not a contact",
				 ua_aor(u), aor, lua_tostring(L, 3));
	lua_getfield(L, 4, "subscription");
	lua_getfield(L, 4, "notifies");
	lua_getfield(L, 4, "refreshes");
	snprintf(want, sizeof(want), "%s%s%s%s%s%s%s%s%s", lua_tostring(L, 3),
		 lua_isstring(L, -3) ? ", subscription " : "",
		 lua_isstring(L, -3) ? lua_tostring(L, -3) : "",
		 lua_tointeger(L, -2) > 0 ? ", at least " : "",
		 lua_tointeger(L, -2) > 0 ? lua_tostring(L, -2) : "",
		 lua_tointeger(L, -2) > 0 ? " NOTIFYs" : "",
		 lua_tointeger(L, -1) > 0 ? ", at least " : "",
		 lua_tointeger(L, -1) > 0 ? lua_tostring(L, -1) : "",
		 lua_tointeger(L, -1) > 0 ? " refreshes" : "");
	lua_pop(L, 3);
	return scen_fail(L, 1, "%s: expected to see %s as %s; got %s (\"%s\", subscription %s%s%s, "
			 "%u NOTIFYs, %u refreshes)", ua_aor(u), aor, want, ua_pres_str(c.pres),
			 c.note, c.substate, c.reason[0] ? ", reason " : "", c.reason,
			 (unsigned)c.notifies, (unsigned)c.refreshes);
}

static const struct evwait presence_wait = { presence_cond, presence_failed, "a presence" };

/* user:expect_presence(other, state, {timeout=10, subscription=, notifies=, refreshes=}) -> info
 * notifies = N: also waits until at least N NOTIFYs of that subscription arrived (a state
 * the watcher shows without any NOTIFY, e.g. pending after a 202, is not proof enough);
 * refreshes = N: and until at least N refresh SUBSCRIBEs were answered 2xx. */
static int user_l_expect_presence(lua_State *L)
{
	const char *aor = aor_arg(L, 2);
	enum ua_pres p;
	double t;

	luaL_checkstring(L, 3);
	if (ua_pres_parse(lua_tostring(L, 3), &p) && !lua_isstring(L, 3))
		return luaL_argerror(L, 3, "a state");
	t = opt_timeout(L, 4, 10);
	lua_settop(L, 4);
	if (!lua_istable(L, 4)) {
		lua_newtable(L);
		lua_replace(L, 4);
	}
	lua_pushstring(L, aor);
	lua_replace(L, 2);
	return ev_wait(L, &presence_wait, user_ua(L, 1), t);
}

/* ---- authorization requests ---- */

static int authreq_cond(lua_State *L, struct ua *u)
{
	const char *from = lua_tostring(L, 2);
	struct lauthz *a;

	if (!ua_authreq_pending(u, from))
		return -1;
	a = lua_newuserdatauv(L, sizeof(*a), 0);
	snprintf(a->owner, sizeof(a->owner), "%s", ua_aor(u));
	snprintf(a->from, sizeof(a->from), "%s", from);
	a->decided = false;
	luaL_setmetatable(L, MT_AUTHZ);
	return 1;
}

static int authreq_failed(lua_State *L, struct ua *u)
{
	return scen_fail(L, 1, "%s: expected an authorization request from %s, none came",
			 ua_aor(u), lua_tostring(L, 2));
}

static const struct evwait authreq_wait = { authreq_cond, authreq_failed,
					    "an authorization request" };

/* user:expect_authorization_request(from, {timeout=10}) -> Authorization */
static int user_l_expect_authreq(lua_State *L)
{
	const char *from = aor_arg(L, 2);
	double t = opt_timeout(L, 3, 10);

	lua_settop(L, 1);
	lua_pushstring(L, from);
	return ev_wait(L, &authreq_wait, user_ua(L, 1), t);
}

static int authz_decide(lua_State *L, bool grant)
{
	struct lauthz *a = luaL_checkudata(L, 1, MT_AUTHZ);
	struct ua *u = ua_of_aor(L, a->owner);
	int err;

	if (a->decided)
		return luaL_error(L, "the request from %s was already answered", a->from);
	if (!u)
		return luaL_error(L, "user %s is gone", a->owner);
	err = ua_authorize(u, a->from, grant);
	if (err)
		return luaL_error(L, "cannot answer %s: %s", a->from, strerror(err));
	a->decided = true;
	return 0;
}

static int authz_l_grant(lua_State *L)
{
	return authz_decide(L, true);
}

static int authz_l_deny(lua_State *L)
{
	return authz_decide(L, false);
}

/* ---- allow and block lists ---- */

static int list_set(lua_State *L, bool block, bool on)
{
	struct ua *u = user_ua(L, 1);
	const char *aor = aor_arg(L, 2);
	int err = block ? ua_block(u, aor, on) : ua_allow(u, aor, on);

	if (err && !(err == ENOENT && !on))
		return luaL_error(L, "%s list of %s: %s", block ? "block" : "allow", ua_aor(u),
				  strerror(err));
	return 0;
}

static int user_l_allow(lua_State *L) { return list_set(L, false, true); }
static int user_l_unallow(lua_State *L) { return list_set(L, false, false); }
static int user_l_block(lua_State *L) { return list_set(L, true, true); }
static int user_l_unblock(lua_State *L) { return list_set(L, true, false); }

static int user_l_is_allowed(lua_State *L)
{
	lua_pushboolean(L, ua_is_allowed(user_ua(L, 1), aor_arg(L, 2)));
	return 1;
}

static int user_l_is_blocked(lua_State *L)
{
	lua_pushboolean(L, ua_is_blocked(user_ua(L, 1), aor_arg(L, 2)));
	return 1;
}

static int user_l_set_auto_refresh(lua_State *L)
{
	ua_set_auto_refresh(user_ua(L, 1), lua_toboolean(L, 2));
	return 0;
}

static int user_l_refresh_contact(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *aor = aor_arg(L, 2);
	int err = ua_refresh_contact(u, aor);

	if (err)
		return luaL_error(L, "refresh_contact(%s): %s", aor, strerror(err));
	return 0;
}


/* ---- send_request ---- */

static void raw_h(int status, const char *reason, const char *raw, int err, void *arg)
{
	struct scen_waiter *w = arg;
	lua_State *co = scen_waiter_thread(w);
	const char *p, *eol;

	if (!co) {
		mem_deref(w);
		return;
	}
	lua_createtable(co, 0, 5);
	if (status > 0) {
		lua_pushinteger(co, status);
		lua_setfield(co, -2, "status");
	} else {
		lua_pushfstring(co, "no response: %s", strerror(err ? err : EPROTO));
		lua_setfield(co, -2, "error");
	}
	lua_pushstring(co, reason ? reason : "");
	lua_setfield(co, -2, "reason");
	lua_pushstring(co, raw ? raw : "");
	lua_setfield(co, -2, "raw");
	/* headers by lower-case name; the first of each name */
	lua_newtable(co);
	p = raw ? strstr(raw, "\r\n") : NULL;
	while (p && p[2] && !(p[2] == '\r' && p[3] == '\n')) {
		const char *line = p + 2, *colon;
		char name[64];
		size_t n, i;

		eol = strstr(line, "\r\n");
		if (!eol)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon && (n = (size_t)(colon - line)) < sizeof(name)) {
			const char *v = colon + 1;

			for (i = 0; i < n; i++)
				name[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ? line[i] + 32 :
						 line[i]);
			name[n] = '\0';
			while (*v == ' ')
				v++;
			if (lua_getfield(co, -1, name) == LUA_TNIL) {
				lua_pop(co, 1);
				lua_pushlstring(co, v, (size_t)(eol - v));
				lua_setfield(co, -2, name);
			} else {
				lua_pop(co, 1);
			}
		}
		p = eol;
	}
	lua_setfield(co, -2, "headers");
	scen_wake(w, 1);
	mem_deref(w);
}

static int raw_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L))
		return scen_fail(L, 1, "no final response to the request within 40 s");
	return 1;
}

/* user:send_request{method=, to=, headers={...}, body=, content_type=} -> response table */
static int user_l_send_request(lua_State *L)
{
	struct ua *u = user_ua(L, 1);
	const char *method, *to, *body, *ctype;
	struct scen_waiter *w;
	int err;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getfield(L, 2, "method");
	method = luaL_checkstring(L, -1);             /* 3 */
	lua_getfield(L, 2, "to");                     /* 4 */
	to = aor_arg(L, 4);
	lua_getfield(L, 2, "body");                   /* 5 */
	body = lua_tostring(L, 5);
	lua_getfield(L, 2, "content_type");           /* 6 */
	ctype = luaL_optstring(L, 6, "text/plain");
	/* the header lines, built plainly (name: value) */
	{
		char hdrs[4096] = "";
		size_t used = 0;

		if (lua_getfield(L, 2, "headers") == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				/* { Name = "value" } or { "Name: value", ... } */
				bool listed = lua_type(L, -2) == LUA_TNUMBER;
				const char *k = listed ? NULL : lua_tostring(L, -2);
				const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;

				if ((!listed && (lua_type(L, -2) != LUA_TSTRING || strpbrk(k, "\r\n:"))) ||
				    !v || strpbrk(v, "\r\n") || (listed && !strchr(v, ':')))
					return luaL_error(L, "headers: { Name = \"value\" } or "
							  "{ \"Name: value\" } without line breaks");
				if (listed)
					used += (size_t)snprintf(hdrs + used, sizeof(hdrs) - used,
								 "%s\r\n", v);
				else
					used += (size_t)snprintf(hdrs + used, sizeof(hdrs) - used,
								 "%s: %s\r\n", k, v);
				if (used >= sizeof(hdrs))
					return luaL_error(L, "headers too long");
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
		w = scen_wait_begin(L, "a response to a request", 40);
		err = ua_send_request(u, method, to, hdrs[0] ? hdrs : NULL, ctype, body, raw_h,
				      mem_ref(w));
	}
	if (err) {
		mem_deref(w);
		return luaL_error(L, "send_request %s: %s", method, strerror(err));
	}
	return scen_yield(L, w, raw_k);
}

/* ---- Site: faults and switches ---- */

static struct imsrv *site_srv(lua_State *L, int i)
{
	struct lab *lab = scen_lab(scen_of(L));
	const char *name;
	int p;

	luaL_checkudata(L, i, MT_SITE);
	lua_getfield(L, i, "name");
	name = lua_tostring(L, -1);
	lua_pop(L, 1);
	if (name && !strcmp(name, "enterprise"))
		return lab_enterprise(lab);
	p = name ? lab_provider_find(name) : -1;
	if (p < 0)
		luaL_error(L, "no site '%s'", name ? name : "?");
	return lab_provider(lab, (unsigned)p);
}

/* site:fault{ drop_next_connection=true | delay_ms=N | withhold_response=true | respond=503,
 *             method="MESSAGE" } */
static int site_l_fault(lua_State *L)
{
	struct imsrv *s = site_srv(L, 1);
	struct imsrv_fault f = { 0 };
	int err;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "method");
	f.method = lua_tostring(L, -1);
	lua_getfield(L, 2, "drop_next_connection");
	f.drop_next_connection = lua_toboolean(L, -1);
	lua_getfield(L, 2, "withhold_response");
	f.withhold_response = lua_toboolean(L, -1);
	lua_getfield(L, 2, "delay_ms");
	f.delay_ms = (unsigned)luaL_optinteger(L, -1, 0);
	lua_getfield(L, 2, "respond");
	f.respond = (int)luaL_optinteger(L, -1, 0);
	if (!f.drop_next_connection && !f.withhold_response && !f.delay_ms && !f.respond)
		return luaL_error(L, "fault: give drop_next_connection, delay_ms, "
				  "withhold_response or respond");
	err = imsrv_fault_add(s, &f);
	if (err)
		return luaL_error(L, "fault: %s", strerror(err));
	return 0;
}

static int site_l_clear_faults(lua_State *L)
{
	imsrv_fault_clear(site_srv(L, 1));
	return 0;
}

static int site_l_notify_before_200(lua_State *L)
{
	imsrv_set_notify_before_200(site_srv(L, 1), lua_toboolean(L, 2));
	return 0;
}

static int site_l_subscription_expires(lua_State *L)
{
	struct imsrv *s = site_srv(L, 1);
	lua_Integer secs = luaL_checkinteger(L, 2);

	luaL_argcheck(L, secs >= 1 && secs <= 3600, 2, "1..3600 seconds");
	imsrv_set_sub_expires(s, (unsigned)secs);
	return 0;
}

/* site:set_note(state, text): the site's wording for that state, shown to its users and sent in
 * the PIDF <note> of its users' NOTIFYs. */
static int site_l_set_note(lua_State *L)
{
	struct imsrv *srv = site_srv(L, 1);
	const char *st = luaL_checkstring(L, 2), *text = luaL_checkstring(L, 3);
	enum ua_pres p;

	if (ua_pres_parse(st, &p))
		return luaL_argerror(L, 2, "online, away, busy, in-a-meeting or offline");
	if (imsrv_set_note(srv, (enum profile_pres)p, text))
		return luaL_argerror(L, 3, "1..63 characters, no <>&\"' and no control characters");
	return 0;
}

/* site:set_offline_answer(status, reason): what the site answers for its offline users. */
static int site_l_set_offline_answer(lua_State *L)
{
	struct imsrv *srv = site_srv(L, 1);
	lua_Integer st = luaL_checkinteger(L, 2);
	const char *reason = luaL_checkstring(L, 3);

	if (imsrv_set_offline_answer(srv, (int)st, reason))
		return luaL_error(L, "set_offline_answer(%d, '%s'): a status 200..699 and a reason "
				  "phrase of 1..63 printable characters", (int)st, reason);
	return 0;
}

/* site:route_by_srv(domain): a provider finds the edge for domain by its federation SRV record
 * from now on (DNS-001). */
static int site_l_route_by_srv(lua_State *L)
{
	struct imsrv *srv = site_srv(L, 1);
	const char *domain = luaL_checkstring(L, 2);
	int err;

	if (imsrv_conf(srv)->role != IMSRV_PROVIDER)
		return luaL_error(L, "route_by_srv: only a provider routes to other domains");
	err = imsrv_route_add_srv(srv, domain);
	if (err)
		return luaL_error(L, "route_by_srv(%s): %s", domain, strerror(err));
	return 0;
}

/* site:stop(), site:start(): the site's process dies (its state kept) and comes back. */
static int site_l_stop(lua_State *L)
{
	int err = imsrv_stop(site_srv(L, 1));

	if (err)
		return luaL_error(L, "stop: %s", err == EALREADY ? "already stopped" : strerror(err));
	return 0;
}

static int site_l_start(lua_State *L)
{
	int err = imsrv_start(site_srv(L, 1));

	if (err)
		return luaL_error(L, "start: %s", err == EALREADY ? "already running" : strerror(err));
	return 0;
}

static int site_l_profile(lua_State *L)
{
	lua_pushstring(L, imsrv_profile(site_srv(L, 1)));
	return 1;
}

void lua_im_open(lua_State *L)
{
	static const luaL_Reg user_methods[] = {
		{ "add_contact", user_l_add_contact },
		{ "remove_contact", user_l_remove_contact },
		{ "set_presence", user_l_set_presence },
		{ "presence_of", user_l_presence_of },
		{ "expect_presence", user_l_expect_presence },
		{ "expect_authorization_request", user_l_expect_authreq },
		{ "allow", user_l_allow }, { "unallow", user_l_unallow },
		{ "block", user_l_block }, { "unblock", user_l_unblock },
		{ "is_allowed", user_l_is_allowed }, { "is_blocked", user_l_is_blocked },
		{ "set_auto_refresh", user_l_set_auto_refresh },
		{ "refresh_contact", user_l_refresh_contact },
		{ "send_request", user_l_send_request },
		{ NULL, NULL },
	};
	static const luaL_Reg site_methods[] = {
		{ "fault", site_l_fault }, { "clear_faults", site_l_clear_faults },
		{ "notify_before_200", site_l_notify_before_200 },
		{ "subscription_expires", site_l_subscription_expires },
		{ "profile", site_l_profile }, { "set_note", site_l_set_note },
		{ "set_offline_answer", site_l_set_offline_answer },
		{ "route_by_srv", site_l_route_by_srv },
		{ "stop", site_l_stop }, { "start", site_l_start },
		{ NULL, NULL },
	};
	static const luaL_Reg authz_methods[] = {
		{ "grant", authz_l_grant }, { "deny", authz_l_deny }, { NULL, NULL },
	};

	lua_class_extend(L, MT_USER, user_methods);
	lua_class_extend(L, MT_SITE, site_methods);
	luaL_newmetatable(L, MT_AUTHZ);
	luaL_newlib(L, authz_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_sess_open(L);
}
