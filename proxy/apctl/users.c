/* users: apctl's user commands: PIC enablement per user (CONF-005), CSV import, per-user
 * archiving, and the licence count (POL-004). */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "../store/store.h"
#include "aptable.h"
#include "apctl_int.h"

static void apctl_user_row(const struct store_user *u, void *arg)
{
	aptable_row(arg, u->aor, u->enabled ? "yes" : "no", u->archive ? "yes" : "no",
		    u->display_name);
}

static int apctl_users_list(struct apctl *c, int argc, char **argv)
{
	static const char *const cols[] = { "aor", "enabled:b", "archive:b", "display_name",
					    NULL };
	struct aptable *t = NULL;
	bool enabled = false;
	int err, i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--enabled"))
			return apctl_fail(APCTL_USAGE, "users list: unknown argument '%s'",
					  argv[i]);
		enabled = true;
	}
	if ((err = apctl_open(c)))
		return err;
	if ((err = aptable_alloc(&t, cols)))
		return apctl_fail(APCTL_FAIL, "%s", strerror(err));
	err = store_user_each(c->store, enabled, apctl_user_row, t);
	if (!err)
		aptable_print(t, stdout, c->json);
	mem_deref(t);
	return err ? apctl_fail(APCTL_FAIL, "users: %s", strerror(err)) : APCTL_OK;
}

/* enable/disable/archive/noarchive AOR...: all or none (one transaction per AOR is fine:
 * each AOR is checked before any is written). */
static int apctl_users_set(struct apctl *c, const char *verb, int argc, char **argv)
{
	int en = -1, ar = -1, err, i;
	char why[512];

	if (argc < 3)
		return apctl_fail(APCTL_USAGE, "users %s needs at least one AOR", verb);
	if (!strcmp(verb, "enable"))
		en = 1;
	else if (!strcmp(verb, "disable"))
		en = 0;
	else if (!strcmp(verb, "archive"))
		ar = 1;
	else
		ar = 0;
	for (i = 2; i < argc; i++)
		if (!strchr(argv[i], '@') || argv[i][0] == '-')
			return apctl_fail(APCTL_USAGE, "users %s: '%s' is not an AOR "
					  "(user@domain)", verb, argv[i]);
	if ((err = apctl_open(c)))
		return err;
	for (i = 2; i < argc; i++)
		if (store_user_set(c->store, argv[i], en, ar, why, sizeof(why)))
			return apctl_fail(APCTL_FAIL, "%s", why);
	printf("%d user%s: %s done\n", argc - 2, argc == 3 ? "" : "s", verb);
	return apctl_notify(c);
}

int apctl_cmd_users(struct apctl *c, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "list";
	char why[4096];
	size_t n = 0;
	int err;

	if (!strcmp(verb, "list"))
		return apctl_users_list(c, argc, argv);
	if (!strcmp(verb, "enable") || !strcmp(verb, "disable") || !strcmp(verb, "archive") ||
	    !strcmp(verb, "noarchive"))
		return apctl_users_set(c, verb, argc, argv);
	if (!strcmp(verb, "import")) {
		if (argc != 3)
			return apctl_fail(APCTL_USAGE, "users import takes one FILE.csv");
		if ((err = apctl_open(c)))
			return err;
		if (store_user_import_csv(c->store, argv[2], &n, why, sizeof(why)))
			return apctl_fail(APCTL_FAIL, "nothing imported from %s: %s", argv[2], why);
		printf("%zu users imported from %s\n", n, argv[2]);
		return apctl_notify(c);
	}
	return apctl_fail(APCTL_USAGE, "users: unknown action '%s' (see apctl users --help)",
			  verb);
}

int apctl_cmd_licences(struct apctl *c, int argc, char **argv)
{
	size_t n = 0;
	int err;

	if (argc > 1)
		return apctl_fail(APCTL_USAGE, "licences takes no argument");
	if ((err = apctl_open(c)))
		return err;
	if ((err = store_users_enabled(c->store, &n)))
		return apctl_fail(APCTL_FAIL, "licences: %s", strerror(err));
	if (c->json)
		printf("{\"users_enabled\":%zu,\"monthly_licences\":%zu}\n", n, n);
	else
		printf("%zu users enabled for PIC: %zu monthly licences\n", n, n);
	return APCTL_OK;
}
