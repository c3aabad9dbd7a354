/* scen: runs one Lua scenario as a coroutine in a fresh state against a fresh lab. */
#define LOG_MODULE "scen"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "capture.h"
#include "decode/capdec.h"
#include "invariant.h"
#include "pcapng.h"
#include "lab.h"
#include "scen.h"
#include "sut.h"

#define SCEN_MEM_LIMIT (256u << 20) /* a scenario's Lua heap */
#define SCEN_MAX_BRANCHES 16

/* lab:parallel: branches run as coroutines of their own; the caller waits for all of them. */
struct scen_group {
	struct scen_waiter *w;     /* the caller's wait, once it waits */
	unsigned remaining;
};

struct scen_branch {
	lua_State *co;             /* NULL: free slot */
	struct scen_group *g;
};

struct scen {
	lua_State *L;
	lua_State *co;
	struct event_base *base;
	struct lab *lab;
	struct scen_result *res;
	/* the waits in progress, at most one per coroutine: the run function's and those of the
	 * branches of lab:parallel */
	struct scen_waiter *waits[SCEN_MAX_BRANCHES + 1];
	struct scen_branch branches[SCEN_MAX_BRANCHES];
	struct event *limit_ev;
	size_t mem_used;
	double timeout;
	bool finished;
	bool waived[INV_COUNT];
	const char *root;
	char bad_waiver[128];
};

struct scen_waiter {
	struct scen *scen;        /* NULL once the wait is over */
	lua_State *co;
	struct event *timer;
	void *data;
	bool yielded;
	bool early;               /* woken before it could yield */
	int early_nres;
	lua_KFunction k;
	char what[128];
	char where[256];
};

static char scen_timeout_marker;
static const char scen_key = 'S';

const char *scen_verdict_str(enum scen_verdict v)
{
	switch (v) {
	case SCEN_PASS: return "pass";
	case SCEN_FAIL: return "fail";
	case SCEN_ERROR: return "error";
	case SCEN_SKIP: return "skip";
	}
	return "?";
}

/* Lua allocator with a ceiling, so a runaway scenario fails instead of eating the machine. */
static void *scen_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct scen *s = ud;
	size_t old = ptr ? osize : 0;

	if (nsize == 0) {
		s->mem_used -= old;
		free(ptr);
		return NULL;
	}
	if (nsize > old && s->mem_used + (nsize - old) > SCEN_MEM_LIMIT)
		return NULL;
	ptr = realloc(ptr, nsize);
	if (ptr)
		s->mem_used += nsize - old;
	return ptr;
}

struct scen *scen_of(lua_State *L)
{
	struct scen *s;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &scen_key);
	s = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return s;
}

const char *scen_root(struct scen *s)
{
	return s->root ? s->root : ".";
}

struct lab *scen_lab(struct scen *s)
{
	return s->lab;
}

struct event_base *scen_base(struct scen *s)
{
	return s->base;
}

static void scen_finish(struct scen *s, enum scen_verdict v, const char *reason, const char *where)
{
	if (s->finished)
		return;
	s->finished = true;
	s->res->verdict = v;
	snprintf(s->res->reason, sizeof(s->res->reason), "%s", reason ? reason : "");
	snprintf(s->res->where, sizeof(s->res->where), "%s", where ? where : "");
	event_base_loopbreak(s->base);
}

/* Ends the current wait without resuming: timers stop, the waiter forgets the scenario. */
static void scen_waiter_end(struct scen_waiter *w)
{
	struct scen *s = w->scen;

	if (!s)
		return;
	w->scen = NULL;
	if (w->timer)
		event_del(w->timer);
	for (unsigned i = 0; i <= SCEN_MAX_BRANCHES; i++) {
		if (s->waits[i] == w) {
			s->waits[i] = mem_deref(s->waits[i]);
			break;
		}
	}
}

/* The wait of coroutine co, or NULL. */
static struct scen_waiter *scen_wait_of(const struct scen *s, const lua_State *co)
{
	unsigned i;

	for (i = 0; i <= SCEN_MAX_BRANCHES; i++)
		if (s->waits[i] && s->waits[i]->co == co)
			return s->waits[i];
	return NULL;
}

/* Some wait in progress (the run function's first), for messages: NULL if none. */
static struct scen_waiter *scen_some_wait(const struct scen *s)
{
	struct scen_waiter *w = scen_wait_of(s, s->co);
	unsigned i;

	for (i = 0; !w && i <= SCEN_MAX_BRANCHES; i++)
		w = s->waits[i];
	return w;
}

static void scen_waiter_destroy(void *data)
{
	struct scen_waiter *w = data;

	if (w->timer)
		event_free(w->timer);
	mem_deref(w->data);
}

/* Turns the coroutine's error value into a verdict. */
static void scen_judge_error(struct scen *s, lua_State *co)
{
	char where[256] = "";

	if (lua_istable(co, -1)) {
		const char *v, *reason;

		lua_getfield(co, -1, "piclab_verdict");
		v = lua_tostring(co, -1);
		lua_getfield(co, -2, "reason");
		reason = lua_tostring(co, -1);
		lua_getfield(co, -3, "where");
		snprintf(where, sizeof(where), "%s", lua_tostring(co, -1) ? lua_tostring(co, -1) : "");
		if (v && strcmp(v, "skip") == 0)
			scen_finish(s, SCEN_SKIP, reason, where);
		else if (v)
			scen_finish(s, SCEN_FAIL, reason, where);
		else
			scen_finish(s, SCEN_ERROR, "scenario raised a table that is not a verdict",
				    NULL);
		lua_pop(co, 3);
		return;
	}
	/* A Lua error is misuse of the API or a bug in the scenario: verdict error. */
	luaL_traceback(s->L, co, lua_tostring(co, -1) ? lua_tostring(co, -1) : "(error object)", 0);
	scen_finish(s, SCEN_ERROR, lua_tostring(s->L, -1), NULL);
	lua_pop(s->L, 1);
}

static void scen_branch_done(struct scen *s, lua_State *co);
static int scen_l_parallel(lua_State *L);

/* Resumes coroutine co (the run function or a branch of lab:parallel) with nargs values. */
static void scen_resume_co(struct scen *s, lua_State *co, lua_State *from, int nargs)
{
	int nres = 0, status;

	status = lua_resume(co, from, nargs, &nres);
	if (status == LUA_YIELD) {
		lua_pop(co, nres);
		if (!scen_wait_of(s, co))
			scen_finish(s, SCEN_ERROR, "the scenario yielded by itself; waiting is done "
				    "only through the lab's calls", NULL);
		return;
	}
	if (status != LUA_OK) {
		scen_judge_error(s, co);
		return;
	}
	if (co == s->co)
		scen_finish(s, SCEN_PASS, "", "");
	else
		scen_branch_done(s, co);
}

static void scen_resume(struct scen *s, lua_State *co, int nargs)
{
	scen_resume_co(s, co, s->L, nargs);
}

static void scen_waiter_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scen_waiter *w = arg;
	struct scen *s = w->scen;

	if (!s || s->finished)
		return;
	lua_pushlightuserdata(w->co, &scen_timeout_marker);
	scen_wake(w, 1);
}

struct scen_waiter *scen_wait_begin(lua_State *L, const char *what, double timeout_s)
{
	struct scen *s = scen_of(L);
	struct scen_waiter *w;
	lua_Debug ar;

	if (scen_wait_of(s, L))
		luaL_error(L, "a wait is already in progress (%s)", scen_wait_of(s, L)->what);
	if (!lua_isyieldable(L))
		luaL_error(L, "%s must be called from the scenario's run function", what);
	w = mem_zalloc(sizeof(*w), scen_waiter_destroy);
	if (!w)
		luaL_error(L, "out of memory");
	w->scen = s;
	w->co = L;
	snprintf(w->what, sizeof(w->what), "%s", what);
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
		snprintf(w->where, sizeof(w->where), "%s:%d", ar.short_src, ar.currentline);
	if (timeout_s > 0) {
		struct timeval tv = { (time_t)timeout_s,
				      (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6) };

		w->timer = evtimer_new(s->base, scen_waiter_timeout_cb, w);
		if (w->timer)
			evtimer_add(w->timer, &tv);
	}
	for (unsigned i = 0; i <= SCEN_MAX_BRANCHES; i++) {
		if (!s->waits[i]) {
			s->waits[i] = w;
			return w;
		}
	}
	mem_deref(w);
	luaL_error(L, "too many waits at once");
	return NULL;
}

int scen_yield(lua_State *L, struct scen_waiter *w, lua_KFunction k)
{
	if (w->early) {
		/* The operation completed synchronously: its results are already on our stack. */
		scen_waiter_end(w);
		return k(L, LUA_YIELD, 0);
	}
	w->yielded = true;
	w->k = k;
	return lua_yieldk(L, 0, 0, k);
}

lua_State *scen_waiter_thread(struct scen_waiter *w)
{
	return w && w->scen && !w->scen->finished ? w->co : NULL;
}

void scen_wake(struct scen_waiter *w, int nres)
{
	struct scen *s = w->scen;

	if (!s || s->finished)
		return;
	if (!w->yielded) {
		/* Completed inside the binding's own call: scen_yield finishes the wait. */
		w->early = true;
		w->early_nres = nres;
		return;
	}
	mem_ref(w);
	scen_waiter_end(w);
	scen_resume(s, w->co, nres);
	mem_deref(w);
}

void scen_waiter_set_data(struct scen_waiter *w, void *data)
{
	mem_deref(w->data);
	w->data = data;
}

void *scen_waiter_data(struct scen_waiter *w)
{
	return w->data;
}

bool scen_waiter_timed_out(lua_State *L)
{
	if (lua_touserdata(L, -1) == &scen_timeout_marker) {
		lua_pop(L, 1);
		return true;
	}
	return false;
}

int scen_fail(lua_State *L, int level, const char *fmt, ...)
{
	char reason[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, "fail");
	lua_setfield(L, -2, "piclab_verdict");
	lua_pushstring(L, reason);
	lua_setfield(L, -2, "reason");
	luaL_where(L, level);
	{
		size_t n;
		const char *w = lua_tolstring(L, -1, &n);

		/* luaL_where gives "file:line: "; keep "file:line". */
		lua_pushlstring(L, w, n >= 2 ? n - 2 : n);
		lua_remove(L, -2);
	}
	lua_setfield(L, -2, "where");
	return lua_error(L);
}

static void scen_limit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scen *s = arg;
	char reason[512];

	struct scen_waiter *w = scen_some_wait(s);

	snprintf(reason, sizeof(reason), "time limit of %.0f s exceeded%s%s", s->timeout,
		 w ? " while waiting for " : "", w ? w->what : "");
	scen_finish(s, SCEN_FAIL, reason, w ? w->where : "");
}

static void scen_lab_broken(struct lab *lab, const char *why, void *arg)
{
	struct scen *s = arg;

	struct scen_waiter *w = scen_some_wait(s);

	scen_finish(s, SCEN_FAIL, why, w ? w->where : "");
}

/* Loads the file and leaves its scenario table on the stack; an error string otherwise. */
static int scen_load(struct scen *s, const char *path, char *why, size_t whysize)
{
	lua_State *L = s->L;

	if (luaL_loadfile(L, path) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
		snprintf(why, whysize, "%s", lua_tostring(L, -1));
		return EINVAL;
	}
	if (!lua_istable(L, -1) || lua_getfield(L, -1, "__scenario") != LUA_TBOOLEAN) {
		snprintf(why, whysize, "%s: the file must `return scenario{...}`", path);
		return EINVAL;
	}
	lua_pop(L, 1);
	return 0;
}

static void scen_read_meta(struct scen *s, int t, const struct scen_opts *o)
{
	lua_State *L = s->L;
	size_t used = 0;
	lua_Integer i;

	lua_getfield(L, t, "title");
	snprintf(s->res->title, sizeof(s->res->title), "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, t, "covers");
	for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
		int n = snprintf(s->res->covers + used, sizeof(s->res->covers) - used, "%s%s",
				 used ? " " : "", lua_tostring(L, -1));

		if (n > 0 && (size_t)n < sizeof(s->res->covers) - used)
			used += (size_t)n;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	used = 0;
	if (lua_getfield(L, t, "tags") == LUA_TTABLE) {
		for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			int n = snprintf(s->res->tags + used, sizeof(s->res->tags) - used, "%s%s",
					 used ? " " : "", lua_tostring(L, -1));

			if (n > 0 && (size_t)n < sizeof(s->res->tags) - used)
				used += (size_t)n;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "waive") == LUA_TTABLE) {
		used = 0;
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
			int id = invariant_find(k);
			int n;

			if (id < 0 || !lua_isstring(L, -1))
				snprintf(s->bad_waiver, sizeof(s->bad_waiver), "%s", k);
			else
				s->waived[id] = true;
			n = snprintf(s->res->waived + used, sizeof(s->res->waived) - used,
				     "%s%s: %s", used ? "\n" : "", k,
				     lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
			if (n > 0 && (size_t)n < sizeof(s->res->waived) - used)
				used += (size_t)n;
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, t, "timeout");
	s->timeout = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : o ? o->default_timeout : 30;
	lua_pop(L, 1);
}

/* The lab options a scenario may set: lab = { providers = { aol = { allow = false } } }. */
static void scen_lab_opts(struct scen *s, int t, struct lab_opts *lo)
{
	lua_State *L = s->L;
	unsigned i;

	for (i = 0; i < LAB_NPROVIDERS; i++)
		lo->provider_allow[i] = true;
	lab_default_users(lo);
	/* lab = { pic_users = { "alice@contoso.test", ... } } replaces the enabled set; eve stays
	 * known and disabled unless listed */
	if (lua_getfield(L, t, "lab") == LUA_TTABLE) {
		lua_getfield(L, -1, "pic_users");
	} else {
		lua_pushnil(L);
	}
	if (lua_istable(L, -1)) {
		lua_Integer k;
		bool eve_listed = false;

		lo->npic_users = 0;
		for (k = 1; lua_rawgeti(L, -1, k) == LUA_TSTRING && lo->npic_users < LAB_MAX_USERS - 1;
		     k++) {
			snprintf(lo->pic_users[lo->npic_users].aor, sizeof(lo->pic_users[0].aor), "%s",
				 lua_tostring(L, -1));
			eve_listed |= strcmp(lua_tostring(L, -1), "eve@contoso.test") == 0;
			lo->pic_users[lo->npic_users++].enabled = true;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (!eve_listed) {
			snprintf(lo->pic_users[lo->npic_users].aor, sizeof(lo->pic_users[0].aor),
				 "eve@contoso.test");
			lo->pic_users[lo->npic_users++].enabled = false;
		}
	}
	lua_pop(L, 2);
	/* lab = { provisioned = false }: providers learn the enterprise's route only through the
	 * provisioning site during the scenario (PROV-005) */
	if (lua_getfield(L, t, "lab") == LUA_TTABLE) {
		lua_getfield(L, -1, "provisioned");
		lo->unprovisioned = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (lua_getfield(L, -1, "sut_rate") == LUA_TTABLE) {
			lua_getfield(L, -1, "per_sec");
			lua_getfield(L, -2, "burst");
			if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > 0)
				lo->rate_per_sec = (unsigned)lua_tointeger(L, -2);
			if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
				lo->rate_burst = (unsigned)lua_tointeger(L, -1);
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
		lua_getfield(L, -1, "state_disk_kb");
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 && lua_tointeger(L, -1) < (1 << 20))
			lo->state_disk_kb = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "lab") == LUA_TTABLE &&
	    lua_getfield(L, -1, "providers") == LUA_TTABLE) {
		for (i = 0; i < LAB_NPROVIDERS; i++) {
			if (lua_getfield(L, -1, lab_provider_name(i)) == LUA_TTABLE) {
				lua_getfield(L, -1, "allow");
				if (!lua_isnil(L, -1))
					lo->provider_allow[i] = lua_toboolean(L, -1);
				lua_pop(L, 1);
				lua_getfield(L, -1, "blocked");
				lo->provider_blocked[i] = lua_toboolean(L, -1);
				lua_pop(L, 1);
				lua_getfield(L, -1, "public");
				lo->provider_partner[i] = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
				lua_pop(L, 1);
				if (lua_getfield(L, -1, "filter") == LUA_TSTRING)
					snprintf(lo->provider_filter[i], sizeof(lo->provider_filter[i]),
						 "%s", lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_tls_lab_opts(L, t, lo);
}

static double scen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void scen_open_lua(struct scen *s)
{
	lua_State *L = s->L;

	luaL_openlibs(L);
	/* Scenarios drive the lab through its API, not through the shell. */
	lua_getglobal(L, "os");
	lua_pushnil(L);
	lua_setfield(L, -2, "execute");
	lua_pushnil(L);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);
	lua_getglobal(L, "io");
	lua_pushnil(L);
	lua_setfield(L, -2, "popen");
	lua_pop(L, 1);
	lua_pushlightuserdata(L, s);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &scen_key);
	/* require() finds shared steps in scenarios/lib/ */
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/scenarios/lib/?.lua", s->root ? s->root : ".");
	lua_setfield(L, -2, "path");
	lua_pushstring(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
	lua_base_open(L);
	lua_lab_open(L);
	{
		static const luaL_Reg lab_methods[] = { { "parallel", scen_l_parallel },
							{ NULL, NULL } };

		lua_class_extend(L, "piclab.Lab", lab_methods);
	}
	lua_capture_open(L);
	lua_im_open(L);
	lua_raw_open(L);
	lua_load_open(L);
	lua_tls_open(L);
	lua_prov_open(L);
	lua_dns_open(L);
}

/* A branch of lab:parallel returned: free its slot; the last one resumes the caller. */
static void scen_branch_done(struct scen *s, lua_State *co)
{
	struct scen_group *g = NULL;
	unsigned i;

	for (i = 0; i < SCEN_MAX_BRANCHES; i++) {
		if (s->branches[i].co == co) {
			g = s->branches[i].g;
			s->branches[i].co = NULL;
			s->branches[i].g = NULL;
			/* unanchor the thread: the collector may take it now */
			lua_pushnil(s->L);
			lua_rawsetp(s->L, LUA_REGISTRYINDEX, co);
			break;
		}
	}
	if (!g)
		return;
	if (--g->remaining == 0 && g->w)
		scen_wake(g->w, 0);
	mem_deref(g);
}

static int scen_parallel_k(lua_State *L, int status, lua_KContext ctx)
{
	return 0;
}

/* lab:parallel(f1, f2, ...): runs the functions as branches at the same time (each may wait on
 * the lab: send, expect, sleep...) and returns when all have returned; the first failure in
 * any branch ends the scenario, as anywhere else. At most 16 branches at once. */
static int scen_l_parallel(lua_State *L)
{
	struct scen *s = scen_of(L);
	struct scen_group *g;
	int n = lua_gettop(L), i;
	unsigned free_slots = 0, k;

	luaL_checkudata(L, 1, "piclab.Lab");
	for (i = 2; i <= n; i++)
		luaL_checktype(L, i, LUA_TFUNCTION);
	for (k = 0; k < SCEN_MAX_BRANCHES; k++)
		free_slots += s->branches[k].co == NULL;
	if ((unsigned)(n - 1) > free_slots)
		return luaL_error(L, "lab:parallel: at most %u branches at once", free_slots);
	if (!lua_isyieldable(L))
		return luaL_error(L, "lab:parallel must be called from the scenario's run function");
	g = mem_zalloc(sizeof(*g), NULL);
	if (!g)
		return luaL_error(L, "out of memory");
	g->remaining = (unsigned)(n - 1);
	for (i = 2; i <= n && !s->finished; i++) {
		lua_State *co = lua_newthread(L);

		/* anchored in the registry until the branch returns */
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, co);
		lua_pop(L, 1);
		for (k = 0; s->branches[k].co; k++)
			;
		s->branches[k].co = co;
		s->branches[k].g = mem_ref(g);
		lua_pushvalue(L, i);
		lua_xmove(L, co, 1);
		scen_resume_co(s, co, L, 0);
	}
	if (s->finished || g->remaining == 0) {
		mem_deref(g);
		if (s->finished)
			return luaL_error(L, "a branch of lab:parallel ended the scenario");
		return 0;
	}
	lua_settop(L, 0);
	g->w = scen_wait_begin(L, "the branches of lab:parallel", 0);
	mem_deref(g);
	return scen_yield(L, g->w, scen_parallel_k);
}

/* The capture-wide rules, after a scenario passed its own checks. */
static void scen_check_invariants(struct scen *s)
{
	struct capdec *d = NULL;
	char why[1500], reason[1700];
	int id, err;

	capture_sync(lab_capture(s->lab));
	err = capdec_open(&d, lab_pcap_path(s->lab), lab_keylog_path(s->lab));
	if (err) {
		s->res->verdict = SCEN_ERROR;
		snprintf(s->res->reason, sizeof(s->res->reason), "cannot decode the capture %s: %s",
			 lab_pcap_path(s->lab), strerror(err));
		return;
	}
	id = invariant_check(s->lab, d, s->waived, why, sizeof(why));
	mem_deref(d);
	if (id < 0)
		return;
	snprintf(reason, sizeof(reason), "invariant %s violated: %s", invariant_name(id), why);
	s->res->verdict = SCEN_FAIL;
	snprintf(s->res->reason, sizeof(s->res->reason), "%s", reason);
	snprintf(s->res->where, sizeof(s->res->where), "(capture)");
}

static void scen_keep_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* --keep: the failed lab stays up for inspection until Ctrl-C. */
static void scen_keep(struct scen *s, const struct scen_opts *o)
{
	struct event *ev = evsignal_new(s->base, SIGINT, scen_keep_stop, s->base);
	char net[32], *dot;
	unsigned h;

	snprintf(net, sizeof(net), "%s", lab_host_ip(s->lab, LAB_NS));
	dot = strrchr(net, '.');
	if (dot)
		snprintf(dot, sizeof(net) - (size_t)(dot - net), ".0");

	if (lab_capture(s->lab))
		capture_sync(lab_capture(s->lab));
	fprintf(stdout, "\n%s %s: %s\nthe lab stays up (Ctrl-C tears it down):\n",
		scen_verdict_str(s->res->verdict), s->res->name, s->res->reason);
	for (h = 0; h < LAB_NHOSTS; h++)
		fprintf(stdout, "  %-22s %s\n", lab_host_name(h), lab_host_ip(s->lab, h));
	fprintf(stdout, "  proxy pid %d, config %s\n", (int)sut_pid(lab_sut(s->lab)),
		lab_sut_conf(s->lab));
	fprintf(stdout, "capture: tshark -i lo -f 'net %s/24' -o tls.keylog_file:%s -Y sip\n",
		net, lab_keylog_path(s->lab));
	fprintf(stdout, "so far:  tshark -r %s -o tls.keylog_file:%s -Y sip\n",
		lab_pcap_path(s->lab), lab_keylog_path(s->lab));
	fflush(stdout);
	if (!ev)
		return;
	event_add(ev, NULL);
	event_base_dispatch(s->base);
	event_free(ev);
}

int scen_probe(const char *path, const char *name, struct scen_result *res)
{
	struct scen s = { .res = res };
	char why[1024];
	int err;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name);
	s.L = lua_newstate(scen_alloc, &s);
	if (!s.L)
		return ENOMEM;
	scen_open_lua(&s);
	err = scen_load(&s, path, why, sizeof(why));
	if (err)
		snprintf(res->reason, sizeof(res->reason), "%s", why);
	else
		scen_read_meta(&s, lua_gettop(s.L), NULL);
	lua_close(s.L);
	return err;
}

void scen_run(struct event_base *base, const char *path, const char *name,
	      const struct scen_opts *o, struct scen_result *res)
{
	struct scen s = { .base = base, .res = res, .root = o->root };
	struct lab_opts lo = { .index = o->lab_index, .pki_dir = o->pki_dir,
			       .sut_binary = o->sut_binary, .capture = o->capture };
	char why[1024] = "", logpath[600];
	double t0 = scen_now();
	FILE *logf = NULL;
	int t;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name);
	snprintf(res->dir, sizeof(res->dir), "%s/%s", o->out_dir, name);
	for (char *p = res->dir + strlen(o->out_dir) + 1; *p; p++)
		if (*p == '/')
			*p = '.';
	mkdir(res->dir, 0755);
	lo.dir = res->dir;
	snprintf(logpath, sizeof(logpath), "%s/lab.log", res->dir);
	logf = fopen(logpath, "w");
	if (logf) {
		setvbuf(logf, NULL, _IOLBF, 0);
		log_set_file(logf);
	}

	s.L = lua_newstate(scen_alloc, &s);
	if (!s.L) {
		scen_finish(&s, SCEN_ERROR, "cannot create a Lua state", NULL);
		goto out;
	}
	scen_open_lua(&s);
	if (scen_load(&s, path, why, sizeof(why))) {
		scen_finish(&s, SCEN_ERROR, why, NULL);
		goto out;
	}
	t = lua_gettop(s.L);
	scen_read_meta(&s, t, o);
	if (s.bad_waiver[0]) {
		char reason[300];

		snprintf(reason, sizeof(reason), "waive: '%s' is not an invariant (external-tls-only, "
			 "topology-hiding, trust-header, well-formed, transactions-end) or has no "
			 "reason string", s.bad_waiver);
		scen_finish(&s, SCEN_ERROR, reason, NULL);
		goto out;
	}
	lua_getglobal(s.L, "math");
	lua_getfield(s.L, -1, "randomseed");
	lua_pushinteger(s.L, (lua_Integer)o->seed);
	lua_call(s.L, 1, 0);
	lua_pop(s.L, 1);
	scen_lab_opts(&s, t, &lo);

	if (lab_boot(&s.lab, base, &lo, scen_lab_broken, &s, why, sizeof(why))) {
		char reason[1100];

		snprintf(reason, sizeof(reason), "lab did not boot: %s", why);
		s.finished = false;
		scen_finish(&s, SCEN_ERROR, reason, NULL);
		goto out;
	}
	s.finished = false;
	{
		struct timeval tv = { (time_t)s.timeout, 0 };

		s.limit_ev = evtimer_new(base, scen_limit_cb, &s);
		evtimer_add(s.limit_ev, &tv);
	}
	s.co = lua_newthread(s.L);
	lua_getfield(s.L, t, "run");
	lua_xmove(s.L, s.co, 1);
	lua_lab_push(s.co, &s);
	scen_resume(&s, s.co, 1);
	while (!s.finished)
		event_base_loop(base, EVLOOP_ONCE);
	if (res->verdict == SCEN_PASS && lab_capture(s.lab)) {
		/* let answers still in flight land before judging the whole capture */
		struct timeval settle = { 0, 300000 };

		event_base_loopexit(base, &settle);
		event_base_dispatch(base);
		if (res->verdict == SCEN_PASS)
			scen_check_invariants(&s);
	}
	if (o->keep && res->verdict != SCEN_PASS && res->verdict != SCEN_SKIP)
		scen_keep(&s, o);
out:
	for (unsigned i = 0; i <= SCEN_MAX_BRANCHES; i++)
		if (s.waits[i])
			scen_waiter_end(s.waits[i]);
	if (s.lab && lab_capture(s.lab)) {
		capture_sync(lab_capture(s.lab));
		res->packets = capture_packets(lab_capture(s.lab));
	}
	if (s.limit_ev)
		event_free(s.limit_ev);
	/* Lua objects hold users of the lab's servers: they go first. */
	if (s.L)
		lua_close(s.L);
	if (s.lab) {
		lab_teardown(s.lab);
		if (lab_capture(s.lab) || o->capture) {
			char ng[600];

			/* the capture is closed now: write the self-decrypting copy */
			snprintf(ng, sizeof(ng), "%s/capture.pcapng", res->dir);
			pcapng_write_with_secrets(lab_pcap_path(s.lab), lab_keylog_path(s.lab), ng);
		}
	}
	s.lab = mem_deref(s.lab);
	/* Let closed connections' last callbacks run before the next lab takes the addresses. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	res->seconds = scen_now() - t0;
	log_set_file(o->run_log);
	if (logf)
		fclose(logf);
}
