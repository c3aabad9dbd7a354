/* ladder: text ladders of captures through reports/ladder.lua, for piclab ladder, the runner's
 * failure summary and the console's live view. */
#define LOG_MODULE "ladder"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "base/mem.h"
#include "ladder.h"
#include "scen.h"

struct ladder {
	lua_State *L;
	int mod;      /* registry ref of the ladder module */
};

static void ladder_destroy(void *data)
{
	struct ladder *l = data;

	if (l->L)
		lua_close(l->L);
}

int ladder_open(struct ladder **lp, const char *root)
{
	struct ladder *l = mem_zalloc(sizeof(*l), ladder_destroy);
	lua_State *L;

	if (!l)
		return ENOMEM;
	L = l->L = luaL_newstate();
	if (!L) {
		mem_deref(l);
		return ENOMEM;
	}
	luaL_openlibs(L);
	lua_capture_open_reports(L);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/reports/?.lua", root);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	lua_getglobal(L, "require");
	lua_pushstring(L, "ladder");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab: reports/ladder.lua: %s\n", lua_tostring(L, -1));
		mem_deref(l);
		return EINVAL;
	}
	l->mod = luaL_ref(L, LUA_REGISTRYINDEX);
	*lp = l;
	return 0;
}

/* Pushes piclab_decode(pcap, keylog): the messages, or nil and the reason. */
static int ladder_decode(lua_State *L, const char *pcap, const char *keylog)
{
	lua_getglobal(L, "piclab_decode");
	lua_pushstring(L, pcap);
	if (keylog)
		lua_pushstring(L, keylog);
	else
		lua_pushnil(L);
	return lua_pcall(L, 2, 2, 0);
}

int ladder_print(struct ladder *l, const char *pcap, const char *keylog, int last, FILE *f)
{
	lua_State *L = l->L;
	int err = 0;

	if (ladder_decode(L, pcap, keylog) != LUA_OK || !lua_istable(L, -2)) {
		fprintf(f, "no ladder: %s: %s\n", pcap, lua_tostring(L, -1));
		err = EINVAL;
		goto out;
	}
	lua_pop(L, 1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, l->mod);
	lua_getfield(L, -1, "text");
	lua_pushvalue(L, -3);
	lua_createtable(L, 0, 1);
	if (last > 0) {
		lua_pushinteger(L, last);
		lua_setfield(L, -2, "last");
	}
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		fprintf(f, "no ladder: %s\n", lua_tostring(L, -1));
		err = EINVAL;
		goto out;
	}
	fprintf(f, "%s\n", lua_tostring(L, -1));
out:
	lua_settop(L, 0);
	return err;
}

int ladder_live(struct ladder *l, const char *pcap, const char *keylog, size_t *seen,
		ladder_line_h *h, void *arg)
{
	lua_State *L = l->L;
	lua_Integer i, n;
	int err = 0;

	if (ladder_decode(L, pcap, keylog) != LUA_OK || !lua_istable(L, -2)) {
		err = EINVAL;
		goto out;
	}
	lua_pop(L, 1);
	n = (lua_Integer)lua_rawlen(L, -1);
	lua_rawgeti(L, LUA_REGISTRYINDEX, l->mod);
	lua_getfield(L, -1, "line");
	for (i = (lua_Integer)*seen + 1; i <= n; i++) {
		lua_pushvalue(L, -1);
		lua_rawgeti(L, -4, i);
		if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
			err = EINVAL;
			goto out;
		}
		h(lua_tostring(L, -1), arg);
		lua_pop(L, 1);
	}
	*seen = (size_t)n;
out:
	lua_settop(L, 0);
	return err;
}
