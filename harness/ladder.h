/* ladder: the text ladder of a capture's SIP flow, drawn by reports/ladder.lua (the model the
 * HTML report's SVG ladder uses) from the harness's own decoder. */
#ifndef PIC_LADDER_H
#define PIC_LADDER_H

#include <stddef.h>
#include <stdio.h>

struct ladder;

/* A Lua state for the report modules of root/reports/, with the decoder (piclab_decode). */
int ladder_open(struct ladder **lp, const char *root);
/* Prints the aligned ladder of the capture (keylog may be NULL), only the last `last` messages
 * if last > 0. EINVAL with the reason printed to f if the capture cannot be read. */
int ladder_print(struct ladder *l, const char *pcap, const char *keylog, int last, FILE *f);
/* One line per message past the first *seen ones (time, leg, sender -> receiver, method or
 * status, short Call-ID) to h; *seen moves past them. */
typedef void (ladder_line_h)(const char *line, void *arg);
int ladder_live(struct ladder *l, const char *pcap, const char *keylog, size_t *seen,
		ladder_line_h *h, void *arg);

#endif
