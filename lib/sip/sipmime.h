/* sipmime: a look at a multipart body (RFC 2046 5.1) before libosip2 parses it. */
#ifndef PIC_SIPMIME_H
#define PIC_SIPMIME_H

#include <stdbool.h>
#include <stddef.h>

/* True when msg (a whole SIP message) declares a multipart Content-Type and one of its body
 * parts carries more than one Content-Type header. RFC 2045 5 allows one per entity, and
 * libosip2 (5.3) loses the first one's memory when it meets a second, so such a message must
 * be refused before it reaches osip_message_parse: else every copy leaks. Any line starting
 * with "--" counts as a boundary, so the check errs on refusing. */
bool sipmime_dup_part_type(const char *msg, size_t len);

#endif
