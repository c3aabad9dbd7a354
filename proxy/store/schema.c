/* schema: the store's migration steps, oldest first; never edit a released step, add one. */
#include <stddef.h>

#include "store_int.h"

/* 1: the tables, the default settings, and the AOL, Yahoo! and MSN rows, not allowed
 * (CONF-001). Times are UNIX seconds (UTC). */
static const char store_v1[] =
	"CREATE TABLE providers ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (name <> ''),"
	" fqdn TEXT NOT NULL UNIQUE COLLATE NOCASE"
	"  CHECK (fqdn <> '' AND instr(fqdn, '*') = 0),"
	" port INTEGER NOT NULL DEFAULT 5061 CHECK (port BETWEEN 1 AND 65535),"
	" public INTEGER NOT NULL DEFAULT 1 CHECK (public IN (0, 1)),"
	" allowed INTEGER NOT NULL DEFAULT 0 CHECK (allowed IN (0, 1)),"
	" blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),"
	" filter TEXT NOT NULL DEFAULT 'verified-only'"
	"  CHECK (filter IN ('verified-only', 'contacts-only', 'allow-all')),"
	" transport TEXT NOT NULL DEFAULT 'tls' CHECK (transport IN ('tls', 'tcp')),"
	" created INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),"
	" updated INTEGER NOT NULL DEFAULT (strftime('%s', 'now')));"
	"CREATE TABLE provider_domains ("
	" provider_id INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,"
	" domain TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (domain <> ''));"
	"CREATE INDEX provider_domains_provider ON provider_domains(provider_id);"
	"CREATE TABLE domains (domain TEXT PRIMARY KEY COLLATE NOCASE CHECK (domain <> ''));"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" aor TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (instr(aor, '@') > 1),"
	" display_name TEXT,"
	" pic_enabled INTEGER NOT NULL DEFAULT 0 CHECK (pic_enabled IN (0, 1)),"
	" archive INTEGER NOT NULL DEFAULT 0 CHECK (archive IN (0, 1)),"
	" created INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),"
	" updated INTEGER NOT NULL DEFAULT (strftime('%s', 'now')));"
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
	" provider TEXT, from_aor TEXT, to_aor TEXT, method TEXT, call_id TEXT,"
	" decision TEXT NOT NULL CHECK (decision IN ('forwarded', 'refused')),"
	" status INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT);"
	"CREATE INDEX audit_time ON audit(time);"
	"CREATE TABLE archive ("
	" audit_id INTEGER PRIMARY KEY REFERENCES audit(id) ON DELETE CASCADE,"
	" content_type TEXT,"
	" body_len INTEGER NOT NULL DEFAULT 0,"
	" body BLOB);"
	"INSERT INTO settings (key, value) VALUES"
	" ('pic_enabled', 'yes'), ('default_route', ''), ('mark_outbound_verifiable', 'no'),"
	" ('archive', 'off'), ('archive_critical', 'no');"
	"INSERT INTO providers (name, fqdn, public, allowed) VALUES"
	" ('aol', 'sip.aol.test', 1, 0), ('yahoo', 'sip.yahoo.test', 1, 0),"
	" ('msn', 'sip.msn.test', 1, 0);"
	"INSERT INTO provider_domains (provider_id, domain)"
	" SELECT id, 'aol.test' FROM providers WHERE name = 'aol' UNION ALL"
	" SELECT id, 'yahoo.test' FROM providers WHERE name = 'yahoo' UNION ALL"
	" SELECT id, 'msn.test' FROM providers WHERE name = 'msn';";

/* 2: usage reports (AUD-005) and audit filters by provider and user. */
static const char store_v2[] =
	"CREATE INDEX audit_provider ON audit(provider, time);"
	"CREATE INDEX audit_from ON audit(from_aor, time);"
	"CREATE INDEX audit_to ON audit(to_aor, time);";

/* 3: the installation's secret (CONT-005), created once with 32 random bytes (SQLite's
 * randomblob: its generator is seeded from the operating system's), never changed: topology
 * tokens (sealed Contacts and Call-IDs) and our branches are keyed from it, so that they stay
 * valid across restarts and agree between workers. */
static const char store_v3[] =
	"CREATE TABLE secrets ("
	" name TEXT PRIMARY KEY,"
	" value BLOB NOT NULL CHECK (length(value) = 32));"
	"INSERT INTO secrets (name, value) VALUES ('topology', randomblob(32));";

const struct store_migration store_migrations[] = {
	{ 1, store_v1 },
	{ 2, store_v2 },
	{ 3, store_v3 },
};
const size_t store_nmigrations = sizeof(store_migrations) / sizeof(store_migrations[0]);
