/* imsrv_int: what a lab IM server shares with the user agents that live on it (fakes/ua). */
#ifndef PIC_IMSRV_INT_H
#define PIC_IMSRV_INT_H

#include <stddef.h>

#include "../ua/ua.h"
#include "profile.h"

struct imsrv;
struct imsrv_user;

/* Registers u under the user part of its AOR (the domain is the server's). The handle holds a
 * reference on the server; dropping it (mem_deref) unregisters. EEXIST if the user is taken. */
int imsrv_user_add(struct imsrv_user **hp, struct imsrv *s, const char *user, struct ua *u);

/* Sends a page-mode MESSAGE from from_aor to to_aor on behalf of a local user, as its UAC.
 * rh is always called later from the event loop, never from inside this call. */
int imuac_submit(struct imsrv *s, const char *from_aor, const char *to_aor, const char *text,
		 ua_resp_h *rh, void *arg);

/* Implemented by ua.c: queues a received MESSAGE in the user's inbox and tells its handler.
 * trust may be NULL (no ms-edge-proxy-message-trust header). */
void ua_deliver(struct ua *u, const char *from, const char *to, const char *call_id,
		const char *body, size_t body_len, const char *trust);

/* Implemented by ua.c: tells the user's event handler, if any. */
void ua_event(struct ua *u, enum ua_event ev, const char *aor);

/* impres.c, for ua.c: the user's presence, contacts and lists (see ua.h). */
int impres_set(struct imsrv_user *u, enum profile_pres p);
int impres_contact_add(struct imsrv_user *u, const char *aor);
int impres_contact_remove(struct imsrv_user *u, const char *aor);
int impres_contact_refresh(struct imsrv_user *u, const char *aor);
int impres_contact_info(const struct imsrv_user *u, const char *aor, struct ua_contact *out);
int impres_authorize(struct imsrv_user *u, const char *aor, bool grant);
int impres_list_set(struct imsrv_user *u, bool block, const char *aor, bool on);
bool impres_authreq_pending(const struct imsrv_user *u, const char *aor);
bool impres_listed(const struct imsrv_user *u, bool block, const char *aor);
void impres_set_auto_refresh(struct imsrv_user *u, bool on);
enum profile_pres impres_state(const struct imsrv_user *u);

/* imsess.c, for ua.c */
int imsess_take_offer(struct imsrv_user *u, const char *from_aor, struct imsess **xp);
int imsess_start(struct imsess **xp, struct imsrv_user *u, const char *to_aor, ua_resp_h *rh,
		 void *arg);
/* imuac.c, for ua.c: an out-of-dialog request of any method (ua_send_request). */
int imuac_raw(struct imsrv *s, const char *from_aor, const char *method, const char *to_aor,
	      const char *hdrs, const char *ctype, const char *body, ua_raw_h *rh, void *arg);

#endif
