/* test_capdec_enc: the capture decoder's encapsulations on hand-built captures — SIP over UDP
 * (with and without Content-Length), VLAN tags, Linux SLL2, IPv6, WebSocket (masked,
 * fragmented), GTP-U tunnels — a truncated file, an unknown link type, and the public
 * captures of ../shared/corpora/pcaps when they are there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "base/mem.h"
#include "tests/testreg.h"
#include "../decode/capdec.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct te_w {
	pcap_dumper_t *d;
	pcap_t *dead;
	int dlt;
	bool vlan;
	bool v6;
	double ts;
};

static const char te_req[] =
	"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-te1\r\n"
	"From: <sip:alice@contoso.test>;tag=a1\r\nTo: <sip:bob@aol.test>\r\n"
	"Call-ID: te-1@10.0.0.1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
	"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
/* No Content-Length: allowed over UDP (RFC 3261 18.3) and inside WebSocket (RFC 7118 5). */
static const char te_resp[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-te1\r\n"
	"From: <sip:alice@contoso.test>;tag=a1\r\nTo: <sip:bob@aol.test>;tag=b1\r\n"
	"Call-ID: te-1@10.0.0.1\r\nCSeq: 1 MESSAGE\r\n\r\n";

static size_t te_link(uint8_t *p, const struct te_w *w, bool v6)
{
	uint16_t et = v6 ? 0x86dd : 0x0800;
	size_t n;

	switch (w->dlt) {
	case DLT_EN10MB:
		memset(p, 0, 12);
		n = 12;
		if (w->vlan) {          /* 802.1ad outer, 802.1Q inner */
			p[n++] = 0x88; p[n++] = 0xa8; p[n++] = 0; p[n++] = 5;
			p[n++] = 0x81; p[n++] = 0x00; p[n++] = 0; p[n++] = 7;
		}
		p[n++] = (uint8_t)(et >> 8);
		p[n++] = (uint8_t)et;
		return n;
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		p[0] = (uint8_t)(et >> 8);
		p[1] = (uint8_t)et;
		return 20;
	default:
		return 0;
	}
}

/* An IP packet (v4 or v6) with a UDP or TCP header and payload into p; its length. */
static size_t te_ip(uint8_t *p, bool v6, uint8_t proto, bool rev, uint16_t sp, uint16_t dp,
		    uint32_t seq, uint8_t flags, const void *pl, size_t len)
{
	size_t l4 = proto == IPPROTO_UDP ? 8 : 20, ipl = (v6 ? 40 : 20) + l4 + len, n = 0;
	uint8_t a[16] = { 0 }, b[16] = { 0 };

	if (v6) {
		a[0] = b[0] = 0xfd;
		a[15] = 1;
		b[15] = 2;
		memset(p, 0, 40);
		p[0] = 0x60;
		p[4] = (uint8_t)((ipl - 40) >> 8);
		p[5] = (uint8_t)(ipl - 40);
		p[6] = proto;
		p[7] = 64;
		memcpy(p + 8, rev ? b : a, 16);
		memcpy(p + 24, rev ? a : b, 16);
		n = 40;
	} else {
		inet_pton(AF_INET, "10.0.0.1", a);
		inet_pton(AF_INET, "10.0.0.2", b);
		memset(p, 0, 20);
		p[0] = 0x45;
		p[2] = (uint8_t)(ipl >> 8);
		p[3] = (uint8_t)ipl;
		p[8] = 64;
		p[9] = proto;
		memcpy(p + 12, rev ? b : a, 4);
		memcpy(p + 16, rev ? a : b, 4);
		n = 20;
	}
	memset(p + n, 0, l4);
	p[n] = (uint8_t)(sp >> 8);
	p[n + 1] = (uint8_t)sp;
	p[n + 2] = (uint8_t)(dp >> 8);
	p[n + 3] = (uint8_t)dp;
	if (proto == IPPROTO_UDP) {
		p[n + 4] = (uint8_t)((8 + len) >> 8);
		p[n + 5] = (uint8_t)(8 + len);
	} else {
		p[n + 4] = (uint8_t)(seq >> 24);
		p[n + 5] = (uint8_t)(seq >> 16);
		p[n + 6] = (uint8_t)(seq >> 8);
		p[n + 7] = (uint8_t)seq;
		p[n + 12] = 0x50;
		p[n + 13] = flags;
	}
	n += l4;
	memcpy(p + n, pl, len);
	return n + len;
}

static void te_dump(struct te_w *w, const uint8_t *fr, size_t n)
{
	struct pcap_pkthdr h;

	w->ts += 0.001;
	h.ts.tv_sec = (time_t)w->ts;
	h.ts.tv_usec = (suseconds_t)((w->ts - (double)h.ts.tv_sec) * 1e6);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)w->d, &h, fr);
}

static void te_put(struct te_w *w, uint8_t proto, bool rev, uint16_t sp, uint16_t dp,
		   uint32_t seq, uint8_t flags, const void *pl, size_t len)
{
	uint8_t fr[8192];
	size_t n = te_link(fr, w, w->v6);

	n += te_ip(fr + n, w->v6, proto, rev, sp, dp, seq, flags, pl, len);
	te_dump(w, fr, n);
}

static void te_open(struct te_w *w, const char *path, int dlt)
{
	w->dlt = dlt;
	w->ts = 1700000000.0;
	w->dead = pcap_open_dead(dlt, 65535);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->dead);
	w->d = pcap_dump_open(w->dead, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->d);
}

static void te_close(struct te_w *w)
{
	pcap_dump_close(w->d);
	pcap_close(w->dead);
}

static bool te_msg_is(const struct capdec_sip *m, const char *text)
{
	return m && m->len == strlen(text) && !memcmp(m->data, text, m->len);
}

/* UDP over every framing: the request with Content-Length, the answer without. */
static void te_udp_case(int dlt, bool vlan, bool v6)
{
	char path[] = "/tmp/capdec-enc-XXXXXX";
	struct te_w w = { .vlan = vlan, .v6 = v6 };
	struct capdec *c = NULL;
	size_t live = mem_live();
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	te_open(&w, path, dlt);
	te_put(&w, IPPROTO_UDP, false, 5060, 5060, 0, 0, te_req, strlen(te_req));
	te_put(&w, IPPROTO_UDP, false, 5060, 5060, 0, 0, "\x80\x00junk-rtp-here", 15);
	te_put(&w, IPPROTO_UDP, true, 5060, 5060, 0, 0, te_resp, strlen(te_resp));
	te_close(&w);
	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(capdec_sip_count(c), 2);
	CU_ASSERT(te_msg_is(capdec_sip_at(c, 0), te_req));
	CU_ASSERT(te_msg_is(capdec_sip_at(c, 1), te_resp));
	CU_ASSERT(capdec_sip_at(c, 0)->udp);
	CU_ASSERT(!capdec_sip_at(c, 0)->tls);
	CU_ASSERT_EQUAL(capdec_sip_at(c, 0)->src.ss_family, v6 ? AF_INET6 : AF_INET);
	CU_ASSERT_EQUAL(capdec_sip_at(c, 0)->flow, capdec_sip_at(c, 1)->flow);
	CU_ASSERT_EQUAL(capdec_flow_count(c), 1);
	CU_ASSERT(capdec_flow_at(c, 0)->udp);
	CU_ASSERT_PTR_NULL(capdec_truncated(c));
	c = mem_deref(c);
	CU_ASSERT_EQUAL(mem_live(), live);
	unlink(path);
}

static void test_udp(void)
{
	te_udp_case(DLT_EN10MB, false, false);
	te_udp_case(DLT_EN10MB, true, false);
	te_udp_case(DLT_EN10MB, true, true);
	te_udp_case(DLT_LINUX_SLL2, false, true);
	te_udp_case(DLT_LINUX_SLL2, false, false);
}

/* A masked WebSocket frame (RFC 6455 5.3) into out; fin=false for a fragment. */
static size_t te_ws_frame(uint8_t *out, int op, bool fin, bool mask, const char *pl, size_t len)
{
	static const uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t n = 0, i;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	if (mask) {
		memcpy(out + n, key, 4);
		n += 4;
	}
	for (i = 0; i < len; i++)
		out[n + i] = (uint8_t)(mask ? pl[i] ^ key[i & 3] : pl[i]);
	return n + len;
}

static void test_websocket(void)
{
	static const char up[] = "GET / HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
	static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
	char path[] = "/tmp/capdec-ws-XXXXXX";
	struct te_w w = { 0 };
	struct capdec *c = NULL;
	uint8_t cs[4096], ss[4096];
	size_t cn = 0, sn = 0, half = strlen(te_req) / 2;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	memcpy(cs, up, strlen(up));
	cn = strlen(up);
	/* the request in two fragments, a ping between them would be legal too */
	cn += te_ws_frame(cs + cn, 1, false, true, te_req, half);
	cn += te_ws_frame(cs + cn, 9, true, true, "p", 1);
	cn += te_ws_frame(cs + cn, 0, true, true, te_req + half, strlen(te_req) - half);
	memcpy(ss, sw, strlen(sw));
	sn = strlen(sw);
	sn += te_ws_frame(ss + sn, 1, true, false, te_resp, strlen(te_resp));
	te_open(&w, path, DLT_EN10MB);
	te_put(&w, IPPROTO_TCP, false, 40000, 10080, 100, 0x02, "", 0);
	te_put(&w, IPPROTO_TCP, true, 10080, 40000, 900, 0x12, "", 0);
	te_put(&w, IPPROTO_TCP, false, 40000, 10080, 101, 0x18, cs, 70);
	te_put(&w, IPPROTO_TCP, true, 10080, 40000, 901, 0x18, ss, sn);
	te_put(&w, IPPROTO_TCP, false, 40000, 10080, 171, 0x18, cs + 70, cn - 70);
	te_close(&w);
	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(capdec_sip_count(c), 2);
	/* the response came first on the wire */
	CU_ASSERT(te_msg_is(capdec_sip_at(c, 0), te_resp));
	CU_ASSERT(te_msg_is(capdec_sip_at(c, 1), te_req));
	CU_ASSERT(capdec_sip_at(c, 1)->ws);
	CU_ASSERT(capdec_flow_at(c, 0)->ws);
	CU_ASSERT_PTR_NULL(capdec_flow_at(c, 0)->error);
	c = mem_deref(c);
	unlink(path);
}

/* GTP-U with the optional fields and one extension header, carrying IPv6/UDP SIP. */
static void test_gtpu(void)
{
	char path[] = "/tmp/capdec-gtp-XXXXXX";
	struct te_w w = { 0 };
	struct capdec *c = NULL;
	uint8_t in[2048], g[2048];
	size_t n, gl;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	n = te_ip(in, true, IPPROTO_UDP, false, 5060, 5060, 0, 0, te_req, strlen(te_req));
	memset(g, 0, 16);
	g[0] = 0x34;            /* version 1, PT, E */
	g[1] = 0xff;            /* G-PDU */
	g[11] = 0x85;           /* next extension: PDU session container */
	g[12] = 1;              /* 4 bytes */
	g[15] = 0;              /* no further extension */
	gl = 16;
	memcpy(g + gl, in, n);
	gl += n;
	g[2] = (uint8_t)((gl - 8) >> 8);
	g[3] = (uint8_t)(gl - 8);
	te_open(&w, path, DLT_EN10MB);
	te_put(&w, IPPROTO_UDP, false, 2152, 2152, 0, 0, g, gl);
	te_close(&w);
	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(capdec_sip_count(c), 1);
	CU_ASSERT(te_msg_is(capdec_sip_at(c, 0), te_req));
	CU_ASSERT_EQUAL(capdec_sip_at(c, 0)->src.ss_family, AF_INET6);
	c = mem_deref(c);
	unlink(path);
}

/* A file cut in the middle of a record keeps what came before and says it was cut. */
static void test_truncated_and_linktype(void)
{
	char path[] = "/tmp/capdec-cut-XXXXXX";
	struct te_w w = { 0 };
	struct capdec *c = NULL;
	long size;
	FILE *fp;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	te_open(&w, path, DLT_EN10MB);
	te_put(&w, IPPROTO_UDP, false, 5060, 5060, 0, 0, te_req, strlen(te_req));
	te_put(&w, IPPROTO_UDP, true, 5060, 5060, 0, 0, te_resp, strlen(te_resp));
	te_close(&w);
	fp = fopen(path, "r+");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(truncate(path, size - 40), 0);
	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
	CU_ASSERT_EQUAL(capdec_sip_count(c), 1);
	CU_ASSERT_PTR_NOT_NULL(capdec_truncated(c));
	c = mem_deref(c);

	te_open(&w, path, 105 /* DLT_IEEE802_11 */);
	te_close(&w);
	CU_ASSERT_EQUAL(capdec_open(&c, path, NULL), EPROTONOSUPPORT);
	CU_ASSERT_PTR_NULL(c);
	unlink(path);
}

/* The public captures: JsSIP over WebSocket, an iPhone in GTP-U, a Zoiper PUBLISH over UDP. */
static void test_corpora(void)
{
	static const struct {
		const char *file;
		size_t msgs;
		bool ws, udp;
		const char *first;
	} tab[] = {
		{ "websocket-sip.pcapng", 11, true, false, "REGISTER sip:tryit.jssip.net SIP/2.0" },
		{ "gtp-iphone.pcap", 17, false, false, "REGISTER sip:310410010001002@" },
		{ "sip_not_sdp.pcap", 1, false, true, "PUBLISH sip:telephone1@172.16.98.101" },
	};
	const char *root = getenv("PICLAB_ROOT"), *corp = getenv("PICLAB_CORPORA");
	char path[1024];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct capdec *c = NULL;

		if (corp && *corp)
			snprintf(path, sizeof(path), "%s/pcaps/%s", corp, tab[i].file);
		else
			snprintf(path, sizeof(path), "%s/../shared/corpora/pcaps/%s",
				 root ? root : ".", tab[i].file);
		if (access(path, R_OK)) {
			fprintf(stderr, "corpora: %s not found, skipped\n", path);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
		CU_ASSERT_EQUAL(capdec_sip_count(c), tab[i].msgs);
		CU_ASSERT_FATAL(capdec_sip_count(c) > 0);
		CU_ASSERT(!strncmp(capdec_sip_at(c, 0)->data, tab[i].first, strlen(tab[i].first)));
		CU_ASSERT_EQUAL(capdec_sip_at(c, 0)->ws, tab[i].ws);
		CU_ASSERT_EQUAL(capdec_sip_at(c, 0)->udp, tab[i].udp);
		c = mem_deref(c);
	}
}

static CU_TestInfo capdec_enc_tests[] = {
	{ "SIP over UDP: Ethernet, VLAN, SLL2, IPv4 and IPv6", test_udp },
	{ "SIP over WebSocket (RFC 7118)", test_websocket },
	{ "GTP-U tunnel", test_gtpu },
	{ "truncated file, unknown link type", test_truncated_and_linktype },
	{ "public captures of ../shared/corpora", test_corpora },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("capdec_enc", capdec_enc_tests)
