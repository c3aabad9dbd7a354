/* gtpu: GTP-U tunnels (3GPP TS 29.281 5.1) as a mobile core captures them: the T-PDU of a
 * G-PDU message is an IP packet, decoded like any other. */
#include <errno.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

#define GTPU_PORT 2152
#define GTPU_GPDU 255

bool gtpu_port(uint16_t port)
{
	return port == GTPU_PORT;
}

/* Version 1, PT 1; the optional fields (sequence number, N-PDU number, next extension header
 * type) are present when any of E, S, PN is set, then a chain of extension headers. Other
 * messages (echo, error indication) carry no user data and are skipped. */
int gtpu_packet(struct capdec *c, struct cd_pkt *pk, const uint8_t *p, size_t len)
{
	size_t off = 8;
	uint8_t next;

	if (len < 8 || (p[0] >> 5) != 1 || !(p[0] & 0x10) || p[1] != GTPU_GPDU)
		return 0;
	if (p[0] & 0x07) {
		if (len < 12)
			return 0;
		next = p[11];
		off = 12;
		while (next) {
			size_t elen;

			if (off >= len)
				return 0;
			elen = (size_t)p[off] * 4;
			if (!elen || off + elen > len)
				return 0;
			next = p[off + elen - 1];
			off += elen;
		}
	}
	if (off >= len)
		return 0;
	return pcapread_ip(c, pk, p + off, len - off);
}
