/* settings: apctl's domain and edge-setting commands. */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "../store/store.h"
#include "../state/state.h"
#include "aptable.h"
#include "apctl_int.h"

int apctl_cmd_domains(struct apctl *c, int argc, char **argv)
{
	static const char *const cols[] = { "domain", NULL };
	const char *verb = argc > 1 ? argv[1] : "list";
	struct aptable *t = NULL;
	struct state *st = NULL;
	char why[512];
	size_t i;
	int err;

	if (!strcmp(verb, "list")) {
		if (argc > 2)
			return apctl_fail(APCTL_USAGE, "domains list takes no argument");
		if ((err = apctl_open(c)))
			return err;
		if ((err = store_load_state(c->store, NULL, &st)) ||
		    (err = aptable_alloc(&t, cols)))
			return apctl_fail(APCTL_FAIL, "domains: %s", strerror(err));
		for (i = 0; i < state_domain_count(st); i++)
			aptable_row(t, state_domain_at(st, i));
		aptable_print(t, stdout, c->json);
		mem_deref(t);
		mem_deref(st);
		return APCTL_OK;
	}
	if (strcmp(verb, "add") && strcmp(verb, "remove"))
		return apctl_fail(APCTL_USAGE, "domains: unknown action '%s' (see apctl domains "
				  "--help)", verb);
	if (argc != 3)
		return apctl_fail(APCTL_USAGE, "domains %s takes one DOMAIN", verb);
	if ((err = apctl_open(c)))
		return err;
	err = !strcmp(verb, "add") ? store_domain_add(c->store, argv[2], why, sizeof(why)) :
	      store_domain_remove(c->store, argv[2], why, sizeof(why));
	if (err)
		return apctl_fail(APCTL_FAIL, "domain %s: %s refused: %s", argv[2], verb, why);
	printf("domain %s: %s done\n", argv[2], verb);
	return apctl_notify(c);
}

static void apctl_setting_row(const char *key, const char *value, void *arg)
{
	aptable_row(arg, key, value);
}

int apctl_cmd_settings(struct apctl *c, int argc, char **argv)
{
	static const char *const cols[] = { "key", "value", NULL };
	const char *verb = argc > 1 ? argv[1] : "list";
	struct aptable *t = NULL;
	char why[512];
	int err;

	if (!strcmp(verb, "list")) {
		if (argc > 2)
			return apctl_fail(APCTL_USAGE, "settings list takes no argument");
		if ((err = apctl_open(c)))
			return err;
		if ((err = aptable_alloc(&t, cols)))
			return apctl_fail(APCTL_FAIL, "%s", strerror(err));
		err = store_setting_each(c->store, apctl_setting_row, t);
		if (!err)
			aptable_print(t, stdout, c->json);
		mem_deref(t);
		return err ? apctl_fail(APCTL_FAIL, "settings: %s", strerror(err)) : APCTL_OK;
	}
	if (strcmp(verb, "set"))
		return apctl_fail(APCTL_USAGE, "settings: unknown action '%s' (see apctl settings "
				  "--help)", verb);
	if (argc != 4)
		return apctl_fail(APCTL_USAGE, "settings set takes KEY VALUE");
	if ((err = apctl_open(c)))
		return err;
	if (store_setting_set(c->store, argv[2], argv[3], why, sizeof(why)))
		return apctl_fail(APCTL_FAIL, "setting %s refused: %s", argv[2], why);
	printf("%s = %s\n", argv[2], argv[3]);
	return apctl_notify(c);
}
