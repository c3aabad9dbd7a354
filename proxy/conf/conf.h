/* conf: the accessproxy configuration file: parsed through one key table, then validated. */
#ifndef AP_CONF_H
#define AP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/log.h"

struct conf;

enum conf_edge_id { CONF_INTERNAL = 0, CONF_EXTERNAL, CONF_NEDGES };

enum conf_filter { CONF_FILTER_VERIFIED_ONLY = 0, CONF_FILTER_CONTACTS_ONLY, CONF_FILTER_ALLOW_ALL };

/* One edge ([internal] / [external]); read-only for everyone but conf.c. */
struct conf_edge {
	char *listen;                     /* "ip:port" as written */
	struct sockaddr_storage listen_sa;
	char *tcp_listen;                 /* optional plain TCP listener (needs allow_tcp) */
	struct sockaddr_storage tcp_listen_sa;
	char *fqdn;
	char *cert;
	char *key;
	char *ca;
	char *next_hop;                   /* internal only: FQDN of the home server pool */
	unsigned next_hop_port;
	bool next_hop_tcp;                /* next_hop_transport = tcp (needs allow_tcp) */
	int tls_min_version;              /* TLS1_2_VERSION or TLS1_3_VERSION (TLS-008) */
	char *ciphers;                    /* TLS 1.2 cipher order, OpenSSL syntax; NULL: default */
	char *ciphersuites;               /* TLS 1.3 suites in order; NULL: default */
	unsigned rate_per_sec;            /* external: requests a second per provider (ROB-004) */
	unsigned rate_burst;              /* external: burst allowance per provider */
};

/* One [provider NAME] section. */
struct conf_provider {
	char *name;
	char *fqdn;                       /* its edge FQDN: DNS name and expected cert CN */
	unsigned port;
	char **domains;                   /* SIP domains it serves */
	size_t ndomains;
	bool allow;                       /* off by default (CONF-001) */
	bool public_provider;
	bool blocked;                     /* temporary block */
	bool tcp;                         /* transport = tcp (needs allow_tcp) */
	enum conf_filter filter;
	unsigned line;                    /* where its section starts */
};

/* Every problem found; error false means a warning. msg is "file:line: text" when a line is
 * known, else "file: text". */
typedef void (conf_problem_h)(bool error, const char *msg, void *arg);

/* Reads and validates path. Calls ph (may be NULL) once per problem, errors and warnings alike,
 * never stopping at the first. Returns 0 (warnings allowed), EINVAL if any error, or the errno
 * of opening the file; *cfgp is set only on success. */
int conf_load(struct conf **cfgp, const char *path, conf_problem_h *ph, void *arg);

const char *conf_path(const struct conf *cfg);
enum log_level conf_log_level(const struct conf *cfg);
const char *conf_control_socket(const struct conf *cfg);
const struct sockaddr *conf_dns_server(const struct conf *cfg);
const char *conf_dns_server_str(const struct conf *cfg);
bool conf_allow_tcp(const struct conf *cfg);
/* [global] limits on what a peer may send (issue 11; ROB-003, IM-004). */
struct conf_limits {
	unsigned max_header;       /* max_header_bytes: header block; over: 513, close */
	unsigned max_body;         /* max_body_bytes: body; over: 413 */
	unsigned max_discard;      /* max_discard_bytes: a body over max_body read and dropped */
	unsigned msg_timeout_ms;   /* message_timeout_ms: per-message completion deadline */
	unsigned peer_partial_max; /* peer_partial_max: incomplete bytes per source address */
	unsigned idle_ms;          /* idle_timeout_ms: nothing complete for this long: closed */
};
/* The limits (defaults when cfg is NULL). */
const struct conf_limits *conf_limits(const struct conf *cfg);
/* [global] workers: 0..64, 0 meaning one per core (resolved by worker_count()). */
unsigned conf_workers(const struct conf *cfg);
const char *conf_keylog_file(const struct conf *cfg);
/* [global] database: the SQLite state. It is seeded from the config's domain keys and
 * [provider] sections when created; from then on the database is authoritative for providers,
 * domains, users and settings (change them with apctl). */
#define CONF_DEFAULT_DATABASE "/var/lib/accessproxy/state.db"
const char *conf_database(const struct conf *cfg);
/* [global] audit (default yes): no runs without the audit writer (AUD-001 off), for
 * measuring what auditing costs. */
bool conf_audit(const struct conf *cfg);
/* True when the key was not set (the default path applies). */
bool conf_database_is_default(const struct conf *cfg);
const struct conf_edge *conf_edge(const struct conf *cfg, enum conf_edge_id id);
const char *conf_edge_name(enum conf_edge_id id);

size_t conf_domain_count(const struct conf *cfg);
const char *conf_domain(const struct conf *cfg, size_t idx);
/* True if host is one of our SIP domains (case-insensitive; hashed, no scan). */
bool conf_is_our_domain(const struct conf *cfg, const char *host);

size_t conf_provider_count(const struct conf *cfg);
const struct conf_provider *conf_provider_at(const struct conf *cfg, size_t idx);
/* Lookups for the hot path (hashed, case-insensitive). NULL when none. */
const struct conf_provider *conf_provider_by_fqdn(const struct conf *cfg, const char *fqdn);
const struct conf_provider *conf_provider_by_domain(const struct conf *cfg, const char *domain);
const struct conf_provider *conf_provider_by_name(const struct conf *cfg, const char *name);
const char *conf_filter_name(enum conf_filter f);

/* True if s is a syntactically valid host name (labels of letters, digits, '-', at least one
 * dot, no wildcard, not an IP literal). */
bool conf_is_fqdn(const char *s);

#endif
