/* capdec: the capture decoder object — runs the pipeline and holds its results. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

static void capdec_destroy(void *data)
{
	struct capdec *c = data;
	size_t i;

	for (i = 0; i < c->nflows; i++)
		tcpflow_free(c->flows[i]);
	free(c->flows);
	free(c->htab);
	free(c->msgs);
	c->keys = mem_deref(c->keys);
}

/* Messages point into stream buffers that may still move while decoding goes on, so they hold
 * offsets until the end and get their pointers here. */
static void capdec_resolve(struct capdec *c)
{
	size_t i;

	for (i = 0; i < c->nmsgs; i++)
		c->msgs[i].pub.data = (const char *)c->msgs[i].buf->p + c->msgs[i].off;
}

int capdec_open(struct capdec **cp, const char *pcap_path, const char *keylog_path)
{
	struct capdec *c;
	int err;

	if (!cp || !pcap_path)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), capdec_destroy);
	if (!c)
		return ENOMEM;
	if (keylog_path) {
		err = tlskeys_load(&c->keys, keylog_path);
		if (err)
			goto out;
	}
	err = pcapread_run(c, pcap_path);
	if (err)
		goto out;
	tcpflow_finish(c);
	capdec_resolve(c);
	log_debug("%s: %zu flows, %zu SIP messages", pcap_path, c->nflows, c->nmsgs);
out:
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

int capdec_msg_add(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts,
		   const struct dbuf *buf, size_t off, size_t len)
{
	struct cd_msg *m;

	if (c->nmsgs == c->capmsgs) {
		size_t cap = c->capmsgs ? c->capmsgs * 2 : 256;

		m = realloc(c->msgs, cap * sizeof(*m));
		if (!m)
			return ENOMEM;
		c->msgs = m;
		c->capmsgs = cap;
	}
	m = &c->msgs[c->nmsgs++];
	m->pub.ts = ts;
	m->pub.frame = c->frame;
	m->pub.src = d->src;
	m->pub.dst = d->dst;
	m->pub.tls = f->kind == CD_KIND_TLS;
	m->pub.flow = f->pub.id;
	m->pub.data = NULL;
	m->pub.len = len;
	m->buf = buf;
	m->off = off;
	f->pub.sip_msgs++;
	if (!m->pub.tls)
		f->pub.cleartext_sip++;
	return 0;
}

/* Keeps the first problem only: later ones are usually its consequences. */
void capdec_flow_error(struct cd_flow *f, const char *fmt, ...)
{
	va_list ap;

	if (f->pub.error)
		return;
	va_start(ap, fmt);
	vsnprintf(f->errbuf, sizeof(f->errbuf), fmt, ap);
	va_end(ap);
	f->pub.error = f->errbuf;
	log_debug("flow %u: %s", f->pub.id, f->errbuf);
}

size_t capdec_sip_count(const struct capdec *c)
{
	return c ? c->nmsgs : 0;
}

const struct capdec_sip *capdec_sip_at(const struct capdec *c, size_t i)
{
	return c && i < c->nmsgs ? &c->msgs[i].pub : NULL;
}

size_t capdec_flow_count(const struct capdec *c)
{
	return c ? c->nflows : 0;
}

const struct capdec_flow *capdec_flow_at(const struct capdec *c, size_t i)
{
	return c && i < c->nflows ? &c->flows[i]->pub : NULL;
}

void capdec_debug(const struct capdec *c, FILE *f)
{
	char cl[64], sv[64];
	size_t i;

	if (!c || !f)
		return;
	fprintf(f, "capdec: %zu flows, %zu SIP messages\n", c->nflows, c->nmsgs);
	for (i = 0; i < c->nflows; i++) {
		const struct capdec_flow *fl = &c->flows[i]->pub;

		fprintf(f, "  flow %u %s -> %s %s%s%s sip=%u cleartext=%u%s%s\n", fl->id,
			sa_fmt((const struct sockaddr *)&fl->client, cl, sizeof(cl)),
			sa_fmt((const struct sockaddr *)&fl->server, sv, sizeof(sv)),
			fl->tls ? "tls" : "tcp",
			fl->tls_version == 0x0304 ? "1.3" : fl->tls_version == 0x0303 ? "1.2" : "",
			fl->tls ? (fl->decrypted ? " decrypted" : " opaque") : "", fl->sip_msgs,
			fl->cleartext_sip, fl->error ? " error: " : "", fl->error ? fl->error : "");
	}
}
