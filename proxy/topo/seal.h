/* seal: deterministic, authenticated encryption of short strings (internal Call-IDs, Contact
 * URIs) into hex tokens, so that what leaves the building can be mapped back without state. */
#ifndef AP_SEAL_H
#define AP_SEAL_H

#include <stddef.h>

struct seal;

/* A sealer with a fresh random key (tokens are valid for this process's lifetime). */
int seal_alloc(struct seal **sp);
/* A sealer with a given 32-byte key (the installation's persistent secret; tests). */
int seal_alloc_key(struct seal **sp, const unsigned char key[32]);
/* Token for in: 32 hex digits of SIV then 2 hex digits per byte of in; the same input always
 * gives the same token. ENOSPC if out is too small; EINVAL for input over 256 bytes. */
int seal_encode(const struct seal *s, const char *in, char *out, size_t size);
/* The string a token came from. EBADMSG if it is not a token of this key (forged, altered,
 * other process). */
int seal_decode(const struct seal *s, const char *token, size_t toklen, char *out, size_t size);

#endif
