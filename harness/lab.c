/* lab: boots and tears down one lab world; the SUT is the only part outside this process. */
#define LOG_MODULE "lab"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "../fakes/ca/labca.h"
#include "../fakes/dns/fakedns.h"
#include "../fakes/im/imsrv.h"
#include "../fakes/provisioning/site.h"
#include "capture.h"
#include "lab.h"
#include "lab_int.h"
#include "labrt.h"
#include "proc.h"
#include "sut.h"
#include "sutkind.h"

void lab_default_users(struct lab_opts *o)
{
	static const char *const on[] = { "alice", "bob", "carol", "dave" };
	size_t i;

	o->npic_users = 0;
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		snprintf(o->pic_users[o->npic_users].aor, sizeof(o->pic_users[0].aor),
			 "%s@%s", on[i], LAB_ENTERPRISE_DOMAIN);
		o->pic_users[o->npic_users++].enabled = true;
	}
	snprintf(o->pic_users[o->npic_users].aor, sizeof(o->pic_users[0].aor), "eve@%s",
		 LAB_ENTERPRISE_DOMAIN);
	o->pic_users[o->npic_users++].enabled = false;
}

static int lab_tls(struct lab *lab, bool server, const char *cn, enum labca_root root,
		   struct tlsctx **ctxp)
{
	char cert[600], key[600], ca[600];
	struct tlsctx_conf conf = {
		.cert_file = labca_cert_path(lab->pki, cn, cert, sizeof(cert)),
		.key_file = labca_key_path(lab->pki, cn, key, sizeof(key)),
		.ca_file = labca_root_path(lab->pki, root, ca, sizeof(ca)),
		.keylog_file = lab->keylog,
		.require_peer_cert = true,
	};

	return tlsctx_alloc(ctxp, server, &conf);
}

/* Every host by A record, the enterprise's federation SRV record (DNS-001), and one for
 * msn.test, used when a scenario makes MSN a federated partner (DNS-003). */
static int lab_zone(struct lab *lab, char *buf, size_t size)
{
	size_t used = 0;
	unsigned h;
	int n;

	for (h = 0; h < LAB_NHOSTS; h++) {
		n = snprintf(buf + used, size - used, "%s. 300 IN A %s\n", lab_hosts[h].fqdn,
			     lab->ip[h]);
		if (n < 0 || (size_t)n >= size - used)
			return ENOSPC;
		used += (size_t)n;
	}
	n = snprintf(buf + used, size - used,
		     "_sipfederationtls._tcp.%s. 300 IN SRV 0 0 %d %s.\n",
		     LAB_ENTERPRISE_DOMAIN, LAB_SIP_PORT, lab_hosts[LAB_AP_EXT].fqdn);
	if (n < 0 || (size_t)n >= size - used)
		return ENOSPC;
	used += (size_t)n;
	n = snprintf(buf + used, size - used,
		     "_sipfederationtls._tcp.msn.test. 300 IN SRV 10 60 %d %s.\n", LAB_SIP_PORT,
		     lab_hosts[LAB_MSN].fqdn);
	return n < 0 || (size_t)n >= size - used ? ENOSPC : 0;
}

/* TLS keys of both edges, when the scenario set them (TLS-008). */
void lab_sut_died(struct sut *s, const char *why, void *arg)
{
	struct lab *lab = arg;
	char msg[256];

	if (lab->torn_down || !lab->bh)
		return;
	snprintf(msg, sizeof(msg), "accessproxy (pid %d) %s during the scenario; its log: %s/sut.log",
		 (int)sut_pid(s), why, lab->dir);
	lab->bh(lab, msg, lab->arg);
}

/* A port another process holds: say which one, and what to do about it. */
static void lab_port_busy(char *why, size_t whysize, int err, const char *ip, unsigned port)
{
	char holder[128] = "";
	size_t n = strlen(why);

	if (err != EADDRINUSE)
		return;
	labrt_port_holder("tcp", ip, port, holder, sizeof(holder));
	if (!holder[0])
		labrt_port_holder("udp", ip, port, holder, sizeof(holder));
	snprintf(why + n, whysize - n, "; port %u is held by %s: stop it (an old lab? a DNS "
		 "server on 0.0.0.0?), or give this lab another index with --lab N", port,
		 holder[0] ? holder : "another process");
}

/* The SUT exited while it started: when one of its listening ports is taken, that is why. */
static void lab_sut_port_busy(struct lab *lab, char *why, size_t whysize)
{
	static const enum lab_host sut_hosts[] = { LAB_AP_INT, LAB_AP_EXT };
	char holder[128];
	size_t i;

	for (i = 0; i < sizeof(sut_hosts) / sizeof(sut_hosts[0]); i++) {
		const char *ip = lab->ip[sut_hosts[i]];

		labrt_port_holder("tcp", ip, LAB_SIP_PORT, holder, sizeof(holder));
		if (!holder[0])
			continue;
		snprintf(why + strlen(why), whysize - strlen(why), "; port %u of %s (%s) is held "
			 "by %s: stop it (an old lab?), or give this lab another index with --lab N",
			 LAB_SIP_PORT, ip, lab_hosts[sut_hosts[i]].fqdn, holder);
		return;
	}
}

static int lab_servers(struct lab *lab, char *why, size_t whysize)
{
	struct imsrv_conf hc = {
		.role = IMSRV_HOME, .name = "contoso", .fqdn = lab_hosts[LAB_POOL].fqdn,
		.domain = LAB_ENTERPRISE_DOMAIN, .proxy_fqdn = lab_hosts[LAB_AP_INT].fqdn,
	};
	struct sockaddr_storage ext;
	unsigned i;
	int err;

	err = lab_tls(lab, true, hc.fqdn, LABCA_ENTERPRISE, &lab->pool_srv);
	err = err ? err : lab_tls(lab, false, hc.fqdn, LABCA_ENTERPRISE, &lab->pool_cli);
	if (err) {
		snprintf(why, whysize, "TLS context for %s: %s", hc.fqdn, strerror(err));
		return err;
	}
	hc.server_tls = lab->pool_srv;
	hc.client_tls = lab->pool_cli;
	sa_set(&hc.listen, lab->ip[LAB_POOL], LAB_SIP_PORT);
	sa_set(&hc.proxy, lab->ip[LAB_AP_INT], LAB_SIP_PORT);
	err = imsrv_alloc(&lab->enterprise, lab->base, &hc);
	if (err) {
		snprintf(why, whysize, "enterprise home server on %s:%d: %s", lab->ip[LAB_POOL],
			 LAB_SIP_PORT, strerror(err));
		lab_port_busy(why, whysize, err, lab->ip[LAB_POOL], LAB_SIP_PORT);
		return err;
	}
	sa_set(&ext, lab->ip[LAB_AP_EXT], LAB_SIP_PORT);
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		enum lab_host h = lab_providers[i].host;
		struct imsrv_conf pc = {
			.role = IMSRV_PROVIDER, .name = lab_providers[i].name,
			.fqdn = lab_hosts[h].fqdn, .domain = lab_providers[i].domain,
		};

		err = lab_tls(lab, true, pc.fqdn, LABCA_PUBLIC, &lab->prov_srv[i]);
		err = err ? err : lab_tls(lab, false, pc.fqdn, LABCA_PUBLIC, &lab->prov_cli[i]);
		if (err) {
			snprintf(why, whysize, "TLS context for %s: %s", pc.fqdn, strerror(err));
			return err;
		}
		/* Which client certificate usages a provider demands is its own policy (the AOL
		 * profile checks clientAuth itself, TLS-004), not OpenSSL's default purpose. */
		SSL_CTX_set_purpose(tlsctx_ssl_ctx(lab->prov_srv[i]), X509_PURPOSE_ANY);
		pc.server_tls = lab->prov_srv[i];
		pc.client_tls = lab->prov_cli[i];
		sa_set(&pc.listen, lab->ip[h], LAB_SIP_PORT);
		/* DNS-002: routes pushed by the provisioning site name only the FQDN */
		sa_set(&pc.dns, lab->ip[LAB_NS], 53);
		err = imsrv_alloc(&lab->provider[i], lab->base, &pc);
		if (err) {
			snprintf(why, whysize, "provider %s on %s:%d: %s", pc.name, lab->ip[h],
				 LAB_SIP_PORT, strerror(err));
			lab_port_busy(why, whysize, err, lab->ip[h], LAB_SIP_PORT);
			return err;
		}
		/* What provisioning will push later: the enterprise domain's route. */
		err = imsrv_route_add(lab->provider[i], LAB_ENTERPRISE_DOMAIN,
				      lab_hosts[LAB_AP_EXT].fqdn, (struct sockaddr *)&ext);
		if (err) {
			snprintf(why, whysize, "route on %s: %s", pc.name, strerror(err));
			return err;
		}
	}
	return 0;
}

/* The provisioning site's route callback: a provider configured (or lost) its route for one
 * provisioned domain; the provider finds the edge by the FQDN's A record (DNS-002). */
static void lab_site_route(const char *provider, const char *domain, const char *fqdn,
			   bool add, void *arg)
{
	struct lab *lab = arg;
	int i = lab_provider_find(provider);
	int err;

	if (i < 0 || !lab->provider[i])
		return;
	err = add ? imsrv_route_add(lab->provider[i], domain, fqdn, NULL) :
		    imsrv_route_del(lab->provider[i], domain);
	if (err && !(err == ENOENT && !add))
		log_warn("route %s %s -> %s on %s: %s", add ? "add" : "del", domain, fqdn,
			 provider, strerror(err));
	else
		log_info("%s: route %s -> %s %s", provider, domain, fqdn,
			 add ? "configured" : "withdrawn");
}

/* provisioning.test:443 with the lab PKI's leaf, its mails in <lab dir>/maildir. */
static int lab_site_start(struct lab *lab, char *why, size_t whysize)
{
	char cert[600], key[600], md[600];
	struct site_conf sc;
	unsigned i;
	int err;

	site_conf_defaults(&sc);
	sa_set(&sc.listen, lab->ip[LAB_PROVISIONING], LAB_HTTPS_PORT);
	sc.cert_file = labca_cert_path(lab->pki, lab_hosts[LAB_PROVISIONING].fqdn, cert,
				       sizeof(cert));
	sc.key_file = labca_key_path(lab->pki, lab_hosts[LAB_PROVISIONING].fqdn, key,
				     sizeof(key));
	snprintf(md, sizeof(md), "%s/maildir", lab->dir);
	sc.maildir = md;
	sc.validate_ms = LAB_SITE_STEP_MS;
	sc.send_ms = LAB_SITE_STEP_MS;
	for (i = 0; i < SITE_PROV_COUNT; i++)
		sc.configure_ms[i] = LAB_SITE_STEP_MS;
	sc.routeh = lab_site_route;
	sc.arg = lab;
	err = site_alloc(&lab->site, lab->base, &sc);
	if (err) {
		snprintf(why, whysize, "provisioning site on %s:%d: %s",
			 lab->ip[LAB_PROVISIONING], LAB_HTTPS_PORT, strerror(err));
		lab_port_busy(why, whysize, err, lab->ip[LAB_PROVISIONING], LAB_HTTPS_PORT);
	}
	return err;
}

const struct labca_leaf *lab_pki_leaves(void)
{
	static struct labca_leaf leaves[64];
	size_t n = 0;

	if (leaves[0].cn)
		return leaves;
	while (labca_default_leaves[n].cn && n < 62) {
		leaves[n] = labca_default_leaves[n];
		n++;
	}
	leaves[n++] = (struct labca_leaf){ .cn = lab_hosts[LAB_PROVISIONING].fqdn,
					   .root = LABCA_PUBLIC, .eku_server = true };
	leaves[n] = (struct labca_leaf){ 0 };
	return leaves;
}

void lab_unprovision(struct lab *lab)
{
	unsigned i;

	for (i = 0; lab && i < LAB_NPROVIDERS; i++)
		if (lab->provider[i])
			imsrv_route_del(lab->provider[i], LAB_ENTERPRISE_DOMAIN);
}

char *lab_site_ca(const struct lab *lab, char *buf, size_t size)
{
	return labca_root_path(lab->pki, LABCA_PUBLIC, buf, size);
}

struct site *lab_site(struct lab *lab)
{
	return lab->site;
}

uint64_t lab_dns_queries(const struct lab *lab)
{
	return lab->dns ? fakedns_queries(lab->dns) : 0;
}

static void lab_destroy(void *data)
{
	lab_teardown(data);
}

void lab_teardown(struct lab *lab)
{
	unsigned i;

	if (!lab || lab->torn_down)
		return;
	lab->torn_down = true;
	if (lab->sut)
		sut_stop(lab->sut, 2000);
	lab->sut = mem_deref(lab->sut);
	if (lab->ctl[0])
		unlink(lab->ctl);
	if (lab->statefs && umount2(lab->statedir, MNT_DETACH) != 0)
		log_warn("umount %s: %s", lab->statedir, strerror(errno));
	lab->statefs = false;
	lab->cap = mem_deref(lab->cap);
	lab->site = mem_deref(lab->site);
	lab->enterprise = mem_deref(lab->enterprise);
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		lab->provider[i] = mem_deref(lab->provider[i]);
		lab->prov_srv[i] = mem_deref(lab->prov_srv[i]);
		lab->prov_cli[i] = mem_deref(lab->prov_cli[i]);
	}
	lab->dns = mem_deref(lab->dns);
	lab->pool_srv = mem_deref(lab->pool_srv);
	lab->pool_cli = mem_deref(lab->pool_cli);
}

int lab_boot(struct lab **labp, struct event_base *base, const struct lab_opts *opts,
	     lab_broken_h *bh, void *arg, char *why, size_t whysize)
{
	char zone[4096], net[32];
	const char *rt;
	struct sockaddr_storage ns;
	struct lab *lab;
	unsigned h;
	int err;

	if (!opts || opts->index < 1 || opts->index > 250)
		return EINVAL;
	lab = mem_zalloc(sizeof(*lab), lab_destroy);
	if (!lab)
		return ENOMEM;
	lab->base = base;
	lab->opts = *opts;
	lab->kind = sut_kind_find(opts->sut_kind);
	if (!lab->kind) {
		snprintf(why, whysize, "unknown SUT kind '%s' (known: %s)", opts->sut_kind,
			 sut_kind_names());
		mem_deref(lab);
		return EINVAL;
	}
	lab->bh = bh;
	lab->arg = arg;
	snprintf(lab->dir, sizeof(lab->dir), "%s", opts->dir);
	snprintf(lab->pki, sizeof(lab->pki), "%s", opts->pki_dir);
	for (h = 0; h < LAB_NHOSTS; h++)
		snprintf(lab->ip[h], sizeof(lab->ip[h]), "127.77.%u.%u", opts->index,
			 lab_hosts[h].octet);
	snprintf(lab->keylog, sizeof(lab->keylog), "%s/keys.log", lab->dir);
	snprintf(lab->pcap, sizeof(lab->pcap), "%s/capture.pcap", lab->dir);
	snprintf(net, sizeof(net), "127.77.%u.0/24", opts->index);

	if (opts->capture) {
		err = capture_start(&lab->cap, base, net, lab->pcap);
		if (err) {
			snprintf(why, whysize, "capture on lo for %s: %s", net, strerror(err));
			goto out;
		}
	}
	err = lab_zone(lab, zone, sizeof(zone));
	sa_set(&ns, lab->ip[LAB_NS], 53);
	err = err ? err : fakedns_alloc(&lab->dns, base, (struct sockaddr *)&ns, zone);
	if (err) {
		snprintf(why, whysize, "stub DNS on %s:53: %s", lab->ip[LAB_NS], strerror(err));
		lab_port_busy(why, whysize, err, lab->ip[LAB_NS], 53);
		goto out;
	}
	err = lab_servers(lab, why, whysize);
	if (err)
		goto out;
	err = lab_site_start(lab, why, whysize);
	if (err)
		goto out;

	snprintf(lab->statedir, sizeof(lab->statedir), "%s", lab->dir);
	if (opts->state_disk_kb) {
		char size[64];

		/* a disk of its own for the SUT's state, small enough to fill (AUD-003) */
		snprintf(lab->statedir, sizeof(lab->statedir), "%s/statefs", lab->dir);
		snprintf(size, sizeof(size), "size=%uk,mode=0755", opts->state_disk_kb);
		if (mkdir(lab->statedir, 0755) != 0 && errno != EEXIST) {
			err = errno;
		} else if (mount("tmpfs", lab->statedir, "tmpfs", MS_NOSUID | MS_NODEV, size) != 0) {
			err = errno;
		} else {
			lab->statefs = true;
			err = 0;
		}
		if (err) {
			snprintf(why, whysize, "a %u kB state disk at %s: %s", opts->state_disk_kb,
				 lab->statedir, strerror(err));
			goto out;
		}
	}
	/* a unix socket path holds at most 107 bytes; the checkout's path may be longer */
	rt = labrt_dir();
	if (!rt) {
		err = errno;
		snprintf(why, whysize, "runtime folder for the control socket under %s: %s",
			 labrt_base(), strerror(err));
		goto out;
	}
	snprintf(lab->ctl, sizeof(lab->ctl), "%s/lab%u.sock", rt, opts->index);
	if (opts->unprovisioned)
		lab_unprovision(lab);
	err = lab->kind->configure(lab, why, whysize);
	if (!err)
		err = lab->kind->start(lab, why, whysize);
	if (!err && lab->sut) {
		err = sut_wait_ready(lab->sut, 10000, why, whysize);
		if (err == ECHILD)
			lab_sut_port_busy(lab, why, whysize);
		if (err) {
			size_t n = strlen(why);

			snprintf(why + n, whysize - n, "; see %s/sut.log", lab->dir);
		}
	}
	if (err)
		goto out;
	log_debug("lab %u up in %s", opts->index, lab->dir);
out:
	if (err)
		mem_deref(lab);
	else
		*labp = lab;
	return err;
}

int lab_site_peer(struct lab *lab, const struct imsrv *srv, struct tlsctx **cli, const char **ip,
		  const char **proxy_ip, const char **proxy_fqdn)
{
	unsigned i;

	if (srv == lab->enterprise) {
		*cli = lab->pool_cli;
		*ip = lab->ip[LAB_POOL];
		*proxy_ip = lab->ip[LAB_AP_INT];
		*proxy_fqdn = lab_hosts[LAB_AP_INT].fqdn;
		return 0;
	}
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		if (srv != lab->provider[i])
			continue;
		*cli = lab->prov_cli[i];
		*ip = lab->ip[lab_providers[i].host];
		*proxy_ip = lab->ip[LAB_AP_EXT];
		*proxy_fqdn = lab_hosts[LAB_AP_EXT].fqdn;
		return 0;
	}
	return ENOENT;
}

/* Swaps the certificate inside the site's own SSL_CTXs, so the fake needs no hook: every
 * connection it makes or accepts from now on is set up with the new leaf. */
int lab_site_cert(struct lab *lab, const struct imsrv *srv, const char *kind)
{
	char cert[600], key[600];
	struct tlsctx *ctx[2];
	const char *cn;
	enum labca_bad k = LABCA_BAD_NKINDS;
	unsigned i;
	int err, j;

	if (kind && labca_bad_parse(kind, &k))
		return EINVAL;
	if (srv == lab->enterprise) {
		cn = lab_hosts[LAB_POOL].fqdn;
		ctx[0] = lab->pool_srv;
		ctx[1] = lab->pool_cli;
	} else {
		for (i = 0; i < LAB_NPROVIDERS && srv != lab->provider[i]; i++)
			;
		if (i == LAB_NPROVIDERS)
			return ENOENT;
		cn = lab_hosts[lab_providers[i].host].fqdn;
		ctx[0] = lab->prov_srv[i];
		ctx[1] = lab->prov_cli[i];
	}
	if (kind) {
		err = labca_make_bad(lab->pki, k, cn);
		if (err)
			return err;
		labca_bad_cert_path(lab->pki, k, cn, cert, sizeof(cert));
		labca_bad_key_path(lab->pki, k, cn, key, sizeof(key));
	} else {
		labca_cert_path(lab->pki, cn, cert, sizeof(cert));
		labca_key_path(lab->pki, cn, key, sizeof(key));
	}
	for (j = 0; j < 2; j++) {
		SSL_CTX *sc = tlsctx_ssl_ctx(ctx[j]);

		if (SSL_CTX_use_certificate_chain_file(sc, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(sc, key, SSL_FILETYPE_PEM) != 1) {
			char eb[256];

			log_warn("%s: cannot present %s: %s", cn, cert, tls_errstr(eb, sizeof(eb)));
			return EINVAL;
		}
	}
	log_info("%s presents %s from now on", cn, cert);
	return 0;
}

struct imsrv *lab_enterprise(struct lab *lab)
{
	return lab->enterprise;
}

struct imsrv *lab_provider(struct lab *lab, unsigned i)
{
	return i < LAB_NPROVIDERS ? lab->provider[i] : NULL;
}

struct capture *lab_capture(struct lab *lab)
{
	return lab->cap;
}

struct fakedns *lab_dns(struct lab *lab)
{
	return lab ? lab->dns : NULL;
}

struct sut *lab_sut(struct lab *lab)
{
	return lab->sut;
}

const char *lab_dir(const struct lab *lab)
{
	return lab->dir;
}

const char *lab_pki_dir(const struct lab *lab)
{
	return lab->pki;
}

const char *lab_keylog_path(const struct lab *lab)
{
	return lab->keylog;
}

const char *lab_pcap_path(const struct lab *lab)
{
	return lab->pcap;
}

struct event_base *lab_base(const struct lab *lab)
{
	return lab->base;
}
