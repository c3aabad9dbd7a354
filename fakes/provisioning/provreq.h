/* provreq: one provisioning request and its workflow — received, validating, sent to the
 * chosen providers, provisioned — with its mails and the routes each provider configures
 * (internal to the site). */
#ifndef PIC_PROVREQ_H
#define PIC_PROVREQ_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "maildir.h"
#include "provform.h"
#include "site.h"

struct provreq;

/* What every request of one site shares; owned by the site, which outlives its requests. */
struct provreq_env {
	struct event_base *base;
	struct maildir *md;
	const char *from;
	unsigned validate_ms, send_ms, configure_ms[SITE_PROV_COUNT];
	site_route_h *routeh;
	void *arg;
};

enum provreq_state { PR_RECEIVED = 0, PR_VALIDATING, PR_SENT, PR_PROVISIONED };
enum provreq_pstate { PP_NONE = 0, PP_PENDING, PP_CONFIGURED };

/* Starts the workflow for a checked form (takes a reference on it); the first mail is
 * written before this returns. */
int provreq_alloc(struct provreq **rp, const struct provreq_env *env, unsigned id,
		  struct provform *f);
/* Applies a checked change form (new ap_fqdn and/or providers): every affected provider loses
 * its routes at once and goes back to pending, and the workflow and its mails start over.
 * EALREADY if it changes nothing. */
int provreq_change(struct provreq *r, const struct provform *f);
unsigned provreq_id(const struct provreq *r);
enum provreq_state provreq_state(const struct provreq *r);
enum provreq_pstate provreq_pstate(const struct provreq *r, enum site_prov p);
unsigned provreq_mails(const struct provreq *r);
const char *provreq_statename(enum provreq_state s);
const char *provreq_pstatename(enum provreq_pstate s);
/* The request as a JSON object, and as an HTML status page with a change form. */
void provreq_json(const struct provreq *r, struct evbuffer *b);
void provreq_page(const struct provreq *r, struct evbuffer *b, const struct provform *problems);

#endif
