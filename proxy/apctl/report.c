/* report: apctl's audit listing, usage report (AUD-005) and the control commands it passes
 * to a running proxy (status, reload, ready). */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "../audit/audit.h"
#include "../store/store.h"
#include "aptable.h"
#include "apctl_int.h"

static void apctl_audit_row(const struct audit_row *r, void *arg)
{
	char id[24], when[32], status[12], arc[32] = "no";

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	snprintf(status, sizeof(status), "%d", r->rec.status);
	if (r->archived)
		snprintf(arc, sizeof(arc), "%s%zu bytes", r->rec.body ? "" : "no body, ",
			 r->rec.body_len);
	aptable_row(arg, id, apctl_time_str(r->rec.time, when, sizeof(when)),
		    audit_dir_name(r->rec.direction), r->rec.provider, r->rec.from, r->rec.to,
		    r->rec.method, r->rec.call_id, audit_decision_name(r->rec.decision), status,
		    r->rec.reason, arc);
}

int apctl_cmd_audit(struct apctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "provider", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'U' },
		{ "direction", required_argument, NULL, 'd' },
		{ "decision", required_argument, NULL, 'D' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = { "id:n", "time", "direction", "provider", "from", "to",
		"method", "call_id", "decision", "status:n", "reason", "archived", NULL };
	struct audit_filter f = { .direction = -1, .decision = -1, .limit = 100 };
	struct aptable *t = NULL;
	int ch, err;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		err = apctl_filter_opt(ch, optarg, &f);
		if (err > 0)
			return err;
		if (err < 0)
			return apctl_fail(APCTL_USAGE, "audit: unknown or incomplete option %s",
					  argv[optind - 1]);
	}
	if (optind != argc)
		return apctl_fail(APCTL_USAGE, "audit: unexpected argument '%s'", argv[optind]);
	if ((err = apctl_open(c)))
		return err;
	if ((err = aptable_alloc(&t, cols)))
		return apctl_fail(APCTL_FAIL, "%s", strerror(err));
	err = audit_query(c->store, &f, apctl_audit_row, t);
	if (!err)
		aptable_print(t, stdout, c->json);
	mem_deref(t);
	return err ? apctl_fail(APCTL_FAIL, "audit: %s", strerror(err)) : APCTL_OK;
}

static void apctl_usage_row(const char *kind, const char *name, uint64_t in, uint64_t out,
			    uint64_t refused, void *arg)
{
	char a[24], b[24], r[24];

	snprintf(a, sizeof(a), "%llu", (unsigned long long)in);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)out);
	snprintf(r, sizeof(r), "%llu", (unsigned long long)refused);
	aptable_row(arg, kind, name, a, b, r);
}

int apctl_cmd_usage(struct apctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = { "kind", "name", "messages_in:n", "messages_out:n",
					    "refused:n", NULL };
	struct aptable *t = NULL;
	time_t since = 0, until = 0;
	int ch, err;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 's': if ((err = apctl_period("--since", optarg, &since))) return err; break;
		case 'u': if ((err = apctl_period("--until", optarg, &until))) return err; break;
		default:
			return apctl_fail(APCTL_USAGE, "usage: unknown or incomplete option %s",
					  argv[optind - 1]);
		}
	}
	if (optind != argc)
		return apctl_fail(APCTL_USAGE, "usage: unexpected argument '%s'", argv[optind]);
	if ((err = apctl_open(c)))
		return err;
	if ((err = aptable_alloc(&t, cols)))
		return apctl_fail(APCTL_FAIL, "%s", strerror(err));
	err = audit_usage(c->store, since, until, apctl_usage_row, t);
	if (!err)
		aptable_print(t, stdout, c->json);
	mem_deref(t);
	return err ? apctl_fail(APCTL_FAIL, "usage: %s", strerror(err)) : APCTL_OK;
}

/* One control command to the running proxy; its answer printed as is. */
static int apctl_pass(struct apctl *c, const char *cmd, int argc)
{
	char answer[8192];
	unsigned n;
	int err;

	if (argc > 1)
		return apctl_fail(APCTL_USAGE, "%s takes no argument", cmd);
	/* a reload must reach every worker; status and ready describe worker 0 */
	err = strcmp(cmd, "reload") ? apctl_ctl(c, cmd, answer, sizeof(answer)) :
	      apctl_ctl_all(c, cmd, answer, sizeof(answer), &n);
	if (err == ENOENT || err == ECONNREFUSED)
		return apctl_fail(APCTL_FAIL, "proxy not running (no control socket answers)");
	if (err)
		return apctl_fail(APCTL_FAIL, "%s: %s", cmd, strerror(err));
	printf("%s\n", answer);
	return strncmp(answer, "error", 5) ? APCTL_OK : APCTL_FAIL;
}

int apctl_cmd_status(struct apctl *c, int argc, char **argv)
{
	return apctl_pass(c, "status", argc);
}

int apctl_cmd_reload(struct apctl *c, int argc, char **argv)
{
	return apctl_pass(c, "reload", argc);
}

int apctl_cmd_ready(struct apctl *c, int argc, char **argv)
{
	return apctl_pass(c, "ready", argc);
}
