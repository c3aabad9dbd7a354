/* state: the proxy's policy data as one immutable, refcounted snapshot — providers, our domains,
 * users' PIC enablement and the edge settings — built from the SQLite store (seeded from the
 * config file) and swapped whole on reload, so a request always sees one consistent version. */
#ifndef AP_STATE_H
#define AP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct state;

/* Filter mode of a provider (seed 1.2.4): how far its inbound requests are trusted. */
enum state_filter {
	STATE_FILTER_VERIFIED_ONLY = 0, /* default: keep the provider's own claim (TRUST-004) */
	STATE_FILTER_CONTACTS_ONLY,     /* all unverified (TRUST-003) */
	STATE_FILTER_ALLOW_ALL,         /* all verified (TRUST-005) */
};

enum state_archive { STATE_ARCHIVE_OFF = 0, STATE_ARCHIVE_ON, STATE_ARCHIVE_NO_BODIES };

struct state_provider {
	const char *name;          /* unique ("aol") */
	const char *fqdn;          /* unique edge FQDN: DNS name and expected certificate CN */
	uint16_t port;             /* 5061 */
	const char *const *domains;/* SIP domains it serves */
	size_t ndomains;
	bool allowed;              /* off by default (CONF-001) */
	bool blocked;              /* temporary block (CONF-002) */
	bool public_provider;      /* a public IM provider (vs. a federated partner) */
	bool tcp;                  /* plain TCP transport (benchmarks only; needs allow_tcp) */
	enum state_filter filter;
};

struct state_settings {
	bool pic_enabled;                /* global PIC switch (POL-003); default on */
	const char *default_route;       /* clearing-house FQDN, or NULL (CONF-004) */
	bool mark_outbound_verifiable;   /* claim "verified" on requests we send out */
	enum state_archive archive;      /* AUD-002 */
	bool archive_critical;           /* AUD-003: nothing forwarded before it is durable */
};

/* Builder: an empty snapshot (settings at their defaults), then filled; callers treat a
 * snapshot as read-only once published. Strings are copied. */
int state_alloc(struct state **sp);
/* EEXIST if the name, the FQDN or one of the domains is taken; EINVAL if a field is empty. */
int state_add_provider(struct state *st, const struct state_provider *p);
int state_add_domain(struct state *st, const char *domain);
/* PIC enablement of one of our users ("alice@contoso.test", case-insensitive). */
int state_set_user(struct state *st, const char *aor, bool enabled);
/* Per-user archive flag (AUD-002); creates the user (not enabled) if unknown. */
int state_set_user_archive(struct state *st, const char *aor, bool archive);
int state_set_settings(struct state *st, const struct state_settings *set);
/* A provider row as a [provider] section of the config file describes it (strings borrowed). */
struct conf_provider;
void state_provider_from_conf(struct state_provider *p, const struct conf_provider *cp);
/* A snapshot seeded from the config file alone ([provider] sections, domain keys); every user
 * enabled (no store: nothing else is known). */
int state_from_conf(struct state **sp, const struct conf *cfg);

/* Lookups (hashed, ASCII case-insensitive; NULL when none). */
const struct state_provider *state_provider_by_name(const struct state *st, const char *name);
const struct state_provider *state_provider_by_fqdn(const struct state *st, const char *fqdn);
const struct state_provider *state_provider_by_domain(const struct state *st, const char *dom);
size_t state_provider_count(const struct state *st);
const struct state_provider *state_provider_at(const struct state *st, size_t i);
bool state_is_our_domain(const struct state *st, const char *host);
size_t state_domain_count(const struct state *st);
const char *state_domain_at(const struct state *st, size_t i);
/* True if the user is enabled for PIC; users not in the store are not enabled, unless the
 * snapshot was made by state_from_conf (all enabled). */
bool state_user_enabled(const struct state *st, const char *aor);
/* Number of users enabled for PIC: the monthly licences needed (POL-004). */
size_t state_users_enabled(const struct state *st);
/* True if our user's messages are archived even when the global archive setting is off. */
bool state_user_archive(const struct state *st, const char *aor);
/* Users known to the snapshot (enabled or not). */
size_t state_user_count(const struct state *st);
const struct state_settings *state_settings(const struct state *st);
/* Monotonic version, bumped by every rebuild (for logs and status). */
uint64_t state_version(const struct state *st);
void state_set_version(struct state *st, uint64_t v);
/* The installation's persistent secret (the store's, created once): what the topology seal
 * and the branch/loop hashes are keyed from, so tokens and branches written before a restart
 * or by another worker stay valid (CONT-005). EINVAL unless len is STATE_SECRET_LEN. */
#define STATE_SECRET_LEN 32
int state_set_secret(struct state *st, const unsigned char *key, size_t len);
/* NULL when the snapshot has none (built from the config alone). */
const unsigned char *state_secret(const struct state *st);
const char *state_filter_name(enum state_filter f);
int state_filter_parse(const char *s, enum state_filter *fp);
const char *state_archive_name(enum state_archive a);
int state_archive_parse(const char *s, enum state_archive *ap);

#endif
