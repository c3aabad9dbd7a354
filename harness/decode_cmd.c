/* decode_cmd: `piclab decode` — prints the SIP messages of a capture, decrypted with a key log. */
#define LOG_MODULE "decode"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "base/mem.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "decode/capdec.h"
#include "decode_cmd.h"

static int decode_print(const struct capdec_sip *m, void *arg)
{
	const char *eol = memchr(m->data, '\r', m->len);
	char src[64], dst[64];

	printf("%.6f %s -> %s %s flow=%u %.*s\n", m->ts,
	       sa_fmt((const struct sockaddr *)&m->src, src, sizeof(src)),
	       sa_fmt((const struct sockaddr *)&m->dst, dst, sizeof(dst)),
	       m->udp ? "udp" : m->ws ? (m->tls ? "wss" : "ws") : m->tls ? "tls" : "clear",
	       m->flow, (int)(eol ? (size_t)(eol - m->data) : m->len), m->data);
	return 0;
}

static void decode_flow_error(const struct capdec_flow *f, void *arg)
{
	if (f->error)
		fprintf(stderr, "flow %u: %s\n", f->id, f->error);
}

static int decode_count(const struct capdec_sip *m, void *arg)
{
	uint64_t *bytes = arg;

	*bytes += m->len;
	return 0;
}

/* --stream: one pass with the streaming decoder; its speed and peak memory. */
static int decode_stream(const char *pcap, const char *keylog)
{
	struct capdec_stats st = { 0 };
	struct timespec t0, t1;
	struct rusage ru;
	struct stat sb;
	uint64_t sipbytes = 0;
	double secs, mb;
	int err;

	if (stat(pcap, &sb)) {
		fprintf(stderr, "piclab decode: %s: %s\n", pcap, strerror(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = capdec_stream(pcap, keylog, decode_count, &sipbytes, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err) {
		fprintf(stderr, "piclab decode: %s: %s\n", pcap, strerror(err));
		return 2;
	}
	getrusage(RUSAGE_SELF, &ru);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	mb = (double)sb.st_size / 1e6;
	printf("streamed %.1f MB (%llu packets) in %.2f s: %.1f MB/s, %llu SIP messages, %.0f "
	       "messages/s; peak RSS %.1f MB; %llu flows (%llu TLS, %llu decrypted, %llu with "
	       "errors), at most %llu open, %llu freed on FIN/RST; at most %llu bytes held by one "
	       "direction\n", mb, (unsigned long long)st.packets, secs, secs > 0 ? mb / secs : 0,
	       (unsigned long long)st.msgs, secs > 0 ? (double)st.msgs / secs : 0,
	       (double)ru.ru_maxrss / 1024.0, (unsigned long long)st.flows,
	       (unsigned long long)st.tls_flows, (unsigned long long)st.decrypted_flows,
	       (unsigned long long)st.flow_errors, (unsigned long long)st.max_open_flows,
	       (unsigned long long)st.flows_freed, (unsigned long long)st.max_buffered);
	return 0;
}

/* One line per message: time, src -> dst, tls|clear, flow, start line. With bench set, decodes
 * the file `bench` times and prints messages per second instead; bench < 0 streams once. */
int decode_cmd(const char *pcap, const char *keylog, int bench)
{
	struct capdec *d = NULL;
	int err;

	if (bench < 0)
		return decode_stream(pcap, keylog);
	if (bench > 0) {
		struct timespec t0, t1;
		double secs;
		size_t total = 0;
		int k;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (k = 0; k < bench; k++) {
			err = capdec_open(&d, pcap, keylog);
			if (err) {
				fprintf(stderr, "piclab decode: %s: %s\n", pcap, strerror(err));
				return 2;
			}
			total += capdec_sip_count(d);
			d = mem_deref(d);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("decoded %zu SIP messages in %.3f s: %.0f messages/s\n", total, secs,
		       secs > 0 ? (double)total / secs : 0.0);
		return 0;
	}
	/* streamed: a capture of any size prints in bounded memory */
	err = capdec_stream_flows(pcap, keylog, decode_print, decode_flow_error, NULL, NULL);
	if (err) {
		fprintf(stderr, "piclab decode: %s: %s\n", pcap, strerror(err));
		return 2;
	}
	return 0;
}
