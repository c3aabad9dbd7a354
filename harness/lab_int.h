/* lab_int: what the lab's files share — the host map and the lab's layout. */
#ifndef PIC_LAB_INT_H
#define PIC_LAB_INT_H

#include <arpa/inet.h>
#include <stdbool.h>

#include "lab.h"

struct lab_host_def {
	const char *fqdn;
	unsigned octet;
};

struct lab_provider_def {
	const char *name;
	const char *domain;
	enum lab_host host;
};

/* Fixed host numbers inside the lab's /24, so captures read like a map of the network. */
extern const struct lab_host_def lab_hosts[LAB_NHOSTS];
extern const struct lab_provider_def lab_providers[LAB_NPROVIDERS];

#define LAB_SIP_PORT 5061
#define LAB_HTTPS_PORT 443
/* The site's workflow steps in the lab: short, so provisioning scenarios stay quick. */
#define LAB_SITE_STEP_MS 50
#define LAB_ENTERPRISE_DOMAIN "contoso.test"

struct lab {
	struct event_base *base;
	struct lab_opts opts;
	char dir[512];
	char pki[512];
	char ip[LAB_NHOSTS][INET_ADDRSTRLEN];
	char keylog[600];
	char conf[600];       /* the SUT's configuration file */
	char ctl[128];        /* the SUT's control socket, in the short runtime folder (labrt) */
	const struct sut_kind *kind;
	char statedir[600];   /* where the SUT keeps its database (a small tmpfs on request) */
	bool statefs;         /* statedir is our tmpfs mount */
	char pcap[600];
	struct tlsctx *pool_srv, *pool_cli;
	struct tlsctx *prov_srv[LAB_NPROVIDERS], *prov_cli[LAB_NPROVIDERS];
	struct fakedns *dns;
	struct imsrv *enterprise;
	struct imsrv *provider[LAB_NPROVIDERS];
	struct site *site;
	struct capture *cap;
	struct sut *sut;
	lab_broken_h *bh;
	void *arg;
	bool torn_down;
};


/* labsut.c */
int lab_write_sut_conf(struct lab *lab, const char *path, const char *ctl);
int lab_users(struct lab *lab, char *why, size_t whysize);
/* The external edge's certificate and key: the good leaf, or the bad kind the scenario asked. */
int lab_sut_ext_cert(struct lab *lab, char *cert, char *key, size_t size);
/* lab.c */
void lab_sut_died(struct sut *s, const char *why, void *arg);

#endif
