/* store_int: what the files of proxy/store share: the handle and small SQLite helpers. */
#ifndef AP_STORE_INT_H
#define AP_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3 *db;
	char *path;
	bool created;
	bool readonly;
};

/* One migration step: applied in a transaction, then user_version = version. */
struct store_migration {
	int version;
	const char *sql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/* printf into why (may be NULL); returns err so callers can `return store_why(...)`. */
int store_why(char *why, size_t wsz, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int store_exec(struct store *s, const char *sql);
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
int store_prepare(struct store *s, sqlite3_stmt **stp, const char *sql);
/* Binds text or NULL. */
void store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Settings inside an open transaction (no CONF-004 check). */
int store_setting_put(struct store *s, const char *key, const char *value);
/* Upsert by name without opening a transaction (seeding). */
int store_provider_put(struct store *s, const struct state_provider *p, char *why, size_t wsz);
/* CONF-004 against the settings and other rows: would p (replacing oldname) or a default
 * route create the conflict? */
int store_check_conf004(struct store *s, const struct state_provider *p, const char *oldname,
			const char *default_route, char *why, size_t wsz);

#endif
