/* query: reading the audit back: filtered listings and the usage report (AUD-005). */
#define LOG_MODULE "audit"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>

#include "base/log.h"
#include "../store/store.h"
#include "audit.h"

/* Unbounded ends become the widest range, so one statement serves every filter. */
static void audit_bind_period(sqlite3_stmt *st, int i, time_t since, time_t until)
{
	sqlite3_bind_int64(st, i, since ? (sqlite3_int64)since : INT64_MIN);
	sqlite3_bind_int64(st, i + 1, until ? (sqlite3_int64)until : INT64_MAX);
}

int audit_query(struct store *s, const struct audit_filter *f, audit_row_h *rh, void *arg)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	const char *user;
	int rc;

	if (!db || !f || !rh)
		return EINVAL;
	rc = sqlite3_prepare_v2(db,
		"SELECT a.id, a.time, a.direction, a.provider, a.from_aor, a.to_aor, a.method,"
		" a.call_id, a.decision, a.status, a.reason, r.audit_id, r.content_type,"
		" r.body_len, r.body"
		" FROM audit a LEFT JOIN archive r ON r.audit_id = a.id"
		" WHERE a.time >= ?1 AND a.time < ?2"
		" AND (?3 IS NULL OR a.provider = ?3 COLLATE NOCASE)"
		" AND (?4 IS NULL OR a.from_aor = ?4 COLLATE NOCASE OR a.to_aor = ?4 COLLATE NOCASE"
		"  OR a.from_aor = 'sip:' || ?4 COLLATE NOCASE OR a.to_aor = 'sip:' || ?4 COLLATE NOCASE)"
		" AND (?5 IS NULL OR a.direction = ?5) AND (?6 IS NULL OR a.decision = ?6)"
		" AND (?8 = 0 OR r.audit_id IS NOT NULL) AND (?9 = 0 OR a.id = ?9)"
		" ORDER BY a.id DESC LIMIT ?7", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("audit query: %s", sqlite3_errmsg(db));
		return store_errno(rc);
	}
	audit_bind_period(st, 1, f->since, f->until);
	sqlite3_bind_text(st, 3, f->provider, -1, SQLITE_STATIC);
	/* a user given as sip:AOR matches records kept with or without the scheme */
	user = f->user && !strncasecmp(f->user, "sip:", 4) ? f->user + 4 : f->user;
	sqlite3_bind_text(st, 4, user, -1, SQLITE_STATIC);
	if (f->direction >= 0)
		sqlite3_bind_text(st, 5, audit_dir_name(f->direction), -1, SQLITE_STATIC);
	if (f->decision >= 0)
		sqlite3_bind_text(st, 6, audit_decision_name(f->decision), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, f->limit ? (sqlite3_int64)f->limit : -1);
	sqlite3_bind_int(st, 8, f->archived);
	sqlite3_bind_int64(st, 9, f->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r = {
			.id = sqlite3_column_int64(st, 0),
			.rec = {
				.time = (time_t)sqlite3_column_int64(st, 1),
				.direction = strcmp((const char *)sqlite3_column_text(st, 2), "out") ?
					     AUDIT_IN : AUDIT_OUT,
				.provider = (const char *)sqlite3_column_text(st, 3),
				.from = (const char *)sqlite3_column_text(st, 4),
				.to = (const char *)sqlite3_column_text(st, 5),
				.method = (const char *)sqlite3_column_text(st, 6),
				.call_id = (const char *)sqlite3_column_text(st, 7),
				.decision = strcmp((const char *)sqlite3_column_text(st, 8),
						   "refused") ? AUDIT_FORWARDED : AUDIT_REFUSED,
				.status = sqlite3_column_int(st, 9),
				.reason = (const char *)sqlite3_column_text(st, 10),
				.content_type = (const char *)sqlite3_column_text(st, 12),
				.body_len = (size_t)sqlite3_column_int64(st, 13),
				.body = sqlite3_column_blob(st, 14),
			},
			.archived = sqlite3_column_type(st, 11) != SQLITE_NULL,
			.body_stored = (size_t)sqlite3_column_bytes(st, 14),
		};

		rh(&r, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

int audit_usage(struct store *s, time_t since, time_t until, audit_usage_h *uh, void *arg)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	int rc;

	if (!db || !uh)
		return EINVAL;
	/* our user is the To of what came in and the From of what went out */
	rc = sqlite3_prepare_v2(db,
		"WITH a AS (SELECT direction, decision, provider,"
		"  trim(CASE direction WHEN 'in' THEN to_aor ELSE from_aor END, '<> ') AS u"
		"  FROM audit WHERE method = 'MESSAGE' AND time >= ?1 AND time < ?2),"
		" m AS (SELECT direction, decision, provider,"
		"  lower(CASE WHEN u LIKE 'sip:%' THEN substr(u, 5)"
		"   WHEN u LIKE 'sips:%' THEN substr(u, 6) ELSE u END) AS usr FROM a)"
		" SELECT 'user', usr, sum(direction = 'in'), sum(direction = 'out'),"
		"  sum(decision = 'refused') FROM m WHERE usr IS NOT NULL GROUP BY usr"
		" UNION ALL"
		" SELECT 'provider', provider, sum(direction = 'in'), sum(direction = 'out'),"
		"  sum(decision = 'refused') FROM m WHERE provider IS NOT NULL GROUP BY provider"
		" ORDER BY 1 DESC, 2", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("usage query: %s", sqlite3_errmsg(db));
		return store_errno(rc);
	}
	audit_bind_period(st, 1, since, until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		uh((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
		   (uint64_t)sqlite3_column_int64(st, 4), arg);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}
