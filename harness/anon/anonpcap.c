/* anonpcap: the anonymizer's output — a pcapng (one raw-IP interface) of cleartext TCP
 * connections (SYN, SYN/ACK, ACK, the messages as segments, FIN) and UDP datagrams rebuilt
 * from messages, with correct IP and TCP/UDP checksums, readable by libpcap, tshark and
 * `piclab decode`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/mem.h"
#include "anon_int.h"

#define AP_SEG 1400                 /* bytes of payload per TCP segment */

struct ap_flow {
	bool open;
	bool udp;
	struct sockaddr_storage a[2];   /* client, server */
	uint32_t seq[2];
};

struct anonpcap {
	FILE *f;
	char path[1100];
	char tmp[1100];
	struct ap_flow *flows;
	size_t nflows;
	int err;
};

static void ap_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void ap_block(struct anonpcap *p, uint32_t type, const void *body, size_t len)
{
	uint8_t hdr[8], pad[4] = { 0 };
	uint32_t total = (uint32_t)(12 + ((len + 3) & ~(size_t)3));

	ap_put32(hdr, type);
	ap_put32(hdr + 4, total);
	if (fwrite(hdr, 8, 1, p->f) != 1 || (len && fwrite(body, len, 1, p->f) != 1) ||
	    ((len & 3) && fwrite(pad, 4 - (len & 3), 1, p->f) != 1) ||
	    fwrite(&total, 4, 1, p->f) != 1)
		p->err = EIO;
}

static void anonpcap_destroy(void *data)
{
	struct anonpcap *p = data;

	if (p->f) {
		fclose(p->f);
		unlink(p->tmp);
	}
	free(p->flows);
}

int anonpcap_open(struct anonpcap **pp, const char *path)
{
	struct anonpcap *p = mem_zalloc(sizeof(*p), anonpcap_destroy);
	uint8_t shb[16], idb[8];
	uint32_t magic = 0x1a2b3c4d;
	uint16_t v[2] = { 1, 0 };
	int64_t seclen = -1;

	if (!p)
		return ENOMEM;
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp%d", path, (int)getpid());
	p->f = fopen(p->tmp, "wb");
	if (!p->f) {
		int err = errno;

		mem_deref(p);
		return err;
	}
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, v, 4);
	memcpy(shb + 8, &seclen, 8);
	ap_block(p, 0x0A0D0D0A, shb, sizeof(shb));
	/* LINKTYPE_RAW (101), no snap length */
	memset(idb, 0, sizeof(idb));
	idb[0] = 101;
	ap_block(p, 0x00000001, idb, sizeof(idb));
	*pp = p;
	return p->err;
}

static uint32_t ap_sum(const uint8_t *b, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

static uint16_t ap_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One IP packet (IPv4 or IPv6 by the addresses) around the transport header and payload. */
static void ap_packet(struct anonpcap *p, double ts, const struct sockaddr_storage *src,
		      const struct sockaddr_storage *dst, uint8_t proto, uint8_t *l4, size_t l4len,
		      size_t cksum_off)
{
	static uint8_t pkt[70000];
	uint8_t epb[20 + sizeof(pkt)];
	size_t ipl, n;
	uint32_t s = 0;
	uint64_t us = (uint64_t)(ts * 1e6 + 0.5);
	uint16_t ck;

	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)src, *b = (const void *)dst;

		ipl = 20;
		memset(pkt, 0, ipl);
		pkt[0] = 0x45;
		pkt[2] = (uint8_t)((ipl + l4len) >> 8);
		pkt[3] = (uint8_t)(ipl + l4len);
		pkt[6] = 0x40;          /* don't fragment */
		pkt[8] = 64;
		pkt[9] = proto;
		memcpy(pkt + 12, &a->sin_addr, 4);
		memcpy(pkt + 16, &b->sin_addr, 4);
		ck = ap_fold(ap_sum(pkt, 20, 0));
		pkt[10] = (uint8_t)(ck >> 8);
		pkt[11] = (uint8_t)ck;
		s = ap_sum(pkt + 12, 8, 0);
	} else {
		const struct sockaddr_in6 *a = (const void *)src, *b = (const void *)dst;

		ipl = 40;
		memset(pkt, 0, ipl);
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)(l4len >> 8);
		pkt[5] = (uint8_t)l4len;
		pkt[6] = proto;
		pkt[7] = 64;
		memcpy(pkt + 8, &a->sin6_addr, 16);
		memcpy(pkt + 24, &b->sin6_addr, 16);
		s = ap_sum(pkt + 8, 32, 0);
	}
	s += proto + (uint32_t)l4len;
	l4[cksum_off] = l4[cksum_off + 1] = 0;
	ck = ap_fold(ap_sum(l4, l4len, s));
	if (proto == IPPROTO_UDP && !ck)
		ck = 0xffff;
	l4[cksum_off] = (uint8_t)(ck >> 8);
	l4[cksum_off + 1] = (uint8_t)ck;
	if (ipl + l4len > sizeof(pkt)) {
		p->err = EMSGSIZE;
		return;
	}
	memcpy(pkt + ipl, l4, l4len);
	n = ipl + l4len;
	ap_put32(epb, 0);                       /* interface 0 */
	ap_put32(epb + 4, (uint32_t)(us >> 32));
	ap_put32(epb + 8, (uint32_t)us);
	ap_put32(epb + 12, (uint32_t)n);
	ap_put32(epb + 16, (uint32_t)n);
	memcpy(epb + 20, pkt, n);
	ap_block(p, 0x00000006, epb, 20 + n);
}

static uint16_t ap_port(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port :
	       ((const struct sockaddr_in6 *)a)->sin6_port;
}

static void ap_tcp(struct anonpcap *p, struct ap_flow *f, int dir, double ts, uint8_t flags,
		   const char *data, size_t len)
{
	static uint8_t seg[20 + AP_SEG];
	uint16_t sp = ap_port(&f->a[dir]), dp = ap_port(&f->a[!dir]);

	memset(seg, 0, 20);
	memcpy(seg, &sp, 2);
	memcpy(seg + 2, &dp, 2);
	seg[4] = (uint8_t)(f->seq[dir] >> 24);
	seg[5] = (uint8_t)(f->seq[dir] >> 16);
	seg[6] = (uint8_t)(f->seq[dir] >> 8);
	seg[7] = (uint8_t)f->seq[dir];
	if (flags & 0x10) {
		seg[8] = (uint8_t)(f->seq[!dir] >> 24);
		seg[9] = (uint8_t)(f->seq[!dir] >> 16);
		seg[10] = (uint8_t)(f->seq[!dir] >> 8);
		seg[11] = (uint8_t)f->seq[!dir];
	}
	seg[12] = 5 << 4;
	seg[13] = flags;
	seg[14] = 0xff;
	seg[15] = 0xff;
	if (len)
		memcpy(seg + 20, data, len);
	ap_packet(p, ts, &f->a[dir], &f->a[!dir], IPPROTO_TCP, seg, 20 + len, 16);
	f->seq[dir] += (uint32_t)len + ((flags & 0x03) ? 1 : 0);
}

int anonpcap_msg(struct anonpcap *p, unsigned flow, bool udp, const struct sockaddr_storage *client,
		 const struct sockaddr_storage *server, bool from_client, double ts,
		 const char *data, size_t len)
{
	struct ap_flow *f;
	int dir = from_client ? 0 : 1;
	size_t off;

	if (flow >= p->nflows) {
		size_t n = flow + 64;
		struct ap_flow *nf = realloc(p->flows, n * sizeof(*nf));

		if (!nf)
			return ENOMEM;
		memset(nf + p->nflows, 0, (n - p->nflows) * sizeof(*nf));
		p->flows = nf;
		p->nflows = n;
	}
	f = &p->flows[flow];
	if (!f->open) {
		f->open = true;
		f->udp = udp;
		f->a[0] = *client;
		f->a[1] = *server;
		f->seq[0] = 1000 + flow * 7919u;
		f->seq[1] = 500000 + flow * 104729u;
		if (!udp) {
			ap_tcp(p, f, 0, ts, 0x02, NULL, 0);             /* SYN */
			ap_tcp(p, f, 1, ts, 0x12, NULL, 0);             /* SYN/ACK */
			ap_tcp(p, f, 0, ts, 0x10, NULL, 0);             /* ACK */
		}
	}
	if (f->udp) {
		static uint8_t dg[8 + 65000];
		uint16_t sp = ap_port(&f->a[dir]), dp = ap_port(&f->a[!dir]);
		uint16_t ul = htons((uint16_t)(8 + len));

		if (len > 65000)
			return EMSGSIZE;
		memcpy(dg, &sp, 2);
		memcpy(dg + 2, &dp, 2);
		memcpy(dg + 4, &ul, 2);
		memcpy(dg + 8, data, len);
		ap_packet(p, ts, &f->a[dir], &f->a[!dir], IPPROTO_UDP, dg, 8 + len, 6);
		return p->err;
	}
	for (off = 0; off < len; off += AP_SEG) {
		size_t n = len - off < AP_SEG ? len - off : AP_SEG;

		ap_tcp(p, f, dir, ts, off + n == len ? 0x18 : 0x10, data + off, n);
	}
	return p->err;
}

int anonpcap_close(struct anonpcap *p, double ts)
{
	size_t i;
	int err;

	for (i = 0; i < p->nflows; i++) {
		struct ap_flow *f = &p->flows[i];

		if (!f->open || f->udp)
			continue;
		ap_tcp(p, f, 0, ts, 0x11, NULL, 0);     /* FIN/ACK */
		ap_tcp(p, f, 1, ts, 0x11, NULL, 0);
		ap_tcp(p, f, 0, ts, 0x10, NULL, 0);
	}
	if (fclose(p->f) && !p->err)
		p->err = EIO;
	p->f = NULL;
	if (!p->err && rename(p->tmp, p->path))
		p->err = errno;
	if (p->err)
		unlink(p->tmp);
	err = p->err;
	mem_deref(p);
	return err;
}
