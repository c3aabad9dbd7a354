/* store: opening the SQLite state, migrating its schema, seeding it, and building snapshots. */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "../conf/conf.h"
#include "store_int.h"

/* Writers (apctl, the audit thread) wait this long for each other's locks. */
#define STORE_BUSY_MS 5000

int store_why(char *why, size_t wsz, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && wsz) {
		va_start(ap, fmt);
		vsnprintf(why, wsz, fmt, ap);
		va_end(ap);
	}
	return err;
}

int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
	case SQLITE_NOMEM: return ENOMEM;
	case SQLITE_BUSY: case SQLITE_LOCKED: return EBUSY;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return EACCES;
	case SQLITE_CONSTRAINT: return EEXIST;
	case SQLITE_CANTOPEN: return ENOENT;
	case SQLITE_FULL: return ENOSPC;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return EBADMSG;
	case SQLITE_MISUSE: case SQLITE_RANGE: return EINVAL;
	default: return EIO;
	}
}

int store_exec(struct store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_debug("%s: %s", s->path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return store_errno(rc);
	}
	return 0;
}

int store_begin(struct store *s)
{
	/* IMMEDIATE: take the write lock now, so a check and its write see one state */
	return store_exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	return store_exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)store_exec(s, "ROLLBACK");
}

int store_prepare(struct store *s, sqlite3_stmt **stp, const char *sql)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, stp, NULL);

	if (rc != SQLITE_OK) {
		log_error("%s: prepare: %s", s->path, sqlite3_errmsg(s->db));
		return store_errno(rc);
	}
	return 0;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

static void store_destroy(void *data)
{
	struct store *s = data;

	if (s->db)
		sqlite3_close_v2(s->db);
	mem_deref(s->path);
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (store_prepare(s, &st, "PRAGMA user_version"))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The config's domains and providers, upserted (seed 1.2: the database is authoritative from
 * now on, so this runs only when it is created). */
static int store_seed(struct store *s, const struct conf *cfg, char *why, size_t wsz)
{
	sqlite3_stmt *st;
	size_t i;
	int err;

	err = store_prepare(s, &st, "INSERT OR IGNORE INTO domains (domain) VALUES (?)");
	for (i = 0; !err && i < conf_domain_count(cfg); i++) {
		store_bind_text(st, 1, conf_domain(cfg, i));
		if (sqlite3_step(st) != SQLITE_DONE)
			err = store_why(why, wsz, store_errno(sqlite3_errcode(s->db)),
					"domain %s: %s", conf_domain(cfg, i),
					sqlite3_errmsg(s->db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	for (i = 0; !err && i < conf_provider_count(cfg); i++) {
		struct state_provider p;
		char r[256];

		state_provider_from_conf(&p, conf_provider_at(cfg, i));
		err = store_provider_put(s, &p, r, sizeof(r));
		if (err)
			store_why(why, wsz, err, "seeding from %s: provider %s: %s",
				  conf_path(cfg), p.name, r);
	}
	return err;
}

static int store_migrate(struct store *s, const struct conf *seed, char *why, size_t wsz)
{
	int v = store_schema_version(s), err = 0;
	size_t i;

	if (v < 0)
		return store_why(why, wsz, EBADMSG, "%s: not a database", s->path);
	if (v > STORE_SCHEMA_VERSION)
		return store_why(why, wsz, EPROTO, "%s: schema version %d is newer than this "
				 "program's (%d)", s->path, v, STORE_SCHEMA_VERSION);
	s->created = v == 0;
	for (i = 0; i < store_nmigrations; i++) {
		const struct store_migration *m = &store_migrations[i];
		char sql[64];

		if (m->version <= v)
			continue;
		if (s->readonly)
			return store_why(why, wsz, EACCES, "%s: schema version %d needs migrating "
					 "to %d", s->path, v, STORE_SCHEMA_VERSION);
		/* BEGIN IMMEDIATE, then look again: another process (a worker starting at the
		 * same time, apctl) may have applied this step while we waited for the lock */
		err = store_begin(s);
		if (!err && store_schema_version(s) >= m->version) {
			if (m->version == 1)
				s->created = false;
			err = store_commit(s);
			if (err)
				return store_why(why, wsz, err, "%s: %s", s->path,
						 sqlite3_errmsg(s->db));
			continue;
		}
		if (!err && (err = store_exec(s, m->sql)))
			store_why(why, wsz, err, "%s: migration %d: %s", s->path, m->version,
				  sqlite3_errmsg(s->db));
		if (!err && m->version == 1 && seed)
			err = store_seed(s, seed, why, wsz);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
		if (!err)
			err = store_exec(s, sql);
		if (!err)
			err = store_commit(s);
		if (err) {
			store_rollback(s);
			if (why && !*why)
				store_why(why, wsz, err, "%s: migration %d: %s", s->path,
					  m->version, strerror(err));
			return err;
		}
		log_info("%s: schema migrated to version %d", s->path, m->version);
	}
	return 0;
}

/* Switching a new database to WAL takes an exclusive lock, and SQLite may report "locked"
 * at once instead of waiting when another process is opening the same new file (two workers
 * starting together): retry, bounded, like the busy handler would. */
static int store_wal(struct store *s)
{
	int err = 0, i;

	for (i = 0; i < 100; i++) {
		err = store_exec(s, "PRAGMA journal_mode = WAL");
		if (err != EBUSY && err != EAGAIN)
			break;
		usleep(10000);
	}
	return err;
}

int store_open(struct store **sp, const char *path, bool readonly, const struct conf *seed,
	       char *why, size_t wsz)
{
	struct store *s;
	int flags, rc, err;

	if (why && wsz)
		*why = '\0';
	if (!sp || !path || !*path)
		return store_why(why, wsz, EINVAL, "no database path");
	if (readonly && access(path, R_OK) != 0)
		return store_why(why, wsz, errno, "%s: %s", path, strerror(errno));
	s = mem_zalloc(sizeof(*s), store_destroy);
	if (!s)
		return ENOMEM;
	s->readonly = readonly;
	s->path = mem_strdup(path);
	flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		SQLITE_OPEN_NOMUTEX;
	rc = s->path ? sqlite3_open_v2(path, &s->db, flags, NULL) : SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		err = store_why(why, wsz, store_errno(rc), "%s: %s", path,
				s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(s->db, 0);
	/* WAL: readers (apctl, reloads) never block the audit writer; FULL: a commit survives
	 * power loss, not only a killed process (AUD-004) */
	err = store_exec(s, "PRAGMA foreign_keys = ON");
	if (!err && !readonly)
		err = store_wal(s);
	if (!err)
		err = store_exec(s, "PRAGMA synchronous = FULL");
	if (err) {
		store_why(why, wsz, err, "%s: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	err = store_migrate(s, seed, why, wsz);
out:
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

const char *store_path(const struct store *s)
{
	return s ? s->path : NULL;
}

bool store_created(const struct store *s)
{
	return s && s->created;
}

struct sqlite3 *store_sqlite(struct store *s)
{
	return s ? s->db : NULL;
}

int store_bool_parse(const char *v, bool *bp)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	if (!v || !bp)
		return EINVAL;
	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return *bp = true, 0;
		if (!strcasecmp(v, no[i]))
			return *bp = false, 0;
	}
	return EINVAL;
}
