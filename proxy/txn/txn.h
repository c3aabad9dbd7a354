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

/* RFC 3261 17.1.2.2 / Table 4: Timer F = 64*T1 = 32 s bounds a client transaction's life. */
#define TXN_LIFETIME_MS (64u * 500u)

/* A table whose entries expire TXN_LIFETIME_MS after insertion; base NULL means no timer
 * (the owner calls txn_expire itself, as tests do). */
int txn_table_alloc(struct txn_table **tp, struct event_base *base);
/* Replaces the millisecond clock (tests); NULL restores the monotonic clock. */
void txn_table_set_clock(struct txn_table *t, uint64_t (*now_ms)(void));

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
/* Removes every entry older than TXN_LIFETIME_MS; returns how many went. */
size_t txn_expire(struct txn_table *t);
size_t txn_count(const struct txn_table *t);

struct conn *txn_conn(const struct txn *x);
enum conf_edge_id txn_edge(const struct txn *x);
struct sipmsg *txn_request(const struct txn *x);
const char *txn_branch(const struct txn *x);
const char *txn_method(const struct txn *x);
const char *txn_via_branch(const struct txn *x);
const char *txn_via_host(const struct txn *x);
/* True while the entry is in its table (false after expiry or txn_remove). */
bool txn_is_live(const struct txn *x);

/* One line per entry into buf (for the control socket); returns bytes written. */
size_t txn_debug(const struct txn_table *t, char *buf, size_t size);

#endif
