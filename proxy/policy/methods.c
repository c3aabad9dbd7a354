/* methods: the method, event package and media rules of a PIC edge (POL-007, POL-008). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "policy_int.h"
#include "methods.h"

#define LOG_MODULE "methods"

static bool methods_is(const char *m, const char *want)
{
	return !strcmp(m, want);
}

bool methods_creates_dialog(const char *method)
{
	return method && (methods_is(method, "INVITE") || methods_is(method, "SUBSCRIBE"));
}

static bool methods_known(const char *m)
{
	static const char *const ok[] = { "MESSAGE", "SUBSCRIBE", "NOTIFY", "INVITE", "ACK",
					  "BYE", "CANCEL", "OPTIONS" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (methods_is(m, ok[i]))
			return true;
	return false;
}

/* Media type of the Content-Type, lower-cased, without parameters. */
static void methods_ctype(const struct sipmsg *req, char *buf, size_t size)
{
	char raw[256];
	size_t i;

	buf[0] = '\0';
	if (!sipmsg_content_type(req, raw, sizeof(raw)))
		return;
	for (i = 0; raw[i] && raw[i] != ';' && raw[i] != ' ' && i + 1 < size; i++)
		buf[i] = (char)(raw[i] >= 'A' && raw[i] <= 'Z' ? raw[i] + 32 : raw[i]);
	buf[i] = '\0';
}

/* POL-008: several participants in one request. */
static int methods_multiparty(const struct sipmsg *req, const char *method,
			      struct policy_verdict *v)
{
	char ct[128];

	if (methods_is(method, "REFER"))
		return policy_refuse(v, 403, "REFER (inviting a third party) is not allowed "
				     "across the edge: no multiparty IM (POL-008)");
	if (!methods_is(method, "INVITE") && !methods_is(method, "MESSAGE"))
		return 0;
	methods_ctype(req, ct, sizeof(ct));
#ifdef AP_MUTANT_POL_MULTIPARTY_PASSES
	if (0) /* several recipients pass */
#else
	if (!strncmp(ct, "multipart/", 10) || !strcmp(ct, "application/resource-lists+xml"))
#endif
		return policy_refuse(v, 403, "%s to several recipients (%s body) is not allowed "
				     "across the edge: no multiparty IM (POL-008)", method, ct);
	if (methods_is(method, "INVITE") &&
	    (sipmsg_header(req, "Referred-By", 0) || sipmsg_header(req, "b", 0)))
		return policy_refuse(v, 403, "INVITE on another's behalf (Referred-By) is not "
				     "allowed across the edge: no multiparty IM (POL-008)");
	return 0;
}

/* RFC 3265/6665: the package is the token before any parameter. */
static int methods_event(const struct sipmsg *req, const char *method,
			 struct policy_verdict *v)
{
	const char *e = sipmsg_header(req, "Event", 0);
	char pkg[64];
	size_t n;

	if (!e)
		e = sipmsg_header(req, "o", 0);
	if (!e) {
		policy_refuse_hdr(v, "Allow-Events", "presence");
		return policy_refuse(v, 489, "%s without an Event header: only presence crosses "
				     "the edge (POL-007)", method);
	}
	while (*e == ' ' || *e == '\t')
		e++;
	n = strcspn(e, "; \t");
	snprintf(pkg, sizeof(pkg), "%.*s", (int)(n < sizeof(pkg) ? n : sizeof(pkg) - 1), e);
	if (!strcasecmp(pkg, "presence"))
		return 0;
	policy_refuse_hdr(v, "Allow-Events", "presence");
	return policy_refuse(v, 489, "event package '%s' does not cross the edge: only presence "
			     "(POL-007)", pkg);
}

/* INVITE: text IM sessions only; every m= line of the offer must be "message". */
static int methods_sdp(const struct sipmsg *req, struct policy_verdict *v)
{
	char ct[128], media[32];
	size_t len = 0, n;
	const char *body = sipmsg_body(req, &len), *p, *end = body + len;
	unsigned count = 0;

	methods_ctype(req, ct, sizeof(ct));
	if (!len || strcmp(ct, "application/sdp"))
		return policy_refuse(v, 488, "INVITE without an SDP offer: only text IM sessions "
				     "(m=message) cross the edge (POL-007)");
	for (p = body; p < end; ) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;

		if (le - p > 2 && p[0] == 'm' && p[1] == '=') {
			const char *q = p + 2;

			n = 0;
			while (q + n < le && q[n] != ' ' && q[n] != '\r')
				n++;
			snprintf(media, sizeof(media), "%.*s",
				 (int)(n < sizeof(media) ? n : sizeof(media) - 1), q);
			count++;
#ifdef AP_MUTANT_POL_AUDIO_PASSES
			if (strcasecmp(media, "message") && strcasecmp(media, "audio"))
#else
			if (strcasecmp(media, "message"))
#endif
				return policy_refuse(v, 488, "INVITE offers %s media: only text IM "
						     "sessions (m=message) cross the edge "
						     "(POL-007)", media);
		}
		p = eol ? eol + 1 : end;
	}
	if (!count)
		return policy_refuse(v, 488, "INVITE offers no media: only text IM sessions "
				     "(m=message) cross the edge (POL-007)");
	return 0;
}

int methods_check(const struct sipmsg *req, struct policy_verdict *v)
{
	const char *m;
	int err;

	if (!req || !v)
		return EINVAL;
	m = sipmsg_method(req);
	err = methods_multiparty(req, m, v);
	if (err)
		return err;
	if (!methods_known(m)) {
		policy_refuse_hdr(v, "Allow", METHODS_ALLOW);
		return policy_refuse(v, 405, "%s does not cross the edge: only IM and presence "
				     "(POL-007)", m);
	}
#ifdef AP_MUTANT_PRES_NOTIFY_INBOUND_REFUSED
	if (methods_is(m, "NOTIFY") && v->out_edge == CONF_INTERNAL)
		return policy_refuse(v, 403, "NOTIFY from outside refused");
	if (methods_is(m, "SUBSCRIBE") || methods_is(m, "NOTIFY"))
		return methods_event(req, m, v);
#else
	if (methods_is(m, "SUBSCRIBE") || methods_is(m, "NOTIFY"))
		return methods_event(req, m, v);
#endif
	if (methods_is(m, "INVITE"))
		return methods_sdp(req, v);
	return 0;
}
