/* store: the proxy's persistent state in SQLite: providers, our domains, users, settings, the
 * audit and the archive. The database is authoritative once created; the config file only
 * seeds it. Every change is validated (CONF-003, CONF-004) and refused with a reason. */
#ifndef AP_STORE_H
#define AP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../state/state.h"

struct store;
struct conf;
struct sqlite3;

/* The schema version this program writes (PRAGMA user_version after migration). */
#define STORE_SCHEMA_VERSION 3

/* Reasons are written to why (may be NULL) as one line naming the rule ("CONF-003: ..."). */

/* Opens path with WAL, foreign keys and a busy timeout. Unless readonly, a missing database is
 * created and every pending migration applied, each in its own transaction; when the database
 * was created now and seed is not NULL, the seed config's domains and [provider] sections are
 * imported (upserted by name) in the migration's transaction. ENOENT if readonly and missing;
 * EPROTO if the schema is newer than this program. */
int store_open(struct store **sp, const char *path, bool readonly, const struct conf *seed,
	       char *why, size_t wsz);
const char *store_path(const struct store *s);
/* True if store_open created the schema (the database was empty). */
bool store_created(const struct store *s);
int store_schema_version(struct store *s);
/* The connection, for audit (same thread as the store's user only). */
struct sqlite3 *store_sqlite(struct store *s);
/* SQLite result code to errno: the one place they are translated. */
int store_errno(int rc);

/* A policy snapshot of the database: providers, our domains, users (those absent are not
 * enabled), settings. cfg may be NULL; when given, a provider the database marks tcp keeps
 * it only if cfg allows tcp. */
int store_load_state(struct store *s, const struct conf *cfg, struct state **stp);
/* The snapshot also carries the installation's secret (state_secret), from the secrets table
 * that migration 3 fills once. */

/* accessproxy -t: calls ph(false, msg) for each way the config's domains and providers
 * differ from the database (the database wins). */
typedef void (store_problem_h)(bool error, const char *msg, void *arg);
int store_compare_conf(struct store *s, const struct conf *cfg, store_problem_h *ph, void *arg);

/* --- providers (CONF-001..004) --- */
/* EINVAL invalid field, EEXIST name/FQDN/domain taken, EPERM CONF-004 conflict. */
int store_provider_add(struct store *s, const struct state_provider *p, char *why, size_t wsz);
/* Replaces the row called name with p (p->name may rename it); ENOENT if none. */
int store_provider_update(struct store *s, const char *name, const struct state_provider *p,
			  char *why, size_t wsz);
int store_provider_remove(struct store *s, const char *name, char *why, size_t wsz);
typedef void (store_provider_h)(const struct state_provider *p, time_t created, time_t updated,
				void *arg);
int store_provider_each(struct store *s, store_provider_h *h, void *arg);
/* CONF-003 checks of one row against the others (oldname: the row it replaces, or NULL). */
int store_provider_check(struct store *s, const struct state_provider *p, const char *oldname,
			 char *why, size_t wsz);

/* --- our SIP domains --- */
int store_domain_add(struct store *s, const char *domain, char *why, size_t wsz);
int store_domain_remove(struct store *s, const char *domain, char *why, size_t wsz);

/* --- users (CONF-005, POL-004) --- */
struct store_user {
	const char *aor;
	const char *display_name;   /* may be NULL */
	bool enabled;
	bool archive;
};
/* Creates the user if unknown. enabled/archive: 1 set, 0 clear, -1 keep (new users: 0). */
int store_user_set(struct store *s, const char *aor, int enabled, int archive, char *why,
		   size_t wsz);
typedef void (store_user_h)(const struct store_user *u, void *arg);
int store_user_each(struct store *s, bool enabled_only, store_user_h *h, void *arg);
/* Users enabled for PIC: the monthly licences needed (POL-004). */
int store_users_enabled(struct store *s, size_t *np);
/* CSV lines "aor,enabled[,archive]" (a header line "aor,..." is skipped); all or nothing:
 * any bad line imports none, and why lists "line N: reason" for the bad ones. */
int store_user_import_csv(struct store *s, const char *path, size_t *nimported, char *why,
			  size_t wsz);

/* --- settings: pic_enabled, default_route, mark_outbound_verifiable, archive,
 * archive_critical --- */
int store_setting_set(struct store *s, const char *key, const char *value, char *why,
		      size_t wsz);
typedef void (store_setting_h)(const char *key, const char *value, void *arg);
int store_setting_each(struct store *s, store_setting_h *h, void *arg);
/* The keys and what each accepts, for help texts. */
const char *store_setting_help(void);

/* Parses yes/no/on/off/true/false/1/0; EINVAL otherwise. */
int store_bool_parse(const char *s, bool *bp);

#endif
