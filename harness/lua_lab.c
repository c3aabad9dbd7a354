/* lua_lab: the Lab, Site, User and Sut classes of the scenario API (scenarios/README.md). */
#define LOG_MODULE "lua"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/im/imsrv.h"
#include "../fakes/ua/ua.h"
#include "lab.h"
#include "scen.h"
#include "sut.h"
#include "sutkind.h"

#define MT_LAB "piclab.Lab"
#define MT_SITE "piclab.Site"
#define MT_USER "piclab.User"
#define MT_SUT "piclab.Sut"

static const char users_key = 'U';

static int class_method(lua_State *L, const char *mt, const char *k);

struct lsite {
	struct imsrv *srv;
	char name[32];
};

struct luser {
	struct ua *ua;
};

/* --- Lab --- */

void lua_lab_push(lua_State *L, struct scen *s)
{
	struct scen **p = lua_newuserdatauv(L, sizeof(*p), 0);

	*p = s;
	luaL_setmetatable(L, MT_LAB);
}

static struct scen *lab_check(lua_State *L, int i)
{
	return *(struct scen **)luaL_checkudata(L, i, MT_LAB);
}

static void site_push(lua_State *L, struct imsrv *srv, const char *name)
{
	struct lsite *st = lua_newuserdatauv(L, sizeof(*st), 0);

	st->srv = srv;
	snprintf(st->name, sizeof(st->name), "%s", name);
	luaL_setmetatable(L, MT_SITE);
}

/* lab:provider("aol") or lab.provider("aol") -> Site */
static int lab_l_provider(lua_State *L)
{
	struct scen *s = scen_of(L);
	int arg = luaL_testudata(L, 1, MT_LAB) ? 2 : 1;
	const char *name = luaL_checkstring(L, arg);
	int i = lab_provider_find(name);

	if (i < 0)
		return luaL_error(L, "no provider '%s' in the lab (aol, yahoo, msn)", name);
	site_push(L, lab_provider(scen_lab(s), (unsigned)i), name);
	return 1;
}

static int lab_sleep_k(lua_State *L, int status, lua_KContext ctx)
{
	scen_waiter_timed_out(L);
	return 0;
}

/* lab:sleep(seconds): lets the lab run for a while. */
static int lab_l_sleep(lua_State *L)
{
	double secs;
	struct scen_waiter *w;

	lab_check(L, 1);
	secs = luaL_checknumber(L, 2);
	luaL_argcheck(L, secs > 0 && secs <= 600, 2, "between 0 and 600 seconds");
	w = scen_wait_begin(L, "lab:sleep", secs);
	return scen_yield(L, w, lab_sleep_k);
}

/* lab:apctl("users", "enable", "alice@contoso.test") -> exit code, output (stdout+stderr)
 * Applies an administrator's change through the SUT kind's adapter: for accessproxy, the
 * proxy's own administration tool (beside the SUT binary) on this lab's configuration, as an
 * administrator would, bounded to 10 s; a kind that cannot apply that change makes the
 * scenario not applicable. */
#define LAB_APCTL_OUT_MAX (4 << 20)

static int lab_l_apctl(lua_State *L)
{
	struct scen *s = lab_check(L, 1);
	const struct sut_kind *kind;
	int n = lua_gettop(L), i, code = 0, err;
	const char *args[40];
	/* room for a full listing of a busy audit (AUD-004: hundreds of records as JSON) */
	static char out[LAB_APCTL_OUT_MAX];

	if (n - 1 > 38)
		return luaL_error(L, "apctl: too many arguments");
	kind = lab_sut_kind(scen_lab(s));
	if (!kind->apply)
		return scen_not_applicable(L, "lab:apctl needs accessproxy's apctl, which a SUT of "
					   "kind %s does not offer", kind->name);
	for (i = 2; i <= n; i++)
		args[i - 2] = luaL_checkstring(L, i);
	args[n - 1] = NULL;
	out[0] = '\0';
	err = kind->apply(scen_lab(s), args, out, sizeof(out), &code);
	if (err == ENOTSUP)
		return scen_not_applicable(L, "lab:apctl %s: %s", n >= 2 ? args[0] : "", out);
	if (err)
		return luaL_error(L, "apctl: %s", strerror(err));
	if (strlen(out) >= sizeof(out) - 1)
		return luaL_error(L, "apctl %s: output longer than %d bytes (cut short): "
				  "narrow it (--limit, --user)", n >= 2 ? args[0] : "",
				  LAB_APCTL_OUT_MAX - 1);
	log_info("apctl %s -> %d", n >= 2 ? args[0] : "", code);
	lua_pushinteger(L, code);
	lua_pushstring(L, out);
	return 2;
}

/* lab:host_ip("sip.aol.test") -> "127.77.L.10" */
static int lab_l_host_ip(lua_State *L)
{
	struct scen *s = lab_check(L, 1);
	const char *fqdn = luaL_checkstring(L, 2);
	enum lab_host h = lab_host_find(fqdn);

	if (h == LAB_NHOSTS)
		return luaL_error(L, "no host '%s' in the lab", fqdn);
	lua_pushstring(L, lab_host_ip(scen_lab(s), h));
	return 1;
}

static int lab_l_index(lua_State *L)
{
	struct scen *s = lab_check(L, 1);
	const char *k = luaL_checkstring(L, 2);
	struct lab *lab = scen_lab(s);

	if (strcmp(k, "enterprise") == 0) {
		site_push(L, lab_enterprise(lab), "enterprise");
	} else if (strcmp(k, "capture") == 0) {
		struct scen **p = lua_newuserdatauv(L, sizeof(*p), 0);

		*p = s;
		luaL_setmetatable(L, "piclab.Capture");
	} else if (strcmp(k, "sut") == 0) {
		struct scen **p = lua_newuserdatauv(L, sizeof(*p), 0);

		*p = s;
		luaL_setmetatable(L, MT_SUT);
	} else if (strcmp(k, "dir") == 0) {
		lua_pushstring(L, lab_dir(lab));
	} else if (strcmp(k, "sut_kind") == 0) {
		lua_pushstring(L, lab_sut_kind(lab)->name);
	} else if (strcmp(k, "sanitized") == 0) {
		/* built with ASan: memory figures of the (equally built) SUT mean little */
#ifdef __SANITIZE_ADDRESS__
		lua_pushboolean(L, 1);
#else
		lua_pushboolean(L, 0);
#endif
	} else if (strcmp(k, "state_dir") == 0) {
		lua_pushstring(L, lab_state_dir(lab));
	} else if (strcmp(k, "addr") == 0) {
		unsigned h;

		lua_createtable(L, 0, LAB_NHOSTS);
		for (h = 0; h < LAB_NHOSTS; h++) {
			lua_pushstring(L, lab_host_ip(lab, h));
			lua_setfield(L, -2, lab_host_name(h));
		}
	} else if (strcmp(k, "provider") == 0) {
		lua_pushcfunction(L, lab_l_provider);
	} else if (strcmp(k, "sleep") == 0) {
		lua_pushcfunction(L, lab_l_sleep);
	} else if (strcmp(k, "host_ip") == 0) {
		lua_pushcfunction(L, lab_l_host_ip);
	} else if (strcmp(k, "apctl") == 0) {
		lua_pushcfunction(L, lab_l_apctl);
	} else if (!class_method(L, MT_LAB, k)) {
		return luaL_error(L, "Lab has no field '%s'", k);
	}
	return 1;
}

/* --- Site --- */

static struct lsite *site_check(lua_State *L, int i)
{
	return luaL_checkudata(L, i, MT_SITE);
}

/* site:user("alice@contoso.test") -> User (the same object for the same address) */
static int site_l_user(lua_State *L)
{
	struct lsite *st = site_check(L, 1);
	const char *aor = luaL_checkstring(L, 2);
	const char *at = strchr(aor, '@');
	const struct imsrv_conf *c = imsrv_conf(st->srv);
	struct luser *u;
	int err;

	if (!at || strcasecmp(at + 1, c->domain) != 0)
		return luaL_error(L, "'%s' is not an address of %s (domain %s)", aor, st->name,
				  c->domain);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &users_key);
	if (lua_getfield(L, -1, aor) == LUA_TUSERDATA)
		return 1;
	lua_pop(L, 1);
	u = lua_newuserdatauv(L, sizeof(*u), 0);
	u->ua = NULL;
	luaL_setmetatable(L, MT_USER);
	err = ua_alloc(&u->ua, st->srv, aor);
	if (err)
		return luaL_error(L, "cannot create user %s: %s", aor, strerror(err));
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, aor);
	return 1;
}

static int site_l_index(lua_State *L)
{
	struct lsite *st = site_check(L, 1);
	const char *k = luaL_checkstring(L, 2);
	const struct imsrv_conf *c = imsrv_conf(st->srv);

	if (strcmp(k, "name") == 0)
		lua_pushstring(L, st->name);
	else if (strcmp(k, "domain") == 0)
		lua_pushstring(L, c->domain);
	else if (strcmp(k, "fqdn") == 0)
		lua_pushstring(L, c->fqdn);
	else if (!class_method(L, MT_SITE, k))
		return luaL_error(L, "Site has no field '%s'", k);
	return 1;
}

/* --- User --- */

static struct luser *user_check(lua_State *L, int i)
{
	struct luser *u = luaL_checkudata(L, i, MT_USER);

	if (!u->ua)
		luaL_error(L, "user is gone");
	return u;
}

/* An address argument: a User or an "user@domain" string. */
static const char *user_aor_arg(lua_State *L, int i)
{
	struct luser *o = luaL_testudata(L, i, MT_USER);

	if (o && o->ua)
		return ua_aor(o->ua);
	if (lua_type(L, i) == LUA_TSTRING && strchr(lua_tostring(L, i), '@'))
		return lua_tostring(L, i);
	luaL_argerror(L, i, "a User or an address 'user@domain'");
	return NULL;
}

static int user_gc(lua_State *L)
{
	struct luser *u = luaL_checkudata(L, 1, MT_USER);

	u->ua = mem_deref(u->ua);
	return 0;
}

void lua_resp_h(int status, const char *reason, int err, void *arg)
{
	struct scen_waiter *w = arg;
	lua_State *co = scen_waiter_thread(w);

	if (co) {
		if (status > 0) {
			lua_pushinteger(co, status);
			lua_pushstring(co, reason ? reason : "");
		} else {
			lua_pushnil(co);
			lua_pushfstring(co, "no response: %s", strerror(err ? err : EPROTO));
		}
		scen_wake(w, 2);
	}
	mem_deref(w);
}

static int user_send_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L))
		return scen_fail(L, 1, "no final response to MESSAGE from %s to %s within 40 s",
				 lua_tostring(L, 4), lua_tostring(L, 5));
	return 2;
}

/* user:send_message(to, text) -> status, reason   (nil, why when no response came) */
static int user_l_send_message(lua_State *L)
{
	struct luser *u = user_check(L, 1);
	const char *to = user_aor_arg(L, 2);
	const char *text = luaL_checkstring(L, 3);
	struct scen_waiter *w;
	int err;

	lua_settop(L, 3);
	lua_pushstring(L, ua_aor(u->ua)); /* 4: for messages */
	lua_pushstring(L, to);            /* 5 */
	w = scen_wait_begin(L, "a response to MESSAGE", 40);
	err = ua_send_message(u->ua, to, text, lua_resp_h, mem_ref(w));
	if (err) {
		mem_deref(w);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot send: %s", strerror(err));
		scen_wake(w, 2);
	}
	return scen_yield(L, w, user_send_k);
}

static void user_inbox_cb(struct ua *ua, void *arg)
{
	struct scen_waiter *w = arg;
	lua_State *co = scen_waiter_thread(w);

	ua_set_inbox_handler(ua, NULL, NULL);
	if (co) {
		lua_pushboolean(co, 1);
		scen_wake(w, 1);
	}
}

static void user_push_msg(lua_State *L, const struct ua_msg *m)
{
	lua_createtable(L, 0, 5);
	lua_pushstring(L, m->from);
	lua_setfield(L, -2, "from");
	lua_pushstring(L, m->to);
	lua_setfield(L, -2, "to");
	lua_pushstring(L, m->body);
	lua_setfield(L, -2, "body");
	lua_pushstring(L, m->call_id);
	lua_setfield(L, -2, "call_id");
	lua_pushstring(L, m->trust);
	lua_setfield(L, -2, "trust");
}

/* Stack: 1 user, 2 opts table, 3 timeout. Takes the oldest message and checks it. */
static int user_expect_k(lua_State *L, int status, lua_KContext ctx)
{
	struct luser *u = user_check(L, 1);
	struct ua_msg m;
	const char *from, *contains;

	ua_set_inbox_handler(u->ua, NULL, NULL);
	if (status == LUA_YIELD && scen_waiter_timed_out(L)) {
		lua_getfield(L, 2, "from");
		return scen_fail(L, 1, "no MESSAGE reached %s within %g s (expected one%s%s)",
				 ua_aor(u->ua), lua_tonumber(L, 3),
				 lua_isstring(L, -1) ? " from " : "",
				 lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
	}
	if (ua_inbox_take(u->ua, &m) != 0)
		return luaL_error(L, "inbox of %s is empty after a wake", ua_aor(u->ua));
	lua_getfield(L, 2, "from");
	from = lua_tostring(L, -1);
	if (from && strcasecmp(from, m.from) != 0)
		return scen_fail(L, 1, "MESSAGE to %s: expected sender %s, got %s", ua_aor(u->ua),
				 from, m.from);
	lua_getfield(L, 2, "contains");
	contains = lua_tostring(L, -1);
	if (contains && !strstr(m.body, contains))
		return scen_fail(L, 1, "MESSAGE to %s: expected a body containing \"%s\", got \"%s\"",
				 ua_aor(u->ua), contains, m.body);
	user_push_msg(L, &m);
	return 1;
}

/* user:expect_message{ from=, contains=, timeout=10 } -> message table, or the scenario fails */
static int user_l_expect_message(lua_State *L)
{
	struct luser *u = user_check(L, 1);
	struct scen_waiter *w;
	double timeout;

	if (lua_isnoneornil(L, 2)) {
		lua_settop(L, 1);
		lua_newtable(L);
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getfield(L, 2, "from");
	if (!lua_isnil(L, -1)) {
		lua_pushstring(L, user_aor_arg(L, 3));
		lua_setfield(L, 2, "from");
	}
	lua_pop(L, 1);
	lua_getfield(L, 2, "timeout");
	timeout = luaL_optnumber(L, 3, 10);
	if (ua_inbox_count(u->ua) > 0)
		return user_expect_k(L, LUA_OK, 0);
	w = scen_wait_begin(L, "a MESSAGE", timeout);
	ua_set_inbox_handler(u->ua, user_inbox_cb, w);
	return scen_yield(L, w, user_expect_k);
}

static int user_l_inbox_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)ua_inbox_count(user_check(L, 1)->ua));
	return 1;
}

static int user_l_tostring(lua_State *L)
{
	struct luser *u = luaL_checkudata(L, 1, MT_USER);

	lua_pushfstring(L, "User(%s)", u->ua ? ua_aor(u->ua) : "gone");
	return 1;
}

/* Methods live in the metatable's "methods" table, so other binding files can add to a class
 * (lua_class_extend); fields are computed here. */
static int class_method(lua_State *L, const char *mt, const char *k)
{
	luaL_getmetatable(L, mt);
	if (lua_getfield(L, -1, "methods") != LUA_TTABLE) {
		lua_pop(L, 2);
		return 0;
	}
	lua_getfield(L, -1, k);
	lua_remove(L, -2);
	lua_remove(L, -2);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 1);
	return 0;
}

void lua_class_extend(lua_State *L, const char *mt, const luaL_Reg *fns)
{
	luaL_getmetatable(L, mt);
	if (lua_getfield(L, -1, "methods") != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "methods");
	}
	luaL_setfuncs(L, fns, 0);
	lua_pop(L, 2);
}

static int user_l_index(lua_State *L)
{
	struct luser *u = user_check(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "aor") == 0) {
		lua_pushstring(L, ua_aor(u->ua));
		return 1;
	}
	if (class_method(L, MT_USER, k))
		return 1;
	return luaL_error(L, "User has no field '%s'", k);
}

struct imsrv *lua_site_srv(lua_State *L, int idx)
{
	return site_check(L, idx)->srv;
}

struct ua *lua_user_ua(lua_State *L, int idx)
{
	return user_check(L, idx)->ua;
}

/* --- Sut --- */

/* The scenario needs what this SUT kind cannot give: the scenario is not applicable to it. */
static int sut_needs(lua_State *L, struct scen *s, unsigned cap, const char *what)
{
	const struct sut_kind *k = lab_sut_kind(scen_lab(s));

	if (k->caps & cap)
		return 0;
	return scen_not_applicable(L, "%s needs %s, which a SUT of kind %s does not offer", what,
				   cap == SUTK_CONTROL ? "accessproxy's control socket or apctl"
						       : "a SUT process the lab runs",
				   k->name);
}

static struct sut *sut_check(lua_State *L, int i)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, i, MT_SUT);

	sut_needs(L, s, SUTK_PROCESS, "lab.sut");
	return lab_sut(scen_lab(s));
}

static int sut_l_pid(lua_State *L)
{
	lua_pushinteger(L, sut_pid(sut_check(L, 1)));
	return 1;
}

static int sut_l_running(lua_State *L)
{
	lua_pushboolean(L, sut_running(sut_check(L, 1)));
	return 1;
}

/* sut:kill(signal=9): for scenarios about crashes. */
static int sut_l_kill(lua_State *L)
{
	struct sut *s = sut_check(L, 1);
	int sig = (int)luaL_optinteger(L, 2, SIGKILL);
	int err = sut_kill(s, sig);

	if (err)
		return luaL_error(L, "cannot signal accessproxy: %s", strerror(err));
	return 0;
}

/* Polls the restarted SUT until it answers "ready"; the lab runs meanwhile. */
struct sut_restart {
	struct scen *s;
	struct scen_waiter *w;   /* borrowed: the waiter owns us */
	struct event *tick;
};

static void sut_restart_destroy(void *data)
{
	struct sut_restart *r = data;

	if (r->tick)
		event_free(r->tick);
}

static void sut_restart_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sut_restart *r = arg;
	struct sut *sut = lab_sut(scen_lab(r->s));
	lua_State *co = scen_waiter_thread(r->w);

	if (!co)
		return;
	if (!sut_running(sut)) {
		lua_pushnil(co);
		lua_pushfstring(co, "it %s", sut_exit_reason(sut));
		scen_wake(r->w, 2);
	} else if (sut_ready_now(sut)) {
		lua_pushinteger(co, sut_pid(sut));
		scen_wake(r->w, 1);
	}
}

static int sut_restart_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L))
		return scen_fail(L, 1, "accessproxy not ready 10 s after a restart");
	if (lua_isnil(L, -2))
		return scen_fail(L, 1, "accessproxy did not come back after a restart: %s",
				 lua_tostring(L, -1));
	return 1;
}

/* Yields until the (re)started SUT answers "ready"; what names the step for failures. */
static int sut_l_wait_ready(lua_State *L, struct scen *s)
{
	struct timeval every = { 0, 10000 };
	struct sut_restart *r = mem_zalloc(sizeof(*r), sut_restart_destroy);

	if (!r)
		return luaL_error(L, "out of memory");
	r->s = s;
	r->w = scen_wait_begin(L, "accessproxy to be ready after a restart", 10);
	scen_waiter_set_data(r->w, r);
	r->tick = event_new(scen_base(s), -1, EV_PERSIST, sut_restart_tick, r);
	if (r->tick)
		event_add(r->tick, &every);
	return scen_yield(L, r->w, sut_restart_k);
}

/* sut:restart{ signal = 9 } restarts the proxy with the same configuration and state (default:
 * a graceful SIGTERM; signal = 9 crashes it first) and waits, with the lab running, until it is
 * ready; returns its new pid. A SUT that does not come back fails the scenario. */
static int sut_l_restart(lua_State *L)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, 1, MT_SUT);
	int sig = SIGTERM;
	char why[512];

	sut_needs(L, s, SUTK_PROCESS, "sut:restart");
	if (lua_istable(L, 2) && lua_getfield(L, 2, "signal") == LUA_TNUMBER)
		sig = (int)lua_tointeger(L, -1);
	lua_settop(L, 1);
	if (lab_sut_restart(scen_lab(s), sig, why, sizeof(why)))
		return scen_fail(L, 1, "accessproxy did not come back after a restart: %s", why);
	return sut_l_wait_ready(L, s);
}

/* sut:stop() stops the proxy gracefully (SIGTERM, SIGKILL after 2 s) and waits until it has
 * exited; nothing listens on its edges until sut:start(). */
static int sut_l_stop(lua_State *L)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, 1, MT_SUT);

	sut_needs(L, s, SUTK_PROCESS, "sut:stop");
	lab_sut_stop(scen_lab(s), SIGTERM);
	return 0;
}

/* sut:start() starts a stopped proxy with the lab's configuration file and whatever state,
 * certificates and keys it names now, and waits until it is ready; returns its pid. An error
 * if it is running; a proxy that does not come up fails the scenario. */
static int sut_l_start(lua_State *L)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, 1, MT_SUT);
	struct sut *sut;
	char why[512];

	sut_needs(L, s, SUTK_PROCESS, "sut:start");
	sut = lab_sut(scen_lab(s));
	if (sut && sut_running(sut))
		return luaL_error(L, "sut:start(): accessproxy is running (sut:stop() first)");
	lua_settop(L, 1);
	if (lab_sut_start(scen_lab(s), why, sizeof(why)))
		return scen_fail(L, 1, "accessproxy did not start: %s", why);
	return sut_l_wait_ready(L, s);
}

/* sut:ctl("status") -> the control socket's one-line answer */
static int sut_l_ctl(lua_State *L)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, 1, MT_SUT);
	const char *cmd = luaL_checkstring(L, 2);
	const struct sut_kind *k = lab_sut_kind(scen_lab(s));
	char reply[4096];
	int err;

	/* a reload goes through the adapter: it reaches every worker process */
	if ((k->caps & SUTK_RELOAD) && strcmp(cmd, "reload") == 0)
		err = k->reload(scen_lab(s), reply, sizeof(reply));
	else if (sut_needs(L, s, SUTK_CONTROL, "sut:ctl") == 0)
		err = sut_ctl(lab_sut(scen_lab(s)), cmd, reply, sizeof(reply), 2000);
	else
		err = ENOTSUP;

	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	lua_pushstring(L, reply);
	return 1;
}

void lua_lab_open(lua_State *L)
{
	static const luaL_Reg user_methods[] = {
		{ "send_message", user_l_send_message },
		{ "expect_message", user_l_expect_message },
		{ "inbox_count", user_l_inbox_count },
		{ NULL, NULL },
	};
	static const luaL_Reg lab_mt[] = { { "__index", lab_l_index }, { NULL, NULL } };
	static const luaL_Reg site_mt[] = { { "__index", site_l_index }, { NULL, NULL } };
	static const luaL_Reg user_mt[] = {
		{ "__index", user_l_index }, { "__gc", user_gc },
		{ "__tostring", user_l_tostring }, { NULL, NULL },
	};
	static const luaL_Reg sut_methods[] = {
		{ "pid", sut_l_pid }, { "running", sut_l_running },
		{ "kill", sut_l_kill }, { "ctl", sut_l_ctl }, { "restart", sut_l_restart },
		{ "stop", sut_l_stop }, { "start", sut_l_start }, { NULL, NULL },
	};

	luaL_newmetatable(L, MT_LAB);
	luaL_setfuncs(L, lab_mt, 0);
	luaL_newmetatable(L, MT_SITE);
	luaL_setfuncs(L, site_mt, 0);
	luaL_newmetatable(L, MT_USER);
	luaL_setfuncs(L, user_mt, 0);
	luaL_newmetatable(L, MT_SUT);
	luaL_newlib(L, sut_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 4);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &users_key);
	lua_class_extend(L, MT_USER, user_methods);
	lua_class_extend(L, MT_SITE, (const luaL_Reg[]){ { "user", site_l_user }, { NULL, NULL } });
}
