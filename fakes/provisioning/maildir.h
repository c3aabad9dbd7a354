/* maildir: delivers RFC 5322 text mails into a Maildir (tmp/ then rename into new/). */
#ifndef PIC_PROV_MAILDIR_H
#define PIC_PROV_MAILDIR_H

#include <stddef.h>

struct maildir;

/* Uses (and creates, with tmp/, new/ and cur/) the Maildir at path. EINVAL without a path;
 * the errno of mkdir otherwise. */
int maildir_alloc(struct maildir **mdp, const char *path);
/* Writes one text/plain UTF-8 message. extra is NULL or header lines each ending in "\r\n"
 * (e.g. "X-PIC-Request: 3\r\n"); subject must be ASCII (no RFC 2047 encoding is done).
 * The file name under new/ goes into name (may be NULL). Returns 0 or an errno. */
int maildir_deliver(struct maildir *md, const char *from, const char *to, const char *subject,
		    const char *extra, const char *body, char *name, size_t size);
const char *maildir_path(const struct maildir *md);
/* Messages delivered by this object. */
unsigned maildir_count(const struct maildir *md);

#endif
