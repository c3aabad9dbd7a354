/* replay_int: what the stages of the replay pipeline share (decode -> group -> cast -> rewrite
 * -> send -> judge): the recorded messages, endpoints, transactions and dialogs, the old->new
 * map, and the live observations. */
#ifndef PIC_REPLAY_INT_H
#define PIC_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "replay.h"

struct capdec;
struct lab;
struct conn;
struct imsrv;

#define RP_MAX_HDRS 64
#define RP_MAX_HOPS 8

/* ---- rptext.c: a SIP message as text, its fields located, nothing copied but short ids ---- */

struct rp_hdr {
	const char *name;        /* canonical long form ("Call-ID" for "i") */
	const char *val;         /* points into the text */
	size_t vlen;
};

struct rp_sip {
	const char *text;
	size_t len;
	bool req;
	char method[32];         /* request method, or the CSeq method of a response */
	int status;
	char reason[64];
	const char *ruri;
	size_t rurilen;
	struct rp_hdr h[RP_MAX_HDRS];
	int nh;
	const char *body;
	size_t blen;
	char callid[256];
	char ftag[128];
	char ttag[128];
	uint32_t cseq;
	char branch[192];        /* top Via's */
	char from_aor[256];      /* user@host, lower-cased host */
	char to_aor[256];
	char ruri_aor[256];
};

int rp_sip_parse(struct rp_sip *s, const char *text, size_t len);
/* idx-th header of that name (case-insensitive, compact forms expanded), or NULL. */
const struct rp_hdr *rp_sip_hdr(const struct rp_sip *s, const char *name, int idx);
int rp_sip_hdr_count(const struct rp_sip *s, const char *name);
/* Values of a comma-separated header (Via, Record-Route, Route), each trimmed; how many. */
int rp_sip_values(const struct rp_sip *s, const char *name, const char **v, size_t *vl, int max);
/* Parameter value of a header value ("tag", "branch"); "" when absent. */
void rp_param(const char *val, size_t vlen, const char *name, char *out, size_t size);
/* The user@host of a name-addr or URI (scheme, port and parameters dropped). */
void rp_aor(const char *val, size_t vlen, char *out, size_t size);
/* The URI inside <> of a name-addr (or the whole value up to ';' without <>). */
void rp_uri(const char *val, size_t vlen, const char **u, size_t *ul);
/* The host of a Via value's sent-by ("SIP/2.0/TLS host:port;..."), and its transport. */
void rp_via_host(const char *val, size_t vlen, char *transport, size_t tsize, char *host,
		 size_t hsize);
/* Domain of an AOR ("" if none) */
const char *rp_aor_domain(const char *aor);

/* ---- rpmap.c: the old->new map, global or scoped to one party ---- */

struct rpmap;
#define RPMAP_GLOBAL (-1)
int rpmap_alloc(struct rpmap **mp);
/* Sets key -> val in scope (RPMAP_GLOBAL or a party id); an existing entry is kept unless
 * replace. */
int rpmap_set(struct rpmap *m, int scope, const char *key, size_t klen, const char *val,
	      bool replace);
/* The party's entry, else the global one, else NULL. */
const char *rpmap_get(const struct rpmap *m, int scope, const char *key, size_t klen);
int rpmap_set_int(struct rpmap *m, const char *key, size_t klen, long v);
long rpmap_get_int(const struct rpmap *m, const char *key, size_t klen, long dflt);
size_t rpmap_count(const struct rpmap *m);
/* Calls h for every global string entry (for printing the map). */
typedef void (rpmap_each_h)(const char *key, const char *val, void *arg);
void rpmap_each(const struct rpmap *m, rpmap_each_h *h, void *arg);

/* ---- the recording ---- */

enum rp_role {
	RP_ROLE_NONE = 0,
	RP_ROLE_PROXY,           /* the proxy of the recording (its place is the SUT's) */
	RP_ROLE_ENTERPRISE,      /* the enterprise home server and its users */
	RP_ROLE_AOL,
	RP_ROLE_YAHOO,
	RP_ROLE_MSN,
	RP_NROLES
};

const char *rp_role_name(enum rp_role r);
/* "enterprise", "aol", ...; RP_ROLE_NONE when unknown */
enum rp_role rp_role_parse(const char *name);
/* contoso.test, aol.test, ... */
const char *rp_role_domain(enum rp_role r);

struct rp_ep {
	int id;
	struct sockaddr_storage addr;    /* IP only */
	char label[80];                  /* "10.0.0.1" */
	char names[256];                 /* host names it used (Via sent-by, certificate CN) */
	enum rp_role role;
	bool role_from_map;
	char why[160];                   /* how the role was found */
	unsigned sent, received;
	int votes[RP_NROLES];
};

struct rp_rec {
	int idx;
	unsigned frame;                  /* packet number in the source file (1-based) */
	double ts;
	int src, dst;                    /* endpoint ids */
	bool tls, udp, ws;
	unsigned flow;
	struct rp_sip sip;
	int txn;                         /* -1: none */
	int hop;                         /* request: its hop in the transaction; response: the hop
					    it answers (-1 unknown) */
	bool dup;                        /* a retransmission */
};

struct rp_txn {
	int id;
	int group;
	int hops[RP_MAX_HOPS];           /* rec index of the request on each leg, in order */
	int nhops;
	int *resps;                      /* rec indices of the responses, in order */
	int nresps;
	int client, server;              /* endpoints of the first hop's sender, the far side */
	int far_hop;                     /* the hop that reached the far side */
	bool proxy_origin;               /* sent by the recorded proxy itself: not replayed */
	bool rec_reached;                /* the request reached a party beyond the proxy */
	int rec_final;                   /* final status that reached the client (0: none) */
	double rec_final_ts;
	double rec_far_ts;
	enum rp_role far_role;           /* the party it is for */
	char name[96];                   /* "MESSAGE bob@aol.test #1" */
	/* live */
	char live_key[320];
	char live_branch[64];
	bool sent;
	char unsent[128];                /* why a request was not sent ("" if it was) */
	double sent_at;
	bool arrived;
	int arrivals;
	char *arrived_text;              /* the first live request at the far side */
	size_t arrived_len;
	struct conn *arrived_conn;       /* referenced */
	enum rp_role arrived_at;
	int live_final;
	char *live_final_text;
	size_t live_final_len;
	int live_statuses[8];
	int nlive;
	/* verdict */
	bool pass;
	char diff[1024];
};

struct rp_group {
	int id;
	char callid[256];
	int *txns;
	int ntxns;
	char name[128];
	bool pass;
};

/* A step the lab plays: a request of a party, or the far side's answer. */
enum rp_step_kind { RP_STEP_SEND = 0, RP_STEP_RESPOND };
struct rp_step {
	enum rp_step_kind kind;
	int rec;
	int txn;
	double ts;
};

/* What the replay expects to see before a later step may go (recorded order). */
enum rp_exp_kind { RP_EXP_ARRIVE = 0, RP_EXP_FINAL };
struct rp_exp {
	enum rp_exp_kind kind;
	int txn;
	double ts;
	bool done;
	bool expired;
};

struct rp_lab_user {
	char aor[128];
	bool enabled;
};

struct replay {
	const struct replay_opts *o;
	char dir[1024];                  /* the run folder */
	FILE *log;
	/* decode */
	struct capdec *dec;
	struct rp_rec *recs;
	size_t nrecs;
	/* group */
	struct rp_ep *eps;
	int neps;
	struct rp_txn *txns;
	int ntxns;
	struct rp_group *groups;
	int ngroups;
	struct rpmap *txn_index;         /* recorded key -> txn */
	/* cast */
	bool lab_capture;                /* every endpoint is a PIClab lab address */
	struct rpmap *map;               /* the old->new map */
	struct rp_lab_user users[64];
	int nusers;
	bool provider_allow[3];
	bool provider_blocked[3];
	char provider_filter[3][24];
	bool provider_partner[3];        /* a federated partner (public = no, found by SRV) */
	/* send */
	struct rp_step *steps;
	int nsteps;
	struct rp_exp *exps;
	int nexps;
	struct rpmap *live;              /* live key / branch -> txn */
	struct event_base *base;
	struct lab *lab;
	bool lab_broken;
	char lab_why[512];
	double t0_live, t0_rec;
	unsigned fresh;                  /* counter for fresh ids */
	/* judge */
	int passed, failed;
	bool sut_alive;
	double seconds;
};

/* Each stage; 0 or an errno, with a message printed (exit 2) when the input is bad. */
int rpdecode_run(struct replay *r);
int rpgroup_run(struct replay *r);
int rpcast_run(struct replay *r);
void rpcast_print(const struct replay *r, FILE *f);
int rprewrite_prepare(struct replay *r);
/* The request of step rec as party sends it now: into *out (malloc'd). */
int rprewrite_request(struct replay *r, const struct rp_rec *rec, char **out, size_t *outlen,
		      const char *via_host, char *branch, size_t bsize);
/* The far side's recorded answer rec to the live request q (text), into *out (malloc'd). */
int rprewrite_response(struct replay *r, const struct rp_rec *rec, const struct rp_sip *q,
		       char **out, size_t *outlen);
/* Learns old->new pairs from a recorded message and its live counterpart, in party's scope. */
void rprewrite_learn(struct replay *r, int party, const struct rp_sip *rec,
		     const struct rp_sip *live);
/* Rewrites arbitrary recorded text (a body) with party's view of the map; malloc'd. */
char *rprewrite_text(struct replay *r, int party, const char *in, size_t len, size_t *outlen);
int rpsend_run(struct replay *r);
/* Stops the lab and writes the replay's capture.pcapng (with its secrets). */
void rpsend_teardown(struct replay *r);
int rpjudge_run(struct replay *r);
int rpreport_write(struct replay *r);

/* replay.c */
/* decode -> group -> cast (reading only; messages on stderr when the input is bad). */
int replay_read(struct replay *r);
void replay_free(struct replay *r);
void rp_log(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double rp_now(void);

#endif
