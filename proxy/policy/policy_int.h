/* policy_int: what the files of policy/ share. */
#ifndef AP_POLICY_INT_H
#define AP_POLICY_INT_H

#include "policy.h"

/* Fills v with a refusal and returns EPERM (EBADMSG for 400). */
int policy_refuse(struct policy_verdict *v, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds a header to the refusal (Allow, Unsupported, Allow-Events, Retry-After). */
void policy_refuse_hdr(struct policy_verdict *v, const char *name, const char *value);

#endif
