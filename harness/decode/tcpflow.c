/* tcpflow: TCP connections found in a capture and their byte streams, reassembled per
 * direction (RFC 9293 3.4: sequence numbers; 3.10.7.4: segment trimming). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "base/log.h"
#include "base/mem.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

/* Out-of-order data held for one direction before the hole is declared permanent. */
#define TCPFLOW_MAX_OOO (32u * 1024 * 1024)

static size_t tcpflow_addr_hash(const struct sockaddr_storage *sa)
{
	const uint8_t *a;
	size_t n, i, h = 2166136261u;
	uint16_t port;

	if (sa->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
		port = ((const struct sockaddr_in *)sa)->sin_port;
	} else {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		n = 16;
		port = ((const struct sockaddr_in6 *)sa)->sin6_port;
	}
	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h;
}

static bool tcpflow_addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
}

/* Symmetric, so both directions of a connection land in the same bucket. */
static size_t tcpflow_hash(const struct cd_pkt *pk)
{
	return tcpflow_addr_hash(&pk->src) ^ tcpflow_addr_hash(&pk->dst);
}

void tcpflow_free(struct cd_flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct cd_dir *d = &f->dir[i];

		while (d->ooo) {
			struct cd_seg *s = d->ooo;

			d->ooo = s->next;
			free(s);
		}
		dbuf_reset(&d->raw);
		dbuf_reset(&d->app);
		dbuf_reset(&d->hs);
		dbuf_reset(&d->ws);
		tlsdec_clear(d);
	}
	free(f);
}

static int tcpflow_grow_table(struct capdec *c)
{
	size_t nsize = c->hsize ? c->hsize * 2 : 1024, i;
	struct cd_flow **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return ENOMEM;
	for (i = 0; i < c->hsize; i++) {
		struct cd_flow *f = c->htab[i], *next;

		for (; f; f = next) {
			struct cd_pkt k = { .src = f->dir[0].src, .dst = f->dir[0].dst };
			size_t b = tcpflow_hash(&k) & (nsize - 1);

			next = f->hnext;
			f->hnext = nt[b];
			nt[b] = f;
		}
	}
	free(c->htab);
	c->htab = nt;
	c->hsize = nsize;
	return 0;
}

static void tcpflow_unlink(struct capdec *c, struct cd_flow *f, size_t b)
{
	struct cd_flow **pp;

	for (pp = &c->htab[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			f->hnext = NULL;
			return;
		}
	}
}

static int tcpflow_new(struct capdec *c, const struct cd_pkt *pk, bool from_server,
		       struct cd_flow **fp)
{
	struct cd_flow *f, **nf;
	size_t b;
	int i, err;

	if (c->nflows * 2 >= c->hsize) {
		err = tcpflow_grow_table(c);
		if (err)
			return err;
	}
	if (c->nflows == c->capflows) {
		size_t cap = c->capflows ? c->capflows * 2 : 64;

		nf = realloc(c->flows, cap * sizeof(*nf));
		if (!nf)
			return ENOMEM;
		c->flows = nf;
		c->capflows = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->pub.id = (unsigned)c->nflows;
	f->proto = pk->proto;
	f->pub.udp = pk->proto == IPPROTO_UDP;
	f->pub.client = from_server ? pk->dst : pk->src;
	f->pub.server = from_server ? pk->src : pk->dst;
	for (i = 0; i < 2; i++) {
		f->dir[i].idx = i;
		f->dir[i].src = i ? f->pub.server : f->pub.client;
		f->dir[i].dst = i ? f->pub.client : f->pub.server;
	}
	c->flows[c->nflows++] = f;
	if (++c->open_flows > c->st.max_open_flows)
		c->st.max_open_flows = c->open_flows;
	b = tcpflow_hash(pk) & (c->hsize - 1);
	f->hnext = c->htab[b];
	c->htab[b] = f;
	*fp = f;
	return 0;
}

/* Finds the connection and the direction of a segment, starting a new connection for a
 * fresh SYN on a reused port pair. */
static int tcpflow_lookup(struct capdec *c, const struct cd_pkt *pk, struct cd_flow **fp,
			  int *dirp, bool create)
{
	bool syn_only = (pk->flags & (CD_TH_SYN | CD_TH_ACK)) == CD_TH_SYN;
	struct cd_flow *f = NULL;
	size_t b;
	int err;

	if (c->hsize) {
		b = tcpflow_hash(pk) & (c->hsize - 1);
		for (f = c->htab[b]; f; f = f->hnext) {
			if (f->proto != pk->proto)
				continue;
			if (tcpflow_addr_eq(&pk->src, &f->dir[0].src) &&
			    tcpflow_addr_eq(&pk->dst, &f->dir[0].dst)) {
				*dirp = 0;
				break;
			}
			if (tcpflow_addr_eq(&pk->src, &f->dir[1].src) &&
			    tcpflow_addr_eq(&pk->dst, &f->dir[1].dst)) {
				*dirp = 1;
				break;
			}
		}
		if (f && syn_only && f->syn_seen && pk->seq != f->client_isn) {
			tcpflow_unlink(c, f, b);
			f = NULL;
		}
	}
	if (!f && !create) {
		*fp = NULL;
		return 0;
	}
	if (!f) {
		/* A SYN+ACK first means the SYN was missed: its sender is the server. */
		bool from_server = (pk->flags & (CD_TH_SYN | CD_TH_ACK)) ==
				   (CD_TH_SYN | CD_TH_ACK);

		err = tcpflow_new(c, pk, from_server, &f);
		if (err)
			return err;
		*dirp = from_server ? 1 : 0;
	}
	*fp = f;
	return 0;
}

int tcpflow_find(struct capdec *c, const struct cd_pkt *pk, struct cd_flow **fp, int *dirp)
{
	return tcpflow_lookup(c, pk, fp, dirp, true);
}

/* New bytes are in d->raw: classify the connection, then hand them to TLS or SIP. */
static int tcpflow_deliver(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts)
{
	int err, i;

	if (f->kind == CD_KIND_UNKNOWN) {
		if (d->raw.len < 3 && d->raw.p[0] == 0x16)
			return 0;
		f->kind = tlsrec_looks_tls(d->raw.p, d->raw.len) ? CD_KIND_TLS : CD_KIND_CLEAR;
		f->pub.tls = f->kind == CD_KIND_TLS;
		/* The other side may have spoken first with too few bytes to decide. */
		for (i = 0; i < 2; i++) {
			if (&f->dir[i] != d && f->dir[i].raw.len) {
				err = tcpflow_deliver(c, f, &f->dir[i], ts);
				if (err)
					return err;
			}
		}
	}
	if (f->kind == CD_KIND_TLS)
		return tlsrec_process(c, f, d, ts);
	if (d->not_sip)
		return 0;
	return sipscan_run(c, f, d, ts, &d->raw);
}

static int tcpflow_append(struct cd_dir *d, const uint8_t *p, size_t len)
{
	d->next += (uint32_t)len;
	if (d->not_sip)         /* cleartext but not SIP: nothing will read these bytes */
		return 0;
	return dbuf_append(&d->raw, p, len);
}

/* Keeps a segment that arrived ahead of a hole, sorted by sequence number. */
static int tcpflow_hold(struct cd_flow *f, struct cd_dir *d, uint32_t seq, const uint8_t *p,
			size_t len)
{
	struct cd_seg **pp, *s;

	for (pp = &d->ooo; *pp; pp = &(*pp)->next) {
		int32_t diff = (int32_t)((*pp)->seq - seq);

		if (diff == 0 && (*pp)->len >= len)
			return 0;       /* a retransmission of what is already held */
		if (diff > 0)
			break;
	}
	if (d->ooo_bytes + len > TCPFLOW_MAX_OOO) {
		capdec_flow_error(f, "hole in the %s stream never filled",
				  d->idx ? "server" : "client");
		d->stopped = true;
		return 0;
	}
	s = malloc(sizeof(*s) + len);
	if (!s)
		return ENOMEM;
	s->seq = seq;
	s->len = len;
	memcpy(s->data, p, len);
	s->next = *pp;
	*pp = s;
	d->ooo_bytes += len;
	return 0;
}

/* Appends held segments that the new data made contiguous; drops the ones it covered. */
static int tcpflow_drain(struct cd_dir *d)
{
	int err;

	while (d->ooo) {
		struct cd_seg *s = d->ooo;
		int32_t start = (int32_t)(s->seq - d->next);
		int32_t end = (int32_t)(s->seq + (uint32_t)s->len - d->next);

		if (start > 0)
			break;
		d->ooo = s->next;
		d->ooo_bytes -= s->len;
		if (end > 0) {
			err = tcpflow_append(d, s->data + (s->len - (size_t)end), (size_t)end);
			if (err) {
				free(s);
				return err;
			}
		}
		free(s);
	}
	return 0;
}

int tcpflow_segment(struct capdec *c, const struct cd_pkt *pk)
{
	struct cd_flow *f;
	struct cd_dir *d;
	uint32_t seq = pk->seq;
	const uint8_t *p = pk->payload;
	size_t len = pk->len;
	int32_t start, end;
	int dir, err;

	/* streaming: a bare ACK or FIN after a connection was freed starts nothing */
	err = tcpflow_lookup(c, pk, &f, &dir, !c->stream_h || len || (pk->flags & CD_TH_SYN));
	if (err || !f)
		return err;
	d = &f->dir[dir];
	if (pk->flags & CD_TH_SYN) {
		/* The SYN takes one sequence number; data starts after it. */
		if (dir == 0) {
			f->syn_seen = true;
			f->client_isn = seq;
		}
		if (!d->have_next || !d->raw.len) {
			d->next = seq + 1;
			d->have_next = true;
		}
		seq++;
	}
	if (pk->flags & (CD_TH_FIN | CD_TH_RST))
		d->fin = true;
	if (!len || d->stopped)
		goto out;
	if (!d->have_next) {
		/* Capture started mid-connection: take the stream from here. */
		d->next = seq;
		d->have_next = true;
	}
	start = (int32_t)(seq - d->next);
	end = (int32_t)(seq + (uint32_t)len - d->next);
	if (end <= 0)
		goto out;               /* retransmission of delivered data */
	if (start > 0) {
		err = tcpflow_hold(f, d, seq, p, len);
		goto out;
	}
	if (start < 0) {                /* overlap: keep only the new tail */
		p += (size_t)-start;
		len -= (size_t)-start;
	}
	err = tcpflow_append(d, p, len);
	if (!err)
		err = tcpflow_drain(d);
	if (!err && !d->stopped && d->raw.len)
		err = tcpflow_deliver(c, f, d, pk->ts);
out:
	if (!err && c->stream_h)
		tcpflow_trim(c, f, (pk->flags & CD_TH_RST) != 0);
	return err;
}

/* Drops b[0, n) and moves the offsets that point into b back. */
static void tcpflow_cut(struct dbuf *b, size_t n, size_t *o1, size_t *o2)
{
	if (!n || n > b->len)
		return;
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	if (o1)
		*o1 = *o1 >= n ? *o1 - n : 0;
	if (o2)
		*o2 = *o2 >= n ? *o2 - n : 0;
}

void tcpflow_account(struct capdec *c, const struct cd_flow *f)
{
	if (!f->pub.sip_msgs && !f->dir[0].raw.len && !f->dir[1].raw.len && f->kind == CD_KIND_UNKNOWN)
		return;
	c->st.flows++;
	c->st.tls_flows += f->kind == CD_KIND_TLS;
	c->st.decrypted_flows += f->kind == CD_KIND_TLS && f->keys_found && !f->open_failed;
	c->st.flow_errors += f->pub.error != NULL;
	if (c->stream_fh) {
		struct capdec_flow pub = f->pub;

		pub.decrypted = f->kind == CD_KIND_TLS && f->keys_found && !f->open_failed;
		c->stream_fh(&pub, c->stream_arg);
	}
}

void tcpflow_trim(struct capdec *c, struct cd_flow *f, bool reset)
{
	uint64_t held;
	int i;

	for (i = 0; i < 2; i++) {
		struct cd_dir *d = &f->dir[i];
		bool ws = d->ws_state == 1 || d->ws_state == 2;
		size_t used;

		if (f->pub.udp || (d->not_sip && f->kind != CD_KIND_TLS)) {
			d->raw.len = 0;
			d->scan_off = d->ws_off = 0;
			dbuf_shrink(&d->raw);
			continue;
		}
		if (d->not_sip) {       /* TLS records still go through tlsrec (raw_off) */
			d->app.len = 0;
			d->scan_off = d->ws_off = 0;
			dbuf_shrink(&d->app);
			continue;
		}
		if (f->kind == CD_KIND_TLS) {
			/* records are cut by tlsrec (raw_off); the plaintext by the scanners */
			used = ws ? d->ws_off : d->scan_off;
			tcpflow_cut(&d->app, used, &d->scan_off, &d->ws_off);
		} else if (f->kind == CD_KIND_CLEAR) {
			used = ws ? d->ws_off : d->scan_off;
			tcpflow_cut(&d->raw, used, &d->scan_off, &d->ws_off);
		}
		tcpflow_cut(&d->ws, d->ws_msg, &d->ws_msg, NULL);
		dbuf_shrink(&d->raw);
		dbuf_shrink(&d->app);
		dbuf_shrink(&d->ws);
		held = d->raw.cap + d->app.cap + d->ws.cap + d->hs.cap + d->ooo_bytes;
		if (held > c->st.max_buffered)
			c->st.max_buffered = held;
	}
	if (!reset && !(f->dir[0].fin && f->dir[1].fin))
		return;
	for (i = 0; i < 2; i++)
		if (f->dir[i].ooo)
			capdec_flow_error(f, "%zu bytes after a hole in the %s stream",
					  f->dir[i].ooo_bytes, i ? "server" : "client");
	tcpflow_account(c, f);
	c->st.flows_freed++;
	tcpflow_unlink(c, f, tcpflow_hash(&(struct cd_pkt){ .src = f->dir[0].src,
							      .dst = f->dir[0].dst }) &
		       (c->hsize - 1));
	c->flows[f->pub.id] = NULL;
	c->open_flows--;
	tcpflow_free(f);
}

/* End of capture: report holes and incomplete TLS; settle the decrypted flag. */
void tcpflow_finish(struct capdec *c)
{
	size_t i;
	int k;

	for (i = 0; i < c->nflows; i++) {
		struct cd_flow *f = c->flows[i];

		if (!f)
			continue;

		for (k = 0; k < 2; k++) {
			if (f->dir[k].ooo)
				capdec_flow_error(f, "%zu bytes after a hole in the %s stream",
						  f->dir[k].ooo_bytes, k ? "server" : "client");
		}
		f->pub.decrypted = f->kind == CD_KIND_TLS && f->keys_found && !f->open_failed;
	}
}
