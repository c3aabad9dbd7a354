/* imsrv: a lab IM service — the enterprise home server or a public provider's edge — speaking
 * SIP over mutual TLS to the access proxy and relaying page-mode MESSAGE, presence
 * (SUBSCRIBE/NOTIFY/PUBLISH with PIDF) and INVITE-based
 * text sessions for its users, with contact lists, allow and block lists and faults on demand. */
#ifndef PIC_IMSRV_H
#define PIC_IMSRV_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "net/tlsctx.h"
#include "profile.h"

struct imsrv;
struct sipmsg;

enum imsrv_role { IMSRV_HOME = 0, IMSRV_PROVIDER };

struct imsrv_conf {
	enum imsrv_role role;
	const char *name;                /* "contoso", "aol": for logs */
	const char *fqdn;                /* own FQDN: pool.contoso.test, sip.aol.test */
	const char *domain;              /* SIP domain served: contoso.test, aol.test */
	struct sockaddr_storage listen;  /* own address, port 5061 */
	struct tlsctx *server_tls;       /* for accepted connections (mutual TLS) */
	struct tlsctx *client_tls;       /* for connections it opens */
	/* The home server sends every foreign domain to the proxy's internal edge: */
	const char *proxy_fqdn;          /* expected CN of the proxy's certificate */
	struct sockaddr_storage proxy;   /* where the proxy listens (home role) */
	/* Behaviour profile (profile.c): "aol", "yahoo", "msn"; NULL takes it from name in the
	 * provider role, and the enterprise profile in the home role. */
	const char *profile;
	/* Provider role: the DNS server asked for the A record of an edge FQDN routed without an
	 * address (DNS-002); family 0 means none. */
	struct sockaddr_storage dns;
};

/* A fault the service shows on demand, to requests of one method (NULL or "": any). */
struct imsrv_fault {
	const char *method;
	bool drop_next_connection; /* the next such request: the connection closes, no answer */
	unsigned delay_ms;         /* answers wait this long */
	bool withhold_response;    /* no answer at all */
	int respond;               /* answered with this status instead of being handled */
};
#define IMSRV_MAX_FAULTS 8

/* Starts listening; the service answers requests for its own domain and (home role) relays
 * requests for other domains to the proxy. A provider relays to a foreign domain only along a
 * route added with imsrv_route_add, and accepts inbound traffic only from a connection whose
 * peer CN is the routed FQDN of the From domain. */
int imsrv_alloc(struct imsrv **sp, struct event_base *base, const struct imsrv_conf *conf);
/* Provider role: traffic for domain goes to fqdn at addr (filled by provisioning). addr NULL:
 * the edge is found by the A record of fqdn, asked of conf->dns each time a new connection is
 * opened, port 5061 (RFC 3263 4.2: TLS without SRV); EINVAL if the server has no DNS. */
int imsrv_route_add(struct imsrv *s, const char *domain, const char *fqdn,
		    const struct sockaddr *addr);
/* Provider role: traffic for domain goes to the edge its _sipfederationtls._tcp.<domain> SRV
 * record names (DNS-001): SRV, then the target's A record, asked of conf->dns each time a new
 * connection is opened; the connection goes to the record's port and the edge's certificate
 * must name the target, as must the certificate of the edge's own connections (refused before
 * the first lookup). EINVAL without DNS. */
int imsrv_route_add_srv(struct imsrv *s, const char *domain);
/* Provider role: withdraws domain's route; its traffic is refused again (ENOENT if none). */
int imsrv_route_del(struct imsrv *s, const char *domain);
const struct imsrv_conf *imsrv_conf(const struct imsrv *s);
/* Counters for status dumps and tests. */
unsigned imsrv_requests_in(const struct imsrv *s);
unsigned imsrv_requests_out(const struct imsrv *s);
/* Timer F for the MESSAGE transactions it sends for its users (default 32 s; tests shorten it). */
void imsrv_set_timer_f(struct imsrv *s, unsigned ms);
/* The address actually bound (useful when conf->listen had port 0). */
const struct sockaddr *imsrv_listen_addr(const struct imsrv *s);
/* Adds a fault (EOVERFLOW past IMSRV_MAX_FAULTS, EINVAL for a bad status); clear removes all. */
int imsrv_fault_add(struct imsrv *s, const struct imsrv_fault *f);
void imsrv_fault_clear(struct imsrv *s);
/* RFC 6665 4.1.2.4: send the first NOTIFY before the SUBSCRIBE's 200 (PRES-005). */
void imsrv_set_notify_before_200(struct imsrv *s, bool on);
/* Expires its users ask for in SUBSCRIBE (default 3600 s); they refresh at half of it. */
void imsrv_set_sub_expires(struct imsrv *s, unsigned secs);
/* A crash of the service's process (CONT-005): stop closes its listener and every connection
 * and fails the transactions it had in flight; what a database keeps stays (users, contact
 * lists, allow and block lists, presence, subscriptions and sessions with their dialogs). start
 * listens again on the same address. EALREADY when already stopped or started. */
int imsrv_stop(struct imsrv *s);
int imsrv_start(struct imsrv *s);
/* Replaces the wording of state p (shown to its users, and put in the PIDF <note> of its
 * users' NOTIFYs): 1..63 characters, no XML markup (<>&"') and no control characters, else
 * EINVAL. A scenario changes the fake's mapping with it (PRES-003: the proxy must relay it). */
int imsrv_set_note(struct imsrv *s, enum profile_pres p, const char *text);
/* Replaces the answer to a MESSAGE or INVITE for an offline user (IM-005; the profile's by
 * default): status 200..699 (an INVITE gets 480 for a 2xx), a reason phrase of 1..63
 * printable characters, else EINVAL. A store-offline profile keeps storing on a 2xx. */
int imsrv_set_offline_answer(struct imsrv *s, int status, const char *reason);
/* Profile name in force ("enterprise", "aol", "yahoo", "msn"). */
const char *imsrv_profile(const struct imsrv *s);
/* The user agent registered for aor on this server, or NULL. */
struct ua *imsrv_ua(const struct imsrv *s, const char *aor);
/* One line of state (users, routes, connections, pending transactions) into buf. */
int imsrv_debug(const struct imsrv *s, char *buf, size_t size);

#endif
