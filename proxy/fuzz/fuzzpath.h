/* fuzzpath: the proxy's request and response paths driven in-process, for fuzzing and replay:
 * bytes written into a connection of one edge come out as what the proxy answers on that
 * connection and what it would forward, with no listener, resolver or peer involved. */
#ifndef AP_FUZZPATH_H
#define AP_FUZZPATH_H

#include <stddef.h>
#include <stdint.h>

#include "../conf/conf.h"

struct fuzzpath;

/* The policy snapshot comes from an in-memory database seeded from cfg (a reference is taken),
 * with the users in the NULL-terminated list enabled (may be NULL). */
int fuzzpath_alloc(struct fuzzpath **fpp, const struct conf *cfg, const char *const *users);

/* Runs data through a fresh spine (no state carries over from one run to the next): written
 * into a connection of edge whose peer certificate names peer_cn (NULL or "": none), as a
 * stream, in pieces. Then, when status is 100..699, every request forwarded is answered with
 * that status by its destination (its Via, From, To, Call-ID and CSeq copied), through the
 * response path. 0, or an errno when the driver itself failed (not the proxy's verdicts). */
int fuzzpath_run(struct fuzzpath *fp, enum conf_edge_id edge, const char *peer_cn,
		 const uint8_t *data, size_t len, int status);

/* The last run's bytes the proxy sent back on the connection the input came in on (its own
 * answers and the responses it relayed), and the requests it would have forwarded, one after
 * the other. Valid until the next run. */
const char *fuzzpath_answers(const struct fuzzpath *fp, size_t *lenp);
const char *fuzzpath_forwarded(const struct fuzzpath *fp, size_t *lenp);
/* The edge each forwarded request of the last run left through, in order: "ie" letters
 * ('i' internal, 'e' external), NUL-terminated. */
const char *fuzzpath_forwarded_edges(const struct fuzzpath *fp);

#endif
