/* test_capdec_stream: the streaming decoder (capdec_stream) — the same messages as the whole-file
 * decoder on every capture at hand (TLS with DSB, WebSocket, GTP-U, UDP), bytes already cut into
 * messages dropped as it goes (one long connection holds a few kB, not its megabytes), finished
 * connections freed on FIN and RST, and a handler's error stopping it. */
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

struct ts_w {
	pcap_dumper_t *d;
	pcap_t *dead;
	double ts;
};

static void ts_open(struct ts_w *w, const char *path)
{
	w->ts = 1700000000.0;
	w->dead = pcap_open_dead(DLT_RAW, 65535);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->dead);
	w->d = pcap_dump_open(w->dead, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->d);
}

/* One IPv4 TCP segment between 10.0.0.1:cport and 10.0.0.2:5060. */
static void ts_tcp(struct ts_w *w, bool from_server, uint16_t cport, uint32_t seq, uint8_t flags,
		   const void *pl, size_t len)
{
	uint8_t p[9000];
	struct pcap_pkthdr h;
	uint16_t sp = from_server ? 5060 : cport, dp = from_server ? cport : 5060;
	size_t n = 40 + len;

	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, from_server ? "10.0.0.2" : "10.0.0.1", p + 12);
	inet_pton(AF_INET, from_server ? "10.0.0.1" : "10.0.0.2", p + 16);
	p[20] = (uint8_t)(sp >> 8);
	p[21] = (uint8_t)sp;
	p[22] = (uint8_t)(dp >> 8);
	p[23] = (uint8_t)dp;
	p[24] = (uint8_t)(seq >> 24);
	p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	p[32] = 0x50;
	p[33] = flags;
	if (len)
		memcpy(p + 40, pl, len);
	w->ts += 0.0001;
	h.ts.tv_sec = (time_t)w->ts;
	h.ts.tv_usec = (suseconds_t)((w->ts - (double)h.ts.tv_sec) * 1e6);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)w->d, &h, p);
}

static void ts_close(struct ts_w *w)
{
	pcap_dump_close(w->d);
	pcap_close(w->dead);
}

static int ts_msg(char *buf, size_t size, unsigned i)
{
	return snprintf(buf, size,
			"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
			"Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-s%u\r\n"
			"From: <sip:alice@contoso.test>;tag=a%u\r\nTo: <sip:bob@aol.test>\r\n"
			"Call-ID: s-%u@10.0.0.1\r\nCSeq: %u MESSAGE\r\nMax-Forwards: 70\r\n"
			"Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nmessage %04u",
			i % 10000, i, i, i + 1, i % 10000);
}

struct ts_count {
	size_t n;
	bool in_order;
	unsigned stop_at;               /* stop after this many (0: never) */
};

static int ts_count_h(const struct capdec_sip *m, void *arg)
{
	struct ts_count *c = arg;
	char want[600];
	int wl = ts_msg(want, sizeof(want), (unsigned)c->n);

	if ((size_t)wl != m->len || memcmp(want, m->data, m->len))
		c->in_order = false;
	c->n++;
	return c->stop_at && c->n == c->stop_at ? ECANCELED : 0;
}

/* One connection carrying 20,000 MESSAGEs (about 6 MB) in segments that cut messages anywhere:
 * every message comes out, in order, and no direction ever holds more than 64 kB. */
static void test_long_connection(void)
{
	char path[] = "/tmp/capdec-stream-XXXXXX";
	struct ts_w w;
	struct capdec_stats st = { 0 };
	struct ts_count cnt = { .in_order = true };
	static char stream[7 * 1024 * 1024];
	size_t len = 0, off = 0, seg = 700;
	uint32_t seq = 1001;
	unsigned i;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	for (i = 0; i < 20000; i++)
		len += (size_t)ts_msg(stream + len, sizeof(stream) - len, i);
	ts_open(&w, path);
	ts_tcp(&w, false, 40000, 1000, 0x02, NULL, 0);
	ts_tcp(&w, true, 40000, 9000, 0x12, NULL, 0);
	while (off < len) {
		size_t n = len - off < seg ? len - off : seg;

		ts_tcp(&w, false, 40000, seq, 0x18, stream + off, n);
		off += n;
		seq += (uint32_t)n;
		seg = seg == 700 ? 1460 : seg == 1460 ? 333 : 700;
	}
	ts_close(&w);
	CU_ASSERT_EQUAL_FATAL(capdec_stream(path, NULL, ts_count_h, &cnt, &st), 0);
	CU_ASSERT_EQUAL(cnt.n, 20000);
	CU_ASSERT(cnt.in_order);
	CU_ASSERT_EQUAL(st.msgs, 20000);
	CU_ASSERT(len > 5 * 1024 * 1024);
	CU_ASSERT(st.max_buffered <= 64 * 1024);
	if (st.max_buffered > 64 * 1024)
		fprintf(stderr, "one direction held %llu bytes of a %zu-byte stream\n",
			(unsigned long long)st.max_buffered, len);
	/* a handler's error stops the decoding there */
	cnt = (struct ts_count){ .in_order = true, .stop_at = 5 };
	CU_ASSERT_EQUAL(capdec_stream(path, NULL, ts_count_h, &cnt, NULL), ECANCELED);
	CU_ASSERT_EQUAL(cnt.n, 5);
	unlink(path);
}

/* 500 connections one after another, each SYN, a MESSAGE, FIN both ways (every tenth ends with
 * RST instead), then the last ACK: each is freed when it ends, so at most one is open. */
static void test_connections_freed(void)
{
	char path[] = "/tmp/capdec-stream-XXXXXX";
	struct ts_w w;
	struct capdec_stats st = { 0 };
	struct ts_count cnt = { .in_order = true };
	char m[600];
	unsigned i;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	ts_open(&w, path);
	for (i = 0; i < 500; i++) {
		uint16_t port = (uint16_t)(20000 + i);
		int n = ts_msg(m, sizeof(m), i);

		ts_tcp(&w, false, port, 100, 0x02, NULL, 0);
		ts_tcp(&w, true, port, 7000, 0x12, NULL, 0);
		ts_tcp(&w, false, port, 101, 0x18, m, (size_t)n);
		if (i % 10 == 9) {
			ts_tcp(&w, true, port, 7001, 0x04, NULL, 0);
			continue;
		}
		ts_tcp(&w, false, port, 101 + (uint32_t)n, 0x11, NULL, 0);
		ts_tcp(&w, true, port, 7001, 0x11, NULL, 0);
		ts_tcp(&w, false, port, 102 + (uint32_t)n, 0x10, NULL, 0);
	}
	ts_close(&w);
	CU_ASSERT_EQUAL_FATAL(capdec_stream(path, NULL, ts_count_h, &cnt, &st), 0);
	CU_ASSERT_EQUAL(cnt.n, 500);
	CU_ASSERT(cnt.in_order);
	CU_ASSERT_EQUAL(st.flows, 500);
	CU_ASSERT_EQUAL(st.flows_freed, 500);
	CU_ASSERT(st.max_open_flows <= 1);
	unlink(path);
}

/* ---- the same messages as capdec_open ---- */

struct ts_cmp {
	const struct capdec *c;
	size_t i;
	size_t bad;
};

static int ts_cmp_h(const struct capdec_sip *m, void *arg)
{
	struct ts_cmp *x = arg;
	const struct capdec_sip *o = capdec_sip_at(x->c, x->i++);

	if (!o || o->len != m->len || memcmp(o->data, m->data, m->len) || o->flow != m->flow ||
	    o->tls != m->tls || o->udp != m->udp || o->ws != m->ws || o->frame != m->frame ||
	    o->ts != m->ts)
		x->bad++;
	return 0;
}

static void ts_same(const char *path)
{
	struct capdec *c = NULL;
	struct ts_cmp x = { 0 };
	struct capdec_stats st = { 0 };

	if (access(path, R_OK)) {
		fprintf(stderr, "capdec_stream: %s not found, skipped\n", path);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, path, NULL), 0);
	x.c = c;
	CU_ASSERT_EQUAL(capdec_stream(path, NULL, ts_cmp_h, &x, &st), 0);
	CU_ASSERT(capdec_sip_count(c) > 0);
	CU_ASSERT_EQUAL(x.i, capdec_sip_count(c));
	CU_ASSERT_EQUAL(x.bad, 0);
	CU_ASSERT_EQUAL(st.msgs, capdec_sip_count(c));
	if (x.bad || x.i != capdec_sip_count(c))
		fprintf(stderr, "%s: streamed %zu messages (%zu differ), whole file %zu\n", path,
			x.i, x.bad, capdec_sip_count(c));
	mem_deref(c);
}

static void test_same_messages(void)
{
	static const char *const fix[] = {
		"message_both_ways", "session_both_ways", "provider_not_allowed", "offline_answers",
	};
	static const char *const pub[] = {
		"websocket-sip.pcapng", "gtp-iphone.pcap", "sip_not_sdp.pcap",
	};
	const char *root = getenv("PICLAB_ROOT"), *corp = getenv("PICLAB_CORPORA");
	char path[1024];
	size_t i;

	for (i = 0; i < sizeof(fix) / sizeof(fix[0]); i++) {
		snprintf(path, sizeof(path), "%s/scenarios/fixtures/replay/%s.pcapng",
			 root ? root : ".", fix[i]);
		ts_same(path);
	}
	for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		if (corp && *corp)
			snprintf(path, sizeof(path), "%s/pcaps/%s", corp, pub[i]);
		else
			snprintf(path, sizeof(path), "%s/../shared/corpora/pcaps/%s",
				 root ? root : ".", pub[i]);
		ts_same(path);
	}
}

static CU_TestInfo capdec_stream_tests[] = {
	{ "one long connection: every message, bounded buffers", test_long_connection },
	{ "finished connections freed (FIN, RST)", test_connections_freed },
	{ "the same messages as the whole-file decoder", test_same_messages },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("capdec_stream", capdec_stream_tests)
