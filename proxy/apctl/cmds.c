/* cmds: apctl's subcommands and their help, in one table (apctl --help prints it all). */
#include <stddef.h>

#include "apctl_int.h"

const struct apctl_cmd apctl_cmds[] = {
	{ "providers", apctl_cmd_providers,
	  "  apctl providers list\n"
	  "      the IM provider table (CONF-001: AOL, Yahoo! and MSN exist, not allowed)\n"
	  "  apctl providers add NAME --fqdn FQDN --domains D1[,D2...] [--public yes|no]\n"
	  "                      [--filter MODE] [--port N]\n"
	  "      a new provider, not allowed; public defaults to yes, port to 5061, filter to\n"
	  "      verified-only (MODE: contacts-only | verified-only | allow-all)\n"
	  "  apctl providers set NAME [--fqdn FQDN] [--domains D1,...] [--public yes|no]\n"
	  "                      [--filter MODE] [--port N]\n"
	  "  apctl providers allow|disallow|block|unblock|remove NAME\n"
	  "      refusals name their rule: CONF-003 (unique name and edge FQDN; the FQDN not\n"
	  "      empty, a wildcard or an IP; domains neither ours nor another provider's),\n"
	  "      CONF-004 (no allowed public provider next to a default route)\n" },
	{ "users", apctl_cmd_users,
	  "  apctl users list [--enabled]\n"
	  "  apctl users enable AOR...     let these users use PIC (CONF-005)\n"
	  "  apctl users disable AOR...\n"
	  "  apctl users archive AOR...    archive their messages even with archive = off\n"
	  "  apctl users noarchive AOR...\n"
	  "  apctl users import FILE.csv\n"
	  "      lines \"aor,enabled[,archive]\" (yes/no); a header line \"aor,...\" is skipped;\n"
	  "      if any line is bad nothing is imported and each bad line is named\n" },
	{ "domains", apctl_cmd_domains,
	  "  apctl domains list|add DOMAIN|remove DOMAIN\n"
	  "      our SIP domains (a domain a provider serves is refused)\n" },
	{ "settings", apctl_cmd_settings,
	  "  apctl settings list\n"
	  "  apctl settings set KEY VALUE\n"
	  "      pic_enabled               yes|no: the global PIC switch\n"
	  "      default_route             FQDN of a clearing house, \"\" for none (CONF-004)\n"
	  "      mark_outbound_verifiable  yes|no\n"
	  "      archive                   off|on|no-bodies (AUD-002)\n"
	  "      archive_critical          yes|no: forward only what is durably recorded "
	  "(AUD-003)\n" },
	{ "licences", apctl_cmd_licences,
	  "  apctl licences\n"
	  "      \"N users enabled for PIC: N monthly licences\" (POL-004)\n" },
	{ "audit", apctl_cmd_audit,
	  "  apctl audit [--since T] [--until T] [--provider P] [--user AOR]\n"
	  "              [--direction in|out] [--decision forwarded|refused] [--limit N]\n"
	  "      audit records, newest first (default limit 100; 0: all). T: YYYY-MM-DD,\n"
	  "      YYYY-MM-DDTHH:MM[:SS] (UTC), UNIX seconds, now, -30m, -2h, -7d\n" },
	{ "archive", apctl_cmd_archive,
	  "  apctl archive list [--user AOR] [--provider P] [--since T] [--until T] [--limit N]\n"
	  "      archived messages (AUD-002), newest first (default limit 100; 0: all): the\n"
	  "      audit record, content type, length and body (\"-\" when archived without\n"
	  "      bodies); in the table, control characters of the body are escaped\n"
	  "  apctl archive show ID\n"
	  "      one archived message: its record as \"name: value\" lines, a blank line, then\n"
	  "      the body as stored; exit 1 if ID has no archive row\n" },
	{ "usage", apctl_cmd_usage,
	  "  apctl usage [--since T] [--until T]\n"
	  "      MESSAGE counts per user and per provider over the period (AUD-005)\n" },
	{ "status", apctl_cmd_status,
	  "  apctl status\n"
	  "      the running proxy's status (one JSON line)\n" },
	{ "reload", apctl_cmd_reload,
	  "  apctl reload\n"
	  "      the running proxy reloads its config, database and certificates; a broken\n"
	  "      config or database keeps the old state and the answer names the problems\n" },
	{ "ready", apctl_cmd_ready,
	  "  apctl ready\n"
	  "      prints \"ok\" once the proxy listens on every edge\n" },
	{ "backup", apctl_cmd_backup,
	  "  apctl backup FILE\n"
	  "      all state in one file while the proxy runs (BAK-001): a consistent copy of\n"
	  "      the database (SQLite online backup), the config file and every certificate\n"
	  "      and key it names, with a format version and SHA-256 checksums\n" },
	{ "verify", apctl_cmd_verify,
	  "  apctl verify FILE\n"
	  "      checks a backup's format version and every checksum (BAK-002); exit 1\n"
	  "      naming what is wrong\n" },
	{ "restore", apctl_cmd_restore,
	  "  apctl restore FILE [--to DIR]\n"
	  "      verifies, then restores atomically (BAK-003): a bad backup changes nothing;\n"
	  "      a running proxy reloads; --to DIR restores under DIR (a fresh install)\n" },
	{ "export", apctl_cmd_export,
	  "  apctl export [BACKUP-FILE]\n"
	  "      the state (database tables) as text, deterministically; of a backup file\n"
	  "      when given (BAK-004: equal before and after a restore)\n" },
	{ NULL, NULL, NULL },
};
