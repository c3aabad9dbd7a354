/* fakedns: the lab's stub DNS server on UDP and TCP, answering from zone-file text via ldns. */
#ifndef PIC_FAKEDNS_H
#define PIC_FAKEDNS_H

#include <event2/event.h>
#include <stdbool.h>
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
/* Removes the records of name of one type ("A", "SRV", ...; NULL or "ANY": all types).
 * ENOENT if there were none, EINVAL for an unknown type. */
int fakedns_remove(struct fakedns *d, const char *name, const char *type);

/* Faults served for one name, whatever the type asked (DNS-004 and friends). */
enum fakedns_fault {
	FAKEDNS_FAULT_NONE = 0,
	FAKEDNS_FAULT_SERVFAIL,  /* rcode SERVFAIL, no records */
	FAKEDNS_FAULT_NXDOMAIN,  /* rcode NXDOMAIN, even if the zone has the name */
	FAKEDNS_FAULT_DROP,      /* no answer at all: the asker times out */
	FAKEDNS_FAULT_DELAY,     /* the normal answer, ms later */
	FAKEDNS_FAULT_TRUNCATE,  /* over UDP an empty answer with TC; over TCP the full one */
};
/* "servfail", "nxdomain", "drop" (also "timeout"), "delay", "truncate" -> kind; EINVAL else. */
int fakedns_fault_parse(const char *text, enum fakedns_fault *kindp);
const char *fakedns_fault_name(enum fakedns_fault kind);
/* Sets (replaces) the fault of name (case-insensitive, trailing dot optional); ms is used by
 * DELAY only (at most 60000). FAKEDNS_FAULT_NONE clears it. */
int fakedns_fault(struct fakedns *d, const char *name, enum fakedns_fault kind, unsigned ms);
/* Clears every fault. Delayed answers already queued are still sent. */
void fakedns_fault_clear(struct fakedns *d);

/* The query log: every query received, oldest first, the last FAKEDNS_LOG_MAX kept. */
#define FAKEDNS_LOG_MAX 4096
enum fakedns_transport { FAKEDNS_DIRECT = 0, FAKEDNS_UDP, FAKEDNS_TCP };
struct fakedns_query {
	char name[256];          /* as asked, lower case, without the trailing dot */
	uint16_t type;           /* RR type number (1 A, 28 AAAA, 33 SRV, ...) */
	enum fakedns_transport transport;
	uint64_t at_ms;          /* ms since the server started (CLOCK_MONOTONIC) */
	int rcode;               /* rcode answered, -1 when not answered (drop) */
	bool truncated;          /* answered with TC */
	enum fakedns_fault fault;/* the fault that shaped the answer, if any */
};
size_t fakedns_log_count(const struct fakedns *d);
/* i in [0, count); NULL outside. Valid until the next query or fakedns_log_clear. */
const struct fakedns_query *fakedns_log_get(const struct fakedns *d, size_t i);
void fakedns_log_clear(struct fakedns *d);
const char *fakedns_transport_name(enum fakedns_transport t);

/* Number of queries answered since start. */
uint64_t fakedns_queries(const struct fakedns *d);

/* The pure part, exposed for tests: builds the wire-format answer to a wire-format query from
 * the current records and faults (DELAY answers at once). *outp is malloc'd (free()). EBADMSG
 * if the query does not parse; EAGAIN (nothing to send) under a DROP fault. */
int fakedns_answer(struct fakedns *d, const uint8_t *query, size_t qlen, uint8_t **outp,
		   size_t *outlen);

#endif
