/* fakedns: the lab's stub DNS server on UDP and TCP, answering from zone-file text via ldns. */
#ifndef PIC_FAKEDNS_H
#define PIC_FAKEDNS_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct fakedns;

/* Starts a server on addr (UDP and TCP, same port, normally 53) answering from records given as
 * presentation-format lines ("sip.aol.test. 300 IN A 127.77.0.10"; also AAAA, SRV, NAPTR,
 * CNAME; ';' comments and blank lines allowed; relative names are not). A name the zone does
 * not have gets NXDOMAIN; a name it has but not of the asked type gets NOERROR with no answer.
 * EINVAL (and a log line naming the bad record and its line number) if the text does not parse. */
int fakedns_alloc(struct fakedns **dp, struct event_base *base, const struct sockaddr *addr,
		  const char *zone_text);
/* Replaces all records (same rules as above); the old set stays on error. */
int fakedns_set_zone(struct fakedns *d, const char *zone_text);
/* Adds records to the current set. */
int fakedns_add(struct fakedns *d, const char *zone_text);
/* Number of queries answered since start. */
uint64_t fakedns_queries(const struct fakedns *d);

/* The pure part, exposed for tests: builds the wire-format answer to a wire-format query from
 * the current records. *outp is malloc'd (free()). EBADMSG if the query does not parse. */
int fakedns_answer(struct fakedns *d, const uint8_t *query, size_t qlen, uint8_t **outp,
		   size_t *outlen);

#endif
