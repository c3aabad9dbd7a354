/* rpdecode: the replay's decode stage — the capture decoder the checks use (harness/decode),
 * and the refusals of input a replay cannot stand on: a file cut short, an unknown link type,
 * no SIP at all, TLS connections it cannot open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/mem.h"
#include "net/sa.h"
#include "../decode/capdec.h"
#include "replay_int.h"

static void rp_ip_only(struct sockaddr_storage *out, const struct sockaddr_storage *in)
{
	*out = *in;
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = 0;
	else if (out->ss_family == AF_INET6)
		((struct sockaddr_in6 *)out)->sin6_port = 0;
}

static bool rp_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

/* Endpoints are IP addresses: a party's connections come from many ports. */
static int rp_ep_of(struct replay *r, const struct sockaddr_storage *sa)
{
	struct sockaddr_storage ip;
	struct rp_ep *e;
	int i;

	rp_ip_only(&ip, sa);
	for (i = 0; i < r->neps; i++)
		if (rp_same_ip(&r->eps[i].addr, &ip))
			return i;
	e = realloc(r->eps, (size_t)(r->neps + 1) * sizeof(*e));
	if (!e)
		return -1;
	r->eps = e;
	e = &r->eps[r->neps];
	memset(e, 0, sizeof(*e));
	e->id = r->neps;
	e->addr = ip;
	if (ip.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ip)->sin_addr, e->label, sizeof(e->label));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ip)->sin6_addr, e->label,
			  sizeof(e->label));
	return r->neps++;
}

/* TLS connections that could not be opened are named one by one: a replay of half a capture
 * would judge the proxy on what happens to be readable. */
static int rpdecode_check_tls(struct replay *r)
{
	size_t i, n = capdec_flow_count(r->dec), bad = 0;

	for (i = 0; i < n; i++) {
		const struct capdec_flow *f = capdec_flow_at(r->dec, i);
		char cl[64], sv[64];

		if (!f->tls || f->decrypted)
			continue;
		if (!bad++)
			fprintf(stderr, "piclab replay: %s: TLS connections that cannot be decrypted "
				"(give their keys with --keys KEYLOG, or a pcapng with a "
				"Decryption Secrets Block):\n", r->o->capture);
		fprintf(stderr, "  connection %u %s -> %s: %s\n", f->id,
			sa_fmt((const struct sockaddr *)&f->client, cl, sizeof(cl)),
			sa_fmt((const struct sockaddr *)&f->server, sv, sizeof(sv)),
			f->error ? f->error : "not decrypted");
	}
	return bad ? EPERM : 0;
}

int rpdecode_run(struct replay *r)
{
	const char *why;
	size_t i, n, cnt;
	int err;

	err = capdec_open(&r->dec, r->o->capture, r->o->keys);
	if (err) {
		if (err == EPROTONOSUPPORT)
			fprintf(stderr, "piclab replay: %s: unknown link type (see the line above); "
				"known: Ethernet (with VLAN tags), Linux SLL and SLL2, raw IP, "
				"loopback/null\n", r->o->capture);
		else
			fprintf(stderr, "piclab replay: %s: cannot read the capture%s: %s\n",
				r->o->capture, r->o->keys ? " or its key log" : "", strerror(err));
		return err;
	}
	why = capdec_truncated(r->dec);
	if (why) {
		fprintf(stderr, "piclab replay: %s: the file is truncated (%s); a replay needs the "
			"whole capture\n", r->o->capture, why);
		return EBADMSG;
	}
	err = rpdecode_check_tls(r);
	if (err)
		return err;
	n = capdec_sip_count(r->dec);
	if (!n) {
		const char *enc = capdec_unsupported(r->dec, &cnt);

		if (enc)
			fprintf(stderr, "piclab replay: %s: no SIP found; %zu packets of an "
				"unsupported encapsulation (%s)\n", r->o->capture, cnt, enc);
		else
			fprintf(stderr, "piclab replay: %s: no SIP messages in the capture "
				"(%zu connections or datagram flows looked at)\n", r->o->capture,
				capdec_flow_count(r->dec));
		return ENOMSG;
	}
	r->recs = calloc(n, sizeof(*r->recs));
	if (!r->recs)
		return ENOMEM;
	for (i = 0; i < n; i++) {
		const struct capdec_sip *m = capdec_sip_at(r->dec, i);
		struct rp_rec *rec = &r->recs[r->nrecs];

		rec->idx = (int)r->nrecs;
		rec->ts = m->ts;
		rec->frame = m->frame;
		rec->tls = m->tls;
		rec->udp = m->udp;
		rec->ws = m->ws;
		rec->flow = m->flow;
		rec->txn = -1;
		rec->hop = -1;
		rec->src = rp_ep_of(r, &m->src);
		rec->dst = rp_ep_of(r, &m->dst);
		if (rec->src < 0 || rec->dst < 0)
			return ENOMEM;
		if (rp_sip_parse(&rec->sip, m->data, m->len)) {
			rp_log(r, "frame %lu: a SIP message the replay cannot read, left out",
			       m->frame);
			continue;
		}
		r->eps[rec->src].sent++;
		r->eps[rec->dst].received++;
		r->nrecs++;
	}
	if (!r->nrecs) {
		fprintf(stderr, "piclab replay: %s: none of its %zu SIP messages can be read\n",
			r->o->capture, n);
		return ENOMSG;
	}
	return 0;
}
