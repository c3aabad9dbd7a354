/* lduas: a provider-like responder answering 200 OK to every request at once. */
#ifndef PIC_LDUAS_H
#define PIC_LDUAS_H

#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>
#include <sys/socket.h>

struct lduas;
struct tlsctx;

/* Listens on addr (mutual TLS with tls, a server context, else plain TCP; reuseport lets
 * several responders share addr) and answers every request but ACK with 200 OK carrying its
 * Via, From, To (a tag added), Call-ID and CSeq (RFC 3261 8.2.6). Any number of connections. */
int lduas_alloc(struct lduas **up, struct event_base *base, struct tlsctx *tls,
		const struct sockaddr *addr, bool reuseport);
uint64_t lduas_answered(const struct lduas *u);
unsigned lduas_conns(const struct lduas *u);

/* The pure part (tests): the 200 OK to the request req[0..len) into out; returns its length,
 * or 0 when req is not a request, is an ACK, lacks a mandatory header or out is too small. */
size_t lduas_answer(const char *req, size_t len, char *out, size_t size);

#endif
