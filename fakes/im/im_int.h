/* im_int: what the files of the lab IM server (imsrv.c, imuac.c) share: its layout. */
#ifndef PIC_IM_INT_H
#define PIC_IM_INT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "imsrv.h"
#include "imtab.h"

struct conn;
struct ua;
struct sipmsg;

#define IMUAC_TIMER_F_MS 32000 /* RFC 3261 17.1.2.2: Timer F = 64*T1 */

/* A next hop we open connections to: the proxy (home role) or a routed provider edge. */
struct imsrv_peer {
	struct imtab_node hn;     /* in imsrv.peers by fqdn */
	struct imsrv *s;          /* weak: the server owns its peers */
	char *fqdn;
	struct sockaddr_storage addr;
	struct conn *conn;        /* persistent, reopened on demand */
};

/* Provider role: a provisioned foreign domain and the edge it is reached through. */
struct imsrv_route {
	struct imtab_node hn;     /* in imsrv.routes by domain */
	char *domain;
	struct imsrv_peer *peer;  /* weak: peers live as long as the server */
};

struct imsrv {
	struct imsrv_conf conf;
	char *name, *fqdn, *domain, *proxy_fqdn;
	struct event_base *base;
	struct listener *listener;
	struct imtab users;       /* struct imsrv_user by user part */
	struct imtab peers;       /* struct imsrv_peer by fqdn */
	struct imtab routes;      /* struct imsrv_route by domain */
	struct imtab pending;     /* struct imuac by branch */
	struct imtab links;       /* struct link, bucket 0 */
	struct imsrv_peer *proxy; /* home role */
	unsigned timer_f_ms;
	unsigned n_in, n_out;
};

/* A local user's registration (the handle a ua holds). */
struct imsrv_user {
	struct imtab_node hn;
	struct imsrv *s;          /* referenced */
	char *user;
	struct ua *ua;
};

/* imsrv.c: sends over the peer's persistent connection, opening it when needed. */
int imsrv_peer_send(struct imsrv_peer *p, const char *buf, size_t len);

/* imuac.c: the client transactions the server runs for its local users. */
/* A response from the network: completes the transaction its top Via branch names. */
void imuac_response(struct imsrv *s, const struct sipmsg *m);
/* The connection to p is gone: its transactions end with ECONNRESET. */
void imuac_fail_peer(struct imsrv *s, struct imsrv_peer *p);

#endif
