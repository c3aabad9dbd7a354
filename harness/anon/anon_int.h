/* anon_int: what the anonymizer's files share — the keyed pseudonym map (anonmap.c), the SIP
 * message rewrite (anonsip.c) and the cleartext pcapng writer (anonpcap.c). */
#ifndef PIC_ANON_INT_H
#define PIC_ANON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Kinds of identifier; each has its own pseudonym shape (anonmap_pseudo). */
enum anon_kind {
	ANON_USER = 0,          /* user part of a URI: u3fa9c21b (digits stay digits) */
	ANON_HOST,              /* host or domain: each label but the top one, h1c2d3e.test */
	ANON_IP4,               /* 10.x.y.z */
	ANON_IP6,               /* fd00:... */
	ANON_ID,                /* Call-ID part, tag, epid, instance: i + hex */
	ANON_BRANCH,            /* z9hG4bK + hex */
	ANON_NAME,              /* a word of a display name: n + hex */
	ANON_TEXT,              /* a free-text header value or a text body: x + hex */
	ANON_NKINDS
};

struct anonmap;

int anonmap_alloc(struct anonmap **mp, const char *key, size_t keylen);
/* The pseudonym of token (len bytes) as kind, made and kept on first use: the same key and
 * token always give the same pseudonym. NULL only when out of memory. */
const char *anonmap_put(struct anonmap *m, enum anon_kind kind, const char *token, size_t len);
/* The pseudonym of a token already known (exactly or by its lower-case form), or of a host
 * name under a known domain; NULL when the token is no identifier. */
const char *anonmap_find(struct anonmap *m, const char *token, size_t len);
size_t anonmap_count(const struct anonmap *m, enum anon_kind kind);

/* What could not be anonymized, counted for the report: header names and body types whose
 * free content stays (only identifiers found elsewhere are replaced in them). */
#define ANON_REPORT_MAX 32
struct anon_kept {
	char name[64];
	unsigned n;
};

struct anon_report {
	struct anon_kept hdrs[ANON_REPORT_MAX];
	int nhdrs;
	struct anon_kept bodies[ANON_REPORT_MAX];
	int nbodies;
	unsigned text_bodies;           /* text bodies replaced whole */
	unsigned freetext_hdrs;         /* free-text values (headers, notes) replaced whole */
	unsigned msgs;
};

/* anonsip.c: text helpers shared by both passes */
struct abuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void anon_abuf_put(struct abuf *b, const char *s, size_t n);
void anon_abuf_str(struct abuf *b, const char *s);
bool anon_tokch(char c);
bool anon_is_ip6(const char *t, size_t n);
/* name (nl bytes) is one of list (NULL-terminated), case-insensitive */
bool anon_hdr_is(const char *name, size_t nl, const char *const *list);
/* Length of the head (start line and headers, up to the blank line); *body: where it starts. */
size_t anon_head_len(const char *msg, size_t len, size_t *body);
/* Calls h(name, nlen, value, vlen) per header line of the head (start line excluded). */
typedef void (hdr_h)(const char *name, size_t nl, const char *v, size_t vl, void *arg);
void anon_each_hdr(const char *msg, size_t head, hdr_h *h, void *arg);

/* anonsip.c: pass 1, every identifier of a message into the map. */
int anonsip_collect(struct anonmap *m, const char *msg, size_t len);
/* anonrw.c: pass 2, the message with each identifier replaced, free text replaced,
 * Content-Length fixed (malloc'd). */
char *anonsip_rewrite(struct anonmap *m, const char *msg, size_t len, size_t *outlen,
		      struct anon_report *rep);
/* Token by token rewrite of any text (a body, a header value); malloc'd, NUL-terminated. */
char *anonsip_text(struct anonmap *m, const char *in, size_t len, size_t *outlen);

/* anonpcap.c: a pcapng of raw IP packets (cleartext TCP segments with SYN/FIN and UDP
 * datagrams) rebuilt from messages. */
struct anonpcap;
int anonpcap_open(struct anonpcap **pp, const char *path);
/* One message on flow (client/server: its endpoints; from_client: direction). */
int anonpcap_msg(struct anonpcap *p, unsigned flow, bool udp, const struct sockaddr_storage *client,
		 const struct sockaddr_storage *server, bool from_client, double ts,
		 const char *data, size_t len);
/* FINs for every open flow, the file flushed and closed; 0 or an errno. */
int anonpcap_close(struct anonpcap *p, double ts);

#endif
