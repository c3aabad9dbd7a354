/* imsrv_int: what a lab IM server shares with the user agents that live on it (fakes/ua). */
#ifndef PIC_IMSRV_INT_H
#define PIC_IMSRV_INT_H

#include <stddef.h>

#include "../ua/ua.h"

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

#endif
