/* sipscan: cuts a cleartext or decrypted byte stream into SIP messages (RFC 3261 18.3). */
#include <errno.h>

#include "base/log.h"
#include "sip/sipframe.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

/* Scans buf from d->scan_off on and records each complete message. A stream whose very first
 * bytes are not SIP is some other protocol: it is marked and never looked at again. */
int sipscan_run(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts,
		const struct dbuf *buf)
{
	size_t skip = 0, mlen = 0;
	int rc, err;

	/* RFC 7118: SIP inside WebSocket frames after an HTTP upgrade on the same stream. */
	if (d->ws_state == 0 && d->scan_off == 0 && buf->len >= 4) {
		d->ws_state = wsframe_starts(buf->p, buf->len) ? 1 : 3;
		if (d->ws_state == 1) {
			f->pub.ws = true;
			/* the server's side answers "HTTP/1.1 101" and frames the same way */
			f->dir[!d->idx].ws_state = f->dir[!d->idx].ws_state ? f->dir[!d->idx].ws_state : 1;
		}
	}
	if (d->ws_state == 1 || d->ws_state == 2)
		return wsframe_run(c, f, d, ts, buf);

	while (d->scan_off < buf->len) {
		skip = 0;
		rc = sipframe_next(NULL, (const char *)buf->p + d->scan_off,
				   buf->len - d->scan_off, &skip, &mlen);
		if (rc == EAGAIN) {
			/* Keep-alive CRLFs already seen need no second look. */
			d->scan_off += skip;
			break;
		}
		if (rc) {
			if (d->scan_off || f->pub.sip_msgs)
				capdec_flow_error(f, "%s stream: bad SIP message at offset %zu",
						  d->idx ? "server" : "client", d->scan_off);
			d->not_sip = true;
			break;
		}
		err = capdec_msg_add(c, f, d, ts, buf, d->scan_off + skip, mlen);
		if (err)
			return err;
		d->scan_off += skip + mlen;
	}
	return 0;
}
