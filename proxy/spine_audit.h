/* spine_audit: the spine's one call site of the audit record (AUD-001). */
#ifndef AP_SPINE_AUDIT_H
#define AP_SPINE_AUDIT_H

#include <stdbool.h>

#include "conf/conf.h"

struct audit;
struct sipmsg;

/* Records the decision on a federated request that arrived on edge in: forwarded (status 0
 * or the status seen so far) or refused with status and reason. a NULL: nothing recorded. */
void spine_audit(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
		 const char *provider, bool forwarded, int status, const char *reason);

#endif
