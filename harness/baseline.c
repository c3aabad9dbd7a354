/* baseline: `piclab compare` and the resolution of --baseline arguments. */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baseline.h"
#include "reportslua.h"

int cmd_compare(const char *root, const char *a, const char *b, const char *xfail,
		const char *html)
{
	lua_State *L = reports_lua(root, "compare", "compare");
	int rc = 2;

	if (!L)
		return 2;
	lua_getfield(L, -1, "cli");
	lua_pushstring(L, a);
	lua_pushstring(L, b);
	if (xfail)
		lua_pushstring(L, xfail);
	else
		lua_pushnil(L);
	lua_pushstring(L, root);
	if (html)
		lua_pushstring(L, html);
	else
		lua_pushnil(L);
	if (lua_pcall(L, 5, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab compare: %s\n", lua_tostring(L, -1));
		goto out;
	}
	rc = (int)lua_tointeger(L, -1);
out:
	lua_close(L);
	return rc;
}

int baseline_resolve(const char *arg, char *buf, size_t size)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(arg, real)) {
		fprintf(stderr, "piclab: --baseline %s: %s\n", arg, strerror(errno));
		return ENOENT;
	}
	if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(buf, size, "%s/results.json", real);
		if (stat(buf, &st) != 0) {
			fprintf(stderr, "piclab: --baseline %s: no results.json in that folder\n", arg);
			return ENOENT;
		}
		return 0;
	}
	snprintf(buf, size, "%s", real);
	return 0;
}
