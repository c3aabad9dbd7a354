/* decode_cmd: `piclab decode` — prints the SIP messages of a capture, decrypted with a key log. */
#define LOG_MODULE "decode"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "decode/capdec.h"
#include "decode_cmd.h"

/* One line per message: time, src -> dst, tls|clear, flow, start line. With bench set, decodes
 * the file `bench` times and prints messages per second instead. */
int decode_cmd(const char *pcap, const char *keylog, int bench)
{
	struct capdec *d = NULL;
	size_t i, n;
	int err;

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
	err = capdec_open(&d, pcap, keylog);
	if (err) {
		fprintf(stderr, "piclab decode: %s: %s\n", pcap, strerror(err));
		return 2;
	}
	n = capdec_sip_count(d);
	for (i = 0; i < n; i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		const char *eol = memchr(m->data, '\r', m->len);
		char src[64], dst[64];

		printf("%.6f %s -> %s %s flow=%u %.*s\n", m->ts,
		       sa_fmt((const struct sockaddr *)&m->src, src, sizeof(src)),
		       sa_fmt((const struct sockaddr *)&m->dst, dst, sizeof(dst)),
		       m->udp ? "udp" : m->ws ? (m->tls ? "wss" : "ws") : m->tls ? "tls" : "clear",
		       m->flow,
		       (int)(eol ? (size_t)(eol - m->data) : m->len), m->data);
	}
	for (i = 0; i < capdec_flow_count(d); i++) {
		const struct capdec_flow *f = capdec_flow_at(d, i);

		if (f->error)
			fprintf(stderr, "flow %u: %s\n", f->id, f->error);
	}
	mem_deref(d);
	return 0;
}
