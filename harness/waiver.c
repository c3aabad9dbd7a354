/* waiver: exemptions from the capture invariants, each naming a transaction or a flow. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decode/capdec.h"
#include "invariant.h"
#include "waiver.h"

static void waiver_trim(char *s)
{
	size_t n = strlen(s), b = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[b] == ' ' || s[b] == '\t')
		b++;
	memmove(s, s + b, n - b + 1);
}

/* "sip.aol.test -> ap.contoso.test" (either side may be "*"). */
static int waiver_flow_parse(struct waiver *w, const char *flow, char *why, size_t whysize)
{
	char a[128], *arrow, *b;

	snprintf(a, sizeof(a), "%s", flow);
	arrow = strstr(a, "->");
	if (!arrow) {
		snprintf(why, whysize, "flow '%s' is not 'client.fqdn -> server.fqdn'", flow);
		return EINVAL;
	}
	*arrow = '\0';
	b = arrow + 2;
	waiver_trim(a);
	waiver_trim(b);
	w->client = strcmp(a, "*") == 0 ? LAB_NHOSTS : lab_host_find(a);
	w->server = strcmp(b, "*") == 0 ? LAB_NHOSTS : lab_host_find(b);
	if ((strcmp(a, "*") != 0 && w->client == LAB_NHOSTS) ||
	    (strcmp(b, "*") != 0 && w->server == LAB_NHOSTS)) {
		snprintf(why, whysize, "flow '%s': '%s' is not a lab host", flow,
			 strcmp(a, "*") != 0 && w->client == LAB_NHOSTS ? a : b);
		return EINVAL;
	}
	if (w->client == LAB_NHOSTS && w->server == LAB_NHOSTS) {
		snprintf(why, whysize, "flow '%s' names no host: that would waive everything", flow);
		return EINVAL;
	}
	return 0;
}

int waiver_add(struct waivers *ws, const char *inv, const char *call_id, const char *method,
	       long cseq, const char *flow, const char *reason, char *why, size_t whysize)
{
	struct waiver *w;
	int id = inv ? invariant_find(inv) : -1;

	if (id < 0) {
		snprintf(why, whysize, "'%s' is not an invariant (decrypted, external-tls-only, "
			 "topology-hiding, trust-header, well-formed, transactions-end)",
			 inv ? inv : "(none)");
		return EINVAL;
	}
	if (ws->n == WAIVER_MAX) {
		snprintf(why, whysize, "more than %d waivers", WAIVER_MAX);
		return EINVAL;
	}
	if (!reason || !*reason) {
		snprintf(why, whysize, "a waiver of %s has no why = \"reason\"", inv);
		return EINVAL;
	}
	if ((cseq >= 0) != (method && *method)) {
		snprintf(why, whysize, "a waiver of %s names a transaction by method and cseq "
			 "together", inv);
		return EINVAL;
	}
	w = &ws->w[ws->n];
	memset(w, 0, sizeof(*w));
	w->inv = id;
	w->cseq = cseq;
	w->client = w->server = LAB_NHOSTS;
	snprintf(w->call_id, sizeof(w->call_id), "%s", call_id ? call_id : "");
	snprintf(w->method, sizeof(w->method), "%s", method ? method : "");
	snprintf(w->why, sizeof(w->why), "%s", reason);
	if (flow && waiver_flow_parse(w, flow, why, whysize))
		return EINVAL;
	if (!w->call_id[0] && cseq < 0 && !flow) {
		snprintf(why, whysize, "a waiver of %s names nothing: give call_id, method and cseq, "
			 "or flow (a whole-scenario waiver is not allowed)", inv);
		return EINVAL;
	}
	if ((id == INV_EXTERNAL_TLS || id == INV_DECRYPTED) && (w->call_id[0] || cseq >= 0)) {
		snprintf(why, whysize, "%s is judged per flow: its waiver names a flow only", inv);
		return EINVAL;
	}
	ws->n++;
	return 0;
}

static bool waiver_host_ok(enum lab_host want, const struct sockaddr_storage *sa)
{
	return want == LAB_NHOSTS || lab_host_of_addr((const struct sockaddr *)sa) == want;
}

static bool waiver_flow_ok(const struct waiver *w, const struct capdec_flow *f)
{
	if (w->client == LAB_NHOSTS && w->server == LAB_NHOSTS)
		return true;
	return f && waiver_host_ok(w->client, &f->client) && waiver_host_ok(w->server, &f->server);
}

static bool waiver_callid_ok(const struct waiver *w, const char *call_id)
{
	size_t n = strlen(w->call_id);

	if (!n)
		return true;
	if (!call_id)
		return false;
	if (w->call_id[n - 1] == '*')
		return strncmp(w->call_id, call_id, n - 1) == 0;
	return strcmp(w->call_id, call_id) == 0;
}

bool waiver_msg(struct waivers *ws, int inv, const struct capdec *d, const struct capdec_sip *m,
		const char *call_id, const char *cseq_method, long cseq)
{
	const struct capdec_flow *f = d && m->flow < capdec_flow_count(d) ?
					      capdec_flow_at(d, m->flow) : NULL;
	unsigned i;

	for (i = 0; ws && i < ws->n; i++) {
		struct waiver *w = &ws->w[i];

		if (w->inv != inv || !waiver_flow_ok(w, f) || !waiver_callid_ok(w, call_id))
			continue;
		if (w->cseq >= 0 && (cseq != w->cseq || !cseq_method ||
				     strcasecmp(cseq_method, w->method) != 0))
			continue;
		w->used++;
		return true;
	}
	return false;
}

bool waiver_flow(struct waivers *ws, int inv, const struct capdec_flow *f)
{
	unsigned i;

	for (i = 0; ws && i < ws->n; i++) {
		struct waiver *w = &ws->w[i];

		if (w->inv != inv || w->call_id[0] || w->cseq >= 0 || !waiver_flow_ok(w, f))
			continue;
		w->used++;
		return true;
	}
	return false;
}

char *waiver_str(const struct waiver *w, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", invariant_name(w->inv));

	if (n > 0 && (size_t)n < size && w->call_id[0])
		n += snprintf(buf + n, size - (size_t)n, " call_id=%s", w->call_id);
	if (n > 0 && (size_t)n < size && w->cseq >= 0)
		n += snprintf(buf + n, size - (size_t)n, " cseq=%ld %s", w->cseq, w->method);
	if (n > 0 && (size_t)n < size && (w->client != LAB_NHOSTS || w->server != LAB_NHOSTS))
		snprintf(buf + n, size - (size_t)n, " flow=%s -> %s",
			 w->client == LAB_NHOSTS ? "*" : lab_host_name(w->client),
			 w->server == LAB_NHOSTS ? "*" : lab_host_name(w->server));
	return buf;
}
