/* cmds: the smaller piclab commands — coverage, new, lab. */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/ca/labca.h"
#include "cmds.h"
#include "ladder.h"
#include "reportslua.h"
#include "lab.h"

int cmd_coverage(const char *root, const char *run_dir, bool list, bool strict)
{
	lua_State *L = reports_lua(root, "coverage", "coverage");
	int rc = 2;

	if (!L)
		return 2;
	lua_pushstring(L, root);
	lua_pushstring(L, run_dir);
	lua_pushboolean(L, strict);
	lua_pushboolean(L, list);
	if (lua_pcall(L, 4, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab coverage: %s\n", lua_tostring(L, -1));
		goto out;
	}
	rc = (int)lua_tointeger(L, -1);
out:
	lua_close(L);
	return rc;
}

int cmd_ladder(const char *root, const char *pcap, const char *keylog)
{
	struct ladder *l = NULL;
	int err;

	if (access(pcap, R_OK) != 0) {
		fprintf(stderr, "piclab ladder: %s: %s\n", pcap, strerror(errno));
		return 2;
	}
	if (ladder_open(&l, root) != 0)
		return 2;
	err = ladder_print(l, pcap, keylog, 0, stdout);
	mem_deref(l);
	return err ? 2 : 0;
}

static const char cmd_template[] =
	"-- %s: <one line saying what this scenario proves>\n"
	"return scenario {\n"
	"  title  = \"%s\",\n"
	"  covers = { },          -- requirement ids, e.g. \"IM-001\": piclab coverage --list\n"
	"  tags   = { },\n"
	"  run = function(lab)\n"
	"    local alice = lab.enterprise:user(\"alice@contoso.test\")\n"
	"    local bob   = lab.provider(\"aol\"):user(\"bob@aol.test\")\n"
	"    local status = alice:send_message(bob, \"hello\")\n"
	"    expect_eq(status, 200, \"response to alice's MESSAGE\")\n"
	"    bob:expect_message{ from = alice }\n"
	"  end,\n"
	"}\n";

int cmd_new(const char *root, const char *name)
{
	char path[1200], dir[1200], *slash;
	struct stat st;
	FILE *f;

	if (!name || !*name || strstr(name, "..") || name[0] == '/' || strchr(name, ' ')) {
		fprintf(stderr, "piclab new: give a name like area/what_it_proves\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/scenarios/%s%s", root, name,
		 strstr(name, ".lua") ? "" : ".lua");
	if (stat(path, &st) == 0) {
		fprintf(stderr, "piclab new: %s exists; nothing written\n", path);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	f = fopen(path, "wx");
	if (!f) {
		fprintf(stderr, "piclab new: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, cmd_template, name, name);
	fclose(f);
	printf("%s\n"
	       "next: name what it proves in covers (the ids: piclab coverage --list, or\n"
	       "      reports/requirements.tsv), try steps by hand in the lab's console\n"
	       "      (sudo build/bin/piclab lab; :save writes them as a scenario), then run it:\n"
	       "      sudo build/bin/piclab run %s\n", path, path);
	return 0;
}
