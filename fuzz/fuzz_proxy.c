/* fuzz_proxy: the proxy's whole request path in-process (proxy/fuzz/fuzzpath): a stream from a
 * fake connection through framing, the scanner, sanity, policy, trust, topology and the
 * rewrite, to what would be sent; then the destinations' answers back through the response
 * path. The first input byte chooses the scene, the rest is the stream:
 *   bit 0     edge: 0 internal (from the home server), 1 external (from a provider)
 *   bits 1-2  peer certificate CN: sip.aol.test, sip.yahoo.test, sip.msn.test (not allowed), none
 *   bits 4-7  the destinations' answer: none, 100, 180, 200, 202, 300, 302, 400, 401, 403,
 *             404, 407, 408, 486, 500, 503
 * With FUZZ_STRICT=1 in the environment, what the proxy sends must also hold up: every byte it
 * answers or forwards frames and scans as defect-free SIP (lib/sip/sipscan), and nothing inside leaves through the external
 * edge (a failure aborts, naming the rule). Without it only crashes and sanitizer reports count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "sip/sipframe.h"
#include "sip/sipscan.h"
#include "../proxy/conf/conf.h"
#include "../proxy/fuzz/fuzzpath.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_proxy_conf[] =
	"[global]\n"
	"log_level = error\n"
	"control_socket = @/ctl.sock\n"
	"dns_server = 127.77.130.1:53\n"
	"domain = contoso.test\n"
	"allow_tcp = no\n"
	"database = @/state.db\n"
	"[internal]\n"
	"listen = 127.77.130.3:5061\n"
	"fqdn = ap-int.contoso.test\n"
	"cert = @/int.crt\n"
	"key = @/int.key\n"
	"ca = @/ca.crt\n"
	"next_hop = pool.contoso.test\n"
	"next_hop_port = 5061\n"
	"[external]\n"
	"listen = 127.77.130.4:5061\n"
	"fqdn = ap.contoso.test\n"
	"cert = @/ext.crt\n"
	"key = @/ext.key\n"
	"ca = @/ca.crt\n"
	"[provider aol]\n"
	"fqdn = sip.aol.test\n"
	"domains = aol.test, aim.test\n"
	"allow = yes\n"
	"filter = contacts-only\n"
	"[provider yahoo]\n"
	"fqdn = sip.yahoo.test\n"
	"domains = yahoo.test\n"
	"allow = yes\n"
	"filter = allow-all\n"
	"[provider msn]\n"
	"fqdn = sip.msn.test\n"
	"domains = msn.test\n";

static const char *const fuzz_proxy_users[] = { "bob@contoso.test", "alice@contoso.test",
						 NULL };
static const char *const fuzz_proxy_cn[] = { "sip.aol.test", "sip.yahoo.test", "sip.msn.test",
					     "" };
static const int fuzz_proxy_status[] = { 0, 100, 180, 200, 202, 300, 302, 400, 401, 403, 404,
					 407, 408, 486, 500, 503 };

static struct fuzzpath *fuzz_proxy_fp;
static bool fuzz_proxy_strict;

static void fuzz_proxy_problem(bool error, const char *msg, void *arg)
{
	if (error)
		fprintf(stderr, "fuzz_proxy: config: %s\n", msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf *cfg = NULL;
	const char *path;

	log_set_level(getenv("FUZZ_DEBUG") ? LOGL_DEBUG : LOGL_NONE);
	fuzz_proxy_strict = getenv("FUZZ_STRICT") && *getenv("FUZZ_STRICT") == '1';
	path = fuzzfile_certs() ? NULL : fuzzfile_write("accessproxy.conf", fuzz_proxy_conf,
							 sizeof(fuzz_proxy_conf) - 1, 1);
	if (!path || conf_load(&cfg, path, fuzz_proxy_problem, NULL) ||
	    fuzzpath_alloc(&fuzz_proxy_fp, cfg, fuzz_proxy_users)) {
		fprintf(stderr, "fuzz_proxy: cannot set up the proxy\n");
		abort();
	}
	mem_deref(cfg);
	return 0;
}

static void fuzz_proxy_fail(const char *rule, const char *p, size_t len)
{
	fprintf(stderr, "fuzz_proxy: %s:\n%.*s\n", rule, (int)(len > 2000 ? 2000 : len), p);
	abort();
}

/* FUZZ_STRICT: every message in buf frames and scans, with no raw control byte in its header;
 * with clean, without any defect either (what is forwarded inward; an answer copies the
 * request's Via and may repeat its defect, RFC 3261 8.2.6.2). */
static void fuzz_proxy_check_stream(const char *what, const char *buf, size_t len,
				    bool clean)
{
	struct sipframe_limits lim = { .max_head = SIPFRAME_DEFAULT_MAX_HEAD,
				       .max_body = SIPFRAME_DEFAULT_MAX_BODY };
	size_t off = 0, skip, mlen;
	struct sipscan sc;
	size_t i;

	while (off < len) {
		if (sipframe_next(&lim, buf + off, len - off, &skip, &mlen))
			fuzz_proxy_fail(what, buf + off, len - off);
		/* the tolerant scanner, not libosip2: RFC 4475 3.1.1 messages are valid SIP that
		 * libosip2 cannot read, and our answers copy their fields */
		if (sipscan_parse(&sc, buf + off + skip, mlen) || (clean && sc.defect))
			fuzz_proxy_fail(what, buf + off + skip, mlen);
		for (i = off + skip; i < off + skip + mlen; i++) {
			unsigned char ch = (unsigned char)buf[i];

			/* the header block at least must be free of raw control bytes */
			if (i + 3 < off + skip + mlen && !memcmp(buf + i, "\r\n\r\n", 4))
				break;
			if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') || ch == 0x7f)
				fuzz_proxy_fail(what, buf + off + skip, mlen);
		}
		off += skip + mlen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum conf_edge_id edge;
	const char *ans, *fwd, *edges;
	size_t alen, flen;

	if (size < 1)
		return 0;
	edge = (data[0] & 1) ? CONF_EXTERNAL : CONF_INTERNAL;
	if (fuzzpath_run(fuzz_proxy_fp, edge, fuzz_proxy_cn[(data[0] >> 1) & 3], data + 1,
			 size - 1, fuzz_proxy_status[data[0] >> 4]))
		return 0;
	ans = fuzzpath_answers(fuzz_proxy_fp, &alen);
	fwd = fuzzpath_forwarded(fuzz_proxy_fp, &flen);
	edges = fuzzpath_forwarded_edges(fuzz_proxy_fp);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "---- answered:\n%.*s---- forwarded (%s):\n%.*s", (int)alen, ans,
			edges, (int)flen, fwd);
	if (!fuzz_proxy_strict)
		return 0;
	fuzz_proxy_check_stream("an answer is not well-framed SIP", ans, alen, false);
	fuzz_proxy_check_stream("a forwarded request is malformed", fwd, flen, true);
	/* TOPO-001: our inside names never leave through the external edge */
	if (edge == CONF_INTERNAL && strchr(edges, 'e') && !strchr(edges, 'i') &&
	    (memmem(fwd, flen, "pool.contoso.test", 17) ||
	     memmem(fwd, flen, "ap-int.contoso.test", 19)))
		fuzz_proxy_fail("an inside name left through the external edge", fwd, flen);
	if (edge == CONF_EXTERNAL && (memmem(ans, alen, "pool.contoso.test", 17) ||
				      memmem(ans, alen, "ap-int.contoso.test", 19)))
		fuzz_proxy_fail("an inside name in an answer to the outside", ans, alen);
	return 0;
}
