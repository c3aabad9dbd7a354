/* ua: a scripted user agent living on an imsrv (enterprise or public user). */
#ifndef PIC_UA_H
#define PIC_UA_H

#include <stddef.h>

struct ua;
struct imsrv;

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
void ua_set_inbox_handler(struct ua *u, ua_inbox_h *h, void *arg);
size_t ua_inbox_count(const struct ua *u);
/* Removes and copies out the oldest inbox entry; ENOENT when empty. */
int ua_inbox_take(struct ua *u, struct ua_msg *out);

#endif
