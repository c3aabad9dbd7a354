/* lab: one hermetic world in 127.77.L.0/24 — PKI, DNS, enterprise, providers, the SUT, capture. */
#ifndef PIC_LAB_H
#define PIC_LAB_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct lab;
struct imsrv;
struct capture;
struct fakedns;
struct sut;
struct tlsctx;
struct sut_kind;

enum lab_host {
	LAB_NS = 0,       /* ns.test: stub DNS */
	LAB_POOL,         /* pool.contoso.test: enterprise home server */
	LAB_AP_INT,       /* ap-int.contoso.test: proxy internal edge */
	LAB_AP_EXT,       /* ap.contoso.test: proxy external edge */
	LAB_AOL,          /* sip.aol.test */
	LAB_YAHOO,        /* sip.yahoo.test */
	LAB_MSN,          /* sip.msn.test */
	LAB_PROVISIONING, /* provisioning.test */
	LAB_NHOSTS
};

/* The three public providers, in lab order. */
enum { LAB_NPROVIDERS = 3 };

/* One enterprise user in the proxy's store (PIC enablement: POL-001). */
struct lab_user {
	char aor[128];
	bool enabled;
};

#define LAB_MAX_USERS 64

struct lab_opts {
	unsigned index;                       /* L in 127.77.L.0/24, 1..250 */
	const char *dir;                      /* this lab's output folder (capture, keys, logs) */
	const char *pki_dir;                  /* the run's PKI cache */
	const char *sut_binary;               /* accessproxy (or the kind's own program) */
	const char *sut_kind;                 /* adapter name (sutkind.h); NULL: accessproxy */
	const char *root;                     /* the project root (the kamailio template) */
	bool provider_allow[LAB_NPROVIDERS];  /* allow flag of aol, yahoo, msn in the SUT */
	bool provider_blocked[LAB_NPROVIDERS];/* temporary block */
	char provider_filter[LAB_NPROVIDERS][24]; /* filter mode ("" = the SUT's default) */
	bool provider_partner[LAB_NPROVIDERS];/* public = no: a federated partner, found by SRV */
	bool capture;                         /* run libpcap */
	bool unprovisioned;                   /* providers start with no route to the enterprise */
	unsigned state_disk_kb;               /* >0: the SUT's database on a tmpfs of this size */
	unsigned rate_per_sec, rate_burst;    /* >0: the SUT's per-provider request limit */
	/* >0: the SUT's [global] limits of the same names (lab = { sut_limits = {...} }) */
	unsigned sut_msg_timeout_ms, sut_peer_partial_max, sut_max_body, sut_max_discard,
		 sut_max_header, sut_idle_timeout_ms;
	unsigned workers;                     /* the SUT's [global] workers (0 or 1: one process) */
	struct lab_user pic_users[LAB_MAX_USERS];
	int npic_users;
	char sut_cert[32];          /* "": the good ap.contoso.test leaf on the external edge; else
				     * the labca bad kind given to the SUT there (TLS-004) */
	char sut_tls_min[4];        /* both edges' tls_min_version ("" = the SUT's default) */
	char sut_ciphers[256];      /* both edges' TLS 1.2 cipher order ("" = default) */
	char sut_ciphersuites[256]; /* both edges' TLS 1.3 suites ("" = default) */
};

/* The default enterprise users: alice, bob, carol, dave enabled for PIC; eve known but not. */
void lab_default_users(struct lab_opts *o);

/* A broken lab is reported through this: the SUT died, or a lab part failed. */
typedef void (lab_broken_h)(struct lab *lab, const char *why, void *arg);

/* Boots the whole lab; on failure why names the part that failed. */
int lab_boot(struct lab **labp, struct event_base *base, const struct lab_opts *opts,
	     lab_broken_h *bh, void *arg, char *why, size_t whysize);
const char *lab_host_name(enum lab_host h);
const char *lab_host_ip(const struct lab *lab, enum lab_host h);
/* Host by FQDN; LAB_NHOSTS if unknown. */
enum lab_host lab_host_find(const char *fqdn);
/* Host of an address of any lab by its last octet; LAB_NHOSTS if none. */
enum lab_host lab_host_of_addr(const struct sockaddr *sa);
const char *lab_provider_name(unsigned i);       /* "aol", "yahoo", "msn" */
int lab_provider_find(const char *name);          /* index or -1 */
struct imsrv *lab_enterprise(struct lab *lab);
struct imsrv *lab_provider(struct lab *lab, unsigned i);
struct capture *lab_capture(struct lab *lab);
struct fakedns *lab_dns(struct lab *lab);
struct sut *lab_sut(struct lab *lab);
const char *lab_dir(const struct lab *lab);
/* The run's PKI folder (labca files: roots, good and bad leaves). */
const char *lab_pki_dir(const struct lab *lab);
const char *lab_keylog_path(const struct lab *lab);
const char *lab_pcap_path(const struct lab *lab);
struct event_base *lab_base(const struct lab *lab);
/* Leg of a packet between a and b: "external", "internal", "dns", "http" or "other".
 * lab NULL: judged by the addresses' last octet alone (any lab, for reports). */
const char *lab_leg(const struct lab *lab, const struct sockaddr *a, const struct sockaddr *b);
/* What a raw sender on a site needs: its client TLS context, its own IP, and the proxy edge it
 * faces (IP and certificate name). ENOENT if srv is not a site of this lab. */
int lab_site_peer(struct lab *lab, const struct imsrv *srv, struct tlsctx **cli, const char **ip,
		  const char **proxy_ip, const char **proxy_fqdn);
/* Runs `apctl -c <the SUT's config> args...` (NULL-terminated), bounded to 10 s; its output
 * (stdout and stderr) into out, its exit code into *exitp. */
int lab_apctl(const struct lab *lab, const char *const *args, char *out, size_t outsize,
	      int *exitp);
/* The same apctl started in the background (bounded to 30 s): see proc_spawn. */
#include <sys/types.h>
int lab_apctl_spawn(const struct lab *lab, const char *const *args, pid_t *pidp, int *fdp);
/* Makes a site present the labca bad leaf of that kind name for its own FQDN on its new
 * connections, both ways (kind NULL: its good leaf again); connections already up keep theirs.
 * EINVAL for an unknown kind, ENOENT if srv is not a site of this lab. */
int lab_site_cert(struct lab *lab, const struct imsrv *srv, const char *kind);
/* The SUT's generated configuration file (for apctl). */
const char *lab_sut_conf(const struct lab *lab);
/* The options the lab was booted with (users, providers, ...). */
const struct lab_opts *lab_options(const struct lab *lab);
/* The SUT's control socket (in this process's short runtime folder, see labrt.h). */
const char *lab_ctl_path(const struct lab *lab);
/* The folder holding the SUT's database (its own small disk with state_disk_kb). */
const char *lab_state_dir(const struct lab *lab);
const char *lab_sut_binary(const struct lab *lab);
/* The adapter of the SUT kind this lab runs (sutkind.h). */
const struct sut_kind *lab_sut_kind(const struct lab *lab);
/* The provisioning site (provisioning.test:443); its route callback adds and withdraws the
 * enterprise's routes on the providers, which find the edge by DNS (DNS-002). */
struct site;
struct site *lab_site(struct lab *lab);
/* The root the site's certificate chains to (for HTTPS clients), into buf; returns buf. */
char *lab_site_ca(const struct lab *lab, char *buf, size_t size);
/* Withdraws the routes the lab pre-provisions at boot, so a scenario provisions through the
 * site itself (lab = { provisioned = false }). */
void lab_unprovision(struct lab *lab);
/* Queries the stub DNS has answered since the lab booted. */
uint64_t lab_dns_queries(const struct lab *lab);
/* The lab PKI's leaves: the defaults plus provisioning.test; zero-terminated, static. */
struct labca_leaf;
const struct labca_leaf *lab_pki_leaves(void);
/* Restarts the SUT with the same configuration and state: sig 0 or SIGTERM stops it gracefully,
 * another signal (SIGKILL) crashes it first. Does not wait for readiness (the caller polls
 * sut_ready_now while the lab's event loop runs, so the lab notices the old connections die). */
int lab_sut_restart(struct lab *lab, int sig, char *why, size_t whysize);
/* The two halves: stop (as above; the stopped SUT stays, not running, until the next start)
 * and start again with the lab's configuration, whatever files it names now (BAK-005: a
 * restored installation). */
void lab_sut_stop(struct lab *lab, int sig);
int lab_sut_start(struct lab *lab, char *why, size_t whysize);
/* Stops the SUT (and reaps it), stops the capture and frees the fakes. Also via mem_deref. */
void lab_teardown(struct lab *lab);

#endif
