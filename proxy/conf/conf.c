/* conf: the accessproxy configuration: one key table (name, type, bounds, default, apply),
 * a line parser for [section] / [provider NAME] / key = value, and a validator that names
 * every problem it finds, not just the first. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/mem.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "../hmap/hmap.h"
#include "conf.h"

#define LOG_MODULE "conf"

enum conf_sect { CS_NONE = 0, CS_GLOBAL, CS_INTERNAL, CS_EXTERNAL, CS_PROVIDER };
#define SECT(s) (1u << (s))
#define SECT_EDGE (SECT(CS_INTERNAL) | SECT(CS_EXTERNAL))

enum conf_type {
	CT_STR = 0, CT_BOOL, CT_UINT, CT_ADDR, CT_FQDN, CT_FILE, CT_LEVEL, CT_LIST, CT_FILTER,
	CT_TRANSPORT, CT_TLSVER,
};

struct conf_global {
	enum log_level log_level;
	char *control_socket;
	char *dns_server;
	struct sockaddr_storage dns_sa;
	char **domains;
	size_t ndomains;
	bool allow_tcp;
	unsigned workers;
	char *keylog_file;
	char *database;
	bool audit;
	struct conf_limits lim;
};

struct conf_key;
typedef int (conf_apply_h)(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz);

/* One row per accepted key: the whole configuration surface in one place. */
struct conf_key {
	const char *name;
	unsigned sections;   /* SECT() mask of where it may appear */
	enum conf_type type;
	unsigned long min, max;
	const char *def;     /* applied when the section opens; NULL: none */
	bool required;
	size_t off;          /* into struct conf_global, conf_edge or conf_provider */
	size_t off2;         /* second field (sockaddr of CT_ADDR, count of CT_LIST) */
	const char *help;
};

#define G(f) offsetof(struct conf_global, f)
#define E(f) offsetof(struct conf_edge, f)
#define P(f) offsetof(struct conf_provider, f)

static const struct conf_key conf_keys[] = {
	{ "log_level", SECT(CS_GLOBAL), CT_LEVEL, 0, 0, "info", false, G(log_level), 0,
	  "debug | info | warn | error" },
	{ "control_socket", SECT(CS_GLOBAL), CT_STR, 1, 107, "/run/accessproxy.sock", false,
	  G(control_socket), 0, "unix socket path for apctl" },
	{ "dns_server", SECT(CS_GLOBAL), CT_ADDR, 53, 0, NULL, true, G(dns_server), G(dns_sa),
	  "resolver ip[:port] (default port 53)" },
	{ "domain", SECT(CS_GLOBAL), CT_LIST, 0, 0, NULL, true, G(domains), G(ndomains),
	  "a SIP domain of ours; repeatable, comma separated" },
	{ "allow_tcp", SECT(CS_GLOBAL), CT_BOOL, 0, 0, "no", false, G(allow_tcp), 0,
	  "permit plain TCP listeners and peers" },
	{ "workers", SECT(CS_GLOBAL), CT_UINT, 0, 64, "0", false, G(workers), 0,
	  "event-loop processes sharing the listeners (SO_REUSEPORT); 0: one per core" },
	{ "keylog_file", SECT(CS_GLOBAL), CT_STR, 1, 4095, NULL, false, G(keylog_file), 0,
	  "append TLS secrets (NSS key log format) here; debugging only" },
	{ "database", SECT(CS_GLOBAL), CT_STR, 1, 4095, NULL, false, G(database), 0,
	  "SQLite state (providers, users, settings, audit); default " CONF_DEFAULT_DATABASE },
	{ "audit", SECT(CS_GLOBAL), CT_BOOL, 0, 0, "yes", false, G(audit), 0,
	  "record every federated request in the database (AUD-001); no: none (benchmarks)" },
	/* issue 11: what a peer may send (ROB-003, IM-004) */
	{ "max_header_bytes", SECT(CS_GLOBAL), CT_UINT, 1024, 1048576, "16384", false,
	  G(lim.max_header), 0, "a header block longer than this gets 513 and the connection "
	  "closes" },
	{ "max_body_bytes", SECT(CS_GLOBAL), CT_UINT, 0, 16777216, "32768", false,
	  G(lim.max_body), 0, "a body longer than this gets 413 (IM-004)" },
	{ "max_discard_bytes", SECT(CS_GLOBAL), CT_UINT, 0, 67108864, "65536", false,
	  G(lim.max_discard), 0, "a body over max_body_bytes up to this long is read and dropped "
	  "after the 413 and the connection kept; a longer one closes it" },
	{ "message_timeout_ms", SECT(CS_GLOBAL), CT_UINT, 100, 600000, "10000", false,
	  G(lim.msg_timeout_ms), 0, "a message begun must be complete within this, or its "
	  "connection closes" },
	{ "peer_partial_max", SECT(CS_GLOBAL), CT_UINT, 1024, 1073741824, "262144", false,
	  G(lim.peer_partial_max), 0, "bytes of incomplete messages one source address may "
	  "hold over all its connections; the connection that passes it closes" },
	{ "idle_timeout_ms", SECT(CS_GLOBAL), CT_UINT, 1000, 86400000, "120000", false,
	  G(lim.idle_ms), 0, "an accepted connection with no complete message for this long "
	  "closes (the peer reconnects when it has something to send)" },

	{ "listen", SECT_EDGE, CT_ADDR, 0, 0, NULL, true, E(listen), E(listen_sa),
	  "ip:port of the MTLS listener" },
	{ "tcp_listen", SECT_EDGE, CT_ADDR, 0, 0, NULL, false, E(tcp_listen), E(tcp_listen_sa),
	  "ip:port of a plain TCP listener (needs allow_tcp)" },
	{ "fqdn", SECT_EDGE, CT_FQDN, 0, 0, NULL, true, E(fqdn), 0, "this edge's FQDN" },
	{ "cert", SECT_EDGE, CT_FILE, 0, 0, NULL, true, E(cert), 0, "PEM certificate" },
	{ "key", SECT_EDGE, CT_FILE, 0, 0, NULL, true, E(key), 0, "PEM private key" },
	{ "ca", SECT_EDGE, CT_FILE, 0, 0, NULL, true, E(ca), 0, "PEM trust store for peers" },
	{ "tls_min_version", SECT_EDGE, CT_TLSVER, 0, 0, "1.2", false, E(tls_min_version), 0,
	  "1.2 | 1.3: the oldest TLS version accepted and offered (TLS-008)" },
	{ "ciphers", SECT_EDGE, CT_STR, 1, 1023, NULL, false, E(ciphers), 0,
	  "TLS 1.2 cipher order, OpenSSL cipher list syntax (TLS-008)" },
	{ "ciphersuites", SECT_EDGE, CT_STR, 1, 1023, NULL, false, E(ciphersuites), 0,
	  "TLS 1.3 suites in order, colon separated (TLS-008)" },
	{ "rate_per_sec", SECT(CS_EXTERNAL), CT_UINT, 1, 1000000, "2000", false,
	  E(rate_per_sec), 0, "requests a second one provider may send before 503 (ROB-004)" },
	{ "rate_burst", SECT(CS_EXTERNAL), CT_UINT, 1, 10000000, "4000", false, E(rate_burst), 0,
	  "requests one provider may send at once above its rate (ROB-004)" },
	{ "next_hop", SECT(CS_INTERNAL), CT_FQDN, 0, 0, NULL, true, E(next_hop), 0,
	  "FQDN of the home server pool (TLS-006)" },
	{ "next_hop_port", SECT(CS_INTERNAL), CT_UINT, 1, 65535, "5061", false,
	  E(next_hop_port), 0, "port of the next hop" },
	{ "next_hop_transport", SECT(CS_INTERNAL), CT_TRANSPORT, 0, 0, "tls", false,
	  E(next_hop_tcp), 0, "tls | tcp (tcp needs allow_tcp)" },

	{ "fqdn", SECT(CS_PROVIDER), CT_FQDN, 0, 0, NULL, true, P(fqdn), 0,
	  "provider edge FQDN: resolved by A/AAAA, must be its cert CN" },
	{ "port", SECT(CS_PROVIDER), CT_UINT, 1, 65535, "5061", false, P(port), 0, "its port" },
	{ "domains", SECT(CS_PROVIDER), CT_LIST, 0, 0, NULL, true, P(domains), P(ndomains),
	  "SIP domains it serves, comma separated" },
	{ "allow", SECT(CS_PROVIDER), CT_BOOL, 0, 0, "no", false, P(allow), 0,
	  "traffic passes only when yes (CONF-002)" },
	{ "public", SECT(CS_PROVIDER), CT_BOOL, 0, 0, "yes", false, P(public_provider), 0,
	  "a public IM provider (not a federated partner)" },
	{ "blocked", SECT(CS_PROVIDER), CT_BOOL, 0, 0, "no", false, P(blocked), 0,
	  "temporary block" },
	{ "filter", SECT(CS_PROVIDER), CT_FILTER, 0, 0, "verified-only", false, P(filter), 0,
	  "contacts-only | verified-only | allow-all" },
	{ "transport", SECT(CS_PROVIDER), CT_TRANSPORT, 0, 0, "tls", false, P(tcp), 0,
	  "tls | tcp (tcp needs allow_tcp)" },
};

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Where each key of one section was set (0: not set, or only by default). */
struct conf_lines {
	unsigned sect;
	unsigned key[CONF_NKEYS];
};

struct conf_prov {
	struct conf_provider p;
	struct conf_lines lines;
	struct hmap_le le_fqdn;
	struct hmap_le le_name;
	struct hmap_le *le_domains;
};

struct conf {
	char *path;
	struct conf_global g;
	struct conf_lines glines;
	struct conf_edge edge[CONF_NEDGES];
	struct conf_lines elines[CONF_NEDGES];
	struct conf_prov *provs;
	size_t nprovs;
	struct hmap *by_fqdn;
	struct hmap *by_name;
	struct hmap *by_domain;
	struct hmap *ours;
	struct hmap_le *le_ours;
};

/* Parse state: the problem sink and the error count. */
struct conf_parse {
	struct conf *cfg;
	conf_problem_h *ph;
	void *arg;
	unsigned nerr;
	enum conf_sect sect;
	void *obj;
	struct conf_lines *lines;
};

static void conf_problem(struct conf_parse *st, bool error, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void conf_problem(struct conf_parse *st, bool error, unsigned line, const char *fmt, ...)
{
	char text[768], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(msg, sizeof(msg), "%s:%u: %s%s", st->cfg->path, line,
			 error ? "" : "warning: ", text);
	else
		snprintf(msg, sizeof(msg), "%s: %s%s", st->cfg->path, error ? "" : "warning: ",
			 text);
	if (error)
		st->nerr++;
	if (st->ph)
		st->ph(error, msg, st->arg);
}

static void conf_strlist_free(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void conf_edge_free(struct conf_edge *e)
{
	free(e->listen);
	free(e->tcp_listen);
	free(e->fqdn);
	free(e->cert);
	free(e->key);
	free(e->ca);
	free(e->next_hop);
	free(e->ciphers);
	free(e->ciphersuites);
}

static void conf_destroy(void *data)
{
	struct conf *cfg = data;
	size_t i;

	for (i = 0; i < cfg->nprovs; i++) {
		struct conf_provider *p = &cfg->provs[i].p;

		free(p->name);
		free(p->fqdn);
		conf_strlist_free(p->domains, p->ndomains);
		free(cfg->provs[i].le_domains);
	}
	free(cfg->provs);
	for (i = 0; i < CONF_NEDGES; i++)
		conf_edge_free(&cfg->edge[i]);
	free(cfg->g.control_socket);
	free(cfg->g.dns_server);
	free(cfg->g.keylog_file);
	free(cfg->g.database);
	conf_strlist_free(cfg->g.domains, cfg->g.ndomains);
	free(cfg->le_ours);
	mem_deref(cfg->by_fqdn);
	mem_deref(cfg->by_name);
	mem_deref(cfg->by_domain);
	mem_deref(cfg->ours);
	free(cfg->path);
}

bool conf_is_fqdn(const char *s)
{
	size_t label = 0, len = 0;
	bool dot = false;

	if (!s || !*s || sa_is_ip(s))
		return false;
	for (; *s; s++, len++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
			dot = true;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
		if (++label > 63)
			return false;
	}
	return dot && label > 0 && len <= 253;
}

/* --- apply callbacks, one per type --- */

#define FIELD(obj, off, type) ((type *)((char *)(obj) + (off)))

static int conf_apply_str(const struct conf_key *k, void *obj, const char *val, char *err,
			  size_t esz)
{
	char **f = FIELD(obj, k->off, char *);
	size_t len = strlen(val);

	if (k->max && (len < k->min || len > k->max)) {
		snprintf(err, esz, "%s: length %zu is outside %lu..%lu", k->name, len, k->min,
			 k->max);
		return EINVAL;
	}
	free(*f);
	*f = strdup(val);
	return *f ? 0 : ENOMEM;
}

static int conf_apply_bool(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	bool *f = FIELD(obj, k->off, bool);

	if (!strcasecmp(val, "yes") || !strcasecmp(val, "true") || !strcasecmp(val, "on") ||
	    !strcmp(val, "1"))
		*f = true;
	else if (!strcasecmp(val, "no") || !strcasecmp(val, "false") ||
		 !strcasecmp(val, "off") || !strcmp(val, "0"))
		*f = false;
	else {
		snprintf(err, esz, "%s: '%s' is not yes or no", k->name, val);
		return EINVAL;
	}
	return 0;
}

static int conf_apply_uint(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (!isdigit((unsigned char)*val) || *end || errno || v < k->min || v > k->max) {
		snprintf(err, esz, "%s: '%s' is not a number in %lu..%lu", k->name, val, k->min,
			 k->max);
		return EINVAL;
	}
	*FIELD(obj, k->off, unsigned) = (unsigned)v;
	return 0;
}

/* "ip:port", "[v6]:port"; a bare IP is accepted only where the key has a default port (min). */
static int conf_apply_addr(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	struct sockaddr_storage *sa = FIELD(obj, k->off2, struct sockaddr_storage);

	if (sa_parse(sa, val) != 0 || sa_port((struct sockaddr *)sa) == 0) {
		if (!(k->min && sa_set(sa, val, (uint16_t)k->min) == 0)) {
			snprintf(err, esz, "%s: '%s' is not an IP:port address", k->name, val);
			return EINVAL;
		}
	}
	return conf_apply_str(k, obj, val, err, esz);
}

static int conf_fqdn_check(const char *what, const char *val, char *err, size_t esz)
{
	if (!*val)
		snprintf(err, esz, "%s is empty", what);
	else if (strchr(val, '*'))
		snprintf(err, esz, "%s '%s' is a wildcard: it must name exactly one host", what,
			 val);
	else if (sa_is_ip(val))
		snprintf(err, esz, "%s '%s' is an IP address, not an FQDN", what, val);
	else if (!conf_is_fqdn(val))
		snprintf(err, esz, "%s '%s' is not a valid FQDN", what, val);
	else
		return 0;
	return EINVAL;
}

static int conf_apply_fqdn(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	/* MS LCS: the home server is reached by name so its certificate can be checked. */
	if (!strcmp(k->name, "next_hop") && sa_is_ip(val)) {
		snprintf(err, esz,
			 "internal next_hop must be an FQDN, not an IP address (TLS-006): '%s'",
			 val);
		return EINVAL;
	}
	if (conf_fqdn_check(k->name, val, err, esz))
		return EINVAL;
	return conf_apply_str(k, obj, val, err, esz);
}

static int conf_apply_file(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	if (!*val) {
		snprintf(err, esz, "%s: empty path", k->name);
		return EINVAL;
	}
	return conf_apply_str(k, obj, val, err, esz);
}

static int conf_apply_level(const struct conf_key *k, void *obj, const char *val, char *err,
			    size_t esz)
{
	if (log_level_parse(val, FIELD(obj, k->off, enum log_level)) != 0) {
		snprintf(err, esz, "%s: '%s' is not debug, info, warn or error", k->name, val);
		return EINVAL;
	}
	return 0;
}

/* Comma separated domain names, appended (the key may repeat). */
static int conf_apply_list(const struct conf_key *k, void *obj, const char *val, char *err,
			   size_t esz)
{
	char ***list = FIELD(obj, k->off, char **);
	size_t *n = FIELD(obj, k->off2, size_t);
	const char *p = val;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[256], **nl;

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len >= sizeof(item)) {
			snprintf(err, esz, "%s: item too long", k->name);
			return EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (conf_fqdn_check(k->name, item, err, esz))
			return EINVAL;
		nl = realloc(*list, (*n + 1) * sizeof(*nl));
		if (!nl)
			return ENOMEM;
		*list = nl;
		nl[*n] = strdup(item);
		if (!nl[*n])
			return ENOMEM;
		(*n)++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!*n) {
		snprintf(err, esz, "%s: empty list", k->name);
		return EINVAL;
	}
	return 0;
}

static int conf_apply_filter(const struct conf_key *k, void *obj, const char *val, char *err,
			     size_t esz)
{
	enum conf_filter *f = FIELD(obj, k->off, enum conf_filter);

	if (!strcmp(val, "verified-only"))
		*f = CONF_FILTER_VERIFIED_ONLY;
	else if (!strcmp(val, "contacts-only"))
		*f = CONF_FILTER_CONTACTS_ONLY;
	else if (!strcmp(val, "allow-all"))
		*f = CONF_FILTER_ALLOW_ALL;
	else {
		snprintf(err, esz, "%s: '%s' is not contacts-only, verified-only or allow-all",
			 k->name, val);
		return EINVAL;
	}
	return 0;
}

static int conf_apply_transport(const struct conf_key *k, void *obj, const char *val,
				char *err, size_t esz)
{
	bool *f = FIELD(obj, k->off, bool);

	if (!strcasecmp(val, "tls"))
		*f = false;
	else if (!strcasecmp(val, "tcp"))
		*f = true;
	else {
		snprintf(err, esz, "%s: '%s' is not tls or tcp", k->name, val);
		return EINVAL;
	}
	return 0;
}

static int conf_apply_tlsver(const struct conf_key *k, void *obj, const char *val, char *err,
			     size_t esz)
{
	int *f = FIELD(obj, k->off, int);

	if (!strcmp(val, "1.2"))
		*f = TLS1_2_VERSION;
	else if (!strcmp(val, "1.3"))
		*f = TLS1_3_VERSION;
	else {
		snprintf(err, esz, "%s: '%s' is not 1.2 or 1.3", k->name, val);
		return EINVAL;
	}
	return 0;
}

static conf_apply_h *const conf_apply[] = {
	[CT_STR] = conf_apply_str,       [CT_BOOL] = conf_apply_bool,
	[CT_UINT] = conf_apply_uint,     [CT_ADDR] = conf_apply_addr,
	[CT_FQDN] = conf_apply_fqdn,     [CT_FILE] = conf_apply_file,
	[CT_LEVEL] = conf_apply_level,   [CT_LIST] = conf_apply_list,
	[CT_FILTER] = conf_apply_filter, [CT_TRANSPORT] = conf_apply_transport,
	[CT_TLSVER] = conf_apply_tlsver,
};

/* --- the line parser --- */

static char *conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void conf_defaults(struct conf_parse *st, unsigned line)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		char err[256];

		if (!(k->sections & SECT(st->sect)) || !k->def)
			continue;
		if (conf_apply[k->type](k, st->obj, k->def, err, sizeof(err)))
			conf_problem(st, true, line, "built-in default: %s", err);
	}
}

static int conf_open_provider(struct conf_parse *st, const char *name, unsigned line)
{
	struct conf *cfg = st->cfg;
	struct conf_prov *np = realloc(cfg->provs, (cfg->nprovs + 1) * sizeof(*np));

	if (!np)
		return ENOMEM;
	cfg->provs = np;
	np = &cfg->provs[cfg->nprovs++];
	memset(np, 0, sizeof(*np));
	np->p.name = strdup(name);
	if (!np->p.name)
		return ENOMEM;
	np->p.line = line;
	np->lines.sect = line;
	if (!*name)
		conf_problem(st, true, line, "[provider] needs a name: [provider NAME]");
	st->sect = CS_PROVIDER;
	st->obj = &np->p;
	st->lines = &np->lines;
	conf_defaults(st, line);
	return 0;
}

static int conf_section(struct conf_parse *st, char *s, unsigned line)
{
	struct conf *cfg = st->cfg;
	char *end = strchr(s, ']');
	struct conf_lines *lines = NULL;
	int id = -1;

	if (!end || *conf_trim(end + 1)) {
		conf_problem(st, true, line, "malformed section header (expected [name])");
		st->sect = CS_NONE;
		return 0;
	}
	*end = '\0';
	s = conf_trim(s + 1);
	if (!strncmp(s, "provider", 8) && (!s[8] || isspace((unsigned char)s[8])))
		return conf_open_provider(st, conf_trim(s + 8), line);
	if (!strcmp(s, "global")) {
		st->sect = CS_GLOBAL;
		st->obj = &cfg->g;
		lines = &cfg->glines;
	} else if (!strcmp(s, "internal") || !strcmp(s, "external")) {
		id = !strcmp(s, "internal") ? CONF_INTERNAL : CONF_EXTERNAL;
		st->sect = id == CONF_INTERNAL ? CS_INTERNAL : CS_EXTERNAL;
		st->obj = &cfg->edge[id];
		lines = &cfg->elines[id];
	} else {
		conf_problem(st, true, line,
			     "unknown section [%s] (known: global, internal, external, "
			     "provider NAME)", s);
		st->sect = CS_NONE;
		return 0;
	}
	st->lines = lines;
	if (lines->sect) {
		conf_problem(st, true, line, "section [%s] repeated (first at line %u)", s,
			     lines->sect);
		return 0;
	}
	lines->sect = line;
	conf_defaults(st, line);
	return 0;
}

static const char *conf_sect_name(enum conf_sect s)
{
	switch (s) {
	case CS_GLOBAL: return "global";
	case CS_INTERNAL: return "internal";
	case CS_EXTERNAL: return "external";
	case CS_PROVIDER: return "provider";
	default: return "?";
	}
}

/* "[internal]" or "[provider aol]" for messages. */
static const char *conf_sect_label(const struct conf_parse *st)
{
	static char buf[300];

	if (st->sect == CS_PROVIDER)
		snprintf(buf, sizeof(buf), "[provider %s]",
			 ((const struct conf_provider *)st->obj)->name);
	else
		snprintf(buf, sizeof(buf), "[%s]", conf_sect_name(st->sect));
	return buf;
}

static int conf_keyval(struct conf_parse *st, char *s, unsigned line)
{
	char *eq = strchr(s, '='), *name, *val, err[512];
	size_t i;

	if (!eq) {
		conf_problem(st, true, line, "expected 'key = value' or '[section]'");
		return 0;
	}
	*eq = '\0';
	name = conf_trim(s);
	val = conf_trim(eq + 1);
	if (st->sect == CS_NONE) {
		if (!st->lines)
			conf_problem(st, true, line, "key '%s' outside any section", name);
		return 0; /* inside an unknown section: already reported */
	}
	for (i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (strcmp(k->name, name) || !(k->sections & SECT(st->sect)))
			continue;
		if (st->lines->key[i] && k->type != CT_LIST) {
			conf_problem(st, true, line, "key '%s' repeated (first at line %u)", name,
				     st->lines->key[i]);
			return 0;
		}
		st->lines->key[i] = line;
		err[0] = '\0';
		switch (conf_apply[k->type](k, st->obj, val, err, sizeof(err))) {
		case 0:
			return 0;
		case ENOMEM:
			return ENOMEM;
		default:
			conf_problem(st, true, line, "%s %s", conf_sect_label(st), err);
			return 0;
		}
	}
	conf_problem(st, true, line, "unknown key '%s' in %s", name, conf_sect_label(st));
	return 0;
}

static int conf_parse_file(struct conf_parse *st, FILE *f)
{
	char buf[4096];
	unsigned line = 0;
	int err = 0;

	while (!err && fgets(buf, sizeof(buf), f)) {
		char *s, *hash;

		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			int c;

			conf_problem(st, true, line, "line longer than %zu bytes", sizeof(buf) - 2);
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		s = conf_trim(buf);
		if (!*s)
			continue;
		if (*s == '[')
			err = conf_section(st, s, line);
		else
			err = conf_keyval(st, s, line);
	}
	if (!err && ferror(f))
		err = EIO;
	return err;
}

/* --- validation: every check runs, every problem is named --- */

static void conf_check_required(struct conf_parse *st, enum conf_sect sect,
				const struct conf_lines *lines, const char *label)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->required && (k->sections & SECT(sect)) && !lines->key[i])
			conf_problem(st, true, lines->sect, "%s %s missing (%s)", label, k->name,
				     k->help);
	}
}

static unsigned conf_key_line(const struct conf_lines *lines, enum conf_sect sect,
			      const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (!strcmp(conf_keys[i].name, name) && (conf_keys[i].sections & SECT(sect)))
			return lines->key[i] ? lines->key[i] : lines->sect;
	return lines->sect;
}

static bool conf_check_file(struct conf_parse *st, const char *label, const char *key,
			    const char *path, unsigned line)
{
	if (!path)
		return false;
	if (access(path, R_OK) != 0) {
		conf_problem(st, true, line, "%s %s file '%s' cannot be read: %s", label, key,
			     path, strerror(errno));
		return false;
	}
	return true;
}

static EVP_PKEY *conf_load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;

	if (!f)
		return NULL;
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return pk;
}

/* Files readable, the key matching the certificate, and for the external edge what the
 * providers will check about our certificate (TLS-004). */
static void conf_check_edge_tls(struct conf_parse *st, enum conf_edge_id id)
{
	const struct conf_edge *e = &st->cfg->edge[id];
	const struct conf_lines *l = &st->cfg->elines[id];
	enum conf_sect sect = id == CONF_INTERNAL ? CS_INTERNAL : CS_EXTERNAL;
	const char *label = id == CONF_INTERNAL ? "[internal]" : "[external]";
	unsigned lcert = conf_key_line(l, sect, "cert"), lkey = conf_key_line(l, sect, "key");
	bool cert_ok, key_ok;
	X509 *cert = NULL, *ca = NULL;
	EVP_PKEY *pk = NULL;
	char cn[256];

	cert_ok = conf_check_file(st, label, "cert", e->cert, lcert);
	key_ok = conf_check_file(st, label, "key", e->key, lkey);
	if (conf_check_file(st, label, "ca", e->ca, conf_key_line(l, sect, "ca"))) {
		ca = tls_cert_load(e->ca);
		if (!ca)
			conf_problem(st, true, conf_key_line(l, sect, "ca"),
				     "%s ca file '%s' holds no PEM certificate", label, e->ca);
	}
	if (cert_ok && !(cert = tls_cert_load(e->cert)))
		conf_problem(st, true, lcert, "%s cert file '%s' holds no PEM certificate", label,
			     e->cert);
	if (key_ok && !(pk = conf_load_key(e->key)))
		conf_problem(st, true, lkey, "%s key file '%s' holds no PEM private key", label,
			     e->key);
	if (cert && pk && X509_check_private_key(cert, pk) != 1)
		conf_problem(st, true, lkey, "%s key '%s' does not match cert '%s'", label, e->key,
			     e->cert);
	if (cert && e->fqdn) {
		if (tls_cert_cn(cert, cn, sizeof(cn)) != 0)
			conf_problem(st, false, lcert, "%s cert '%s' has no subject CN; peers expect "
				     "CN = %s (TLS-004)", label, e->cert, e->fqdn);
		else if (strcasecmp(cn, e->fqdn))
			conf_problem(st, false, lcert, "%s cert CN '%s' differs from fqdn '%s' "
				     "(TLS-004)", label, cn, e->fqdn);
	}
	if (cert && id == CONF_EXTERNAL && !tls_cert_has_client_auth(cert))
		conf_problem(st, false, lcert, "%s cert '%s' lacks the clientAuth extended key "
			     "usage: providers will refuse our outgoing connections (TLS-004)",
			     label, e->cert);
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(pk);
}

/* TLS-008: a cipher string OpenSSL cannot use would only fail at start; say so in -t. */
static void conf_check_ciphers(struct conf_parse *st, enum conf_edge_id id)
{
	const struct conf_edge *e = &st->cfg->edge[id];
	const struct conf_lines *l = &st->cfg->elines[id];
	enum conf_sect sect = id == CONF_INTERNAL ? CS_INTERNAL : CS_EXTERNAL;
	const char *label = id == CONF_INTERNAL ? "[internal]" : "[external]";
	SSL_CTX *ctx;

	if (!e->ciphers && !e->ciphersuites)
		return;
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx)
		return;
	if (e->ciphers && SSL_CTX_set_cipher_list(ctx, e->ciphers) != 1)
		conf_problem(st, true, conf_key_line(l, sect, "ciphers"),
			     "%s ciphers '%s' names no cipher this OpenSSL has", label, e->ciphers);
	if (e->ciphersuites && SSL_CTX_set_ciphersuites(ctx, e->ciphersuites) != 1)
		conf_problem(st, true, conf_key_line(l, sect, "ciphersuites"),
			     "%s ciphersuites '%s' is not a list of TLS 1.3 suites this OpenSSL "
			     "has", label, e->ciphersuites);
	ERR_clear_error();
	SSL_CTX_free(ctx);
}

static void conf_check_edges(struct conf_parse *st)
{
	struct conf *cfg = st->cfg;
	int id;

	for (id = 0; id < CONF_NEDGES; id++) {
		const struct conf_edge *e = &cfg->edge[id];
		const struct conf_lines *l = &cfg->elines[id];
		enum conf_sect sect = id == CONF_INTERNAL ? CS_INTERNAL : CS_EXTERNAL;
		const char *label = id == CONF_INTERNAL ? "[internal]" : "[external]";

		if (!l->sect) {
			conf_problem(st, true, 0, "section %s missing", label);
			continue;
		}
		conf_check_required(st, sect, l, label);
		conf_check_edge_tls(st, id);
		conf_check_ciphers(st, id);
		if (e->tcp_listen && !cfg->g.allow_tcp)
			conf_problem(st, true, conf_key_line(l, sect, "tcp_listen"),
				     "%s tcp_listen needs allow_tcp = yes in [global]", label);
		if (e->next_hop_tcp && !cfg->g.allow_tcp)
			conf_problem(st, true, conf_key_line(l, sect, "next_hop_transport"),
				     "%s next_hop_transport = tcp needs allow_tcp = yes", label);
	}
	if (cfg->edge[0].listen && cfg->edge[1].listen &&
	    sa_equal((struct sockaddr *)&cfg->edge[0].listen_sa,
		     (struct sockaddr *)&cfg->edge[1].listen_sa))
		conf_problem(st, true, conf_key_line(&cfg->elines[1], CS_EXTERNAL, "listen"),
			     "[external] listen %s is the same address as [internal] listen",
			     cfg->edge[1].listen);
}

/* CONF-003: unique names and edge FQDNs; a domain belongs to one provider and is not ours. */
static int conf_index_providers(struct conf_parse *st)
{
	struct conf *cfg = st->cfg;
	size_t i, j;
	int err;

	for (i = 0; i < cfg->nprovs; i++) {
		struct conf_prov *cp = &cfg->provs[i];
		struct conf_provider *p = &cp->p;
		char label[300];
		const struct conf_provider *o;

		snprintf(label, sizeof(label), "[provider %s]", p->name);
		conf_check_required(st, CS_PROVIDER, &cp->lines, label);
		if (p->tcp && !cfg->g.allow_tcp)
			conf_problem(st, true, conf_key_line(&cp->lines, CS_PROVIDER, "transport"),
				     "%s transport = tcp needs allow_tcp = yes", label);
		if (*p->name && (o = hmap_find(cfg->by_name, p->name)))
			conf_problem(st, true, p->line, "duplicate provider name '%s' (first at "
				     "line %u)", p->name, o->line);
		else if (*p->name && (err = hmap_insert(cfg->by_name, &cp->le_name, p->name, p)))
			return err;
		if (p->fqdn && (o = hmap_find(cfg->by_fqdn, p->fqdn)))
			conf_problem(st, true, conf_key_line(&cp->lines, CS_PROVIDER, "fqdn"),
				     "%s duplicate provider fqdn '%s': already used by provider '%s'"
				     " (line %u)", label, p->fqdn, o->name, o->line);
		else if (p->fqdn && (err = hmap_insert(cfg->by_fqdn, &cp->le_fqdn, p->fqdn, p)))
			return err;
		if (!p->ndomains)
			continue;
		cp->le_domains = calloc(p->ndomains, sizeof(*cp->le_domains));
		if (!cp->le_domains)
			return ENOMEM;
		for (j = 0; j < p->ndomains; j++) {
			unsigned dl = conf_key_line(&cp->lines, CS_PROVIDER, "domains");

			if (hmap_find(cfg->ours, p->domains[j]))
				conf_problem(st, true, dl, "%s domain '%s' is one of our own domains",
					     label, p->domains[j]);
			else if ((o = hmap_find(cfg->by_domain, p->domains[j])))
				conf_problem(st, true, dl, "%s domain '%s' is already served by "
					     "provider '%s'", label, p->domains[j], o->name);
			else if ((err = hmap_insert(cfg->by_domain, &cp->le_domains[j],
						    p->domains[j], p)))
				return err;
		}
	}
	return 0;
}

static int conf_validate(struct conf_parse *st)
{
	struct conf *cfg = st->cfg;
	size_t i;
	int err;

	if (!cfg->glines.sect)
		conf_problem(st, true, 0, "section [global] missing");
	else
		conf_check_required(st, CS_GLOBAL, &cfg->glines, "[global]");
	if (cfg->g.ndomains) {
		cfg->le_ours = calloc(cfg->g.ndomains, sizeof(*cfg->le_ours));
		if (!cfg->le_ours)
			return ENOMEM;
	}
	for (i = 0; i < cfg->g.ndomains; i++) {
		if (hmap_find(cfg->ours, cfg->g.domains[i]))
			conf_problem(st, true, conf_key_line(&cfg->glines, CS_GLOBAL, "domain"),
				     "[global] domain '%s' repeated", cfg->g.domains[i]);
		else if ((err = hmap_insert(cfg->ours, &cfg->le_ours[i], cfg->g.domains[i],
					    cfg->g.domains[i])))
			return err;
	}
	if (cfg->g.lim.max_discard && cfg->g.lim.max_discard < cfg->g.lim.max_body)
		conf_problem(st, true, conf_key_line(&cfg->glines, CS_GLOBAL, "max_discard_bytes"),
			     "[global] max_discard_bytes %u is below max_body_bytes %u",
			     cfg->g.lim.max_discard, cfg->g.lim.max_body);
	if (cfg->g.lim.peer_partial_max < cfg->g.lim.max_header)
		conf_problem(st, true, conf_key_line(&cfg->glines, CS_GLOBAL, "peer_partial_max"),
			     "[global] peer_partial_max %u is below max_header_bytes %u: no header "
			     "could complete", cfg->g.lim.peer_partial_max, cfg->g.lim.max_header);
	conf_check_edges(st);
	return conf_index_providers(st);
}

int conf_load(struct conf **cfgp, const char *path, conf_problem_h *ph, void *arg)
{
	struct conf_parse st = { .ph = ph, .arg = arg };
	struct conf *cfg;
	FILE *f;
	int err;

	if (!cfgp || !path)
		return EINVAL;
	cfg = mem_zalloc(sizeof(*cfg), conf_destroy);
	if (!cfg)
		return ENOMEM;
	st.cfg = cfg;
	cfg->path = strdup(path);
	err = !cfg->path ? ENOMEM : hmap_alloc(&cfg->by_fqdn, 16);
	err = err ? err : hmap_alloc(&cfg->by_name, 16);
	err = err ? err : hmap_alloc(&cfg->by_domain, 32);
	err = err ? err : hmap_alloc(&cfg->ours, 16);
	if (err)
		goto out;
	hmap_set_nocase(cfg->by_fqdn);
	hmap_set_nocase(cfg->by_domain);
	hmap_set_nocase(cfg->ours);
	f = fopen(path, "r");
	if (!f) {
		err = errno;
		conf_problem(&st, true, 0, "cannot open: %s", strerror(err));
		goto out;
	}
	err = conf_parse_file(&st, f);
	fclose(f);
	if (!err)
		err = conf_validate(&st);
	if (!err && st.nerr)
		err = EINVAL;
out:
	if (err)
		mem_deref(cfg);
	else
		*cfgp = cfg;
	return err;
}

/* --- accessors --- */

const char *conf_path(const struct conf *cfg)
{
	return cfg ? cfg->path : NULL;
}

enum log_level conf_log_level(const struct conf *cfg)
{
	return cfg ? cfg->g.log_level : LOGL_INFO;
}

const char *conf_control_socket(const struct conf *cfg)
{
	return cfg ? cfg->g.control_socket : NULL;
}

const struct sockaddr *conf_dns_server(const struct conf *cfg)
{
	return cfg ? (const struct sockaddr *)&cfg->g.dns_sa : NULL;
}

const char *conf_dns_server_str(const struct conf *cfg)
{
	return cfg ? cfg->g.dns_server : NULL;
}

bool conf_allow_tcp(const struct conf *cfg)
{
	return cfg && cfg->g.allow_tcp;
}

const struct conf_limits *conf_limits(const struct conf *cfg)
{
	static const struct conf_limits defaults = { 16384, 32768, 65536, 10000, 262144,
						     120000 };

	return cfg ? &cfg->g.lim : &defaults;
}

unsigned conf_workers(const struct conf *cfg)
{
	return cfg ? cfg->g.workers : 0;
}

const char *conf_database(const struct conf *cfg)
{
	return cfg && cfg->g.database ? cfg->g.database : CONF_DEFAULT_DATABASE;
}

bool conf_audit(const struct conf *cfg)
{
	return !cfg || cfg->g.audit;
}

bool conf_database_is_default(const struct conf *cfg)
{
	return !cfg || !cfg->g.database;
}

const char *conf_keylog_file(const struct conf *cfg)
{
	return cfg ? cfg->g.keylog_file : NULL;
}

const struct conf_edge *conf_edge(const struct conf *cfg, enum conf_edge_id id)
{
	return cfg && id < CONF_NEDGES ? &cfg->edge[id] : NULL;
}

const char *conf_edge_name(enum conf_edge_id id)
{
	return id == CONF_INTERNAL ? "internal" : id == CONF_EXTERNAL ? "external" : "?";
}

size_t conf_domain_count(const struct conf *cfg)
{
	return cfg ? cfg->g.ndomains : 0;
}

const char *conf_domain(const struct conf *cfg, size_t idx)
{
	return cfg && idx < cfg->g.ndomains ? cfg->g.domains[idx] : NULL;
}

bool conf_is_our_domain(const struct conf *cfg, const char *host)
{
	return cfg && host && hmap_find(cfg->ours, host) != NULL;
}

size_t conf_provider_count(const struct conf *cfg)
{
	return cfg ? cfg->nprovs : 0;
}

const struct conf_provider *conf_provider_at(const struct conf *cfg, size_t idx)
{
	return cfg && idx < cfg->nprovs ? &cfg->provs[idx].p : NULL;
}

const struct conf_provider *conf_provider_by_fqdn(const struct conf *cfg, const char *fqdn)
{
	return cfg ? hmap_find(cfg->by_fqdn, fqdn) : NULL;
}

const struct conf_provider *conf_provider_by_domain(const struct conf *cfg, const char *domain)
{
	return cfg ? hmap_find(cfg->by_domain, domain) : NULL;
}

const struct conf_provider *conf_provider_by_name(const struct conf *cfg, const char *name)
{
	return cfg ? hmap_find(cfg->by_name, name) : NULL;
}

const char *conf_filter_name(enum conf_filter f)
{
	switch (f) {
	case CONF_FILTER_VERIFIED_ONLY: return "verified-only";
	case CONF_FILTER_CONTACTS_ONLY: return "contacts-only";
	case CONF_FILTER_ALLOW_ALL: return "allow-all";
	default: return "?";
	}
}
