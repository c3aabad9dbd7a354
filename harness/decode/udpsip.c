/* udpsip: SIP over UDP (RFC 3261 18.3: one message per datagram, Content-Length optional) and
 * the UDP tunnels that carry IP (GTP-U). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/log.h"
#include "sip/sipframe.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

static uint16_t udpsip_port(const struct sockaddr_storage *sa)
{
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/* "SIP/2.0 NNN" or "METHOD uri SIP/2.0" up to the first CRLF. */
static bool udpsip_start_line(const uint8_t *p, size_t len)
{
	const uint8_t *eol = memchr(p, '\r', len < 1024 ? len : 1024);
	size_t n;

	if (!eol)
		return false;
	n = (size_t)(eol - p);
	return (n > 8 && !memcmp(p, "SIP/2.0 ", 8)) ||
	       (n > 10 && !memcmp(eol - 8, " SIP/2.0", 8));
}

/* Datagrams of one address pair form one flow (client: the first sender); each SIP message is
 * kept in the sending direction's buffer. Datagrams that are not SIP (RTP, STUN, DNS) are
 * counted nowhere. */
int udpsip_datagram(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	struct cd_flow *f;
	struct cd_dir *d;
	size_t skip = 0, mlen = 0, off;
	int dir, rc, err;

	if (gtpu_port(udpsip_port(&pk->src)) || gtpu_port(udpsip_port(&pk->dst)))
		return gtpu_packet(c, pk, p, len);
	if (len < 8)
		return 0;
	rc = sipframe_next(NULL, (const char *)p, len, &skip, &mlen);
	if (rc == EBADMSG || rc == EAGAIN) {
		/* RFC 3261 18.3: without Content-Length the body runs to the datagram's end; the
		 * start line still has to be SIP's. */
		skip = 0;
		while (skip < len && (p[skip] == '\r' || p[skip] == '\n'))
			skip++;
		mlen = len - skip;
		rc = udpsip_start_line(p + skip, mlen) ? 0 : EBADMSG;
	}
	if (rc)
		return 0;
	err = tcpflow_find(c, pk, &f, &dir);
	if (err)
		return err;
	d = &f->dir[dir];
	off = d->raw.len;
	err = dbuf_append(&d->raw, p, len);
	if (err)
		return err;
	err = capdec_msg_add(c, f, d, pk->ts, &d->raw, off + skip, mlen);
	if (!err && c->stream_h)
		tcpflow_trim(c, f, false);
	return err;
}
