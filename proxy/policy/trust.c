/* trust: ms-edge-proxy-message-trust marking per filter mode and verification claim. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "trust.h"

#define LOG_MODULE "trust"

bool trust_verdict(enum state_filter mode, bool claimed)
{
	switch (mode) {
#ifdef AP_MUTANT_TRUST_CONTACTS_ONLY_KEEPS_CLAIM
	case STATE_FILTER_CONTACTS_ONLY:
		return claimed;        /* the provider's claim kept */
#else
	case STATE_FILTER_CONTACTS_ONLY:
		return false;          /* TRUST-003 */
#endif
#ifdef AP_MUTANT_TRUST_ALLOW_ALL_KEEPS_CLAIM
	case STATE_FILTER_ALLOW_ALL:
		return claimed;        /* the provider's claim kept */
#else
	case STATE_FILTER_ALLOW_ALL:
		return true;           /* TRUST-005 */
#endif
	case STATE_FILTER_VERIFIED_ONLY:
		return claimed;        /* TRUST-004 */
	}
	return false;
}

bool trust_claimed(const struct sipmsg *req)
{
	const char *v = sipmsg_header(req, TRUST_CLAIM_HEADER, 0);
	size_t n;

	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	/* two claims that disagree are no claim */
	if (sipmsg_header_count(req, TRUST_CLAIM_HEADER) != 1)
		return false;
#ifdef AP_MUTANT_TRUST_CLAIM_ANY_VALUE
	return true;           /* any claim taken for "yes" */
#else
	return n == 3 && !strncasecmp(v, "yes", 3);
#endif
}

int trust_mark(struct sipmsg *req, enum state_filter mode, const char *our_fqdn,
	       const char *remote_fqdn)
{
	char val[512];
	bool verified;
	int n = 0, err;

	if (!req || !our_fqdn || !remote_fqdn)
		return EINVAL;
#ifdef AP_MUTANT_NO_TRUST
	/* mutation-test build only (harness/tests/mutants.sh): trust marking switched off */
	return 0;
#endif
	verified = trust_verdict(mode, trust_claimed(req));
#ifdef AP_MUTANT_TRUST_FOREIGN_HEADER_KEPT
	err = 0; /* a trust header from outside is kept */
#else
	err = sipmsg_header_remove(req, TRUST_HEADER, &n);
#endif
	if (!err && n)
		log_info("removed %d %s header(s) that came from %s (TRUST-001)", n, TRUST_HEADER,
			 remote_fqdn);
	if (!err)
		err = sipmsg_header_remove(req, TRUST_CLAIM_HEADER, NULL);
	if (err)
		return err;
	if ((size_t)snprintf(val, sizeof(val),
			     "ms-source-type=InternetDomain;ms-ep-fqdn=%s;"
			     "ms-source-network=publiccloud;ms-source-verified-user=%s;"
			     "ms-remote-fqdn=%s", our_fqdn, verified ? "verified" : "unverified",
			     remote_fqdn) >= sizeof(val))
		return ENOSPC;
	return sipmsg_header_add(req, TRUST_HEADER, val);
}

int trust_outbound(struct sipmsg *req, bool claim_verified)
{
	int err;

	if (!req)
		return EINVAL;
	err = sipmsg_header_remove(req, TRUST_HEADER, NULL);
	if (!err)
		err = sipmsg_header_remove(req, TRUST_CLAIM_HEADER, NULL);
	if (!err && claim_verified)
		err = sipmsg_header_add(req, TRUST_CLAIM_HEADER, "yes");
	return err;
}
