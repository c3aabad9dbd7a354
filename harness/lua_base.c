/* lua_base: the scenario language's globals — scenario{}, expect, expect_eq, fail, skip, log,
 * fixture — through which a scenario declares itself and judges outcomes. */
#define LOG_MODULE "scen"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "scen.h"

/* scenario{ title=, covers={...}, tags={...}, timeout=, lab={...}, run=function(lab) } */
static int scen_l_scenario(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (lua_getfield(L, 1, "title") != LUA_TSTRING)
		luaL_error(L, "scenario{}: 'title' (a string) is required");
	if (lua_getfield(L, 1, "covers") != LUA_TTABLE)
		luaL_error(L, "scenario{}: 'covers' (a list of requirement ids) is required");
	if (lua_getfield(L, 1, "run") != LUA_TFUNCTION)
		luaL_error(L, "scenario{}: 'run' (a function taking the lab) is required");
	lua_pop(L, 3);
	lua_pushboolean(L, 1);
	lua_setfield(L, 1, "__scenario");
	lua_settop(L, 1);
	return 1;
}

/* fail(reason): ends the scenario with verdict fail here. */
static int scen_l_fail(lua_State *L)
{
	return scen_fail(L, 1, "%s", luaL_checkstring(L, 1));
}

/* skip(reason) / inconc(reason): ends the scenario with that verdict and reason. */
static int scen_l_end_with(lua_State *L, const char *verdict)
{
	lua_Debug ar;
	char where[256] = "";

	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
		snprintf(where, sizeof(where), "%s:%d", ar.short_src, ar.currentline);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, verdict);
	lua_setfield(L, -2, "piclab_verdict");
	lua_pushstring(L, where);
	lua_setfield(L, -2, "where");
	lua_pushstring(L, luaL_checkstring(L, 1));
	lua_setfield(L, -2, "reason");
	return lua_error(L);
}

/* skip(reason): the SUT lacks a capability the scenario needs. */
static int scen_l_skip(lua_State *L)
{
	return scen_l_end_with(L, "skip");
}

/* inconc(reason): the lab could not establish what the test needs (a precondition, not the
 * SUT's behaviour, went wrong); neither pass nor fail. */
static int scen_l_inconc(lua_State *L)
{
	return scen_l_end_with(L, "inconc");
}

/* A decoded message (from lab.capture:sip) given as the evidence of an expectation. */
static void scen_evidence_arg(lua_State *L, int idx)
{
	if (lua_istable(L, idx) && lua_getfield(L, idx, "frame") == LUA_TNUMBER)
		scen_evidence(L, (unsigned long)lua_tointeger(L, -1));
	if (lua_istable(L, idx))
		lua_pop(L, 1);
}

/* expect(cond, what [, msg]): fails with `what` unless cond is truthy; returns cond. msg: the
 * decoded message it is about, linked as the evidence. */
static int scen_l_expect(lua_State *L)
{
	scen_count_assertion(L);
	if (!lua_toboolean(L, 1)) {
		scen_evidence_arg(L, 3);
		return scen_fail(L, 1, "expected %s", luaL_optstring(L, 2, "a true value"));
	}
	lua_settop(L, 1);
	return 1;
}

/* expect_eq(actual, expected, what [, msg]): fails with expected vs actual; msg as expect's. */
static int scen_l_expect_eq(lua_State *L)
{
	const char *what = luaL_optstring(L, 3, "value");

	scen_count_assertion(L);
	if (lua_compare(L, 1, 2, LUA_OPEQ))
		return 0;
	scen_evidence_arg(L, 4);
	return scen_fail(L, 1, "%s: expected %s, got %s", what, luaL_tolstring(L, 2, NULL),
			 luaL_tolstring(L, 1, NULL));
}

/* fixture("rfc4475/wsinv.dat") -> absolute path under scenarios/fixtures/ */
static int scen_l_fixture(lua_State *L)
{
	const char *root = scen_root(scen_of(L));
	const char *rel = luaL_checkstring(L, 1);

	if (strstr(rel, "..") || rel[0] == '/')
		return luaL_error(L, "fixture(): a path inside scenarios/fixtures/, got '%s'", rel);
	lua_pushfstring(L, "%s/scenarios/fixtures/%s", root, rel);
	return 1;
}

/* log(...): a line in the scenario's lab.log. */
static int scen_l_log(lua_State *L)
{
	lua_Debug ar;
	char where[256] = "";

	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
		snprintf(where, sizeof(where), "%s:%d", ar.short_src, ar.currentline);
	log_info("%s: %s", where, luaL_tolstring(L, 1, NULL));
	return 0;
}

void lua_base_open(lua_State *L)
{
	static const luaL_Reg globals[] = {
		{ "scenario", scen_l_scenario }, { "fail", scen_l_fail },
		{ "skip", scen_l_skip },         { "expect", scen_l_expect },
		{ "inconc", scen_l_inconc },
		{ "expect_eq", scen_l_expect_eq }, { "log", scen_l_log },
		{ "fixture", scen_l_fixture },
		{ NULL, NULL },
	};

	lua_pushglobaltable(L);
	luaL_setfuncs(L, globals, 0);
	lua_pop(L, 1);
}
