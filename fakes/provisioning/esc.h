/* esc: escaping text into HTML and JSON for the provisioning site's pages (no library needed). */
#ifndef PIC_PROV_ESC_H
#define PIC_PROV_ESC_H

#include <event2/buffer.h>

/* Appends s with & < > " ' replaced by entities; NULL appends nothing. Safe in text and in
 * double-quoted attribute values. */
void esc_html(struct evbuffer *b, const char *s);
/* Appends s as a JSON string, quotes included (RFC 8259 7): ", \ and control characters are
 * escaped, other bytes (UTF-8) pass through unchanged. NULL appends null. */
void esc_json(struct evbuffer *b, const char *s);
/* Copies the buffer into a mem_zalloc'd NUL-terminated string; NULL when out of memory. */
char *esc_take(struct evbuffer *b);

#endif
