/* pcapread: reads pcap/pcapng files with libpcap and cuts link, IP and TCP headers off. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TCP header (RFC 9293 3.1); the payload length comes from the IP layer, not the frame. */
static int pcapread_tcp(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	size_t hl;

	if (len < 20)
		return 0;
	hl = (size_t)(p[12] >> 4) * 4;
	if (hl < 20 || hl > len)
		return 0;
	((struct sockaddr_in *)&pk->src)->sin_port = htons(rd16(p));
	((struct sockaddr_in *)&pk->dst)->sin_port = htons(rd16(p + 2));
	pk->seq = rd32(p + 4);
	pk->flags = p[13];
	pk->payload = p + hl;
	pk->len = len - hl;
	return tcpflow_segment(c, pk);
}

static int pcapread_ipv4(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&pk->src;
	struct sockaddr_in *d = (struct sockaddr_in *)&pk->dst;
	size_t hl, tot;

	if (len < 20 || (p[0] >> 4) != 4)
		return 0;
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	if (hl < 20 || tot < hl)
		return 0;
	if (tot > len)          /* truncated by the snap length: the data is not all here */
		return 0;
	/* Fragments: loopback MTU makes them absent in the lab; skip rather than misparse. */
	if ((rd16(p + 6) & 0x3fff) != 0 || p[9] != IPPROTO_TCP)
		return 0;
	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	s->sin_family = d->sin_family = AF_INET;
	memcpy(&s->sin_addr, p + 12, 4);
	memcpy(&d->sin_addr, p + 16, 4);
	return pcapread_tcp(c, pk, p + hl, tot - hl);
}

/* IPv6 with the extension headers that can precede TCP (RFC 8200 4). */
static int pcapread_ipv6(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&pk->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&pk->dst;
	size_t plen, off = 40;
	uint8_t nh;
	int hops;

	if (len < 40 || (p[0] >> 4) != 6)
		return 0;
	plen = rd16(p + 4);
	if (40 + plen > len)
		return 0;
	len = 40 + plen;
	nh = p[6];
	for (hops = 0; hops < 8 && nh != IPPROTO_TCP; hops++) {
		if (nh != 0 && nh != 43 && nh != 60)   /* hop-by-hop, routing, destination */
			return 0;
		if (off + 8 > len)
			return 0;
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	if (nh != IPPROTO_TCP || off > len)
		return 0;
	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, p + 8, 16);
	memcpy(&d->sin6_addr, p + 24, 16);
	return pcapread_tcp(c, pk, p + off, len - off);
}

static int pcapread_ethertype(struct capdec *c, struct cd_pkt *pk, uint16_t et,
			      const uint8_t *p, size_t len)
{
	if (et == ETHERTYPE_IPV4)
		return pcapread_ipv4(c, pk, p, len);
	if (et == ETHERTYPE_IPV6)
		return pcapread_ipv6(c, pk, p, len);
	return 0;
}

/* BSD loopback: the address family in 4 bytes, host order (DLT_NULL) or network order
 * (DLT_LOOP); IPv6 has a different value on each BSD, so the IP version nibble decides. */
static int pcapread_ip(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	if (len < 1)
		return 0;
	if ((p[0] >> 4) == 4)
		return pcapread_ipv4(c, pk, p, len);
	if ((p[0] >> 4) == 6)
		return pcapread_ipv6(c, pk, p, len);
	return 0;
}

static int pcapread_frame(struct capdec *c, int dlt, struct cd_pkt *pk, const uint8_t *p,
			  size_t len)
{
	uint16_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return 0;
		et = rd16(p + 12);
		p += 14;
		len -= 14;
		while ((et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ) && len >= 4) {
			et = rd16(p + 2);
			p += 4;
			len -= 4;
		}
		return pcapread_ethertype(c, pk, et, p, len);
	case DLT_NULL:
	case DLT_LOOP:
		if (len < 4)
			return 0;
		return pcapread_ip(c, pk, p + 4, len - 4);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return pcapread_ip(c, pk, p, len);
	case DLT_LINUX_SLL:
		if (len < 16)
			return 0;
		return pcapread_ethertype(c, pk, rd16(p + 14), p + 16, len - 16);
	case DLT_LINUX_SLL2:
		if (len < 20)
			return 0;
		return pcapread_ethertype(c, pk, rd16(p), p + 20, len - 20);
	default:
		return 0;
	}
}

static bool pcapread_dlt_ok(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_RAW ||
	       dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_LINUX_SLL ||
	       dlt == DLT_LINUX_SLL2;
}

/* Feeds every TCP segment of the file, in file order, to tcpflow. */
int pcapread_run(struct capdec *c, const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct cd_pkt pk;
	pcap_t *pc;
	int dlt, rc, err = 0;

	pc = pcap_open_offline(path, ebuf);
	if (!pc) {
		log_error("cannot read capture %s: %s", path, ebuf);
		return strstr(ebuf, "No such file") ? ENOENT : EINVAL;
	}
	dlt = pcap_datalink(pc);
	if (!pcapread_dlt_ok(dlt)) {
		log_error("%s: unsupported link type %d", path, dlt);
		err = EINVAL;
		goto out;
	}
	memset(&pk, 0, sizeof(pk));
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		pk.ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
		c->frame++;
		err = pcapread_frame(c, dlt, &pk, data, h->caplen);
		if (err)
			goto out;
	}
	if (rc == PCAP_ERROR) {
		/* A file cut short (a capture still being written) keeps what was read. */
		log_warn("%s: %s", path, pcap_geterr(pc));
	}
out:
	pcap_close(pc);
	return err;
}
