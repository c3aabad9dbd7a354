/* merge_cmd: piclab merge — the result folders of sharded runs become one run folder
 * (reports/merge.lua does the combining, with the run's own renderer). */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "reportslua.h"
#include "scen.h"

int cmd_merge(const char *root, const char *out_base, int nruns, char **runs)
{
	char out[1200], stamp[64], latest[1300];
	time_t now = time(NULL);
	lua_State *L;
	struct stat st;
	int i, rc = 2;

	if (nruns < 1) {
		fprintf(stderr, "usage: piclab merge [-o DIR] RUN...  (the folders of "
			"`piclab run --shard K/N`)\n");
		return 2;
	}
	for (i = 0; i < nruns; i++) {
		if (stat(runs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "piclab merge: %s: not a run folder\n", runs[i]);
			return 2;
		}
	}
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	mkdir(out_base, 0755);
	snprintf(out, sizeof(out), "%s/%s-merged-%d", out_base, stamp, (int)getpid());
	if (mkdir(out, 0755) != 0) {
		fprintf(stderr, "piclab merge: cannot create %s: %s\n", out, strerror(errno));
		return 2;
	}
	L = reports_lua(root, "merge", "merge");
	if (!L)
		return 2;
	lua_capture_open_reports(L);
	lua_pushstring(L, root);
	lua_pushstring(L, out);
	lua_createtable(L, nruns, 0);
	for (i = 0; i < nruns; i++) {
		lua_pushstring(L, runs[i]);
		lua_rawseti(L, -2, i + 1);
	}
	if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab merge: %s\n", lua_tostring(L, -1));
		goto out;
	}
	rc = (int)lua_tointeger(L, -1);
	if (rc != 2) {
		snprintf(latest, sizeof(latest), "%s/latest", out_base);
		unlink(latest);
		if (symlink(strrchr(out, '/') + 1, latest) != 0)
			fprintf(stderr, "piclab merge: no latest link: %s\n", strerror(errno));
	}
out:
	lua_close(L);
	return rc;
}
