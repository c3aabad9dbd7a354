/* im_int: what the files of the lab IM server (imsrv.c, imuac.c, impres.c, imsess.c) share. */
#ifndef PIC_IM_INT_H
#define PIC_IM_INT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "imsrv.h"
#include "imtab.h"
#include "profile.h"

struct conn;
struct ua;
struct sipmsg;

#define IMUAC_TIMER_F_MS 32000 /* RFC 3261 17.1.2.2: Timer F = 64*T1 */
#define IMUAC_INVITE_MS 180000 /* RFC 3261 16.6 step 11: Timer C, > 3 min, for a user to answer */
#define IM_AOR_MAX 256
/* RFC 3261 sets no limit; an edge that masks Call-IDs (topology hiding) makes them long */
#define IM_CALLID_MAX 512
#define IM_URI_MAX 300
#define IM_ROUTES 4

/* A next hop we open connections to: the proxy (home role) or a routed provider edge. */
struct imsrv_peer {
	struct imtab_node hn;     /* in imsrv.peers by fqdn */
	struct imsrv *s;          /* weak: the server owns its peers */
	char *fqdn;
	struct sockaddr_storage addr;
	struct conn *conn;        /* persistent, reopened on demand */
	bool resolve;             /* addr comes from DNS (imsrv_route_add without an address) */
	bool srv;                 /* fqdn is an SRV name: target and port come from it (DNS-001) */
	char *target;             /* srv: the target last found, the name its certificate shows */
	uint16_t port;            /* srv: the port last found */
	struct imdns *q;          /* lookup in flight */
	struct evbuffer *held;    /* what waits for the lookup */
};

/* Provider role: a provisioned foreign domain and the edge it is reached through. */
struct imsrv_route {
	struct imtab_node hn;     /* in imsrv.routes by domain */
	char *domain;
	struct imsrv_peer *peer;  /* weak: peers live as long as the server */
};

struct imsrv {
	struct imsrv_conf conf;
	const struct profile *pf;
	char note[PROFILE_NPRES][64]; /* wording in force: the profile's, or imsrv_set_note's */
	int offline_status;       /* IM-005 answer in force: the profile's, or a scenario's */
	char offline_reason[64];
	char *name, *fqdn, *domain, *proxy_fqdn;
	struct event_base *base;
	struct listener *listener;
	struct imtab users;       /* struct imsrv_user by user part */
	struct imtab peers;       /* struct imsrv_peer by fqdn */
	struct imtab routes;      /* struct imsrv_route by domain */
	struct imtab pending;     /* struct imuac by branch */
	struct imtab links;       /* struct link, bucket 0 */
	struct imtab dialogs;     /* struct imdialog owners by "<call-id>;<local tag>" */
	struct imtab delayed;     /* struct imdelay, bucket 0: responses held back by a fault */
	struct imsrv_peer *proxy; /* home role */
	struct imsrv_peer *self;  /* requests between two users of this server, over the wire */
	struct imsrv_fault faults[IMSRV_MAX_FAULTS];
	char fault_methods[IMSRV_MAX_FAULTS][16];
	unsigned nfaults;
	const struct imsrv_fault *cur_fault; /* the fault the request being handled matched */
	bool notify_before_200;
	unsigned sub_expires;     /* what our users ask for in SUBSCRIBE */
	unsigned timer_f_ms;
	unsigned n_in, n_out;
};

/* A local user's registration (the handle a ua holds) and what the server keeps for it:
 * presence, the roaming contact list, allow and block lists, pending authorizations. */
struct imsrv_user {
	struct imtab_node hn;
	struct imsrv *s;          /* referenced */
	char *user;
	char aor[IM_AOR_MAX];
	struct ua *ua;
	enum profile_pres pres;
	bool no_refresh;          /* its subscriptions are left to expire (PRES-004 tests) */
	struct imtab contacts;    /* struct imcontact by aor */
	struct imtab allow;       /* struct imname by aor */
	struct imtab block;       /* struct imname by aor */
	struct imtab authreq;     /* struct imname by aor: watchers waiting for a decision */
	struct imtab watchers;    /* struct imsub (notifier side), bucket 0 */
	struct imstore *offline, **offline_tail; /* MESSAGEs kept while offline (store_offline) */
};

/* A name in one of a user's lists. */
struct imname {
	struct imtab_node hn;
	char aor[IM_AOR_MAX];
};

/* A MESSAGE stored for an offline user. */
struct imstore {
	struct imstore *next;
	char from[IM_AOR_MAX], to[IM_AOR_MAX], call_id[IM_CALLID_MAX], trust[512];
	char *body;
	size_t len;
};

/* RFC 3261 12: what identifies a dialog and how its requests are routed. */
struct imdlg {
	char call_id[IM_CALLID_MAX];
	char local_tag[32], remote_tag[64];
	char local_aor[IM_AOR_MAX], remote_aor[IM_AOR_MAX];
	char remote_target[IM_URI_MAX];
	char route[IM_ROUTES][IM_URI_MAX];
	int nroute;
	uint32_t local_cseq, remote_cseq;
};

/* imdlg.c: fills r with the fields of the next in-dialog request of g (RFC 3261 12.2.1.1):
 * remote target as Request-URI, tags, Call-ID, the next local CSeq, the route set. */
struct imreq;
void imdlg_request(struct imdlg *g, struct imreq *r, const char *method);

enum imdialog_kind { IMDIALOG_SUB = 0, IMDIALOG_SESS };

/* First member of every dialog owner (struct imsub, struct imsess) kept in imsrv.dialogs. */
struct imdialog {
	struct imtab_node dn;
	enum imdialog_kind kind;
	char key[IM_CALLID_MAX + 40];
	struct imdlg dlg;
};

/* impeer.c: next hops and routes */
int impeer_alloc(struct imsrv_peer **pp, struct imsrv *s, const char *fqdn,
		 const struct sockaddr *addr);
int imsrv_peer_send(struct imsrv_peer *p, const char *buf, size_t len);
/* The next hop for a request to uri (or to the first route of its route set); NULL: none. */
struct imsrv_peer *imsrv_next_hop(struct imsrv *s, const char *uri, const char *route0);
/* Provider role: the sending edge is the one provisioned (or found by SRV) for the From domain. */
bool impeer_allowed(struct imsrv *s, struct conn *c, const struct sipmsg *m);
/* TLS-004: the AOL-like provider's clientAuth demand on every certificate it is shown. */
bool imsrv_peer_cert_ok(const struct imsrv *s, struct conn *c);
void impeer_close_all(struct imsrv *s);

/* imsrv.c */
/* Frames and dispatches what arrived on c (an accepted connection or one to a next hop). */
void imsrv_recv(struct imsrv *s, struct conn *c, const char *buf, size_t len);
/* Answers req on c; hdrs are extra "Name: value\r\n" lines (NULL: none); a body needs ctype.
 * Responses to SUBSCRIBE and INVITE copy the Record-Route (RFC 3261 12.1.1). A fault the
 * request matched may delay or withhold the answer. */
void imsrv_reply(struct imsrv *s, struct conn *c, const struct sipmsg *req, int status,
		 const char *reason, const char *to_tag, const char *hdrs, const char *ctype,
		 const char *body);
/* "user@host" of a From/To/R-URI; EBADMSG when absent. */
int imsrv_aor(const struct sipmsg *m, int which, char *buf, size_t size);
/* The local user a request's Request-URI or To names; NULL when it is not ours. */
struct imsrv_user *imsrv_user_of(struct imsrv *s, const struct sipmsg *m);
/* Home role: false when the proxy marked the request ms-source-verified-user=unverified.
 * A request without the header came from inside and counts as verified. */
bool imsrv_verified(const struct imsrv *s, const struct sipmsg *m);
/* Registers a dialog owner under its key (refcount taken by the table) and finds one. */
void imsrv_dialog_add(struct imsrv *s, struct imdialog *d, void *owner);
void *imsrv_dialog_find(struct imsrv *s, const char *call_id, const char *local_tag);
bool imname_has(const struct imtab *t, const char *aor);
int imname_set(struct imtab *t, const char *aor, bool on);

/* imuac.c: the client transactions the server runs for its local users. */
struct imreq {
	const char *method;
	const char *ruri;           /* "sip:bob@aol.test" */
	const char *from_aor, *from_tag;
	const char *to_aor, *to_tag;  /* to_tag NULL: out of dialog */
	const char *call_id;        /* NULL: a new one */
	uint32_t cseq;              /* 0: 1 */
	const char *route[IM_ROUTES];
	int nroute;
	const char *branch;         /* NULL: a new one (the ACK of a non-2xx reuses the INVITE's) */
	const char *hdrs;           /* extra header lines, each ending in CRLF */
	const char *ctype;          /* NULL: no body */
	const char *body;
	size_t blen;
	bool contact;               /* Contact: <sip:from_aor> (dialog-creating requests) */
};
/* Final response: status and reason, rsp the message (NULL when synthesised locally, e.g. 404
 * "No route"); or status 0 with err ETIMEDOUT or ECONNRESET when none came. */
typedef void (imuac_h)(int status, const char *reason, const struct sipmsg *rsp, int err,
		       void *arg);
/* Sends r to its next hop. h NULL (ACK): no transaction. h is always called later from the
 * loop, never from inside this call. */
int imuac_send(struct imsrv *s, const struct imreq *r, imuac_h *h, void *arg);
/* A response from the network: completes the transaction its top Via branch names. */
void imuac_response(struct imsrv *s, const struct sipmsg *m);
/* The connection to p is gone: its transactions end with ECONNRESET. NULL: every one, with
 * ECANCELED (the server is going). */
void imuac_fail_peer(struct imsrv *s, struct imsrv_peer *p);

/* impres.c: contacts, presence, subscriptions (RFC 3856, RFC 6665). */
void impres_subscribe(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void impres_notify(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void impres_publish(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void impres_user_init(struct imsrv_user *u);
void impres_user_close(struct imsrv_user *u);

/* imsess.c: INVITE-based text IM sessions and MESSAGE (RFC 3261, RFC 3428). */
void imsess_recv_invite(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void imsess_recv_ack(struct imsrv *s, const struct sipmsg *m);
void imsess_recv_bye(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void imsess_recv_cancel(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void imsess_recv_message(struct imsrv *s, struct conn *c, const struct sipmsg *m);
void imsess_user_close(struct imsrv_user *u);
void imsess_server_close(struct imsrv *s);
/* Delivers messages kept for an offline user (Yahoo!-like profile) once it is back. */
void imsess_flush_offline(struct imsrv_user *u);

#endif
