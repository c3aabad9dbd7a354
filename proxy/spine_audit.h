/* spine_audit: the spine's one call site of the audit record (AUD-001). */
#ifndef AP_SPINE_AUDIT_H
#define AP_SPINE_AUDIT_H

#include <stdbool.h>

#include "conf/conf.h"
#include "audit/audit.h"

struct sipmsg;

/* Records the decision on a federated request that arrived on edge in: forwarded (status 0
 * or the status seen so far) or refused with status and reason. a NULL: nothing recorded. */
void spine_audit(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
		 const char *provider, bool forwarded, int status, const char *reason);

/* AUD-003: records a forwarding decision and calls dh(err, arg) on the loop once it is durable
 * (err 0) or failed. ENODEV when there is no audit log (nothing can be made durable); on any
 * non-zero return dh is never called. */
int spine_audit_durable(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
			const char *provider, audit_done_h *dh, void *arg);

#endif
