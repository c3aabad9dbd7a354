/* ua: a scripted user agent living on an imsrv (enterprise or public user). */
#ifndef PIC_UA_H
#define PIC_UA_H

#include <stdbool.h>
#include <stddef.h>

struct ua;
struct imsrv;
struct imsess;

/* A message the user received (kept in its inbox until taken). */
struct ua_msg {
	char from[256];     /* AOR of the sender, "bob@aol.test" */
	char to[256];
	char call_id[256];
	char body[4096];    /* text body (truncated to fit) */
	char trust[512];    /* ms-edge-proxy-message-trust value, "" if none */
};

/* Outcome of a request the user sent: final status, or 0 with err set when no response came
 * (ETIMEDOUT after 32 s Timer F, ECONNRESET when the server lost the connection). */
typedef void (ua_resp_h)(int status, const char *reason, int err, void *arg);
/* Called when the inbox gains a message (after it is queued). */
typedef void (ua_inbox_h)(struct ua *u, void *arg);

/* A user with address-of-record aor ("alice@contoso.test") on server s, registered there. */
int ua_alloc(struct ua **up, struct imsrv *s, const char *aor);
const char *ua_aor(const struct ua *u);
/* Sends a page-mode MESSAGE (RFC 3428) with a text/plain body to to_aor. */
int ua_send_message(struct ua *u, const char *to_aor, const char *text, ua_resp_h *rh,
		    void *arg);
/* h is called as each message arrives; arg (a mem object, or NULL) is referenced until the
 * handler is replaced or the ua freed, so it outlives whoever set it. */
void ua_set_inbox_handler(struct ua *u, ua_inbox_h *h, void *arg);
size_t ua_inbox_count(const struct ua *u);
/* Removes and copies out the oldest inbox entry; ENOENT when empty. */
int ua_inbox_take(struct ua *u, struct ua_msg *out);

/* ---- presence and contacts (the server keeps them: roaming contact lists) ---- */

/* Same order as enum profile_pres (fakes/im/profile.h). */
enum ua_pres { UA_OFFLINE = 0, UA_ONLINE, UA_AWAY, UA_BUSY, UA_MEETING };

/* Something changed for the user; the handler looks at what it waits for. */
enum ua_event {
	UA_EV_PRESENCE = 0, /* a contact's presence or subscription state changed (aor: it) */
	UA_EV_AUTHREQ,      /* aor asks to see the user's presence */
	UA_EV_SESSION,      /* a session was offered to the user, or one of its sessions moved */
};
typedef void (ua_event_h)(struct ua *u, enum ua_event ev, const char *aor, void *arg);
void ua_set_event_handler(struct ua *u, ua_event_h *h, void *arg);

/* "online", "away", "busy", "in-a-meeting", "offline" <-> enum; EINVAL for anything else. */
int ua_pres_parse(const char *s, enum ua_pres *p);
const char *ua_pres_str(enum ua_pres p);
/* Publishes the user's state to every watcher allowed to see it (PRES-001). */
int ua_set_presence(struct ua *u, enum ua_pres p);
enum ua_pres ua_presence(const struct ua *u);

/* What the user sees of a contact. */
struct ua_contact {
	enum ua_pres pres;   /* as the user's own service shows it (PRES-003 mapping applied) */
	char note[64];       /* the wording shown, the user's own service's ("Stepped Out") */
	char pidf_note[64];  /* the <note> of the last PIDF received for it, as it came */
	char substate[16];   /* "none", "pending", "active", "terminated" */
	char reason[32];     /* reason of the termination, e.g. "timeout", "rejected" */
	unsigned notifies;   /* NOTIFYs received for it */
	unsigned refreshes;  /* refresh SUBSCRIBEs answered 2xx */
};
/* Adds aor to the contact list and subscribes to its presence (the authorization request
 * follows on its side). EEXIST if already a contact. Never fails for an unknown address:
 * such a contact shows offline (CONT-004). */
int ua_add_contact(struct ua *u, const char *aor);
/* Unsubscribes (Expires: 0) and drops aor from the list; ENOENT if it was not a contact. */
int ua_remove_contact(struct ua *u, const char *aor);
/* ENOENT if aor is not a contact. */
int ua_contact_info(const struct ua *u, const char *aor, struct ua_contact *out);
/* The user's subscriptions stop refreshing (to test expiry, PRES-004). */
void ua_set_auto_refresh(struct ua *u, bool on);
/* Refreshes the subscription to aor now (an in-dialog SUBSCRIBE). */
int ua_refresh_contact(struct ua *u, const char *aor);

/* Watchers waiting for the user's decision. */
bool ua_authreq_pending(const struct ua *u, const char *aor);
/* Grants (aor joins the allow list) or denies (aor joins the block list); ENOENT if aor did
 * not ask. */
int ua_authorize(struct ua *u, const char *aor, bool grant);
/* Allow and block lists (enterprise: TRUST-006/007, PRES-006; providers: authorizations). */
int ua_allow(struct ua *u, const char *aor, bool on);
int ua_block(struct ua *u, const char *aor, bool on);
bool ua_is_allowed(const struct ua *u, const char *aor);
bool ua_is_blocked(const struct ua *u, const char *aor);

/* ---- arbitrary requests (probing the proxy) ---- */

/* The final response to a request sent with ua_send_request: raw is the whole message. */
typedef void (ua_raw_h)(int status, const char *reason, const char *raw, int err, void *arg);
/* Sends method to to_aor out of dialog; hdrs are extra "Name: value\r\n" lines (may be NULL),
 * body needs ctype. */
int ua_send_request(struct ua *u, const char *method, const char *to_aor, const char *hdrs,
		    const char *ctype, const char *body, ua_raw_h *rh, void *arg);

/* ---- INVITE-based text sessions (IM-002), see fakes/im/imsess.h ---- */

/* The oldest session offered to the user (from from_aor, or anyone if NULL) that nobody took
 * yet, referenced for the caller; ENOENT if none. */
int ua_session_take_offer(struct ua *u, const char *from_aor, struct imsess **xp);

#endif
