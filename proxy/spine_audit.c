/* spine_audit: builds the audit record of a federated request decision (AUD-001). */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "sip/sipmsg.h"
#include "audit/audit.h"
#include "spine_audit.h"

#define LOG_MODULE "spine"

/* Until proxy/audit/audit.c is linked, audit_record resolves to NULL and nothing is
 * recorded; once it is, the strong definition wins. */
#pragma weak audit_record

static void spine_audit_aor(const struct sipmsg *req, enum sipmsg_uri_of which, char *buf,
			    size_t size)
{
	const char *user = NULL, *host = NULL;

	buf[0] = '\0';
	if (!sipmsg_uri(req, which, &user, &host) && host)
		snprintf(buf, size, "%s%s%s", user ? user : "", user && *user ? "@" : "", host);
}

void spine_audit(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
		 const char *provider, bool forwarded, int status, const char *reason)
{
	struct audit_rec rec;
	char from[256], to[256], ct[128];
	size_t blen = 0;
	const char *body;
	int err;

	if (!a || !req || !audit_record)
		return;
	memset(&rec, 0, sizeof(rec));
	spine_audit_aor(req, SIPMSG_FROM, from, sizeof(from));
	spine_audit_aor(req, SIPMSG_TO, to, sizeof(to));
	body = sipmsg_body(req, &blen);
	rec.direction = in == CONF_EXTERNAL ? AUDIT_IN : AUDIT_OUT;
	rec.provider = provider;
	rec.from = from;
	rec.to = to;
	rec.method = sipmsg_method(req);
	rec.call_id = sipmsg_callid(req);
	rec.decision = forwarded ? AUDIT_FORWARDED : AUDIT_REFUSED;
	rec.status = status;
	rec.reason = reason;
	rec.body = blen ? body : NULL;
	rec.body_len = blen;
	rec.content_type = blen ? sipmsg_content_type(req, ct, sizeof(ct)) : NULL;
	err = audit_record(a, &rec);
	if (err)
		log_debug("audit record of %s %s not queued: %s", rec.method, rec.call_id,
			  strerror(err));
}
