/* apctl: administers accessproxy: edits its database (providers, users, domains, settings),
 * reads its audit, and asks a running proxy to reload through the control socket. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "apctl/apctl_int.h"

#define LOG_MODULE "apctl"

static void apctl_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: apctl [-c FILE | --db PATH] [-s SOCKET] [--json] COMMAND [ARGS]\n"
		"  -c, --config FILE  configuration naming the database and the control socket\n"
		"                     (default " APCTL_DEFAULT_CONF ")\n"
		"      --db PATH      work on this database instead of the config's\n"
		"  -s, --socket PATH  control socket of the running proxy (default: the config's,\n"
		"                     else $APCTL_SOCKET, else " APCTL_DEFAULT_SOCKET ")\n"
		"  -j, --json         listings as JSON arrays, for scripts\n"
		"  -h, --help         this text; apctl COMMAND --help for one command\n"
		"The database is authoritative: it is seeded from the config file when created,\n"
		"then changed only here. Every change is validated, then a running proxy is asked\n"
		"to reload (\"(proxy not running: changes apply at its next start)\" otherwise).\n"
		"commands:\n");
	for (i = 0; apctl_cmds[i].name; i++)
		fputs(apctl_cmds[i].help, f);
	fprintf(f, "exit codes: 0 done, 1 refused or failed (the reason is printed), 2 usage\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct apctl c = { .conf_path = APCTL_DEFAULT_CONF };
	const struct apctl_cmd *cmd = NULL;
	int ch, rc, i, n;
	char **rest;

	c.socket = getenv("APCTL_SOCKET");
	if (c.socket && !*c.socket)
		c.socket = NULL;
	log_set_level(LOGL_WARN);
	while ((ch = getopt_long(argc, argv, "+c:d:s:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': c.conf_path = optarg; c.conf_given = true; break;
		case 'd': c.db_path = optarg; break;
		case 's': c.socket = optarg; break;
		case 'j': c.json = true; break;
		case 'h': apctl_usage(stdout); return APCTL_OK;
		default: apctl_usage(stderr); return APCTL_USAGE;
		}
	}
	if (optind == argc) {
		apctl_usage(stderr);
		return APCTL_USAGE;
	}
	for (i = 0; apctl_cmds[i].name; i++)
		if (!strcmp(apctl_cmds[i].name, argv[optind]))
			cmd = &apctl_cmds[i];
	if (!cmd) {
		fprintf(stderr, "apctl: unknown command '%s'\n", argv[optind]);
		apctl_usage(stderr);
		return APCTL_USAGE;
	}
	n = argc - optind;
	rest = argv + optind;
	if (apctl_wants_help(n, rest)) {
		fputs(cmd->help, stdout);
		return APCTL_OK;
	}
	/* --json is accepted after the command too ("apctl providers list --json") */
	for (i = 1; i < n; i++)
		if (!strcmp(rest[i], "--json") || !strcmp(rest[i], "-j")) {
			c.json = true;
			memmove(&rest[i], &rest[i + 1], (size_t)(n - i - 1) * sizeof(char *));
			n--;
			i--;
		}
	rc = cmd->h(&c, n, rest);
	mem_deref(c.store);
	mem_deref(c.cfg);
	return rc;
}
