/* ldlat: latency samples of a load run and their percentiles. */
#ifndef PIC_LDLAT_H
#define PIC_LDLAT_H

#include <stddef.h>
#include <stdint.h>

struct ldlat;

/* A recorder keeping up to max samples (further ones are counted, not kept). */
int ldlat_alloc(struct ldlat **lp, size_t max);
/* One latency in nanoseconds. */
void ldlat_add(struct ldlat *l, uint64_t ns);
size_t ldlat_count(const struct ldlat *l);
/* The q-quantile (0..1, nearest rank) of the kept samples in ns; 0 when there are none.
 * Sorts the samples on first use after an add. */
uint64_t ldlat_quantile(struct ldlat *l, double q);
uint64_t ldlat_max(const struct ldlat *l);
/* Forgets every sample (keeps the memory): the next interval starts empty. */
void ldlat_reset(struct ldlat *l);

#endif
