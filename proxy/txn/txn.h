/* txn: forwarded requests by the branch the proxy generated, for routing responses back. */
#ifndef AP_TXN_H
#define AP_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "../conf/conf.h"

struct txn_table;
struct txn;
struct conn;
struct sipmsg;

/* RFC 3261 17.1.2.2 / Table 4: Timer F = 64*T1 = 32 s bounds a non-INVITE client
 * transaction's life. */
#define TXN_LIFETIME_MS (64u * 500u)
#define TXN_TIMER_F_MS TXN_LIFETIME_MS
/* RFC 3261 16.6 step 11: Timer C (> 3 min) bounds how long an INVITE waits for a final
 * response; its entry lives that long too (2xx retransmissions and the CANCEL find it). */
#define TXN_TIMER_C_MS (181u * 1000u)

/* Once answered (txn_complete), an entry is a compact record kept only to absorb a request
 * sent again: over TLS/TCP Timer J is 0 (RFC 3261 17.2.2), so no retransmission is due at
 * all; what can still come is the same request from a sender that lost its connection right
 * as the answer was sent and sends it again on a new one. That takes a reconnect (TCP + TLS
 * handshake: milliseconds on the links an edge has) or, for a sender that also retransmits
 * by Timer E, 0.5 + 1 + 2 s. 4 s covers both, and at 15k requests/s keeps ~60k compact
 * records (~1 kB each) instead of 32 s of parsed requests (~480k, gigabytes). */
#define TXN_ABSORB_MS 4000u
/* RFC 6026 Timer L / RFC 3261 Timer H: an answered INVITE's entry forwards 2xx
 * retransmissions and matches the ACK of a non-2xx for 64*T1. */
#define TXN_INV_DONE_MS TXN_LIFETIME_MS
/* A final response kept for repeating is at most this long (longer: absorbed, not repeated). */
#define TXN_RSP_MAX 4096u
/* The expiry tick: entries go at most this late. */
#define TXN_TICK_MS 20

/* Called for an entry that expires before any final response went through it (the proxy
 * answers 408, RFC 3261 16.7 step 6 / 16.8); the entry is removed right after. */
typedef void (txn_timeout_h)(struct txn *x, void *arg);

/* A table whose entries expire TXN_TIMER_F_MS (INVITE: TXN_TIMER_C_MS) after insertion; base
 * NULL means no timer (the owner calls txn_expire itself, as tests do). */
int txn_table_alloc(struct txn_table **tp, struct event_base *base);
/* Replaces the millisecond clock (tests); NULL restores the monotonic clock. */
void txn_table_set_clock(struct txn_table *t, uint64_t (*now_ms)(void));
/* Shorter lifetimes (tests); 0 keeps the current value. Applies to new entries. */
void txn_table_set_timers(struct txn_table *t, unsigned f_ms, unsigned c_ms);
/* Lifetimes of answered entries (tests): non-INVITE absorption window, INVITE. */
void txn_table_set_done_timers(struct txn_table *t, unsigned absorb_ms, unsigned inv_ms);
void txn_table_set_timeout_handler(struct txn_table *t, txn_timeout_h *th, void *arg);

/* Records a forwarded request under (branch we generated, CSeq method): the server-side
 * connection it came on (a reference is taken), its edge, the request as forwarded (a
 * reference is taken; it lets the proxy answer for it later) and the received top Via.
 * EEXIST if the key is present (a retransmission): *txp then points at the existing entry.
 * The table owns the entry; *txp is borrowed. */
int txn_insert(struct txn_table *t, struct txn **txp, const char *branch, const char *method,
	       struct conn *srv, enum conf_edge_id edge, struct sipmsg *req,
	       const char *via_branch, const char *via_host);
/* Entry for (branch, method) or NULL; borrowed (mem_ref it to keep it across callbacks). */
struct txn *txn_lookup(const struct txn_table *t, const char *branch, const char *method);
/* Drops the entry from the table (its memory goes when the last reference does). */
void txn_remove(struct txn_table *t, struct txn *x);
/* Removes every entry past its lifetime (calling the timeout handler first for those without
 * a final response); returns how many went. */
size_t txn_expire(struct txn_table *t);
size_t txn_count(const struct txn_table *t);
/* Entries still waiting for their final response. */
size_t txn_pending(const struct txn_table *t);
/* Calls h for each of them (a scan: for shutdown only); h may complete x, not remove it. */
typedef void (txn_each_h)(struct txn *x, void *arg);
void txn_pending_each(struct txn_table *t, txn_each_h *h, void *arg);

struct conn *txn_conn(const struct txn *x);
enum conf_edge_id txn_edge(const struct txn *x);
struct sipmsg *txn_request(const struct txn *x);
const char *txn_branch(const struct txn *x);
const char *txn_method(const struct txn *x);
const char *txn_via_branch(const struct txn *x);
const char *txn_via_host(const struct txn *x);
/* A final response went through (no 408 at expiry). */
void txn_set_final(struct txn *x);
bool txn_has_final(const struct txn *x);
/* What topology hiding took off the request (Via and Record-Route lines, copied; NULL: none),
 * to put back on its responses. */
int txn_set_hidden(struct txn *x, const char *vias, const char *rrs);
const char *txn_hidden_vias(const struct txn *x);
const char *txn_hidden_rrs(const struct txn *x);
/* The peer the request went to (for settling it there once answered). */
int txn_set_dest(struct txn *x, const char *fqdn);
const char *txn_dest(const struct txn *x);
/* RFC 3261 17.2.1, 17.2.2: a retransmission of the request may arrive on another connection
 * (the old one gone): answers go to the newest (not once the entry is complete). */
void txn_set_conn(struct txn *x, struct conn *c);
/* The final response (status) went upstream, encoded as rsp/len (NULL: not sent): the entry
 * becomes a compact record (see TXN_ABSORB_MS) keeping a copy of rsp when it is at most
 * TXN_RSP_MAX bytes (an INVITE's only for a non-2xx, RFC 3261 17.2.1); the request, the
 * hidden headers and, for a non-INVITE, the connection are released. Only the first call
 * counts. */
void txn_complete(struct txn *x, int status, const char *rsp, size_t len);
bool txn_is_complete(const struct txn *x);
/* The final response kept by txn_complete, or NULL. */
const char *txn_response(const struct txn *x, size_t *lenp);
/* A CANCEL the proxy answered itself (RFC 3261 16.10): responses to its forwarded copy are
 * absorbed. */
void txn_set_absorb(struct txn *x);
bool txn_absorbs(const struct txn *x);
/* True while the entry is in its table (false after expiry or txn_remove). */
bool txn_is_live(const struct txn *x);

/* One line per entry into buf (for the control socket); returns bytes written. */
size_t txn_debug(const struct txn_table *t, char *buf, size_t size);

#endif
