/* invariant: the capture-wide rules (DESIGN "Capture"): checked on every passing scenario. */
#define LOG_MODULE "invariant"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "decode/capdec.h"
#include "invariant.h"
#include "lab.h"
#include "waiver.h"

#define INV_TRUST_HEADER "ms-edge-proxy-message-trust"

static const char *const invariant_names[INV_COUNT] = {
	[INV_DECRYPTED] = "decrypted",
	[INV_EXTERNAL_TLS] = "external-tls-only",
	[INV_TOPOLOGY] = "topology-hiding",
	[INV_TRUST] = "trust-header",
	[INV_WELL_FORMED] = "well-formed",
	[INV_TXN_END] = "transactions-end",
};

const char *invariant_name(enum invariant_id id)
{
	return id < INV_COUNT ? invariant_names[id] : "?";
}

int invariant_find(const char *name)
{
	int i;

	for (i = 0; i < INV_COUNT; i++)
		if (strcmp(invariant_names[i], name) == 0)
			return i;
	return -1;
}

static const char *inv_leg(const struct lab *lab, const struct capdec_sip *m)
{
	return lab_leg(lab, (const struct sockaddr *)&m->src, (const struct sockaddr *)&m->dst);
}

/* A short name of a message for reasons: "MESSAGE" or "200 (MESSAGE)". */
static void inv_label(const struct capdec_sip *m, char *buf, size_t size)
{
	struct sipmsg *msg = NULL;
	char src[64], dst[64];

	sa_fmt((const struct sockaddr *)&m->src, src, sizeof(src));
	sa_fmt((const struct sockaddr *)&m->dst, dst, sizeof(dst));
	if (sipmsg_decode(&msg, m->data, m->len) == 0) {
		if (sipmsg_is_request(msg))
			snprintf(buf, size, "%s from %s to %s", sipmsg_method(msg), src, dst);
		else
			snprintf(buf, size, "%d (%s) from %s to %s", sipmsg_status(msg),
				 sipmsg_method(msg), src, dst);
		mem_deref(msg);
	} else {
		snprintf(buf, size, "message from %s to %s", src, dst);
	}
}

/* Whether a waiver of inv exempts message m (by its Call-ID, CSeq or flow). */
static bool inv_waived(struct waivers *ws, int inv, const struct capdec *d,
		       const struct capdec_sip *m)
{
	struct sipmsg *msg = NULL;
	bool w;

	if (!ws)
		return false;
	if (sipmsg_decode(&msg, m->data, m->len) != 0)
		return waiver_msg(ws, inv, d, m, NULL, NULL, -1);
	w = waiver_msg(ws, inv, d, m, sipmsg_callid(msg), sipmsg_method(msg),
		       (long)sipmsg_cseq(msg));
	mem_deref(msg);
	return w;
}

static void inv_flow_name(const struct lab *lab, const struct capdec_flow *f, char *buf,
			  size_t size)
{
	char c[64], s[64];
	enum lab_host hc = lab_host_of_addr((const struct sockaddr *)&f->client);
	enum lab_host hs = lab_host_of_addr((const struct sockaddr *)&f->server);

	snprintf(buf, size, "%s (%s) -> %s (%s) on the %s leg",
		 sa_fmt((const struct sockaddr *)&f->client, c, sizeof(c)), lab_host_name(hc),
		 sa_fmt((const struct sockaddr *)&f->server, s, sizeof(s)), lab_host_name(hs),
		 lab_leg(lab, (const struct sockaddr *)&f->client,
			 (const struct sockaddr *)&f->server));
}

int invariant_opaque_flow(const struct lab *lab, const struct capdec *d, const char *leg,
			  struct waivers *ws, char *why, size_t n)
{
	size_t i;

	for (i = 0; i < capdec_flow_count(d); i++) {
		const struct capdec_flow *f = capdec_flow_at(d, i);
		char name[256];

		if (!f->tls || !f->protected_seen || f->decrypted)
			continue;
		if (leg && strcmp(lab_leg(lab, (const struct sockaddr *)&f->client,
					  (const struct sockaddr *)&f->server), leg) != 0)
			continue;
		if (waiver_flow(ws, INV_DECRYPTED, f))
			continue;
		inv_flow_name(lab, f, name, sizeof(name));
		snprintf(why, n, "TLS flow %s was not decrypted (%s)", name,
			 f->error ? f->error : "no key in the key log");
		return 1;
	}
	return 0;
}

static int inv_decrypted(const struct lab *lab, const struct capdec *d, struct waivers *ws,
			 char *why, size_t n, const struct capdec_sip **bad)
{
	(void)bad;
	return invariant_opaque_flow(lab, d, NULL, ws, why, n);
}

static int inv_external_tls(const struct lab *lab, const struct capdec *d, struct waivers *ws,
			    char *why, size_t n,
			    const struct capdec_sip **bad)
{
	size_t i;

	for (i = 0; i < capdec_flow_count(d); i++) {
		const struct capdec_flow *f = capdec_flow_at(d, i);
		char c[64], s[64];

		if (strcmp(lab_leg(lab, (const struct sockaddr *)&f->client,
				   (const struct sockaddr *)&f->server), "external") != 0)
			continue;
		if ((f->cleartext_sip || (!f->tls && f->sip_msgs)) &&
		    !waiver_flow(ws, INV_EXTERNAL_TLS, f)) {
			snprintf(why, n, "%u cleartext SIP message(s) on the external leg, flow %s -> %s",
				 f->cleartext_sip, sa_fmt((const struct sockaddr *)&f->client, c,
							  sizeof(c)),
				 sa_fmt((const struct sockaddr *)&f->server, s, sizeof(s)));
			for (size_t k = 0; k < capdec_sip_count(d); k++) {
				const struct capdec_sip *m = capdec_sip_at(d, k);

				if (m->flow == f->id && !m->tls) {
					*bad = m;
					break;
				}
			}
			return 1;
		}
	}
	return 0;
}

/* The line of text containing pos, for "what leaked where". */
static void inv_line_of(const char *data, size_t len, const char *pos, char *buf, size_t size)
{
	const char *b = pos, *e = pos;

	while (b > data && b[-1] != '\n')
		b--;
	while (e < data + len && *e != '\r' && *e != '\n')
		e++;
	snprintf(buf, size, "%.*s", (int)(e - b) > 160 ? 160 : (int)(e - b), b);
}

static const char *inv_memcasemem(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;

	for (i = 0; nl && i + nl <= hl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

static int inv_topology(const struct lab *lab, const struct capdec *d, struct waivers *ws,
			char *why, size_t n,
			    const struct capdec_sip **bad)
{
	const enum lab_host inside[] = { LAB_POOL, LAB_AP_INT };
	size_t i, k;

	for (i = 0; i < capdec_sip_count(d); i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);

		if (strcmp(inv_leg(lab, m), "external") != 0)
			continue;
		for (k = 0; k < 2 * (sizeof(inside) / sizeof(inside[0])); k++) {
			enum lab_host h = inside[k / 2];
			const char *needle = k % 2 ? lab_host_ip(lab, h) : lab_host_name(h);
			const char *p = inv_memcasemem(m->data, m->len, needle);
			char line[200], label[200];

			if (!p)
				continue;
			if (inv_waived(ws, INV_TOPOLOGY, d, m))
				break;
			inv_line_of(m->data, m->len, p, line, sizeof(line));
			inv_label(m, label, sizeof(label));
			snprintf(why, n, "internal %s %s leaked on the external leg in %s: \"%s\"",
				 k % 2 ? "address" : "name", needle, label, line);
			*bad = m;
			return 1;
		}
	}
	return 0;
}

/* Requests the proxy passes inward from outside: internal leg, sent by ap-int, From not ours. */
static int inv_trust(const struct lab *lab, const struct capdec *d, struct waivers *ws,
		     char *why, size_t n,
			    const struct capdec_sip **bad)
{
	char apint[64];
	size_t i;

	snprintf(apint, sizeof(apint), "%s", lab_host_ip(lab, LAB_AP_INT));
	for (i = 0; i < capdec_sip_count(d); i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		struct sipmsg *msg = NULL;
		const char *user, *host;
		char src[64], label[200], from_host[128];
		int count;

		sa_ip((const struct sockaddr *)&m->src, src, sizeof(src));
		if (strcmp(src, apint) != 0 || sipmsg_decode(&msg, m->data, m->len) != 0)
			continue;
		if (!sipmsg_is_request(msg) || sipmsg_uri(msg, SIPMSG_FROM, &user, &host) != 0 ||
		    strcasecmp(host, "contoso.test") == 0 ||
		    strcasecmp(sipmsg_method(msg), "ACK") == 0) {
			mem_deref(msg);
			continue;
		}
		count = sipmsg_header_count(msg, INV_TRUST_HEADER);
		snprintf(from_host, sizeof(from_host), "%s", host);
		mem_deref(msg);
		if (count != 1 && !inv_waived(ws, INV_TRUST, d, m)) {
			inv_label(m, label, sizeof(label));
			snprintf(why, n, "%s passed inward from %s carries %d %s header%s, not 1",
				 label, from_host, count, INV_TRUST_HEADER, count == 1 ? "" : "s");
			*bad = m;
			return 1;
		}
	}
	return 0;
}

static int inv_well_formed(const struct lab *lab, const struct capdec *d, struct waivers *ws,
			   char *why, size_t n,
			    const struct capdec_sip **bad)
{
	size_t i;

	for (i = 0; i < capdec_sip_count(d); i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		struct sipmsg *msg = NULL;
		size_t blen = 0;
		const char *cl;
		char label[200];

		if (sipmsg_decode(&msg, m->data, m->len) != 0) {
			if (inv_waived(ws, INV_WELL_FORMED, d, m))
				continue;
			inv_label(m, label, sizeof(label));
			snprintf(why, n, "%s on the %s leg does not parse", label, inv_leg(lab, m));
			*bad = m;
			return 1;
		}
		(void)sipmsg_body(msg, &blen);
		cl = sipmsg_header(msg, "Content-Length", 0);
		if (cl && strtoul(cl, NULL, 10) != blen && !inv_waived(ws, INV_WELL_FORMED, d, m)) {
			inv_label(m, label, sizeof(label));
			snprintf(why, n, "%s on the %s leg: Content-Length %s but the body has %zu bytes",
				 label, inv_leg(lab, m), cl, blen);
			mem_deref(msg);
			*bad = m;
			return 1;
		}
		mem_deref(msg);
	}
	return 0;
}

struct inv_txn {
	char key[300];   /* flow/branch/cseq method */
	char label[200];
	size_t msg;      /* index of the request */
	bool final;
};

static int inv_txn_end(const struct lab *lab, const struct capdec *d, struct waivers *ws,
		       char *why, size_t n, const struct capdec_sip **badm)
{
	size_t i, j, nt = 0, cap = capdec_sip_count(d);
	struct inv_txn *t = calloc(cap ? cap : 1, sizeof(*t));
	int bad = 0;

	if (!t)
		return 0;
	for (i = 0; i < cap; i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		struct sipmsg *msg = NULL;
		const char *br;
		char key[300];

		if (sipmsg_decode(&msg, m->data, m->len) != 0)
			continue;
		br = sipmsg_via_branch(msg, 0);
		snprintf(key, sizeof(key), "%u/%s/%s", m->flow, br ? br : "", sipmsg_method(msg));
		if (sipmsg_is_request(msg)) {
			if (strcasecmp(sipmsg_method(msg), "ACK") != 0 && nt < cap) {
				snprintf(t[nt].key, sizeof(t[nt].key), "%s", key);
				inv_label(m, t[nt].label, sizeof(t[nt].label));
				t[nt].msg = i;
				nt++;
			}
		} else if (sipmsg_status(msg) >= 200) {
			for (j = 0; j < nt; j++)
				if (strcmp(t[j].key, key) == 0)
					t[j].final = true;
		}
		mem_deref(msg);
	}
	for (j = 0; j < nt && !bad; j++) {
		if (t[j].final || inv_waived(ws, INV_TXN_END, d, capdec_sip_at(d, t[j].msg)))
			continue;
		snprintf(why, n, "%s never got a final response on its connection", t[j].label);
		*badm = capdec_sip_at(d, t[j].msg);
		bad = 1;
	}
	free(t);
	return bad;
}

static int (*const inv_checks[INV_COUNT])(const struct lab *, const struct capdec *,
					 struct waivers *, char *, size_t,
					 const struct capdec_sip **) = {
	[INV_DECRYPTED] = inv_decrypted,
	[INV_EXTERNAL_TLS] = inv_external_tls,
	[INV_TOPOLOGY] = inv_topology,
	[INV_TRUST] = inv_trust,
	[INV_WELL_FORMED] = inv_well_formed,
	[INV_TXN_END] = inv_txn_end,
};

int invariant_check(const struct lab *lab, const struct capdec *d, struct waivers *ws, char *why,
		    size_t whysize)
{
	return invariant_check_at(lab, d, ws, why, whysize, NULL);
}

int invariant_check_at(const struct lab *lab, const struct capdec *d, struct waivers *ws,
		       char *why, size_t whysize, const struct capdec_sip **at)
{
	int i;

	for (i = 0; i < INV_COUNT; i++) {
		const struct capdec_sip *bad = NULL;

		if (inv_checks[i](lab, d, ws, why, whysize, &bad)) {
			if (at)
				*at = bad;
			return i;
		}
	}
	return -1;
}

int invariant_check_one(const struct lab *lab, const struct capdec *d, int id,
			struct waivers *ws, char *why, size_t whysize)
{
	const struct capdec_sip *bad = NULL;

	if (id < 0 || id >= INV_COUNT || !inv_checks[id])
		return 0;
	return inv_checks[id](lab, d, ws, why, whysize, &bad) ? 1 : 0;
}
