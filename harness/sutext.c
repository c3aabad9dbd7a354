/* sutext: the external adapter — an edge the lab does not run: started by someone else on the
 * lab's edge addresses, configured from the kit `piclab edge-kit` writes. The lab serves it DNS,
 * the providers and the enterprise; it cannot restart, reload or administer it, so scenarios
 * that need to are not applicable, and so is any scenario whose lab differs from the kit's. */
#define LOG_MODULE "lab"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "lab.h"
#include "lab_int.h"
#include "sut.h"
#include "sutkind.h"

/* The kit's edge is set up like the default lab: every provider allowed with the default
 * filter, the default users, the good certificates and TLS defaults. */
static const char *ext_differs(const struct lab *lab)
{
	struct lab_opts d = { 0 };
	unsigned i;
	int u;

	lab_default_users(&d);
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		if (!lab->opts.provider_allow[i] || lab->opts.provider_blocked[i] ||
		    lab->opts.provider_partner[i] || lab->opts.provider_filter[i][0])
			return "the scenario's provider table differs from the edge's";
	}
	if (lab->opts.npic_users != d.npic_users)
		return "the scenario's PIC users differ from the edge's";
	for (u = 0; u < d.npic_users; u++)
		if (strcmp(lab->opts.pic_users[u].aor, d.pic_users[u].aor) ||
		    lab->opts.pic_users[u].enabled != d.pic_users[u].enabled)
			return "the scenario's PIC users differ from the edge's";
	if (lab->opts.sut_cert[0] || lab->opts.sut_tls_min[0] || lab->opts.sut_ciphers[0] ||
	    lab->opts.sut_ciphersuites[0])
		return "the scenario sets the edge's certificate or TLS settings";
	if (lab->opts.rate_per_sec || lab->opts.rate_burst || lab->opts.state_disk_kb)
		return "the scenario sets the edge's limits or its state disk";
	return NULL;
}

static int ext_configure(struct lab *lab, char *why, size_t whysize)
{
	const char *no = ext_differs(lab);

	if (no) {
		snprintf(why, whysize, "%s (an external edge is configured once, from the kit)", no);
		return ENOTSUP;
	}
	lab->conf[0] = '\0';
	return 0;
}

/* Nothing to start: the edge must already listen on both of the lab's edge addresses. */
static int ext_start(struct lab *lab, char *why, size_t whysize)
{
	const enum lab_host edges[] = { LAB_AP_INT, LAB_AP_EXT };
	struct timespec pause = { 0, 50000000 };
	int tries;
	size_t i;

	for (i = 0; i < 2; i++) {
		for (tries = 0; tries < 40 && !sut_listening(lab->ip[edges[i]], LAB_SIP_PORT); tries++)
			nanosleep(&pause, NULL);
		if (tries == 40) {
			snprintf(why, whysize, "no external edge accepts on %s:%d (%s): start it "
				 "with the configuration `piclab edge-kit --lab %u DIR` writes",
				 lab->ip[edges[i]], LAB_SIP_PORT, lab_hosts[edges[i]].fqdn,
				 lab->opts.index);
			return ECONNREFUSED;
		}
	}
	return 0;
}

static int ext_reload(struct lab *lab, char *reply, size_t size)
{
	snprintf(reply, size, "an external edge is not reloaded by the lab");
	return ENOTSUP;
}

static void ext_identity(const struct lab *lab, char *buf, size_t size)
{
	snprintf(buf, size, "external edge at %s and %s", lab->ip[LAB_AP_INT], lab->ip[LAB_AP_EXT]);
}

const struct sut_kind sutk_external = {
	.name = "external",
	.caps = 0,
	.configure = ext_configure,
	.start = ext_start,
	.reload = ext_reload,
	.identity = ext_identity,
};
