/* scenwait: how a scenario waits — one wait per coroutine, resumed by the lab's event loop —
 * and lab:parallel, which runs branches as coroutines of their own. */
#define LOG_MODULE "scen"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "scen.h"
#include "scen_int.h"

static char scen_timeout_marker;

/* Ends the current wait without resuming: timers stop, the waiter forgets the scenario. */
void scen_waiter_end(struct scen_waiter *w)
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
struct scen_waiter *scen_some_wait(const struct scen *s)
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
		else if (v && strcmp(v, "inconc") == 0)
			scen_finish(s, SCEN_INCONC, reason, where);
		else if (v && strcmp(v, "n/a") == 0)
			scen_finish(s, SCEN_NA, reason, where);
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
	if (co == s->co && s->step_h)
		scen_step_end(s, co, nres, SCEN_PASS, "", "");
	else if (co == s->co)
		scen_finish(s, SCEN_PASS, "", "");
	else
		scen_branch_done(s, co);
}

void scen_resume(struct scen *s, lua_State *co, int nargs)
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
	s->res->assertions++;
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
	timeout_s = strcmp(what, "lab:sleep") ? scen_time(s, timeout_s) : timeout_s;
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
int scen_l_parallel(lua_State *L)
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
