/* dnszone: the stub DNS server's records and the pure query -> answer step (no sockets). */
#ifndef PIC_DNSZONE_H
#define PIC_DNSZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dnszone;

/* Parses presentation-format records, one a line (absolute names, class IN, ';' comments and
 * blank lines allowed) into a new refcounted zone. EINVAL, with a log line naming the line
 * number, if any line does not parse: then nothing is made. */
int dnszone_parse(struct dnszone **zp, const char *text);
/* Copies every record of from into z (duplicates kept once); ENOMEM may leave part added. */
int dnszone_merge(struct dnszone *z, const struct dnszone *from);
/* Removes the records of owner name (absolute or not; case-insensitive) of type rrtype, or of
 * every type with rrtype 0. ENOENT if there were none, EINVAL if name does not parse. */
int dnszone_remove(struct dnszone *z, const char *name, uint16_t rrtype);
/* Builds the wire answer to a wire query; *outp is malloc'd (free()). With udp, the answer is
 * kept to 512 bytes (or the EDNS size offered, at most 1232) and otherwise truncated with TC.
 * from names the asker in the debug log line. EBADMSG (nothing to send) when the packet has no
 * full header or is a response; a query that does not parse gets FORMERR. */
int dnszone_answer(const struct dnszone *z, const uint8_t *q, size_t qlen, bool udp,
		   const char *from, uint8_t **outp, size_t *outlen);

#endif
