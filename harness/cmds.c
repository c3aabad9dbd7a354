/* cmds: the smaller piclab commands — coverage, new, lab. */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/ca/labca.h"
#include "cmds.h"
#include "lab.h"

int cmd_coverage(const char *root, const char *run_dir, bool strict)
{
	lua_State *L = luaL_newstate();
	char script[1200];
	int rc = 2;

	if (!L)
		return 2;
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/reports/?.lua", root);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	snprintf(script, sizeof(script), "%s/reports/coverage.lua", root);
	if (luaL_loadfile(L, script) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab coverage: %s\n", lua_tostring(L, -1));
		goto out;
	}
	lua_pushstring(L, root);
	lua_pushstring(L, run_dir);
	lua_pushboolean(L, strict);
	if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab coverage: %s\n", lua_tostring(L, -1));
		goto out;
	}
	rc = (int)lua_tointeger(L, -1);
out:
	lua_close(L);
	return rc;
}

static const char cmd_template[] =
	"-- %s: <one line saying what this scenario proves>\n"
	"return scenario {\n"
	"  title  = \"%s\",\n"
	"  covers = { },          -- requirement ids from REQUIREMENTS.md, e.g. \"IM-001\"\n"
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
	printf("%s\n", path);
	return 0;
}

static void cmd_lab_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void cmd_lab_broken(struct lab *lab, const char *why, void *arg)
{
	fprintf(stderr, "piclab lab: %s\n", why);
	event_base_loopbreak(arg);
}

int cmd_lab(const char *out_base, const char *sut_binary, unsigned index)
{
	struct event_base *base = event_base_new();
	struct lab_opts lo = { .index = index, .sut_binary = sut_binary, .capture = true };
	struct event *sigint, *sigterm;
	char dir[1100], pki[1200], why[1024];
	struct lab *lab = NULL;
	unsigned h, i;
	int err;

	if (!base)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "piclab lab: needs root (ports 53 and 5061, capture on lo)\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/lab-%u", out_base, index);
	snprintf(pki, sizeof(pki), "%s/pki", dir);
	mkdir(out_base, 0755);
	mkdir(dir, 0755);
	mkdir(pki, 0755);
	lo.dir = dir;
	lo.pki_dir = pki;
	for (i = 0; i < LAB_NPROVIDERS; i++)
		lo.provider_allow[i] = true;
	lab_default_users(&lo);
	err = labca_make(pki, NULL);
	if (!err)
		err = lab_boot(&lab, base, &lo, cmd_lab_broken, base, why, sizeof(why));
	if (err) {
		fprintf(stderr, "piclab lab: %s\n", err ? why : "");
		event_base_free(base);
		return 2;
	}
	printf("lab %u is up (Ctrl-C stops it); files in %s\n", index, dir);
	for (h = 0; h < LAB_NHOSTS; h++)
		printf("  %-22s %s\n", lab_host_name(h), lab_host_ip(lab, h));
	printf("capture so far:  %s (key log %s)\n", lab_pcap_path(lab), lab_keylog_path(lab));
	printf("watch it live:   tshark -i lo -f 'net 127.77.%u.0/24' -o tls.keylog_file:%s -Y sip\n",
	       index, lab_keylog_path(lab));
	printf("administer it:   %.*sapctl -c %s status\n",
	       (int)(strrchr(sut_binary, '/') ? strrchr(sut_binary, '/') - sut_binary + 1 : 0),
	       sut_binary, lab_sut_conf(lab));
	fflush(stdout);
	sigint = evsignal_new(base, SIGINT, cmd_lab_stop, base);
	sigterm = evsignal_new(base, SIGTERM, cmd_lab_stop, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);
	printf("\nstopping lab %u\n", index);
	lab_teardown(lab);
	mem_deref(lab);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	return 0;
}
