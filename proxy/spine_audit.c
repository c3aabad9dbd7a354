/* spine_audit: builds the audit record of a federated request decision (AUD-001). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "sip/sipmsg.h"
#include "audit/audit.h"
#include "spine_audit.h"

#define LOG_MODULE "spine"

static void spine_audit_aor(const struct sipmsg *req, enum sipmsg_uri_of which, char *buf,
			    size_t size)
{
	const char *user = NULL, *host = NULL;

	buf[0] = '\0';
	if (!sipmsg_uri(req, which, &user, &host) && host)
		snprintf(buf, size, "%s%s%s", user ? user : "", user && *user ? "@" : "", host);
}

/* The record of req as it is decided now. */
static void spine_audit_fill(struct audit_rec *rec, enum conf_edge_id in,
			     const struct sipmsg *req, const char *provider, bool forwarded,
			     int status, const char *reason, char *from, char *to, char *ct,
			     size_t size)
{
	size_t blen = 0;
	const char *body;

	memset(rec, 0, sizeof(*rec));
	spine_audit_aor(req, SIPMSG_FROM, from, size);
	spine_audit_aor(req, SIPMSG_TO, to, size);
	body = sipmsg_body(req, &blen);
	rec->direction = in == CONF_EXTERNAL ? AUDIT_IN : AUDIT_OUT;
	rec->provider = provider;
	rec->from = from;
	rec->to = to;
	rec->method = sipmsg_method(req);
	rec->call_id = sipmsg_callid(req);
	rec->decision = forwarded ? AUDIT_FORWARDED : AUDIT_REFUSED;
	rec->status = status;
	rec->reason = reason;
	rec->body = blen ? body : NULL;
	rec->body_len = blen;
	rec->content_type = blen ? sipmsg_content_type(req, ct, size) : NULL;
}

void spine_audit(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
		 const char *provider, bool forwarded, int status, const char *reason)
{
	struct audit_rec rec;
	char from[256], to[256], ct[256];
	int err;

	if (!a || !req)
		return;
#ifdef AP_MUTANT_AUD_FORWARDED_NOT_RECORDED
	spine_audit_fill(&rec, in, req, provider, forwarded, status, reason, from, to, ct,
			 sizeof(from));
	err = forwarded ? 0 : audit_record(a, &rec); /* forwarded requests not recorded */
#else
	spine_audit_fill(&rec, in, req, provider, forwarded, status, reason, from, to, ct,
			 sizeof(from));
	err = audit_record(a, &rec);
#endif
	if (err)
		log_debug("audit record of %s %s not queued: %s", rec.method, rec.call_id,
			  strerror(err));
}

int spine_audit_durable(struct audit *a, enum conf_edge_id in, const struct sipmsg *req,
			const char *provider, audit_done_h *dh, void *arg)
{
	struct audit_rec rec;
	char from[256], to[256], ct[256];

	if (!a)
		return ENODEV;
	if (!req || !dh)
		return EINVAL;
	spine_audit_fill(&rec, in, req, provider, true, 0, NULL, from, to, ct, sizeof(from));
	return audit_record_durable(a, &rec, dh, arg);
}
