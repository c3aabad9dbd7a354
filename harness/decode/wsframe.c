/* wsframe: WebSocket (RFC 6455) on a captured stream, carrying SIP (RFC 7118): the HTTP
 * upgrade is skipped, frames are unmasked, and each complete text or binary message is one SIP
 * message (RFC 7118 5: a message is never split across WebSocket messages). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "sip/sipframe.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

#define WS_MAX_MSG (1u << 20)

enum { WS_UNKNOWN = 0, WS_HTTP, WS_FRAMES, WS_NONE };

bool wsframe_starts(const uint8_t *p, size_t len)
{
	return (len >= 4 && !memcmp(p, "GET ", 4)) ||
	       (len >= 12 && !memcmp(p, "HTTP/1.1 101", 12));
}

/* The HTTP head ends at CRLFCRLF; it must name the websocket upgrade (RFC 6455 4.1, 4.2.2). */
static int wsframe_http(struct cd_flow *f, struct cd_dir *d, const struct dbuf *buf)
{
	const char *p = (const char *)buf->p + d->ws_off;
	size_t n = buf->len - d->ws_off, i;

	for (i = 0; i + 4 <= n; i++) {
		if (memcmp(p + i, "\r\n\r\n", 4))
			continue;
		if (!memmem(p, i, "ebsocket", 8)) {
			d->ws_state = WS_NONE;
			d->not_sip = true;
			return 0;
		}
		d->ws_off += i + 4;
		d->ws_state = WS_FRAMES;
		return 0;
	}
	if (n > 16384) {
		d->ws_state = WS_NONE;
		d->not_sip = true;
	}
	return 0;
}

/* One frame if complete: its header length and payload length, else 0. */
static size_t wsframe_header(const uint8_t *p, size_t n, uint64_t *plen)
{
	size_t hl = 2;
	uint64_t l;

	if (n < 2)
		return 0;
	l = p[1] & 0x7f;
	if (l == 126) {
		if (n < 4)
			return 0;
		l = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (l == 127) {
		int i;

		if (n < 10)
			return 0;
		for (l = 0, i = 0; i < 8; i++)
			l = l << 8 | p[2 + i];
		hl = 10;
	}
	if (p[1] & 0x80)
		hl += 4;
	if (n < hl || n - hl < l)
		return 0;
	*plen = l;
	return hl;
}

static int wsframe_message(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts)
{
	size_t skip = 0, mlen = 0, len = d->ws.len - d->ws_msg;
	int rc;

	rc = sipframe_next(NULL, (const char *)d->ws.p + d->ws_msg, len, &skip, &mlen);
	if (rc == EBADMSG && len > skip) {
		/* Content-Length is optional inside a WebSocket message (RFC 7118 5): the message
		 * is the whole payload. */
		mlen = len - skip;
		rc = 0;
	}
	if (rc) {
		capdec_flow_error(f, "%s stream: WebSocket message is not SIP",
				  d->idx ? "server" : "client");
		d->ws_msg = d->ws.len;
		return 0;
	}
	rc = capdec_msg_add(c, f, d, ts, &d->ws, d->ws_msg + skip, mlen);
	d->ws_msg = d->ws.len;
	return rc;
}

int wsframe_run(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts,
		const struct dbuf *buf)
{
	int err;

	if (d->ws_state == WS_HTTP) {
		wsframe_http(f, d, buf);
		if (d->ws_state != WS_FRAMES)
			return 0;
	}
	while (d->ws_off < buf->len) {
		const uint8_t *p = buf->p + d->ws_off;
		uint64_t plen = 0, i;
		size_t hl = wsframe_header(p, buf->len - d->ws_off, &plen);
		uint8_t op = p[0] & 0x0f;

		if (!hl)
			break;
		if (op == 1 || op == 2 || op == 0) {
			if (d->ws.len - d->ws_msg + plen > WS_MAX_MSG) {
				capdec_flow_error(f, "WebSocket message too large");
				d->not_sip = true;
				d->ws_state = WS_NONE;
				return 0;
			}
			err = dbuf_reserve(&d->ws, (size_t)plen);
			if (err)
				return err;
			for (i = 0; i < plen; i++) {
				uint8_t b = p[hl + i];

				if (p[1] & 0x80)
					b ^= p[hl - 4 + (i & 3)];
				d->ws.p[d->ws.len++] = b;
			}
			if (p[0] & 0x80) {
				err = wsframe_message(c, f, d, ts);
				if (err)
					return err;
			}
		}
		d->ws_off += hl + (size_t)plen;
	}
	d->scan_off = d->ws_off;
	return 0;
}
