/* imsess: an INVITE-based text IM session of a lab user (IM-002): INVITE with an SDP offer of
 * m=message, 200, ACK, MESSAGEs inside the dialog, BYE (RFC 3261 13-15, RFC 3428). */
#ifndef PIC_IMSESS_H
#define PIC_IMSESS_H

#include <stdbool.h>
#include <stddef.h>

#include "../ua/ua.h"

struct imsess;

enum imsess_state {
	IMSESS_CALLING = 0, /* our INVITE is out */
	IMSESS_OFFERED,     /* an INVITE came in; the user has not answered */
	IMSESS_ESTABLISHED, /* 200 and ACK */
	IMSESS_ENDED,       /* BYE, a refusal, CANCEL or a failure */
};

/* Starts a session from u to to_aor; rh gets the INVITE's final status (the ACK for a 2xx is
 * sent before). xp holds a reference for the caller. */
int ua_session_start(struct imsess **xp, struct ua *u, const char *to_aor, ua_resp_h *rh,
		     void *arg);
/* Answers an offered session: 200 with an m=message answer (status 0), or a refusal. */
int imsess_answer(struct imsess *x, int status);
/* Sends a MESSAGE inside the dialog. */
int imsess_send(struct imsess *x, const char *text, ua_resp_h *rh, void *arg);
/* Ends an established session with BYE. */
int imsess_bye(struct imsess *x, ua_resp_h *rh, void *arg);
enum imsess_state imsess_state(const struct imsess *x);
const char *imsess_state_str(enum imsess_state st);
/* The other party's AOR, and why the session ended ("BYE", "486", "CANCEL", ...). */
const char *imsess_peer(const struct imsess *x);
const char *imsess_end_reason(const struct imsess *x);
/* MESSAGEs received in the dialog, oldest first; ENOENT when none. */
size_t imsess_inbox_count(const struct imsess *x);
int imsess_take(struct imsess *x, struct ua_msg *out);

#endif
