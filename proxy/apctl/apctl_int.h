/* apctl_int: what apctl's files share: the run context, the subcommand table and helpers. */
#ifndef AP_APCTL_INT_H
#define AP_APCTL_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct conf;
struct store;

/* Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 usage. */
enum apctl_exit { APCTL_OK = 0, APCTL_FAIL = 1, APCTL_USAGE = 2 };

#define APCTL_DEFAULT_CONF "/etc/accessproxy/accessproxy.conf"
#define APCTL_DEFAULT_SOCKET "/run/accessproxy.sock"

struct apctl {
	const char *conf_path;   /* -c */
	bool conf_given;
	const char *db_path;     /* --db, else the config's */
	const char *socket;      /* -s, else the config's */
	bool json;
	struct conf *cfg;        /* loaded on demand (NULL with --db and no config) */
	struct store *store;
};

typedef int (apctl_cmd_h)(struct apctl *c, int argc, char **argv);

struct apctl_cmd {
	const char *name;
	apctl_cmd_h *h;
	const char *help;        /* usage lines, each starting "  apctl NAME" */
};

extern const struct apctl_cmd apctl_cmds[];

int apctl_cmd_providers(struct apctl *c, int argc, char **argv);
int apctl_cmd_users(struct apctl *c, int argc, char **argv);
int apctl_cmd_domains(struct apctl *c, int argc, char **argv);
int apctl_cmd_settings(struct apctl *c, int argc, char **argv);
int apctl_cmd_licences(struct apctl *c, int argc, char **argv);
int apctl_cmd_audit(struct apctl *c, int argc, char **argv);
int apctl_cmd_usage(struct apctl *c, int argc, char **argv);
int apctl_cmd_archive(struct apctl *c, int argc, char **argv);
int apctl_cmd_status(struct apctl *c, int argc, char **argv);
int apctl_cmd_reload(struct apctl *c, int argc, char **argv);
int apctl_cmd_ready(struct apctl *c, int argc, char **argv);
int apctl_cmd_backup(struct apctl *c, int argc, char **argv);
int apctl_cmd_verify(struct apctl *c, int argc, char **argv);
int apctl_cmd_restore(struct apctl *c, int argc, char **argv);
int apctl_cmd_export(struct apctl *c, int argc, char **argv);

/* Prints "apctl: " and the message on stderr; returns code. */
int apctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The subcommand's help to f. */
void apctl_help(FILE *f, const char *name);
/* Opens the store (creating and seeding it from the config if missing); prints why not. */
int apctl_open(struct apctl *c);
/* After a change: asks a running proxy to reload; says so when none runs. Returns the
 * exit code (1 if the proxy refused the new state). */
int apctl_notify(struct apctl *c);
/* Sends one control command; ECONNREFUSED/ENOENT when no proxy listens. The answer line
 * (without newline) goes to answer. */
int apctl_ctl(struct apctl *c, const char *cmd, char *answer, size_t size);
/* The same command to every worker of a multi-process proxy ("<socket>.<i>"); answer is
 * worker 0's, or the first error. */
int apctl_ctl_all(struct apctl *c, const char *cmd, char *answer, size_t size,
		  unsigned *nworkers);
/* "2026-11-26", "2026-11-26T06:00[:00][Z]", UNIX seconds, "now", "-2h"/"-30m"/"-7d". */
int apctl_time_parse(const char *s, time_t *tp);
/* apctl_time_parse for option opt; a usage error naming opt and the accepted forms. */
int apctl_period(const char *opt, const char *v, time_t *tp);
struct audit_filter;
/* One of the record filter options `apctl audit` and `apctl archive list` share: ch 's'
 * --since, 'u' --until, 'p' --provider, 'U' --user, 'd' --direction, 'D' --decision, 'l'
 * --limit. 0 when taken into f, -1 when ch is none of them, else the usage error's exit code. */
int apctl_filter_opt(int ch, char *arg, struct audit_filter *f);
/* UTC "YYYY-MM-DDTHH:MM:SSZ". */
const char *apctl_time_str(time_t t, char *buf, size_t size);
/* True if argv has -h or --help. */
bool apctl_wants_help(int argc, char **argv);

#endif
