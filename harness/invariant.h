/* invariant: rules every scenario's capture must obey, checked without being asked. */
#ifndef PIC_INVARIANT_H
#define PIC_INVARIANT_H

#include <stdbool.h>
#include <stddef.h>

struct lab;
struct capdec;
struct waivers;

enum invariant_id {
	INV_DECRYPTED = 0,     /* "decrypted": every TLS flow with protected records was decrypted */
	INV_EXTERNAL_TLS,  /* "external-tls-only": no cleartext SIP on the external edge */
	INV_TOPOLOGY,          /* "topology-hiding": no internal name or address leaves */
	INV_TRUST,             /* "trust-header": one proxy-set trust header per inbound request */
	INV_WELL_FORMED,       /* "well-formed": every message parses, Content-Length right */
	INV_TXN_END,           /* "transactions-end": every request gets a final response */
	INV_COUNT
};

const char *invariant_name(enum invariant_id id);
/* Index by name, or -1. */
int invariant_find(const char *name);

/* Checks the decoded capture of lab against every invariant; what a waiver of ws names (a
 * transaction or a flow) is exempt, everything else is held to it (ws may be NULL). Returns the
 * first violated invariant's id and writes what leaked where into why, or -1. */
int invariant_check(const struct lab *lab, const struct capdec *d, struct waivers *ws, char *why,
		    size_t whysize);
/* Only invariant id (for a wait on one rule, capture:settle): 1 violated (why says where), 0 not. */
int invariant_check_one(const struct lab *lab, const struct capdec *d, int id,
			struct waivers *ws, char *why, size_t whysize);
/* The first TLS flow (on leg, NULL: any leg) whose protected records were not decrypted, with
 * its endpoints, leg and the decoder's reason in why: what crossed it cannot be judged. 1 if
 * there is one (not waived by a "decrypted" waiver of ws), else 0. */
int invariant_opaque_flow(const struct lab *lab, const struct capdec *d, const char *leg,
			  struct waivers *ws, char *why, size_t whysize);
/* The same, and *at (if not NULL) is set to the message the violation is about (NULL when it is
 * about no single message). */
struct capdec_sip;
int invariant_check_at(const struct lab *lab, const struct capdec *d, struct waivers *ws,
		       char *why, size_t whysize, const struct capdec_sip **at);

#endif
