/* reportslua: the Lua state every report module runs in. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

#include "reportslua.h"

lua_State *reports_lua(const char *root, const char *module, const char *who)
{
	lua_State *L = luaL_newstate();
	char script[1200];

	if (!L) {
		fprintf(stderr, "piclab %s: out of memory\n", who);
		return NULL;
	}
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/reports/?.lua;", root);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	snprintf(script, sizeof(script), "%s/reports/%s.lua", root, module);
	if (luaL_loadfile(L, script) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab %s: %s\n", who, lua_tostring(L, -1));
		lua_close(L);
		return NULL;
	}
	return L;
}
