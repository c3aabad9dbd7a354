/* labnet: the lab's map — host names, addresses and legs of 127.77.L.0/24. */
#define LOG_MODULE "lab"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/sa.h"
#include "lab.h"
#include "lab_int.h"

/* Fixed host numbers inside the lab's /24, so captures read like a map of the network. */
const struct lab_host_def lab_hosts[LAB_NHOSTS] = {
	[LAB_NS] = { "ns.test", 1 },
	[LAB_POOL] = { "pool.contoso.test", 2 },
	[LAB_AP_INT] = { "ap-int.contoso.test", 3 },
	[LAB_AP_EXT] = { "ap.contoso.test", 4 },
	[LAB_AOL] = { "sip.aol.test", 10 },
	[LAB_YAHOO] = { "sip.yahoo.test", 11 },
	[LAB_MSN] = { "sip.msn.test", 12 },
	[LAB_PROVISIONING] = { "provisioning.test", 20 },
};

const struct lab_provider_def lab_providers[LAB_NPROVIDERS] = {
	{ "aol", "aol.test", LAB_AOL },
	{ "yahoo", "yahoo.test", LAB_YAHOO },
	{ "msn", "msn.test", LAB_MSN },
};

const char *lab_host_name(enum lab_host h)
{
	return h < LAB_NHOSTS ? lab_hosts[h].fqdn : "?";
}

const char *lab_host_ip(const struct lab *lab, enum lab_host h)
{
	return h < LAB_NHOSTS ? lab->ip[h] : "";
}

enum lab_host lab_host_find(const char *fqdn)
{
	unsigned h;

	for (h = 0; h < LAB_NHOSTS; h++)
		if (strcasecmp(lab_hosts[h].fqdn, fqdn) == 0)
			return h;
	return LAB_NHOSTS;
}

const char *lab_provider_name(unsigned i)
{
	return i < LAB_NPROVIDERS ? lab_providers[i].name : NULL;
}

int lab_provider_find(const char *name)
{
	unsigned i;

	for (i = 0; i < LAB_NPROVIDERS; i++)
		if (strcasecmp(lab_providers[i].name, name) == 0)
			return (int)i;
	return -1;
}

static enum lab_host lab_host_of(const struct lab *lab, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned h;

	sa_ip(sa, ip, sizeof(ip));
	for (h = 0; h < LAB_NHOSTS; h++)
		if (strcmp(ip, lab->ip[h]) == 0)
			return h;
	return LAB_NHOSTS;
}

/* Host of an address in any lab (127.77.L.octet), by its last octet. */
static enum lab_host lab_host_of_any(const struct sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	uint32_t ip;
	unsigned h;

	if (sa->sa_family != AF_INET)
		return LAB_NHOSTS;
	ip = ntohl(in->sin_addr.s_addr);
	if ((ip >> 16) != ((127u << 8) | 77u))
		return LAB_NHOSTS;
	for (h = 0; h < LAB_NHOSTS; h++)
		if (lab_hosts[h].octet == (ip & 0xff))
			return h;
	return LAB_NHOSTS;
}

enum lab_host lab_host_of_addr(const struct sockaddr *sa)
{
	return lab_host_of_any(sa);
}

const char *lab_leg(const struct lab *lab, const struct sockaddr *a, const struct sockaddr *b)
{
	enum lab_host ha = lab ? lab_host_of(lab, a) : lab_host_of_any(a);
	enum lab_host hb = lab ? lab_host_of(lab, b) : lab_host_of_any(b);

	if (ha == LAB_NS || hb == LAB_NS)
		return "dns";
	if (ha == LAB_PROVISIONING || hb == LAB_PROVISIONING)
		return "http";
	if (ha == LAB_AP_EXT || hb == LAB_AP_EXT)
		return "external";
	if (ha == LAB_AP_INT || hb == LAB_AP_INT)
		return "internal";
	return "other";
}
