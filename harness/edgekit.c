/* edgekit: what an edge the lab does not run needs in order to be judged by it (--sut-kind
 * external): the lab's PKI, the addresses and names it must answer on, the DNS server to ask,
 * the providers and users — written to a folder, with an accessproxy configuration as a worked
 * example of all of it. */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../fakes/ca/labca.h"
#include "cmds.h"
#include "lab.h"
#include "lab_int.h"

static int kit_users(const struct lab *lab, const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f)
		return errno;
	fprintf(f, "aor,enabled\n");
	for (i = 0; i < lab->opts.npic_users; i++)
		fprintf(f, "%s,%s\n", lab->opts.pic_users[i].aor,
			lab->opts.pic_users[i].enabled ? "yes" : "no");
	return fclose(f) == 0 ? 0 : errno;
}

static void kit_describe(FILE *f, const struct lab *lab, const char *dir)
{
	char p[1200];
	unsigned i;
	int u;

	fprintf(f, "An edge for lab %u (piclab run --sut-kind external --lab %u --pki %s/pki)\n\n",
		lab->opts.index, lab->opts.index, dir);
	fprintf(f, "listen, mutual TLS, port %d:\n", LAB_SIP_PORT);
	fprintf(f, "  internal edge  %s:%d  as %s, certificate %s\n", lab->ip[LAB_AP_INT],
		LAB_SIP_PORT, lab_hosts[LAB_AP_INT].fqdn,
		labca_cert_path(lab->pki, lab_hosts[LAB_AP_INT].fqdn, p, sizeof(p)));
	fprintf(f, "                 trust the enterprise root %s\n",
		labca_root_path(lab->pki, LABCA_ENTERPRISE, p, sizeof(p)));
	fprintf(f, "  external edge  %s:%d  as %s, certificate %s\n", lab->ip[LAB_AP_EXT],
		LAB_SIP_PORT, lab_hosts[LAB_AP_EXT].fqdn,
		labca_cert_path(lab->pki, lab_hosts[LAB_AP_EXT].fqdn, p, sizeof(p)));
	fprintf(f, "                 trust the lab's public root %s\n",
		labca_root_path(lab->pki, LABCA_PUBLIC, p, sizeof(p)));
	fprintf(f, "  (keys beside the certificates, .key)\n\n");
	fprintf(f, "DNS server: %s:53 (the lab serves it while a scenario runs)\n", lab->ip[LAB_NS]);
	fprintf(f, "next hop inward: %s:%d (the enterprise pool, by name)\n",
		lab_hosts[LAB_POOL].fqdn, LAB_SIP_PORT);
	fprintf(f, "our domain: %s\n\nproviders (all allowed, filter verified-only):\n",
		LAB_ENTERPRISE_DOMAIN);
	for (i = 0; i < LAB_NPROVIDERS; i++)
		fprintf(f, "  %-6s edge FQDN %-15s domain %s\n", lab_providers[i].name,
			lab_hosts[lab_providers[i].host].fqdn, lab_providers[i].domain);
	fprintf(f, "\nusers enabled for public IM (%s/users.csv):", dir);
	for (u = 0; u < lab->opts.npic_users; u++)
		if (lab->opts.pic_users[u].enabled)
			fprintf(f, " %s", lab->opts.pic_users[u].aor);
	fprintf(f, "\n\nan accessproxy set up this way: %s/accessproxy.conf\n"
		"  apctl -c %s/accessproxy.conf users import %s/users.csv\n"
		"  accessproxy -c %s/accessproxy.conf\n", dir, dir, dir, dir);
}

int cmd_edge_kit(const char *dir, unsigned index)
{
	static struct lab lab;  /* only its description: nothing of it runs */
	char path[1200];
	unsigned h;
	int err;
	FILE *f;

	memset(&lab, 0, sizeof(lab));
	lab.opts.index = index;
	for (unsigned i = 0; i < LAB_NPROVIDERS; i++)
		lab.opts.provider_allow[i] = true;
	lab_default_users(&lab.opts);
	for (h = 0; h < LAB_NHOSTS; h++)
		snprintf(lab.ip[h], sizeof(lab.ip[h]), "127.77.%u.%u", index, lab_hosts[h].octet);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "piclab edge-kit: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	snprintf(lab.pki, sizeof(lab.pki), "%s/pki", dir);
	snprintf(lab.dir, sizeof(lab.dir), "%s", dir);
	snprintf(lab.statedir, sizeof(lab.statedir), "%s", dir);
	if ((mkdir(lab.pki, 0755) != 0 && errno != EEXIST) ||
	    (err = labca_make(lab.pki, lab_pki_leaves())) != 0) {
		fprintf(stderr, "piclab edge-kit: the lab PKI in %s: %s\n", lab.pki,
			strerror(errno));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/accessproxy.conf", dir);
	/* a unix socket path has at most 107 bytes: a short one, whatever the folder */
	mkdir("/run/piclab", 0755);
	snprintf(lab.ctl, sizeof(lab.ctl), "/run/piclab/edge-%u.sock", index);
	err = lab_write_sut_conf(&lab, path, lab.ctl);
	if (!err) {
		snprintf(path, sizeof(path), "%s/users.csv", dir);
		err = kit_users(&lab, path);
	}
	if (err) {
		fprintf(stderr, "piclab edge-kit: writing %s: %s\n", path, strerror(err));
		return 2;
	}
	snprintf(path, sizeof(path), "%s/EDGE.txt", dir);
	f = fopen(path, "w");
	if (f) {
		kit_describe(f, &lab, dir);
		fclose(f);
	}
	kit_describe(stdout, &lab, dir);
	return 0;
}
