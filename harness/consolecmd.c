/* consolecmd: the console's own commands (:help, :save, :capture, :steps, :ladder, :quit) and
 * its tab completion of the scenario API. */
#define LOG_MODULE "console"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "capture.h"
#include "apidoc.h"
#include "console.h"
#include "console_int.h"
#include "ladder.h"
#include "lab.h"
#include "scen.h"

void console_steps_add(struct console *c, const char *step)
{
	char **n = realloc(c->steps, (c->nsteps + 1) * sizeof(*n));

	if (!n)
		return;
	c->steps = n;
	c->steps[c->nsteps] = strdup(step);
	if (c->steps[c->nsteps])
		c->nsteps++;
}

void console_steps_free(struct console *c)
{
	for (size_t i = 0; i < c->nsteps; i++)
		free(c->steps[i]);
	free(c->steps);
	c->steps = NULL;
	c->nsteps = 0;
}

/* :save AREA/NAME — the steps that passed, as a scenario file that piclab run takes as is. */
static void console_save(struct console *c, const char *name)
{
	char path[1200], dir[1200], *slash;
	struct stat st;
	FILE *f;
	size_t i;

	if (!name || !*name || strstr(name, "..") || name[0] == '/' || strchr(name, ' ') ||
	    !strchr(name, '/')) {
		console_printf(c, ":save AREA/NAME, e.g. :save im/alice_to_bob (written to "
			       "scenarios/AREA/NAME.lua)\n");
		return;
	}
	if (c->nsteps == 0) {
		console_printf(c, "nothing to save yet: no step has passed (:steps lists them)\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/scenarios/%s%s", c->o->root, name,
		 strstr(name, ".lua") ? "" : ".lua");
	if (stat(path, &st) == 0) {
		console_printf(c, "%s exists; nothing written (pick another name)\n", path);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir(dir, 0755);
	f = fopen(path, "wx");
	if (!f) {
		console_printf(c, "%s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "-- %s: recorded in the piclab lab console; say in one line what it proves\n"
		"return scenario {\n"
		"  title  = \"%s\",\n"
		"  covers = { },          -- fill in: requirement ids (piclab coverage --list)\n"
		"  tags   = { \"recorded\" },\n"
		"  run = function(lab)\n", name, name);
	for (i = 0; i < c->nsteps; i++) {
		const char *p = c->steps[i];

		while (*p) {
			size_t n = strcspn(p, "\n");

			fprintf(f, "    %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	fprintf(f, "  end,\n}\n");
	if (fclose(f) != 0) {
		console_printf(c, "%s: %s\n", path, strerror(errno));
		return;
	}
	console_printf(c, "saved %zu step%s to %s\nfill in covers (piclab coverage --list), then: "
		       "piclab run %s\n", c->nsteps, c->nsteps == 1 ? "" : "s", path, path);
}

static bool console_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[1024];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* :capture — how to read the live capture with tshark and with piclab's own decoder. */
static void console_capture(struct console *c)
{
	struct lab *lab = scen_session_lab(c->ss);

	if (!console_in_path("tshark"))
		console_printf(c, "tshark is not installed: apt-get install tshark (or make deps) for "
			       "the first two; piclab decode and piclab ladder need nothing more\n");

	if (!lab_capture(lab)) {
		console_printf(c, "this lab has no capture (--no-capture)\n");
		return;
	}
	capture_sync(lab_capture(lab));
	console_printf(c,
		"live:     tshark -i lo -f 'net 127.77.%u.0/24' -o tls.keylog_file:%s -Y sip\n"
		"so far:   tshark -r %s -o tls.keylog_file:%s -Y sip\n"
		"decoded:  %s/piclab decode %s %s\n"
		"ladder:   %s/piclab ladder %s %s\n"
		"(when the lab stops, %s/capture.pcapng holds the TLS secrets for Wireshark)\n",
		c->o->index, lab_keylog_path(lab), lab_pcap_path(lab), lab_keylog_path(lab),
		c->bindir, lab_pcap_path(lab), lab_keylog_path(lab), c->bindir,
		lab_pcap_path(lab), lab_keylog_path(lab), lab_dir(lab));
}

static void console_help(struct console *c, const char *filter)
{
	if (filter && *filter && c->doc) {
		if (c->editing)
			fputs("\r\033[K", stdout);
		apidoc_print(c->doc, filter, stdout);
		console_printf(c, "%s", "");
		return;
	}
	console_printf(c,
		"Type Lua: each line is a step of a scenario, run in this lab; waits work as in a\n"
		"scenario and Ctrl-C interrupts one. Values of an expression are printed.\n"
		"  alice = lab.enterprise:user(\"alice@contoso.test\")\n"
		"  bob = lab.provider(\"aol\"):user(\"bob@aol.test\")\n"
		"  alice:send_message(bob, \"hello\")\n"
		"  bob:expect_message{ from = alice }\n"
		"Commands:\n"
		"  :help [WORD]      the API (scenarios/README.md), or its rows matching WORD\n"
		"  :save AREA/NAME   write the steps that passed as scenarios/AREA/NAME.lua\n"
		"  :steps            the steps :save would write\n"
		"  :capture          tshark and piclab decode commands for the live capture\n"
		"  :ladder           the whole SIP flow so far as a text ladder\n"
		"  :quit             stop the lab (also Ctrl-D)\n");
	if (c->doc && (!filter || !*filter)) {
		if (c->editing)
			fputs("\r\033[K", stdout);
		printf("\nThe API (:help WORD shows fewer rows):\n");
		apidoc_print(c->doc, NULL, stdout);
		console_printf(c, "%s", "");
	}
}

void console_command(struct console *c, char *cmd)
{
	char *arg = cmd + strcspn(cmd, " \t");

	if (*arg) {
		*arg++ = '\0';
		while (*arg == ' ' || *arg == '\t')
			arg++;
		arg[strcspn(arg, " \t")] = '\0';
	}
	if (!strcmp(cmd, "quit") || !strcmp(cmd, "q") || !strcmp(cmd, "exit")) {
		console_quit(c);
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "h")) {
		console_help(c, arg);
	} else if (!strcmp(cmd, "save")) {
		console_save(c, arg);
	} else if (!strcmp(cmd, "capture")) {
		console_capture(c);
	} else if (!strcmp(cmd, "steps")) {
		for (size_t i = 0; i < c->nsteps; i++)
			console_printf(c, "%3zu  %s\n", i + 1, c->steps[i]);
		if (!c->nsteps)
			console_printf(c, "no step has passed yet\n");
	} else if (!strcmp(cmd, "ladder")) {
		struct lab *lab = scen_session_lab(c->ss);

		if (lab_capture(lab))
			capture_sync(lab_capture(lab));
		if (c->ladder && lab_capture(lab)) {
			if (c->editing)
				fputs("\r\033[K", stdout);
			ladder_print(c->ladder, lab_pcap_path(lab), lab_keylog_path(lab), 0, stdout);
			console_printf(c, "%s", "");
		}
	} else {
		console_printf(c, "unknown command ':%s' (:help lists them)\n", cmd);
	}
}

/* --- completion --- */

#define CONSOLE_MAX_CANDS 512

static char *console_cands[CONSOLE_MAX_CANDS];
static size_t console_ncands;

static void console_cand(const char *name, const char *prefix)
{
	size_t i;

	if (strncmp(name, prefix, strlen(prefix)) != 0 || name[0] == '_' ||
	    console_ncands == CONSOLE_MAX_CANDS)
		return;
	for (i = 0; i < console_ncands; i++)
		if (!strcmp(console_cands[i], name))
			return;
	console_cands[console_ncands] = strdup(name);
	if (console_cands[console_ncands])
		console_ncands++;
}

/* String keys of the table at idx. */
static void console_cand_keys(lua_State *L, int idx, const char *prefix)
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) == LUA_TSTRING)
			console_cand(lua_tostring(L, -2), prefix);
		lua_pop(L, 1);
	}
}

/* The members of the value on top: a table's keys; for an API object its class's methods (the
 * registration tables behind its metatable) and the members its README section documents. */
static void console_cand_members(struct console *c, lua_State *L, const char *prefix)
{
	if (lua_istable(L, -1))
		console_cand_keys(L, -1, prefix);
	if (!lua_getmetatable(L, -1))
		return;
	if (lua_getfield(L, -1, "methods") == LUA_TTABLE)
		console_cand_keys(L, -1, prefix);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "__index") == LUA_TTABLE)
		console_cand_keys(L, -1, prefix);
	lua_pop(L, 1);
	if (lua_getfield(L, -1, "__name") == LUA_TSTRING && c->doc) {
		const char *cls = strrchr(lua_tostring(L, -1), '.');
		const char *names[256];
		size_t i, n;

		n = apidoc_members(c->doc, cls ? cls + 1 : lua_tostring(L, -1), names, 256);
		for (i = 0; i < n; i++)
			console_cand(names[i], prefix);
	}
	lua_pop(L, 2);
}

static char *console_cand_next(const char *text, int state)
{
	static size_t i;

	if (state == 0)
		i = 0;
	return i < console_ncands ? strdup(console_cands[i++]) : NULL;
}

char **console_complete(const char *text, int start, int end)
{
	struct console *c = console_get();
	static const char *const cmds[] = { "help", "save", "steps", "capture", "ladder", "quit" };
	const char *buf = rl_line_buffer;
	lua_State *L;
	size_t i;
	int top;

	rl_attempted_completion_over = 1;
	for (i = 0; i < console_ncands; i++)
		free(console_cands[i]);
	console_ncands = 0;
	if (!c || !c->ss)
		return NULL;
	L = scen_session_lua(c->ss);
	top = lua_gettop(L);
	if (start == 1 && buf[0] == ':') {
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			console_cand(cmds[i], text);
	} else if (start > 0 && (buf[start - 1] == '.' || buf[start - 1] == ':')) {
		int b = start - 1;
		char code[300];

		while (b > 0 && (isalnum((unsigned char)buf[b - 1]) || buf[b - 1] == '_' ||
				 buf[b - 1] == '.'))
			b--;
		/* only names and dots are evaluated: completion never calls anything */
		if (b < start - 1 && !isdigit((unsigned char)buf[b]) && start - 1 - b < 250) {
			snprintf(code, sizeof(code), "return %.*s", start - 1 - b, buf + b);
			if (luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK)
				console_cand_members(c, L, text);
		}
	} else {
		lua_pushglobaltable(L);
		console_cand_keys(L, -1, text);
	}
	lua_settop(L, top);
	if (!console_ncands)
		return NULL;
	rl_completion_append_character = '\0';
	return rl_completion_matches(text, console_cand_next);
}
