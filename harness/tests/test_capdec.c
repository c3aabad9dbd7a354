/* test_capdec: the capture decoder on live loopback captures of openssl s_server/s_client
 * exchanges, a cleartext TCP flow, and hand-built pcaps; cross-checked against tshark. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pcap/pcap.h>

#include "base/log.h"
#include "base/mem.h"
#include "tests/testreg.h"
#include "../decode/capdec.h"

#define LOG_MODULE "test_capdec"

#define TC_NET "127.77.203."
#define TC_MAXMSG 8

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static void tc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *tc_tmpdir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/capdec-test-XXXXXX");
	return mkdtemp(buf);
}

static void tc_rmdir(const char *dir)
{
	char cmd[512];

	if (getenv("CAPDEC_TEST_KEEP")) {       /* for looking at the captures by hand */
		fprintf(stderr, "kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		log_warn("cannot remove %s", dir);
}

/* --- SIP texts ------------------------------------------------------------------------ */

static int tc_request(char *buf, size_t n, int i)
{
	char body[64];
	int blen = snprintf(body, sizeof(body), "hello number %d from alice", i);

	return snprintf(buf, n,
			"MESSAGE sip:bob@test SIP/2.0\r\n"
			"Via: SIP/2.0/TLS " TC_NET "1:5061;branch=z9hG4bK-%d\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@test>;tag=a%d\r\n"
			"To: <sip:bob@test>\r\n"
			"Call-ID: call-%d@test\r\n"
			"CSeq: %d MESSAGE\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: %d\r\n\r\n%s", i, i, i, i, blen, body);
}

static int tc_response(char *buf, size_t n, int i)
{
	return snprintf(buf, n,
			"SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/TLS " TC_NET "1:5061;branch=z9hG4bK-%d\r\n"
			"From: <sip:alice@test>;tag=a%d\r\n"
			"To: <sip:bob@test>;tag=b%d\r\n"
			"Call-ID: call-%d@test\r\n"
			"CSeq: %d MESSAGE\r\n"
			"Content-Length: 0\r\n\r\n", i, i, i, i, i);
}

/* What a test expects to find: the exact text, and whether the server sent it. */
struct tc_expect {
	char text[TC_MAXMSG][512];
	bool from_server[TC_MAXMSG];
	int n;
};

static uint16_t tc_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* The decoded messages are exactly the expected ones, in order and direction. */
static void tc_check_msgs(const struct capdec *c, const struct tc_expect *ex, uint16_t sport,
			  bool tls)
{
	size_t i;

	CU_ASSERT_EQUAL_FATAL(capdec_sip_count(c), (size_t)ex->n);
	for (i = 0; i < (size_t)ex->n; i++) {
		const struct capdec_sip *m = capdec_sip_at(c, i);

		CU_ASSERT_EQUAL(m->len, strlen(ex->text[i]));
		CU_ASSERT(m->len == strlen(ex->text[i]) && !memcmp(m->data, ex->text[i], m->len));
		CU_ASSERT_EQUAL(tc_port(&m->src) == sport, ex->from_server[i]);
		CU_ASSERT_EQUAL(tc_port(&m->dst) == sport, !ex->from_server[i]);
		CU_ASSERT_EQUAL(m->tls, tls);
		CU_ASSERT(m->ts > 1e9);
	}
}

/* --- live capture --------------------------------------------------------------------- */

struct tc_cap {
	pcap_t *pc;
	pcap_dumper_t *pd;
	pthread_t th;
	atomic_bool stop;
};

static void *tc_cap_thread(void *arg)
{
	struct tc_cap *cp = arg;
	int i;

	/* Bounded: 60 s at most even if nobody stops it. */
	for (i = 0; i < 30000 && !atomic_load(&cp->stop); i++) {
		if (pcap_dispatch(cp->pc, -1, pcap_dump, (u_char *)cp->pd) <= 0)
			tc_sleep_ms(2);
	}
	return NULL;
}

static int tc_cap_start(struct tc_cap *cp, const char *file, const char *filter)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;

	memset(cp, 0, sizeof(*cp));
	cp->pc = pcap_create("lo", eb);
	if (!cp->pc)
		return EINVAL;
	pcap_set_snaplen(cp->pc, 262144);
	pcap_set_immediate_mode(cp->pc, 1);
	pcap_set_buffer_size(cp->pc, 64 << 20);
	if (pcap_activate(cp->pc) < 0)
		goto fail;
	if (pcap_compile(cp->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		goto fail;
	if (pcap_setfilter(cp->pc, &prog) < 0) {
		pcap_freecode(&prog);
		goto fail;
	}
	pcap_freecode(&prog);
	pcap_setnonblock(cp->pc, 1, eb);
	cp->pd = pcap_dump_open(cp->pc, file);
	if (!cp->pd)
		goto fail;
	if (pthread_create(&cp->th, NULL, tc_cap_thread, cp)) {
		pcap_dump_close(cp->pd);
		goto fail;
	}
	return 0;
fail:
	log_error("capture: %s", pcap_geterr(cp->pc));
	pcap_close(cp->pc);
	cp->pc = NULL;
	return EINVAL;
}

static void tc_cap_stop(struct tc_cap *cp)
{
	int i;

	if (!cp->pc)
		return;
	tc_sleep_ms(100);
	atomic_store(&cp->stop, true);
	pthread_join(cp->th, NULL);
	for (i = 0; i < 100 && pcap_dispatch(cp->pc, -1, pcap_dump, (u_char *)cp->pd) > 0; i++)
		;
	pcap_dump_close(cp->pd);
	pcap_close(cp->pc);
	cp->pc = NULL;
}

/* --- child processes ------------------------------------------------------------------ */

/* Starts argv under `timeout` (so it dies on its own), stdin from a pipe we keep. */
static pid_t tc_spawn(char *const argv[], int *infd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(p[0], 0);
		dup2(nul, 1);
		dup2(nul, 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	*infd = p[1];
	return pid;
}

static void tc_reap(pid_t pid, int *infd)
{
	int i, st;

	if (*infd >= 0) {
		close(*infd);
		*infd = -1;
	}
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		tc_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Whether something listens on addr:port (IPv4), from /proc/net/tcp. */
static bool tc_listening(const char *addr, uint16_t port)
{
	char want[32], line[256];
	struct in_addr a;
	bool found = false;
	FILE *fp;

	inet_pton(AF_INET, addr, &a);
	snprintf(want, sizeof(want), "%08X:%04X", (unsigned)a.s_addr, port);
	fp = fopen("/proc/net/tcp", "r");
	if (!fp)
		return false;
	while (!found && fgets(line, sizeof(line), fp)) {
		char local[64], st[8];

		if (sscanf(line, "%*s %63s %*s %7s", local, st) == 2 && !strcmp(local, want) &&
		    !strcmp(st, "0A"))
			found = true;
	}
	fclose(fp);
	return found;
}

static bool tc_file_has(const char *path, const char *word)
{
	char line[512];
	bool found = false;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return false;
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, word) != NULL;
	fclose(fp);
	return found;
}

static bool tc_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* --- tshark cross-check --------------------------------------------------------------- */

static bool tc_have(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* tshark's SIP methods and status codes, in order, against the decoder's; and the frame that
 * completed each message (the report's evidence links) against tshark's frame number. */
static void tc_tshark_check(const struct capdec *c, const char *pcap, const char *keylog)
{
	char cmd[1024], line[512], mine[16];
	size_t i = 0, ntok = 0;
	FILE *fp;

	if (!tc_have("tshark")) {
		fprintf(stderr, "\ntshark is not installed (Debian package tshark; make deps installs "
			"it): the decoder cannot be cross-checked\n");
		CU_FAIL_FATAL("tshark missing: the cross-check cannot run");
	}
	snprintf(cmd, sizeof(cmd),
		 "timeout 60 tshark -n -r '%s' %s%s -Y sip -T fields -e frame.number -e sip.Method "
		 "-e sip.Status-Code 2>/dev/null", pcap, keylog ? "-o tls.keylog_file:" : "",
		 keylog ? keylog : "");
	fp = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *tok, *save = NULL;
		unsigned long frame = strtoul(line, NULL, 10);

		tok = strtok_r(line, "\t,\r\n", &save); /* the frame number */
		for (tok = strtok_r(NULL, "\t,\r\n", &save); tok;
		     tok = strtok_r(NULL, "\t,\r\n", &save)) {
			const struct capdec_sip *m = capdec_sip_at(c, i++);
			size_t k;

			ntok++;
			if (!m) {
				CU_FAIL("tshark sees more SIP messages than the decoder");
				continue;
			}
			if (!strncmp(m->data, "SIP/2.0 ", 8)) {
				snprintf(mine, sizeof(mine), "%.3s", m->data + 8);
			} else {
				for (k = 0; k < m->len && k < sizeof(mine) - 1 && m->data[k] != ' ';
				     k++)
					mine[k] = m->data[k];
				mine[k] = '\0';
			}
			CU_ASSERT_STRING_EQUAL(tok, mine);
			CU_ASSERT_EQUAL(m->frame, frame);
		}
	}
	pclose(fp);
	CU_ASSERT_EQUAL(ntok, capdec_sip_count(c));
}

/* --- TLS over openssl s_server / s_client --------------------------------------------- */

struct tc_tls {
	const char *proto;      /* -tls1_3 or -tls1_2 */
	const char *copt;       /* -ciphersuites or -cipher */
	const char *cipher;
	int version;
	bool keyupdate;
	bool hrr;               /* client key share the server refuses: HelloRetryRequest */
};

static char tc_certdir[64];

static int tc_cert_init(void)
{
	char cmd[512];

	if (!tc_tmpdir(tc_certdir, sizeof(tc_certdir)))
		return 1;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && timeout 30 openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -subj /CN=test -days 2 -keyout key.pem "
		 "-out cert.pem >/dev/null 2>&1", tc_certdir);
	signal(SIGPIPE, SIG_IGN);
	return system(cmd) == 0 ? 0 : 1;
}

static int tc_cert_clean(void)
{
	tc_rmdir(tc_certdir);
	return 0;
}

/* One s_server/s_client exchange of two MESSAGE transactions, captured; returns 0 when the
 * capture and key log exist. */
static int tc_tls_exchange(const struct tc_tls *t, const char *dir, const char *addr,
			   struct tc_expect *ex)
{
	char pcap[256], skl[256], ckl[256], cert[256], key[256], acc[64], filter[128];
	char buf[1024];
	int sfd = -1, cfd = -1, i, len, err = 0;
	pid_t spid = -1, cpid = -1;
	struct tc_cap cap;

	snprintf(pcap, sizeof(pcap), "%s/cap.pcap", dir);
	snprintf(skl, sizeof(skl), "%s/server.keys", dir);
	snprintf(ckl, sizeof(ckl), "%s/client.keys", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", tc_certdir);
	snprintf(key, sizeof(key), "%s/key.pem", tc_certdir);
	snprintf(acc, sizeof(acc), "%s:5061", addr);
	snprintf(filter, sizeof(filter), "host %s and tcp port 5061", addr);
	if (tc_cap_start(&cap, pcap, filter))
		return EINVAL;
	{
		char *sargv[] = { "timeout", "30", "openssl", "s_server", "-accept", acc,
				  "-cert", cert, "-key", key, "-keylogfile", skl, "-quiet",
				  "-naccept", "1", (char *)t->proto, (char *)t->copt,
				  (char *)t->cipher, NULL, NULL, NULL };
		char *cargv[] = { "timeout", "30", "openssl", "s_client", "-connect", acc,
				  "-keylogfile", ckl, "-quiet", "-no_ign_eof",
				  (char *)t->proto,
				  (char *)t->copt, (char *)t->cipher, NULL, NULL, NULL };

		if (t->hrr) {
			sargv[18] = "-groups";
			sargv[19] = "P-256";
			cargv[13] = "-groups";
			cargv[14] = "X25519:P-256";
		}
		spid = tc_spawn(sargv, &sfd);
		for (i = 0; i < 300 && !tc_listening(addr, 5061); i++)
			tc_sleep_ms(10);
		if (i == 300) {
			err = ETIMEDOUT;
			goto out;
		}
		cpid = tc_spawn(cargv, &cfd);
	}
	/* Data only once the client has its traffic keys, so the order on the wire is ours. */
	for (i = 0; i < 500 && !tc_file_has(ckl, t->version == 0x0304 ? "CLIENT_TRAFFIC_SECRET_0"
						       : "CLIENT_RANDOM"); i++)
		tc_sleep_ms(10);
	tc_sleep_ms(200);
	ex->n = 0;
	for (i = 1; i <= 3; i++) {
		if (i == 3 && t->keyupdate) {
			/* s_client's command letter (active with -no_ign_eof): a TLS 1.3
			 * KeyUpdate, not data. */
			if (!tc_write_all(cfd, "k\n", 2))
				err = EPIPE;
			tc_sleep_ms(200);
		}
		len = tc_request(buf, sizeof(buf), i);
		memcpy(ex->text[ex->n], buf, (size_t)len + 1);
		ex->from_server[ex->n++] = false;
		if (!tc_write_all(cfd, buf, (size_t)len))
			err = EPIPE;
		tc_sleep_ms(150);
		len = tc_response(buf, sizeof(buf), i);
		memcpy(ex->text[ex->n], buf, (size_t)len + 1);
		ex->from_server[ex->n++] = true;
		if (!tc_write_all(sfd, buf, (size_t)len))
			err = EPIPE;
		tc_sleep_ms(150);
	}
out:
	tc_reap(cpid, &cfd);
	tc_reap(spid, &sfd);
	tc_cap_stop(&cap);
	return err;
}

static void tc_tls_case(const struct tc_tls *t, int hostoct)
{
	char dir[64], pcap[256], ckl[256], addr[32];
	const struct capdec_flow *f;
	struct tc_expect ex = { .n = 0 };
	struct capdec *c = NULL;
	size_t live = mem_live();
	int err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc_tmpdir(dir, sizeof(dir)));
	snprintf(addr, sizeof(addr), TC_NET "%d", hostoct);
	snprintf(pcap, sizeof(pcap), "%s/cap.pcap", dir);
	snprintf(ckl, sizeof(ckl), "%s/client.keys", dir);
	err = tc_tls_exchange(t, dir, addr, &ex);
	CU_ASSERT_EQUAL_FATAL(err, 0);

	/* With the client's key log: every message, decrypted, in order. */
	err = capdec_open(&c, pcap, ckl);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL_FATAL(capdec_flow_count(c), 1);
	f = capdec_flow_at(c, 0);
	CU_ASSERT(f->tls);
	CU_ASSERT(f->decrypted);
	CU_ASSERT_EQUAL(f->tls_version, t->version);
	CU_ASSERT_EQUAL(f->cleartext_sip, 0);
	CU_ASSERT_EQUAL(f->sip_msgs, (unsigned)ex.n);
	CU_ASSERT_PTR_NULL(f->error);
	if (f->error)
		fprintf(stderr, "flow error: %s\n", f->error);
	CU_ASSERT_EQUAL(tc_port(&f->server), 5061);
	tc_check_msgs(c, &ex, 5061, true);
	{
		char *dump = NULL;
		size_t dlen = 0;
		FILE *mf = open_memstream(&dump, &dlen);

		capdec_debug(c, mf);
		fclose(mf);
		CU_ASSERT(dump && strstr(dump, " decrypted sip=6 cleartext=0"));
		free(dump);
	}
	tc_tshark_check(c, pcap, ckl);
	c = mem_deref(c);

	if (t->version == 0x0304) {
		/* A key log with only the traffic secrets still opens the application data. */
		char tkl[256], cmd[600];

		snprintf(tkl, sizeof(tkl), "%s/traffic.keys", dir);
		snprintf(cmd, sizeof(cmd), "grep TRAFFIC_SECRET_0 '%s' > '%s'", ckl, tkl);
		CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
		err = capdec_open(&c, pcap, tkl);
		CU_ASSERT_EQUAL_FATAL(err, 0);
		CU_ASSERT(capdec_flow_at(c, 0)->decrypted);
		CU_ASSERT_PTR_NULL(capdec_flow_at(c, 0)->error);
		tc_check_msgs(c, &ex, 5061, true);
		c = mem_deref(c);
	}

	/* Without keys: a TLS flow, nothing decrypted, no SIP. */
	err = capdec_open(&c, pcap, NULL);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL_FATAL(capdec_flow_count(c), 1);
	f = capdec_flow_at(c, 0);
	CU_ASSERT(f->tls);
	CU_ASSERT(!f->decrypted);
	CU_ASSERT_EQUAL(f->sip_msgs, 0);
	CU_ASSERT_EQUAL(capdec_sip_count(c), 0);
	CU_ASSERT(f->error && strstr(f->error, "no key for client_random"));
	c = mem_deref(c);
	CU_ASSERT_EQUAL(mem_live(), live);
	tc_rmdir(dir);
}

static void test_tls13_aes128(void)
{
	static const struct tc_tls t = { "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
					 0x0304, false, false };

	tc_tls_case(&t, 1);
}

static void test_tls13_aes256(void)
{
	static const struct tc_tls t = { "-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384",
					 0x0304, false, false };

	tc_tls_case(&t, 2);
}

static void test_tls13_chacha(void)
{
	static const struct tc_tls t = { "-tls1_3", "-ciphersuites",
					 "TLS_CHACHA20_POLY1305_SHA256", 0x0304, false, false };

	tc_tls_case(&t, 3);
}

static void test_tls13_keyupdate(void)
{
	static const struct tc_tls t = { "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
					 0x0304, true, false };

	tc_tls_case(&t, 4);
}

static void test_tls13_hrr(void)
{
	static const struct tc_tls t = { "-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384",
					 0x0304, false, true };

	tc_tls_case(&t, 8);
}

static void test_tls12_aesgcm(void)
{
	static const struct tc_tls t = { "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256",
					 0x0303, false, false };

	tc_tls_case(&t, 5);
}

static void test_tls12_chacha(void)
{
	static const struct tc_tls t = { "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305",
					 0x0303, false, false };

	tc_tls_case(&t, 6);
}

/* --- cleartext SIP over a real TCP connection ----------------------------------------- */

static int tc_listen(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, addr, &sin.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) || listen(s, 4)) {
		close(s);
		return -1;
	}
	return s;
}

/* A connected pair: *cs the client end (Nagle off, so each send is a segment), *ss the server's. */
static int tc_pair(const char *addr, uint16_t port, int *cs, int *ss)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, l = tc_listen(addr, port);

	if (l < 0)
		return errno;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	*cs = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(*cs, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(*cs, (struct sockaddr *)&sin, sizeof(sin))) {
		close(*cs);
		close(l);
		return errno;
	}
	*ss = accept(l, NULL, NULL);
	close(l);
	if (*ss < 0) {
		close(*cs);
		return errno;
	}
	setsockopt(*ss, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static void tc_send(int s, const char *p, size_t n)
{
	CU_ASSERT_EQUAL(send(s, p, n, 0), (ssize_t)n);
	tc_sleep_ms(30);
}

static void test_cleartext_tcp(void)
{
	char dir[64], pcap[256], buf[1024];
	const char *addr = TC_NET "7";
	const struct capdec_flow *f;
	struct capdec *c = NULL;
	struct tc_expect ex = { .n = 0 };
	struct tc_cap cap;
	size_t live = mem_live();
	int cs, ss, len, i, err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc_tmpdir(dir, sizeof(dir)));
	snprintf(pcap, sizeof(pcap), "%s/clear.pcap", dir);
	CU_ASSERT_EQUAL_FATAL(tc_cap_start(&cap, pcap, "host 127.77.203.7 and tcp"), 0);
	err = tc_pair(addr, 5060, &cs, &ss);
	CU_ASSERT_EQUAL(err, 0);
	if (!err) {
		for (i = 1; i <= 2; i++) {
			len = tc_request(buf, sizeof(buf), i);
			memcpy(ex.text[ex.n], buf, (size_t)len + 1);
			ex.from_server[ex.n++] = false;
			if (i == 1) {   /* one message over three segments */
				tc_send(cs, buf, 20);
				tc_send(cs, buf + 20, 100);
				tc_send(cs, buf + 120, (size_t)len - 120);
			} else {
				tc_send(cs, buf, (size_t)len);
			}
			len = tc_response(buf, sizeof(buf), i);
			memcpy(ex.text[ex.n], buf, (size_t)len + 1);
			ex.from_server[ex.n++] = true;
			tc_send(ss, buf, (size_t)len);
		}
		close(cs);
		close(ss);
	}
	/* A second connection that is not SIP: seen, nothing found in it, no complaint. */
	err = tc_pair(addr, 5070, &cs, &ss);
	CU_ASSERT_EQUAL(err, 0);
	if (!err) {
		tc_send(cs, "GET / HTTP/1.0\r\n\r\n", 18);
		tc_send(ss, "HTTP/1.0 204 No Content\r\n\r\n", 27);
		close(cs);
		close(ss);
	}
	tc_cap_stop(&cap);

	err = capdec_open(&c, pcap, NULL);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL_FATAL(capdec_flow_count(c), 2);
	f = capdec_flow_at(c, 0);
	CU_ASSERT(!f->tls);
	CU_ASSERT(!f->decrypted);
	CU_ASSERT_EQUAL(f->cleartext_sip, 4);
	CU_ASSERT_EQUAL(f->sip_msgs, 4);
	CU_ASSERT_PTR_NULL(f->error);
	f = capdec_flow_at(c, 1);
	CU_ASSERT_EQUAL(f->id, 1);
	CU_ASSERT(!f->tls);
	CU_ASSERT_EQUAL(f->sip_msgs, 0);
	CU_ASSERT_PTR_NULL(f->error);
	tc_check_msgs(c, &ex, 5060, false);
	for (i = 0; i < ex.n; i++)
		CU_ASSERT_EQUAL(capdec_sip_at(c, (size_t)i)->flow, 0);
	tc_tshark_check(c, pcap, NULL);
	c = mem_deref(c);
	CU_ASSERT_EQUAL(mem_live(), live);
	tc_rmdir(dir);
}

/* --- hand-built captures -------------------------------------------------------------- */

struct tc_writer {
	pcap_dumper_t *d;
	int dlt;
	bool v6;
	double ts;
	uint16_t cport;
};

static size_t tc_link(uint8_t *p, int dlt, bool v6)
{
	uint16_t et = v6 ? 0x86dd : 0x0800;
	uint32_t af = v6 ? AF_INET6 : AF_INET;

	switch (dlt) {
	case DLT_EN10MB:
		memset(p, 0, 12);
		p[12] = (uint8_t)(et >> 8);
		p[13] = (uint8_t)et;
		return 14;
	case DLT_NULL:
		memcpy(p, &af, 4);
		return 4;
	case DLT_LOOP:
		af = htonl(af);
		memcpy(p, &af, 4);
		return 4;
	case DLT_LINUX_SLL:
		memset(p, 0, 16);
		p[14] = (uint8_t)(et >> 8);
		p[15] = (uint8_t)et;
		return 16;
	case DLT_LINUX_SLL2:
		memset(p, 0, 20);
		p[0] = (uint8_t)(et >> 8);
		p[1] = (uint8_t)et;
		return 20;
	default:
		return 0;
	}
}

/* One TCP segment between 127.77.203.20:cport and 127.77.203.21:5060 (or fd00::20/21). */
static void tc_put(struct tc_writer *w, bool from_server, uint32_t seq, uint8_t flags,
		   const char *pl, size_t len)
{
	uint8_t fr[4096], a[16] = { 0 }, b[16] = { 0 };
	struct pcap_pkthdr h;
	uint16_t sp = from_server ? 5060 : w->cport, dp = from_server ? w->cport : 5060;
	size_t n = tc_link(fr, w->dlt, w->v6), ipl = (w->v6 ? 40 : 20) + 20 + len;

	if (w->v6) {
		a[0] = b[0] = 0xfd;
		a[15] = 0x20;
		b[15] = 0x21;
		memset(fr + n, 0, 40);
		fr[n] = 0x60;
		fr[n + 4] = (uint8_t)((ipl - 40) >> 8);
		fr[n + 5] = (uint8_t)(ipl - 40);
		fr[n + 6] = IPPROTO_TCP;
		fr[n + 7] = 64;
		memcpy(fr + n + 8, from_server ? b : a, 16);
		memcpy(fr + n + 24, from_server ? a : b, 16);
		n += 40;
	} else {
		inet_pton(AF_INET, TC_NET "20", a);
		inet_pton(AF_INET, TC_NET "21", b);
		memset(fr + n, 0, 20);
		fr[n] = 0x45;
		fr[n + 2] = (uint8_t)(ipl >> 8);
		fr[n + 3] = (uint8_t)ipl;
		fr[n + 6] = 0x40;
		fr[n + 8] = 64;
		fr[n + 9] = IPPROTO_TCP;
		memcpy(fr + n + 12, from_server ? b : a, 4);
		memcpy(fr + n + 16, from_server ? a : b, 4);
		n += 20;
	}
	memset(fr + n, 0, 20);
	fr[n] = (uint8_t)(sp >> 8);
	fr[n + 1] = (uint8_t)sp;
	fr[n + 2] = (uint8_t)(dp >> 8);
	fr[n + 3] = (uint8_t)dp;
	fr[n + 4] = (uint8_t)(seq >> 24);
	fr[n + 5] = (uint8_t)(seq >> 16);
	fr[n + 6] = (uint8_t)(seq >> 8);
	fr[n + 7] = (uint8_t)seq;
	fr[n + 12] = 0x50;
	fr[n + 13] = flags;
	fr[n + 14] = 0xff;
	fr[n + 15] = 0xff;
	n += 20;
	if (len)
		memcpy(fr + n, pl, len);
	n += len;
	w->ts += 0.001;
	h.ts.tv_sec = (time_t)w->ts;
	h.ts.tv_usec = (suseconds_t)((w->ts - (double)h.ts.tv_sec) * 1e6);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)w->d, &h, fr);
}

#define TC_SYN 0x02
#define TC_ACK 0x10
#define TC_FIN 0x01
#define TC_PSH 0x08

/* Segments out of order, retransmitted and overlapping, a sequence number wrap, then the
 * same ports reused by a new connection. */
static void tc_handbuilt(int dlt, bool v6)
{
	char dir[64], pcap[256];
	struct tc_writer w = { .dlt = dlt, .v6 = v6, .ts = 1700000000.0, .cport = 40000 };
	struct tc_expect ex = { .n = 0 };
	const uint32_t cisn = 0xffffff80u, sisn = 7000;
	char stream[2048];
	size_t l1, l2, lr, cut;
	struct capdec *c = NULL;
	pcap_t *dead;
	size_t live = mem_live();
	int err, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc_tmpdir(dir, sizeof(dir)));
	snprintf(pcap, sizeof(pcap), "%s/hand.pcap", dir);
	dead = pcap_open_dead(dlt, 65535);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dead);
	w.d = pcap_dump_open(dead, pcap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w.d);

	l1 = (size_t)tc_request(ex.text[0], sizeof(ex.text[0]), 1);
	l2 = (size_t)tc_request(ex.text[1], sizeof(ex.text[1]), 2);
	lr = (size_t)tc_response(ex.text[2], sizeof(ex.text[2]), 1);
	tc_request(ex.text[3], sizeof(ex.text[3]), 3);
	ex.from_server[2] = true;
	ex.n = 4;
	memcpy(stream, ex.text[0], l1);
	memcpy(stream + l1, ex.text[1], l2);
	cut = l1 + 20;

	tc_put(&w, false, cisn, TC_SYN, NULL, 0);
	tc_put(&w, true, sisn, TC_SYN | TC_ACK, NULL, 0);
	tc_put(&w, false, cisn + 1, TC_ACK, NULL, 0);
	tc_put(&w, false, cisn + 1, TC_ACK | TC_PSH, stream, 100);
	tc_put(&w, false, cisn + 1 + 250, TC_ACK | TC_PSH, stream + 250, cut - 250);
	tc_put(&w, false, cisn + 1 + 250, TC_ACK | TC_PSH, stream + 250, cut - 250);
	tc_put(&w, false, cisn + 1 + 100, TC_ACK | TC_PSH, stream + 100, 150);
	tc_put(&w, false, cisn + 1 + 100, TC_ACK | TC_PSH, stream + 100, 150);
	tc_put(&w, false, cisn + 1 + 50, TC_ACK | TC_PSH, stream + 50, 300);
	tc_put(&w, false, cisn + 1 + (uint32_t)cut, TC_ACK | TC_PSH, stream + cut,
	       l1 + l2 - cut);
	tc_put(&w, false, cisn + 1 + (uint32_t)cut, TC_ACK | TC_PSH, stream + cut,
	       l1 + l2 - cut);
	tc_put(&w, true, sisn + 1 + 60, TC_ACK | TC_PSH, ex.text[2] + 60, lr - 60);
	tc_put(&w, true, sisn + 1, TC_ACK | TC_PSH, ex.text[2], 60);
	tc_put(&w, false, cisn + 1 + (uint32_t)(l1 + l2), TC_ACK | TC_FIN, NULL, 0);
	tc_put(&w, true, sisn + 1 + (uint32_t)lr, TC_ACK | TC_FIN, NULL, 0);
	/* Same ports, new connection. */
	tc_put(&w, false, 555, TC_SYN, NULL, 0);
	tc_put(&w, true, 9000, TC_SYN | TC_ACK, NULL, 0);
	tc_put(&w, false, 556, TC_ACK | TC_PSH, ex.text[3], strlen(ex.text[3]));
	pcap_dump_close(w.d);
	pcap_close(dead);

	err = capdec_open(&c, pcap, NULL);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL_FATAL(capdec_flow_count(c), 2);
	CU_ASSERT_EQUAL(capdec_flow_at(c, 0)->cleartext_sip, 3);
	CU_ASSERT_PTR_NULL(capdec_flow_at(c, 0)->error);
	CU_ASSERT_EQUAL(capdec_flow_at(c, 1)->cleartext_sip, 1);
	CU_ASSERT_EQUAL(capdec_flow_at(c, 0)->client.ss_family, v6 ? AF_INET6 : AF_INET);
	tc_check_msgs(c, &ex, 5060, false);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(capdec_sip_at(c, (size_t)i)->flow, i == 3 ? 1u : 0u);
	c = mem_deref(c);
	CU_ASSERT_EQUAL(mem_live(), live);
	tc_rmdir(dir);
}

static void test_handbuilt_linktypes(void)
{
	static const struct {
		int dlt;
		bool v6;
	} tab[] = {
		{ DLT_EN10MB, false }, { DLT_EN10MB, true }, { DLT_NULL, false },
		{ DLT_NULL, true }, { DLT_LOOP, false }, { DLT_LOOP, true }, { DLT_RAW, false },
		{ DLT_RAW, true }, { DLT_LINUX_SLL, false }, { DLT_LINUX_SLL, true },
		{ DLT_LINUX_SLL2, false }, { DLT_LINUX_SLL2, true },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		tc_handbuilt(tab[i].dlt, tab[i].v6);
}

/* A hole that is never filled: the message behind it is not invented, the flow says why. */
static void test_handbuilt_hole(void)
{
	char dir[64], pcap[256], msg[512];
	struct tc_writer w = { .dlt = DLT_RAW, .ts = 1700000000.0, .cport = 40001 };
	struct capdec *c = NULL;
	const struct capdec_flow *f;
	pcap_t *dead;
	int len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc_tmpdir(dir, sizeof(dir)));
	snprintf(pcap, sizeof(pcap), "%s/hole.pcap", dir);
	dead = pcap_open_dead(DLT_RAW, 65535);
	w.d = pcap_dump_open(dead, pcap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w.d);
	len = tc_request(msg, sizeof(msg), 9);
	tc_put(&w, false, 100, TC_SYN, NULL, 0);
	tc_put(&w, false, 101, TC_ACK, msg, 50);
	tc_put(&w, false, 101 + 80, TC_ACK, msg + 80, (size_t)len - 80);
	pcap_dump_close(w.d);
	pcap_close(dead);

	CU_ASSERT_EQUAL_FATAL(capdec_open(&c, pcap, NULL), 0);
	CU_ASSERT_EQUAL(capdec_sip_count(c), 0);
	CU_ASSERT_EQUAL_FATAL(capdec_flow_count(c), 1);
	f = capdec_flow_at(c, 0);
	CU_ASSERT(f->error && strstr(f->error, "hole"));
	c = mem_deref(c);
	tc_rmdir(dir);
}

static void test_open_errors(void)
{
	struct capdec *c = NULL;

	CU_ASSERT_EQUAL(capdec_open(&c, "/nonexistent/x.pcap", NULL), ENOENT);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(capdec_open(&c, "/etc/hostname", NULL), EINVAL);
	CU_ASSERT_EQUAL(capdec_open(&c, "/etc/hostname", "/nonexistent/keys"), ENOENT);
	CU_ASSERT_EQUAL(capdec_open(NULL, "/etc/hostname", NULL), EINVAL);
	CU_ASSERT_PTR_NULL(c);
}

static CU_TestInfo capdec_tests[] = {
	{ "open errors", test_open_errors },
	{ "hand-built pcaps: link types, reordering, retransmissions", test_handbuilt_linktypes },
	{ "hand-built pcap with a hole", test_handbuilt_hole },
	{ "cleartext SIP over TCP, split message", test_cleartext_tcp },
	{ "TLS 1.3 AES-128-GCM", test_tls13_aes128 },
	{ "TLS 1.3 AES-256-GCM", test_tls13_aes256 },
	{ "TLS 1.3 ChaCha20-Poly1305", test_tls13_chacha },
	{ "TLS 1.3 KeyUpdate", test_tls13_keyupdate },
	{ "TLS 1.3 after HelloRetryRequest", test_tls13_hrr },
	{ "TLS 1.2 ECDHE-ECDSA-AES128-GCM", test_tls12_aesgcm },
	{ "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305", test_tls12_chacha },
	CU_TEST_INFO_NULL,
};

TEST_SUITE_FIX("capdec", capdec_tests, tc_cert_init, tc_cert_clean)
