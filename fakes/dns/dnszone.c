/* dnszone: the stub DNS server's records (from zone-file text) and the answers built from them. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "base/log.h"
#include "base/mem.h"
#include "../dns/dnszone.h"

#define LOG_MODULE "dnszone"

/* Longest zone line we accept; records of the lab are one short line each. */
#define DNSZONE_LINE_MAX 4096
/* Every relative name is parsed under this origin so that it can be found and refused: the zone
 * text has no $ORIGIN, so a relative name is always a typo. */
#define DNSZONE_RELATIVE_MARK "relative-name.dnszone.invalid."
/* CNAME chains longer than this are treated as loops (RFC 1034 3.6.2 forbids nothing, but
 * resolvers give up long before). */
#define DNSZONE_CHAIN_MAX 8
/* RFC 1035 4.2.1: 512 bytes over UDP unless EDNS (RFC 6891 6.2.5) allows more; 1232 is the
 * size the DNS flag day 2020 settled on, and the most we offer. */
#define DNSZONE_UDP_PLAIN 512
#define DNSZONE_UDP_EDNS 1232

/* All records of one owner name; the tree is keyed by the owner (ldns compares names
 * case-insensitively, RFC 4343). */
struct dnszone_name {
	ldns_rbnode_t node;
	ldns_rdf *owner;
	ldns_rr_list *rrs;
};

struct dnszone {
	ldns_rbtree_t *names;
};

/* --- the records --- */

static int name_cmp(const void *a, const void *b)
{
	return ldns_dname_compare(a, b);
}

static void name_free(ldns_rbnode_t *node, void *arg)
{
	struct dnszone_name *n = (struct dnszone_name *)node;

	ldns_rdf_deep_free(n->owner);
	ldns_rr_list_deep_free(n->rrs);
	free(n);
}

static void tree_free(ldns_rbtree_t *t)
{
	if (!t)
		return;
	ldns_traverse_postorder(t, name_free, NULL);
	ldns_rbtree_free(t);
}

/* Takes ownership of rr. A record given twice is kept once (RFC 2181 5: an RRset has no
 * duplicates). */
static int tree_add(ldns_rbtree_t *t, ldns_rr *rr)
{
	struct dnszone_name *n;

	n = (struct dnszone_name *)ldns_rbtree_search(t, ldns_rr_owner(rr));
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			goto nomem;
		n->owner = ldns_rdf_clone(ldns_rr_owner(rr));
		n->rrs = ldns_rr_list_new();
		if (!n->owner || !n->rrs) {
			name_free(&n->node, NULL);
			goto nomem;
		}
		n->node.key = n->owner;
		ldns_rbtree_insert(t, &n->node);
	}
	if (ldns_rr_list_contains_rr(n->rrs, rr)) {
		ldns_rr_free(rr);
		return 0;
	}
	if (!ldns_rr_list_push_rr(n->rrs, rr))
		goto nomem;
	return 0;
nomem:
	ldns_rr_free(rr);
	return ENOMEM;
}

static bool is_relative(const ldns_rdf *dname, const ldns_rdf *mark)
{
	return ldns_rdf_get_type(dname) == LDNS_RDF_TYPE_DNAME &&
	       (ldns_dname_compare(dname, mark) == 0 || ldns_dname_is_subdomain(dname, mark));
}

/* One presentation-format line into a record; EINVAL (logged with the line number) if it does
 * not parse, is not class IN or holds a relative name. */
static int line_parse(const char *line, unsigned lineno, const ldns_rdf *mark, ldns_rr **rrp)
{
	ldns_status st;
	ldns_rr *rr = NULL;
	size_t i;

	st = ldns_rr_new_frm_str(&rr, line, 3600, (ldns_rdf *)mark, NULL);
	if (st != LDNS_STATUS_OK) {
		log_error("zone line %u: %s: \"%s\"", lineno, ldns_get_errorstr_by_id(st), line);
		return EINVAL;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		log_error("zone line %u: only class IN is served: \"%s\"", lineno, line);
		goto bad;
	}
	if (is_relative(ldns_rr_owner(rr), mark))
		goto relative;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (is_relative(ldns_rr_rdf(rr, i), mark))
			goto relative;
	}
	*rrp = rr;
	return 0;
relative:
	log_error("zone line %u: relative name (end names with '.'): \"%s\"", lineno, line);
bad:
	ldns_rr_free(rr);
	return EINVAL;
}

/* Parses the whole text into a new tree, or into nothing: a bad line refuses all of it. */
static int zone_parse(const char *text, ldns_rbtree_t **treep)
{
	char line[DNSZONE_LINE_MAX];
	ldns_rbtree_t *t;
	ldns_rdf *mark;
	unsigned lineno = 0;
	int err = 0;

	if (!text)
		return EINVAL;
	t = ldns_rbtree_create(name_cmp);
	mark = ldns_dname_new_frm_str(DNSZONE_RELATIVE_MARK);
	if (!t || !mark) {
		err = ENOMEM;
		goto out;
	}
	while (*text) {
		size_t len = strcspn(text, "\n");
		const char *p = line;
		ldns_rr *rr = NULL;

		lineno++;
		if (len >= sizeof(line)) {
			log_error("zone line %u: longer than %d bytes", lineno, DNSZONE_LINE_MAX - 1);
			err = EINVAL;
			goto out;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		text += len + (text[len] == '\n');
		p += strspn(p, " \t");
		if (!*p || *p == ';')
			continue;
		if ((err = line_parse(p, lineno, mark, &rr)) || (err = tree_add(t, rr)))
			goto out;
	}
out:
	ldns_rdf_deep_free(mark);
	if (err)
		tree_free(t);
	else
		*treep = t;
	return err;
}

static const struct dnszone_name *name_find(const struct dnszone *z, const ldns_rdf *name)
{
	return (const struct dnszone_name *)ldns_rbtree_search(z->names, name);
}

/* --- answering --- */

/* Pushes a copy of rr into a section unless the packet has it there already. */
static void pkt_add(ldns_pkt *p, ldns_pkt_section sec, const ldns_rr *rr)
{
	ldns_rr *c;

	if (ldns_pkt_rr(p, LDNS_SECTION_ANSWER, (ldns_rr *)rr) || ldns_pkt_rr(p, sec, (ldns_rr *)rr))
		return;
	c = ldns_rr_clone(rr);
	if (c && !ldns_pkt_push_rr(p, sec, c))
		ldns_rr_free(c);
}

/* The A and AAAA records of a target name, and with srv_too its SRV records and their
 * targets' addresses (a NAPTR replacement names an SRV owner, RFC 3403 4.2 / RFC 3263 4.1). */
static void additional_addrs(const struct dnszone *z, ldns_pkt *p, const ldns_rdf *target,
			     bool srv_too)
{
	const struct dnszone_name *n = name_find(z, target);
	size_t i;

	for (i = 0; n && i < ldns_rr_list_rr_count(n->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(n->rrs, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) {
			pkt_add(p, LDNS_SECTION_ADDITIONAL, rr);
		} else if (t == LDNS_RR_TYPE_SRV && srv_too) {
			pkt_add(p, LDNS_SECTION_ADDITIONAL, rr);
			additional_addrs(z, p, ldns_rr_rdf(rr, 3), false);
		}
	}
}

/* RFC 2782 and RFC 3403: an SRV or NAPTR answer brings what the client will ask next. */
static void additional_for(const struct dnszone *z, ldns_pkt *p, const ldns_rr *rr)
{
	const ldns_rdf *target;

	switch (ldns_rr_get_type(rr)) {
	case LDNS_RR_TYPE_SRV:
		additional_addrs(z, p, ldns_rr_rdf(rr, 3), false);
		break;
	case LDNS_RR_TYPE_NAPTR:
		target = ldns_rr_rdf(rr, 5);
		if (target && ldns_dname_label_count(target) > 0)
			additional_addrs(z, p, target, true);
		break;
	default:
		break;
	}
}

/* RFC 1034 4.3.2 step 3 for a server authoritative for every name it has: the records of the
 * asked type, or a CNAME chain followed to them; the rcode speaks of the last name in the
 * chain (RFC 6604 2.1). */
static void resolve(const struct dnszone *z, const ldns_rr *question, ldns_pkt *p)
{
	const ldns_rdf *name = ldns_rr_owner(question);
	ldns_rr_type qtype = ldns_rr_get_type(question);
	ldns_rr_class qclass = ldns_rr_get_class(question);
	unsigned hops;
	size_t i;

	if (qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) {
		ldns_pkt_set_rcode(p, LDNS_RCODE_REFUSED);
		return;
	}
	for (hops = 0; hops <= DNSZONE_CHAIN_MAX; hops++) {
		const struct dnszone_name *n = name_find(z, name);
		const ldns_rr *cname = NULL;
		bool found = false;

		if (!n) {
			ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
			return;
		}
		for (i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(n->rrs, i);
			ldns_rr_type t = ldns_rr_get_type(rr);

			if (t == qtype || qtype == LDNS_RR_TYPE_ANY) {
				pkt_add(p, LDNS_SECTION_ANSWER, rr);
				additional_for(z, p, rr);
				found = true;
			} else if (t == LDNS_RR_TYPE_CNAME) {
				cname = rr;
			}
		}
		if (found || !cname)
			return;
		pkt_add(p, LDNS_SECTION_ANSWER, cname);
		name = ldns_rr_rdf(cname, 0);
	}
	log_warn("CNAME chain longer than %d", DNSZONE_CHAIN_MAX);
	ldns_pkt_set_rcode(p, LDNS_RCODE_SERVFAIL);
}

static void section_clear(ldns_pkt *p, ldns_pkt_section sec)
{
	switch (sec) {
	case LDNS_SECTION_ANSWER:
		ldns_rr_list_deep_free(ldns_pkt_answer(p));
		ldns_pkt_set_answer(p, ldns_rr_list_new());
		ldns_pkt_set_ancount(p, 0);
		break;
	case LDNS_SECTION_AUTHORITY:
		ldns_rr_list_deep_free(ldns_pkt_authority(p));
		ldns_pkt_set_authority(p, ldns_rr_list_new());
		ldns_pkt_set_nscount(p, 0);
		break;
	default:
		ldns_rr_list_deep_free(ldns_pkt_additional(p));
		ldns_pkt_set_additional(p, ldns_rr_list_new());
		ldns_pkt_set_arcount(p, 0);
		break;
	}
}

static void query_log(const char *from, const ldns_pkt *q, const ldns_pkt *p)
{
	char *name = NULL, *type = NULL;
	const ldns_rr *qr;
	const char *rc = "?";
	ldns_lookup_table *lt;

	if (log_get_level() > LOGL_DEBUG)
		return;
	qr = q ? ldns_rr_list_rr(ldns_pkt_question(q), 0) : NULL;
	if (qr) {
		name = ldns_rdf2str(ldns_rr_owner(qr));
		type = ldns_rr_type2str(ldns_rr_get_type(qr));
	}
	lt = ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(p));
	if (lt)
		rc = lt->name;
	log_debug("%s: id %u %s %s -> %s, %zu answers, %zu additional%s", from ? from : "?", ldns_pkt_id(p),
		  name ? name : "(no question)", type ? type : "", rc,
		  ldns_rr_list_rr_count(ldns_pkt_answer(p)),
		  ldns_rr_list_rr_count(ldns_pkt_additional(p)), ldns_pkt_tc(p) ? ", truncated" : "");
	free(name);
	free(type);
}

/* Builds the answer to one query. udp limits the size as RFC 1035 4.2.1 / RFC 6891 6.2.5 say
 * and sets TC (with the question only) when the answer does not fit. EBADMSG, and no answer,
 * for what has no header or is itself a response (RFC 1035 4.1.1: answering answers makes
 * loops); anything else with a header gets an answer, FORMERR if it does not parse. */
int dnszone_answer(const struct dnszone *z, const uint8_t *q, size_t qlen, bool udp,
		   const char *from, uint8_t **outp, size_t *outlen)
{
	ldns_pkt *qp = NULL, *p = NULL;
	size_t max = udp ? DNSZONE_UDP_PLAIN : 65535;
	ldns_status st;
	int err = 0;

	if (!z || !q || !outp || !outlen || qlen < LDNS_HEADER_SIZE || LDNS_QR_WIRE(q))
		return EBADMSG;
	p = ldns_pkt_new();
	if (!p)
		return ENOMEM;
	ldns_pkt_set_id(p, LDNS_ID_WIRE(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, LDNS_RD_WIRE(q));
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(q));
	st = ldns_wire2pkt(&qp, q, qlen);
	if (st != LDNS_STATUS_OK || ldns_pkt_qdcount(qp) != 1) {
		/* RFC 1035 4.1.1: format error, and nothing of the question is trusted. */
		ldns_pkt_set_aa(p, false);
		ldns_pkt_set_rcode(p, LDNS_RCODE_FORMERR);
		goto pack;
	}
	pkt_add(p, LDNS_SECTION_QUESTION, ldns_rr_list_rr(ldns_pkt_question(qp), 0));
	if (ldns_pkt_edns(qp)) {
		ldns_pkt_set_edns_udp_size(p, DNSZONE_UDP_EDNS);
		if (udp && ldns_pkt_edns_udp_size(qp) > max)
			max = ldns_pkt_edns_udp_size(qp) < DNSZONE_UDP_EDNS ?
				ldns_pkt_edns_udp_size(qp) : DNSZONE_UDP_EDNS;
	}
	if (LDNS_OPCODE_WIRE(q) != LDNS_PACKET_QUERY)
		ldns_pkt_set_rcode(p, LDNS_RCODE_NOTIMPL);
	else
		resolve(z, ldns_rr_list_rr(ldns_pkt_question(qp), 0), p);
pack:
	if (ldns_pkt2wire(outp, p, outlen) != LDNS_STATUS_OK) {
		err = ENOMEM;
		goto out;
	}
	if (*outlen > max) {
		/* RFC 2181 9: a truncated answer is better sent empty with TC than cut. */
		free(*outp);
		section_clear(p, LDNS_SECTION_ANSWER);
		section_clear(p, LDNS_SECTION_AUTHORITY);
		section_clear(p, LDNS_SECTION_ADDITIONAL);
		ldns_pkt_set_tc(p, true);
		if (ldns_pkt2wire(outp, p, outlen) != LDNS_STATUS_OK) {
			err = ENOMEM;
			goto out;
		}
	}
	query_log(from, qp, p);
out:
	ldns_pkt_free(qp);
	ldns_pkt_free(p);
	return err;
}

static void dnszone_destroy(void *data)
{
	struct dnszone *z = data;

	tree_free(z->names);
}

int dnszone_parse(struct dnszone **zp, const char *text)
{
	struct dnszone *z;
	int err;

	if (!zp)
		return EINVAL;
	z = mem_zalloc(sizeof(*z), dnszone_destroy);
	if (!z)
		return ENOMEM;
	err = zone_parse(text, &z->names);
	if (err)
		mem_deref(z);
	else
		*zp = z;
	return err;
}

int dnszone_merge(struct dnszone *z, const struct dnszone *from)
{
	struct dnszone_name *n;
	int err = 0;
	size_t i;

	if (!z || !from)
		return EINVAL;
	LDNS_RBTREE_FOR(n, struct dnszone_name *, from->names) {
		for (i = 0; i < ldns_rr_list_rr_count(n->rrs) && !err; i++) {
			ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(n->rrs, i));

			err = rr ? tree_add(z->names, rr) : ENOMEM;
		}
	}
	return err;
}


int dnszone_remove(struct dnszone *z, const char *name, uint16_t rrtype)
{
	struct dnszone_name *n;
	ldns_rr_list *keep;
	ldns_rdf *owner;
	size_t i, removed = 0;

	if (!z || !name || !*name)
		return EINVAL;
	owner = ldns_dname_new_frm_str(name);
	if (!owner)
		return EINVAL;
	n = (struct dnszone_name *)ldns_rbtree_search(z->names, owner);
	ldns_rdf_deep_free(owner);
	if (!n)
		return ENOENT;
	keep = ldns_rr_list_new();
	if (!keep)
		return ENOMEM;
	/* Keepers first, so that running out of memory changes nothing. */
	for (i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(n->rrs, i);

		if (rrtype && ldns_rr_get_type(rr) != rrtype && !ldns_rr_list_push_rr(keep, rr)) {
			ldns_rr_list_free(keep);
			return ENOMEM;
		}
	}
	for (i = 0; i < ldns_rr_list_rr_count(n->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(n->rrs, i);

		if (!rrtype || ldns_rr_get_type(rr) == rrtype) {
			ldns_rr_free(rr);
			removed++;
		}
	}
	ldns_rr_list_free(n->rrs); /* the shell only: the records moved or were freed */
	n->rrs = keep;
	if (!ldns_rr_list_rr_count(keep)) {
		ldns_rbtree_delete(z->names, n->owner);
		name_free(&n->node, NULL);
	}
	return removed ? 0 : ENOENT;
}
