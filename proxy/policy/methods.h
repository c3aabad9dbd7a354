/* methods: only IM and presence cross the edge (POL-007), never multiparty IM (POL-008).
 *
 * The rules, in order:
 * - REFER, and any MESSAGE or INVITE that names several recipients (a multipart or
 *   resource-list body, RFC 5365 / RFC 5366) or invites on another's behalf (Referred-By)
 *   -> 403 (POL-008);
 * - methods other than MESSAGE, SUBSCRIBE, NOTIFY, INVITE, ACK, BYE, CANCEL, OPTIONS -> 405
 *   with Allow;
 * - SUBSCRIBE and NOTIFY only for the "presence" event package; presence.winfo (who watches
 *   one of our users) stays inside, like every other package, missing Event included -> 489
 *   with Allow-Events: presence (RFC 6665 8.2.1);
 * - INVITE (initial or re-INVITE) must offer SDP whose every m= line is "message" (text IM
 *   sessions); audio, video, application (file transfer), image, no offer at all -> 488 with
 *   a Warning naming the media. */
#ifndef AP_METHODS_H
#define AP_METHODS_H

#include <stdbool.h>

#include "policy.h"

#define METHODS_ALLOW "MESSAGE, SUBSCRIBE, NOTIFY, INVITE, ACK, BYE, CANCEL, OPTIONS"

/* 0 if the request may cross, else EPERM with v filled. */
int methods_check(const struct sipmsg *req, struct policy_verdict *v);
/* True for the methods that create a dialog we record-route (INVITE, SUBSCRIBE). */
bool methods_creates_dialog(const char *method);

#endif
