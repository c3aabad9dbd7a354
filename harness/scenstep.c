/* scenstep: a session — the lab a scenario gets, driven one step at a time by the console or
 * by piclab lab --script; each step is a coroutine of the scenario engine, so waits work as in
 * a scenario, and the lab stays up between steps. */
#define LOG_MODULE "scen"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "lab.h"
#include "scen.h"
#include "scen_int.h"

struct scen_session {
	struct scen s;            /* first: scen_step_end finds the session from it */
	struct scen_opts o;
	struct scen_result res;
	FILE *logf;
	char script[1024];
	int script_ref;           /* the scenario table of a scenario file, or LUA_NOREF */
	int co_ref;               /* the running step's coroutine, anchored */
	bool busy;
	scen_step_h *h;
	void *arg;
};

static void scen_session_destroy(void *data)
{
	struct scen_session *ss = data;

	scen_teardown(&ss->s, &ss->o, ss->logf);
}

/* Ends the waits and branches the step left, whatever ended it. */
static void scen_step_clear(struct scen *s)
{
	unsigned i;

	for (i = 0; i <= SCEN_MAX_BRANCHES; i++)
		if (s->waits[i])
			scen_waiter_end(s->waits[i]);
	for (i = 0; i < SCEN_MAX_BRANCHES; i++) {
		if (!s->branches[i].co)
			continue;
		lua_pushnil(s->L);
		lua_rawsetp(s->L, LUA_REGISTRYINDEX, s->branches[i].co);
		s->branches[i].co = NULL;
		s->branches[i].g = mem_deref(s->branches[i].g);
	}
}

void scen_step_end(struct scen *s, lua_State *co, int nres, enum scen_verdict v,
		   const char *reason, const char *where)
{
	struct scen_session *ss = (struct scen_session *)s;
	bool was_busy = ss->busy;

	scen_step_clear(s);
	s->co = NULL;
	ss->busy = false;
	if (ss->h)
		ss->h(was_busy ? co : NULL, nres, v, reason, where, ss->arg);
	if (co && nres > 0)
		lua_pop(co, nres);
	luaL_unref(s->L, LUA_REGISTRYINDEX, ss->co_ref);
	ss->co_ref = LUA_NOREF;
}

/* The function on top of the state's stack runs as the step, with the Lab as its argument. */
static void scen_step_start(struct scen_session *ss)
{
	struct scen *s = &ss->s;
	lua_State *co = lua_newthread(s->L);

	ss->co_ref = luaL_ref(s->L, LUA_REGISTRYINDEX);
	lua_xmove(s->L, co, 1);
	lua_lab_push(co, s);
	s->co = co;
	ss->busy = true;
	scen_resume(s, co, 1);
}

/* A scenario file (return scenario{...}) rather than a plain list of steps. */
static bool scen_is_scenario_file(const char *path)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *p = strstr(buf, "return"); p; p = strstr(p + 6, "return")) {
		char *q = p + 6;

		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (strncmp(q, "scenario", 8) == 0)
			return true;
	}
	return false;
}

int scen_session_open(struct scen_session **ssp, struct event_base *base,
		      const struct scen_opts *opts, const char *name, const char *script,
		      scen_step_h *h, void *arg, char *why, size_t whysize)
{
	struct scen_session *ss = mem_zalloc(sizeof(*ss), scen_session_destroy);
	int err, t = 0;

	if (!ss)
		return ENOMEM;
	ss->o = *opts;
	ss->h = h;
	ss->arg = arg;
	ss->script_ref = LUA_NOREF;
	ss->co_ref = LUA_NOREF;
	err = scen_setup(&ss->s, base, &ss->o, name, &ss->res, &ss->logf);
	if (err) {
		snprintf(why, whysize, "cannot create a Lua state");
		goto out;
	}
	ss->s.step_h = h;
	ss->s.step_arg = arg;
	if (script) {
		snprintf(ss->script, sizeof(ss->script), "%s", script);
		if (scen_is_scenario_file(script)) {
			err = scen_load(&ss->s, script, why, whysize);
			if (err)
				goto out;
			t = lua_gettop(ss->s.L);
			scen_read_meta(&ss->s, t, &ss->o);
		}
	}
	err = scen_boot(&ss->s, &ss->o, t, why, whysize);
	if (err)
		goto out;
	if (t)
		ss->script_ref = luaL_ref(ss->s.L, LUA_REGISTRYINDEX);
	lua_settop(ss->s.L, 0);
	lua_lab_push(ss->s.L, &ss->s);
	lua_setglobal(ss->s.L, "lab");
out:
	if (err)
		mem_deref(ss);
	else
		*ssp = ss;
	return err;
}

int scen_session_script(struct scen_session *ss, char *why, size_t whysize)
{
	lua_State *L = ss->s.L;

	if (ss->busy)
		return EBUSY;
	if (ss->script_ref != LUA_NOREF) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, ss->script_ref);
		lua_getfield(L, -1, "run");
		lua_remove(L, -2);
	} else if (luaL_loadfile(L, ss->script) != LUA_OK) {
		snprintf(why, whysize, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return EINVAL;
	}
	scen_step_start(ss);
	return 0;
}

int scen_session_step(struct scen_session *ss, const char *code, const char *chunkname,
		      bool as_expression, char *why, size_t whysize)
{
	lua_State *L = ss->s.L;
	size_t n = strlen(code);
	const char *msg;

	if (ss->busy)
		return EBUSY;
	if (as_expression) {
		lua_pushfstring(L, "return %s", code);
		if (luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), chunkname) ==
		    LUA_OK) {
			lua_remove(L, -2);
			scen_step_start(ss);
			return 0;
		}
		lua_pop(L, 2);
	}
	if (luaL_loadbuffer(L, code, n, chunkname) == LUA_OK) {
		scen_step_start(ss);
		return 0;
	}
	msg = lua_tostring(L, -1);
	snprintf(why, whysize, "%s", msg ? msg : "syntax error");
	lua_pop(L, 1);
	n = strlen(why);
	return n >= 5 && strcmp(why + n - 5, "<eof>") == 0 ? EAGAIN : EINVAL;
}

bool scen_session_busy(const struct scen_session *ss)
{
	return ss && ss->busy;
}

void scen_session_interrupt(struct scen_session *ss)
{
	struct scen_waiter *w;
	char where[256] = "", reason[200] = "interrupted";

	if (!ss || !ss->busy)
		return;
	w = scen_some_wait(&ss->s);
	if (w) {
		snprintf(where, sizeof(where), "%s", w->where);
		snprintf(reason, sizeof(reason), "interrupted while waiting for %s", w->what);
	}
	scen_step_end(&ss->s, NULL, 0, SCEN_FAIL, reason, where);
}

lua_State *scen_session_lua(struct scen_session *ss)
{
	return ss->s.L;
}

struct lab *scen_session_lab(struct scen_session *ss)
{
	return ss->s.lab;
}

const struct scen_result *scen_session_result(const struct scen_session *ss)
{
	return &ss->res;
}

void scen_session_close(struct scen_session *ss)
{
	mem_deref(ss);
}
