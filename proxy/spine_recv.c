/* spine_recv: the receive side of the spine: framed bytes -> limits -> scan -> sanity (what
 * crosses inward) -> decode -> the request or response path. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "sip/sipscan.h"
#include "tp/rate.h"
#include "sanity/sanity.h"
#include "state/state.h"
#include "spine_int.h"

#define LOG_MODULE "spine"

/* RFC 3261 7.3, ROB-003: the header block measured (over max_header_bytes: 513, RFC 3261
 * 21.5.14), its lines counted and measured (400), before the parser sees them. Returns the
 * status, 0 when within the limits. */
static int spine_head_limits(const char *buf, size_t len, unsigned max_header,
			     const char **why)
{
	size_t i, start = 0, lines = 0;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\r' || buf[i + 1] != '\n')
			continue;
		if (i == start) { /* the empty line: the header ends */
			if (i + 2 > max_header) {
				*why = "header block over the size limit (ROB-003)";
				return 513;
			}
			return 0;
		}
		if (i - start > SPINE_LINE_MAX) {
			*why = "a header line is over the length limit (ROB-003)";
			return 400;
		}
		if (++lines > SPINE_HEADERS_MAX) {
			*why = "too many header lines (ROB-003)";
			return 400;
		}
		start = i + 2;
	}
	return 0;
}

/* A request only the scanner could read (RFC 4475): answered from what it found, with the
 * status and reason given; nothing can be answered without a Via and a CSeq, nor an ACK. */
static void spine_scan_reply(struct spine *s, struct conn *c, enum conf_edge_id in,
			     const struct sipscan *sc, int status, const char *why)
{
	char tag[24], *buf = NULL;
	size_t len;
	int err;

	if (!sipscan_answerable(sc) || (sc->method.l == 3 && !memcmp(sc->method.p, "ACK", 3))) {
		log_info("%s edge: unanswerable request dropped: %s", conf_edge_name(in), why);
		s->st.dropped++;
		return;
	}
	sipmsg_random_token(tag, sizeof(tag));
	err = sipscan_response(sc, status, NULL, conf_edge(s->cfg, CONF_EXTERNAL)->fqdn, why,
			       tag, &buf, &len);
	if (!err)
		err = conn_send(c, buf, len);
	if (err) {
		log_warn("%s edge: cannot answer a malformed request: %s", conf_edge_name(in),
			 strerror(err));
	} else {
		s->st.responses_out++;
		log_info("%s edge: %.*s %.*s answered %d: %s", conf_edge_name(in),
			 (int)(sc->method.l > 32 ? 32 : sc->method.l), sc->method.p,
			 (int)(sc->callid.l > 80 ? 80 : sc->callid.l), sc->callid.p, status, why);
	}
	mem_deref(buf);
}

/* A request the scanner finds well-formed but libosip2 cannot represent (RFC 4475 3.1.1.2),
 * or one from inside that the sanity checks refuse. From outside, or for a domain we route,
 * it is a client error: 400 naming the fault the sanity checks find (never 5xx: the fault is
 * the request's, issue 11). From inside, for a domain we do not route, 404 (RFC 3261 16.4:
 * nowhere to send it; a valid torture message must not get 400). */
static void spine_unparsed(struct spine *s, struct conn *c, enum conf_edge_id in,
			   const char *buf, size_t len, const struct sipscan *sc)
{
	char host[256], why[200], msg[240];
	const char *p = sc->ruri.p, *end = sc->ruri.p + sc->ruri.l, *h;
	size_t n = 0;

	for (h = p; p < end; p++)
		if (*p == '@' || (*p == ':' && h == sc->ruri.p))
			h = p + 1;
	while (h < end && n + 1 < sizeof(host) && !strchr(";:?>", *h))
		host[n++] = *h++;
	host[n] = '\0';
	if (in != CONF_EXTERNAL && !state_is_our_domain(s->snap, host) &&
	    !state_provider_by_domain(s->snap, host)) {
		spine_scan_reply(s, c, in, sc, 404, "no route for the Request-URI");
		return;
	}
	if (!sanity_check(buf, len, sc, why, sizeof(why)))
		snprintf(why, sizeof(why), "a header field the proxy cannot parse");
	snprintf(msg, sizeof(msg), "malformed request: %s", why);
	spine_scan_reply(s, c, in, sc, 400, msg);
}

/* ROB-004 for what never reaches spine_sanity: a malformed flood gets no answers. */
static bool spine_rate_ok(struct spine *s, struct conn *c, enum conf_edge_id in)
{
	const char *cn = conn_peer_cn(c);
	char key[80], ip[64];
	unsigned retry = 1;

	if (in != CONF_EXTERNAL)
		return true;
	snprintf(key, sizeof(key), "%s", cn && *cn ? cn : sa_ip(conn_peer_addr(c), ip, sizeof(ip)));
	if (rate_take(s->rate, key, &retry))
		return true;
	s->st.throttled++;
	return false;
}

/* tp / peer receive: bytes -> limits -> scan (RFC 4475 defects) -> sipmsg_decode -> request
 * or response path. Defective responses are dropped: they cannot be routed (RFC 4475
 * 3.1.2.5, 3.1.2.19). */
void spine_recv(struct conn *c, enum conf_edge_id edge, const char *buf, size_t len, void *arg)
{
	struct spine *s = arg;
	struct sipmsg *m = NULL;
	struct sipscan sc;
	const char *why = NULL;
	char why400[200], msg[240];
	int over = spine_head_limits(buf, len, conf_limits(s->cfg)->max_header, &why);
	bool malformed;

	if (sipscan_parse(&sc, buf, len)) {
		log_info("%s edge: message of %zu bytes without a start line or header end "
			 "dropped", conf_edge_name(edge), len);
		s->st.dropped++;
		return;
	}
	/* issue 11 item 4: nothing malformed crosses inward; nor outward, where a request the
	 * grammar refuses would leave cut short or rewritten by the parser ("sip:%00@h") */
#ifndef AP_MUTANT_ROB_NO_OUTWARD_SANITY
	malformed = (edge == CONF_EXTERNAL || sc.request) && !over && !sc.defect &&
		    sanity_check(buf, len, &sc, why400, sizeof(why400));
#else
	malformed = edge == CONF_EXTERNAL && !over && !sc.defect &&
		    sanity_check(buf, len, &sc, why400, sizeof(why400));
#endif
	if (!sc.request) {
		if (sc.defect || malformed || sipmsg_decode(&m, buf, len)) {
			log_info("%s edge: malformed response dropped: %s", conf_edge_name(edge),
				 sc.defect ? sc.why : malformed ? why400 : "libosip2 refuses it");
			s->st.dropped++;
			return;
		}
		spine_response(s, m);
		mem_deref(m);
		return;
	}
	if (over || sc.defect || malformed || sipmsg_decode(&m, buf, len)) {
		s->st.requests_in++;
		if (!spine_rate_ok(s, c, edge)) {
			s->st.dropped++;
		} else if (over) {
			s->st.oversize += over == 513;
			spine_scan_reply(s, c, edge, &sc, over, why);
		} else if (sc.defect) {
			spine_scan_reply(s, c, edge, &sc, sc.defect, sc.why);
		} else if (malformed && edge == CONF_EXTERNAL) {
			s->st.refused_malformed++;
			snprintf(msg, sizeof(msg), "malformed request: %s", why400);
			spine_scan_reply(s, c, edge, &sc, 400, msg);
		} else {
			spine_unparsed(s, c, edge, buf, len, &sc);
		}
		mem_deref(m);
		return;
	}
	spine_request(s, c, edge, m);
	mem_deref(m);
}


/* tp: input too large or unframeable (issue 11 items 2, 5): 413 for a body over the limit
 * (the connection survives when the body can be dropped: keep), 513 (RFC 3261 21.5.14) for a
 * header block too long even to skip; each answered from what the scanner can read of the
 * header, before the connection closes. Bytes that do not frame, or nothing answerable:
 * nothing sent. */
void spine_refused(struct conn *c, enum conf_edge_id edge, int err, const char *buf, size_t len,
		   bool keep, void *arg)
{
	struct spine *s = arg;
	bool whole = buf && len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4);
	const struct conf_limits *lim = conf_limits(s->cfg);
	struct sipscan sc;
	char *head = NULL, why[160];
	const char *end;
	int status;

	if (!buf || !len)
		return;
	if (err != EMSGSIZE) {
		/* RFC 3261 18.3: without a usable Content-Length nothing on the stream can be
		 * framed any more, this message included (an RFC 2543 request, RFC 4475 3.4.1,
		 * may well be valid): no answer, the connection closes once the answers already
		 * queued on it are out */
		log_info("%s edge: %zu bytes that cannot be framed (no usable Content-Length): "
			 "connection closed", conf_edge_name(edge), len);
		s->st.dropped++;
		return;
	}
	if (!whole) { /* the header never ended: what came, cut after its last full line */
		for (end = buf + len; end > buf + 1 && !(end[-2] == '\r' && end[-1] == '\n'); end--)
			;
		if (end <= buf + 1 || !(head = mem_zalloc((size_t)(end - buf) + 2, NULL)))
			return;
		memcpy(head, buf, (size_t)(end - buf));
		memcpy(head + (end - buf), "\r\n", 2);
		len = (size_t)(end - buf) + 2;
		buf = head;
	}
	if (sipscan_parse(&sc, buf, len) || !sc.request) {
		log_info("%s edge: refused input of %zu bytes cannot be answered", conf_edge_name(edge),
			 len);
		s->st.dropped++;
		goto out;
	}
	s->st.requests_in++;
	if (err == EMSGSIZE && whole) {
		status = 413;
		snprintf(why, sizeof(why), "message body over the limit of %u bytes (IM-004)%s",
			 lim->max_body, keep ? "" : "; too large to skip, the connection closes");
	} else {
		status = 513;
		snprintf(why, sizeof(why), "header block over the limit of %u bytes, and too long "
			 "to skip (ROB-003); the connection closes", lim->max_header);
	}
	s->st.oversize++;
	if (!spine_rate_ok(s, c, edge))
		s->st.dropped++;
	else
		spine_scan_reply(s, c, edge, &sc, status, why);
out:
	mem_deref(head);
}
