/* setting: the store's edge settings (key/value), each validated before it is written. */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "../conf/conf.h"
#include "store_int.h"

enum store_skind { SK_BOOL = 0, SK_ROUTE, SK_ARCHIVE };

static const struct {
	const char *key;
	enum store_skind kind;
	const char *help;
} store_settings[] = {
	{ "pic_enabled", SK_BOOL, "yes|no: the global PIC switch (POL-003)" },
	{ "default_route", SK_ROUTE, "FQDN of a clearing house, or \"\" for none (CONF-004)" },
	{ "mark_outbound_verifiable", SK_BOOL, "yes|no: claim 'verified' on requests sent out" },
	{ "archive", SK_ARCHIVE, "off|on|no-bodies: archive IM content (AUD-002)" },
	{ "archive_critical", SK_BOOL, "yes|no: forward only what is durably recorded (AUD-003)" },
};

#define STORE_NSETTINGS (sizeof(store_settings) / sizeof(store_settings[0]))

const char *store_setting_help(void)
{
	return "  pic_enabled               yes|no: the global PIC switch (POL-003)\n"
	       "  default_route             FQDN of a clearing house, or \"\" for none (CONF-004)\n"
	       "  mark_outbound_verifiable  yes|no: claim 'verified' on requests sent out\n"
	       "  archive                   off|on|no-bodies: archive IM content (AUD-002)\n"
	       "  archive_critical          yes|no: forward only what is durably recorded "
	       "(AUD-003)\n";
}

int store_setting_put(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int err;

	err = store_prepare(s, &st, "INSERT INTO settings (key, value) VALUES (?, ?)"
			    " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (err)
		return err;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, value);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = store_errno(sqlite3_errcode(s->db));
	sqlite3_finalize(st);
	return err;
}

int store_setting_set(struct store *s, const char *key, const char *value, char *why,
		      size_t wsz)
{
	enum state_archive a;
	const char *norm = value;
	size_t i;
	bool b;
	int err;

	if (!s || !key || !value)
		return EINVAL;
	for (i = 0; i < STORE_NSETTINGS && strcmp(store_settings[i].key, key); i++)
		;
	if (i == STORE_NSETTINGS)
		return store_why(why, wsz, EINVAL, "unknown setting '%s'", key);
	switch (store_settings[i].kind) {
	case SK_BOOL:
		if (store_bool_parse(value, &b))
			return store_why(why, wsz, EINVAL, "%s: '%s' is not yes or no", key, value);
		norm = b ? "yes" : "no";
		break;
	case SK_ARCHIVE:
		if (state_archive_parse(value, &a))
			return store_why(why, wsz, EINVAL, "%s: '%s' is not off, on or no-bodies",
					 key, value);
		norm = state_archive_name(a);
		break;
	case SK_ROUTE:
		if (*value && !conf_is_fqdn(value))
			return store_why(why, wsz, EINVAL, "%s: '%s' is not a host name (FQDN)",
					 key, value);
		break;
	}
	err = store_begin(s);
	if (err)
		return store_why(why, wsz, err, "%s", sqlite3_errmsg(s->db));
	if (store_settings[i].kind == SK_ROUTE && *value)
		err = store_check_conf004(s, NULL, NULL, value, why, wsz);
	if (!err && (err = store_setting_put(s, key, norm)))
		store_why(why, wsz, err, "%s", sqlite3_errmsg(s->db));
	if (!err)
		err = store_commit(s);
	if (err)
		store_rollback(s);
	return err;
}

int store_setting_each(struct store *s, store_setting_h *h, void *arg)
{
	sqlite3_stmt *st;
	int err, rc;

	if (!s || !h)
		return EINVAL;
	err = store_prepare(s, &st, "SELECT key, value FROM settings ORDER BY key");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		h((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		  arg);
	err = rc == SQLITE_DONE ? 0 : store_errno(rc);
	sqlite3_finalize(st);
	return err;
}
