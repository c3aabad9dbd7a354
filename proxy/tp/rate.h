/* rate: per-peer request rate limits, a token bucket per key (peer CN, else source IP). */
#ifndef AP_RATE_H
#define AP_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct rate;

/* ROB-004 defaults: a provider edge carries all of its users, so it may send 2000 requests a
 * second with bursts of 4000 before it is throttled (503 + Retry-After). */
#define RATE_DEFAULT_PER_SEC 2000u
#define RATE_DEFAULT_BURST 4000u
/* Buckets kept at most; the least recently used goes first when full. */
#define RATE_MAX_KEYS 4096u

int rate_alloc(struct rate **rp, unsigned per_sec, unsigned burst);
/* Replaces the millisecond clock (tests); NULL restores the monotonic clock. */
void rate_set_clock(struct rate *r, uint64_t (*now_ms)(void));
/* Takes one token from key's bucket: true if there was one. When not, *retry_s (may be NULL)
 * is how many seconds until one is back (for Retry-After). */
bool rate_take(struct rate *r, const char *key, unsigned *retry_s);

#endif
