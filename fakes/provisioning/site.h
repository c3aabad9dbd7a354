/* site: the lab's provisioning web site — the HTTPS request form for public IM connectivity,
 * the request workflow (validate, hand to providers, configure) and the mails it sends. */
#ifndef PIC_SITE_H
#define PIC_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

struct site;

/* The public providers the form offers, in form order. */
enum site_prov { SITE_AOL = 0, SITE_YAHOO, SITE_MSN, SITE_PROV_COUNT };

/* Called once per provider and per provisioned SIP domain (primary and additional): add=true
 * when that provider has configured its routing table to send IM for domain to fqdn, add=false
 * when a change takes the route away again (fqdn is then the one that was routed). provider
 * is "aol", "yahoo" or "msn". Never called for a provider the request did not choose. */
typedef void (site_route_h)(const char *provider, const char *domain, const char *fqdn,
			    bool add, void *arg);

struct site_conf {
	struct sockaddr_storage listen;  /* lab: provisioning.test, 127.77.L.20:443; port 0 ok */
	const char *cert_file;           /* PEM server certificate (chain may follow) */
	const char *key_file;            /* its PEM private key */
	const char *maildir;             /* created if missing, with tmp/ new/ cur/ */
	const char *mail_from;           /* NULL: "PIC Provisioning <provisioning@provisioning.test>" */
	/* The workflow: received -> validating (next loop turn) -> after validate_ms the details
	 * go out -> after send_ms the request is "sent" (second mail) and every pending provider
	 * starts its own configure_ms -> provisioned when all are configured (final mail). */
	unsigned validate_ms;
	unsigned send_ms;
	unsigned configure_ms[SITE_PROV_COUNT];
	site_route_h *routeh;            /* may be NULL */
	void *arg;
};

/* Fills the lab defaults: 200 ms for every delay, no callback, no files, port 0. */
void site_conf_defaults(struct site_conf *conf);
/* Listens (HTTPS) and serves:
 *   GET  /                      the request form (English and Chinese labels)
 *   POST /submit                a new request: 303 to /request/<id>, or 400 naming each problem
 *   GET  /request/<id>          status page with a change form
 *   GET  /request/<id>.json     the same as JSON
 *   POST /request/<id>/change   new providers and/or access proxy FQDN: 303 or 400
 *   GET  /requests.json         every request
 * Refuses (EINVAL) a missing cert, key or maildir; EADDRINUSE etc. when it cannot listen. */
int site_alloc(struct site **sp, struct event_base *base, const struct site_conf *conf);
/* "https://ip:port/" of the bound listener into buf. */
int site_url(const struct site *site, char *buf, size_t size);
const struct sockaddr *site_listen_addr(const struct site *site);

/* The same workflow without HTTP, for scenarios: form is application/x-www-form-urlencoded
 * with the form's field names. On a refusal returns EINVAL and, if problems is not NULL, the
 * problems one per line; nothing is provisioned then. */
int site_submit(struct site *site, const char *form, unsigned *idp, char *problems,
		size_t size);
int site_change(struct site *site, unsigned id, const char *form, char *problems, size_t size);

/* Inspection: requests are numbered from 1. */
size_t site_request_count(const struct site *site);
/* "received", "validating", "sent", "provisioned"; NULL if there is no such request. */
const char *site_request_state(const struct site *site, unsigned id);
/* "none" (not chosen), "pending", "configured"; NULL if no such request or provider. */
const char *site_provider_state(const struct site *site, unsigned id, const char *provider);
/* Mails sent for the request so far; 0 if there is no such request. */
unsigned site_request_mails(const struct site *site, unsigned id);
/* JSON of one request (id 0: the array of all) as a mem-allocated string into *jsonp. */
int site_request_json(const struct site *site, unsigned id, char **jsonp);
/* "aol", "yahoo", "msn"; NULL out of range. */
const char *site_prov_name(enum site_prov p);
/* One line of state into buf. */
int site_debug(const struct site *site, char *buf, size_t size);

#endif
