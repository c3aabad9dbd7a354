/* pics: evaluates reports/pics.lua for the runner. */
#define LOG_MODULE "pics"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pics.h"

struct pics {
	lua_State *L;
	int mod;   /* registry refs: the pics.lua module and the loaded statement */
	int stmt;
};

int pics_open(struct pics **pp, const char *root, const char *path)
{
	struct pics *p = calloc(1, sizeof(*p));
	char script[1200];
	int err = EINVAL;

	if (!p)
		return ENOMEM;
	p->L = luaL_newstate();
	if (!p->L) {
		free(p);
		return ENOMEM;
	}
	luaL_openlibs(p->L);
	snprintf(script, sizeof(script), "%s/reports/pics.lua", root);
	if (luaL_loadfile(p->L, script) != LUA_OK || lua_pcall(p->L, 0, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab: %s\n", lua_tostring(p->L, -1));
		goto out;
	}
	lua_pushvalue(p->L, -1);
	p->mod = luaL_ref(p->L, LUA_REGISTRYINDEX);
	lua_getfield(p->L, -1, "load");
	lua_pushstring(p->L, root);
	lua_pushstring(p->L, path);
	if (lua_pcall(p->L, 2, 2, 0) != LUA_OK) {
		fprintf(stderr, "piclab: PICS %s: %s\n", path, lua_tostring(p->L, -1));
		goto out;
	}
	if (lua_isnil(p->L, -2)) {
		fprintf(stderr, "piclab: %s\n", lua_tostring(p->L, -1));
		goto out;
	}
	lua_pop(p->L, 1);
	p->stmt = luaL_ref(p->L, LUA_REGISTRYINDEX);
	err = 0;
out:
	if (err)
		pics_close(p);
	else
		*pp = p;
	return err;
}

bool pics_scenario_na(struct pics *p, const char *covers, char *why, size_t whysize)
{
	bool na = false;
	int top;

	if (!p)
		return false;
	top = lua_gettop(p->L);
	lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->mod);
	lua_getfield(p->L, -1, "scenario_na");
	lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->stmt);
	lua_pushstring(p->L, covers);
	if (lua_pcall(p->L, 2, 1, 0) == LUA_OK && lua_isstring(p->L, -1)) {
		snprintf(why, whysize, "%s", lua_tostring(p->L, -1));
		na = true;
	}
	lua_settop(p->L, top);
	return na;
}

void pics_close(struct pics *p)
{
	if (!p)
		return;
	if (p->L)
		lua_close(p->L);
	free(p);
}
