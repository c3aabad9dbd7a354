/* user: the store's users: PIC enablement chosen per user (CONF-005), the licence count
 * (POL-004), the per-user archive flag (AUD-002), and CSV import. */
#define LOG_MODULE "store"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "store_int.h"

#define STORE_CSV_MAX_LINE 1024

/* Why aor is not a user address ("alice@contoso.test"), or NULL. */
static const char *store_aor_fault(const char *aor)
{
	const char *at = aor ? strchr(aor, '@') : NULL;
	size_t i;

	if (!aor || !*aor)
		return "is empty";
	if (!strncasecmp(aor, "sip:", 4))
		return "must not carry a sip: scheme";
	if (!at || at == aor || !at[1] || strchr(at + 1, '@'))
		return "is not user@domain";
	if (strlen(aor) > 255)
		return "is longer than 255 characters";
	for (i = 0; aor[i]; i++)
		if ((unsigned char)aor[i] <= ' ' || strchr("<>\",;", aor[i]))
			return "holds a space, control character or one of <>\",;";
	return NULL;
}

static int store_user_put(struct store *s, const char *aor, int enabled, int archive)
{
	sqlite3_stmt *st;
	int err;

	err = store_prepare(s, &st,
		"INSERT INTO users (aor, pic_enabled, archive) VALUES (?1, max(?2, 0), max(?3, 0))"
		" ON CONFLICT (aor) DO UPDATE SET"
		" pic_enabled = CASE WHEN ?2 < 0 THEN pic_enabled ELSE ?2 END,"
		" archive = CASE WHEN ?3 < 0 THEN archive ELSE ?3 END,"
		" updated = strftime('%s', 'now')");
	if (err)
		return err;
	store_bind_text(st, 1, aor);
	sqlite3_bind_int(st, 2, enabled < 0 ? -1 : !!enabled);
	sqlite3_bind_int(st, 3, archive < 0 ? -1 : !!archive);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = store_errno(sqlite3_errcode(s->db));
	sqlite3_finalize(st);
	return err;
}

int store_user_set(struct store *s, const char *aor, int enabled, int archive, char *why,
		   size_t wsz)
{
	const char *fault;
	int err;

	if (!s)
		return EINVAL;
	if ((fault = store_aor_fault(aor)))
		return store_why(why, wsz, EINVAL, "user '%s' %s", aor ? aor : "", fault);
	err = store_user_put(s, aor, enabled, archive);
	if (err)
		store_why(why, wsz, err, "user %s: %s", aor, sqlite3_errmsg(s->db));
	return err;
}

int store_user_each(struct store *s, bool enabled_only, store_user_h *h, void *arg)
{
	sqlite3_stmt *st;
	int err, rc;

	if (!s || !h)
		return EINVAL;
	err = store_prepare(s, &st, enabled_only ?
		"SELECT aor, display_name, pic_enabled, archive FROM users WHERE pic_enabled = 1"
		" ORDER BY aor" :
		"SELECT aor, display_name, pic_enabled, archive FROM users ORDER BY aor");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_user u = {
			.aor = (const char *)sqlite3_column_text(st, 0),
			.display_name = (const char *)sqlite3_column_text(st, 1),
			.enabled = sqlite3_column_int(st, 2),
			.archive = sqlite3_column_int(st, 3),
		};

		h(&u, arg);
	}
	err = rc == SQLITE_DONE ? 0 : store_errno(rc);
	sqlite3_finalize(st);
	return err;
}

int store_users_enabled(struct store *s, size_t *np)
{
	sqlite3_stmt *st;
	int err;

	if (!s || !np)
		return EINVAL;
	err = store_prepare(s, &st, "SELECT count(*) FROM users WHERE pic_enabled = 1");
	if (err)
		return err;
	if (sqlite3_step(st) == SQLITE_ROW)
		*np = (size_t)sqlite3_column_int64(st, 0);
	else
		err = store_errno(sqlite3_errcode(s->db));
	sqlite3_finalize(st);
	return err;
}

static char *store_trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

/* Appends "line N: text" to why (separated by "; "), keeping what fits. */
static void store_why_add(char *why, size_t wsz, unsigned line, const char *text)
{
	size_t n;

	if (!why || !wsz)
		return;
	n = strlen(why);
	if (n + 1 < wsz)
		snprintf(why + n, wsz - n, "%sline %u: %s", n ? "; " : "", line, text);
}

/* One CSV line into its fields; the reason if it is bad. */
static const char *store_csv_line(char *line, char **aor, int *enabled, int *archive)
{
	char *f[4] = { NULL }, *save = NULL, *t;
	size_t n = 0;
	bool b;

	for (t = strtok_r(line, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save))
		f[n++] = store_trim(t);
	if (n < 2 || n > 3)
		return "expected aor,enabled[,archive]";
	*aor = f[0];
	if (store_aor_fault(f[0]))
		return "bad aor (user@domain)";
	if (store_bool_parse(f[1], &b))
		return "enabled must be yes or no";
	*enabled = b;
	*archive = -1;
	if (n == 3) {
		if (store_bool_parse(f[2], &b))
			return "archive must be yes or no";
		*archive = b;
	}
	return NULL;
}

int store_user_import_csv(struct store *s, const char *path, size_t *nimported, char *why,
			  size_t wsz)
{
	char buf[STORE_CSV_MAX_LINE + 2], msg[320];
	unsigned line = 0, nbad = 0;
	size_t n = 0;
	FILE *f;
	int err;

	if (!s || !path)
		return EINVAL;
	if (why && wsz)
		*why = '\0';
	f = fopen(path, "r");
	if (!f)
		return store_why(why, wsz, errno, "%s: %s", path, strerror(errno));
	err = store_begin(s);
	while (!err && fgets(buf, sizeof(buf), f)) {
		char *l, *aor = NULL;
		const char *fault;
		int en = 0, ar = -1;

		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			store_why_add(why, wsz, line, "line too long");
			nbad++;
			while (fgets(buf, sizeof(buf), f) && !strchr(buf, '\n'))
				;
			continue;
		}
		l = store_trim(buf);
		if (!*l || *l == '#')
			continue;
		if (line == 1 && !strncasecmp(l, "aor", 3) && (l[3] == ',' || !l[3]))
			continue;
		fault = store_csv_line(l, &aor, &en, &ar);
		if (fault) {
			snprintf(msg, sizeof(msg), "%s", fault);
			store_why_add(why, wsz, line, msg);
			nbad++;
			continue;
		}
		if (store_user_put(s, aor, en, ar)) {
			snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(s->db));
			store_why_add(why, wsz, line, msg);
			nbad++;
			continue;
		}
		n++;
	}
	fclose(f);
	if (!err && nbad)
		err = EINVAL;
	if (!err)
		err = store_commit(s);
	if (err) {
		store_rollback(s);
		if (why && !*why)
			store_why(why, wsz, err, "%s: %s", path, strerror(err));
		return err;
	}
	if (nimported)
		*nimported = n;
	return 0;
}
