/* waiver: what a scenario exempts from one capture invariant — a transaction (Call-ID, or method
 * and CSeq) or a flow (client host -> server host), never the whole scenario. */
#ifndef PIC_WAIVER_H
#define PIC_WAIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "lab.h"

#define WAIVER_MAX 16

struct capdec;
struct capdec_flow;
struct capdec_sip;

struct waiver {
	int inv;                    /* enum invariant_id */
	char call_id[160];          /* "": any; a trailing '*' matches any rest */
	char method[32];            /* "": any (with cseq: the CSeq method) */
	long cseq;                  /* -1: any */
	enum lab_host client;       /* the flow's client and server; LAB_NHOSTS: any */
	enum lab_host server;
	char why[240];
	unsigned used;              /* messages or flows it exempted in the last check */
};

struct waivers {
	struct waiver w[WAIVER_MAX];
	unsigned n;
};

/* Parses one waiver: inv is the invariant's name, the other fields as in the scenario's
 * `waive = { { "<invariant>", call_id=, method=, cseq=, flow="client -> server", why= } }`.
 * EINVAL with why naming the problem. */
int waiver_add(struct waivers *ws, const char *inv, const char *call_id, const char *method,
	       long cseq, const char *flow, const char *reason, char *why, size_t whysize);
/* Whether a waiver of invariant inv exempts message m (its parsed Call-ID, CSeq method and
 * number may be NULL/-1 when it does not parse); counts the use. */
bool waiver_msg(struct waivers *ws, int inv, const struct capdec *d, const struct capdec_sip *m,
		const char *call_id, const char *cseq_method, long cseq);
/* Whether a waiver of invariant inv exempts the whole flow f (flow-only waivers). */
bool waiver_flow(struct waivers *ws, int inv, const struct capdec_flow *f);
/* "transactions-end call_id=x" into buf; returns buf. */
char *waiver_str(const struct waiver *w, char *buf, size_t size);

#endif
