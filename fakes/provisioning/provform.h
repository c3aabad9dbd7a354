/* provform: the provisioning request form — its fields, parsing a submission, the server-side
 * checks that name every problem, and the page that shows it (internal to the site). */
#ifndef PIC_PROVFORM_H
#define PIC_PROVFORM_H

#include <stdbool.h>

#include <event2/buffer.h>

#include "site.h"

/* Rows offered for additional SIP domains; more are requested after provisioning. */
#define PROVFORM_EXTRA 5
#define PROVFORM_PROB_MAX 48

enum provform_field {
	PF_LANGUAGE = 0, PF_ORG, PF_MASTER, PF_ENROLL, PF_AGREEMENT,
	PF_DOMAIN, PF_ADMIN_EMAIL, PF_FQDN,
	PF_LAST, PF_FIRST, PF_EMAIL, PF_PHONE,
	PF_COUNT
};

struct provform_problem {
	char field[24];   /* form field name the problem is about */
	char text[224];   /* "Organization name / 组织名称: required" */
};

/* A parsed submission; strings are mem-allocated, NULL when absent or empty after trimming. */
struct provform {
	char *val[PF_COUNT];
	char *xdomain[PROVFORM_EXTRA], *xemail[PROVFORM_EXTRA];
	bool ack_vl, ack_pic;
	bool prov[SITE_PROV_COUNT];
	bool prov_given;              /* any provider checkbox was in the submission */
	unsigned nprob;
	struct provform_problem prob[PROVFORM_PROB_MAX];
};

/* Parses an application/x-www-form-urlencoded body; EBADMSG if it is not one. */
int provform_alloc(struct provform **fp, const char *urlencoded);
/* Checks a new request; fills f->prob and returns how many problems (0: acceptable). */
unsigned provform_check(struct provform *f);
/* Checks a change request (only ap_fqdn and the providers count; at least one must be given). */
unsigned provform_check_change(struct provform *f);
/* The whole form page, with f's values and problems when f is not NULL. */
void provform_page(struct evbuffer *b, const struct provform *f);
/* The form field name of a field ("org_name"). */
const char *provform_name(enum provform_field fld);
/* Problems as text, one per line, into buf. */
void provform_problems(const struct provform *f, char *buf, size_t size);
/* The HTML list of problems (<ul id="problems">) into b. */
void provform_problems_html(struct evbuffer *b, const struct provform *f);

#endif
