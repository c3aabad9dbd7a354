/* certcache: the parsed certificates peers send, shared by the connections of one TLS context. */
#ifndef PIC_CERTCACHE_H
#define PIC_CERTCACHE_H

#include <openssl/x509.h>

struct certcache;

/* A cache of at most max certificates (least recently used goes first); EINVAL if max is 0. */
int certcache_alloc(struct certcache **ccp, unsigned max);

/* Before verification: every certificate of the chain the peer sent (the store context's
 * untrusted list, and its target, the peer's own certificate) that is byte for byte (DER) one
 * the cache holds is replaced by the cached parse, so the connection keeps a reference to a
 * shared object instead of a parse of its own (an X509 costs ~5 kB; OpenSSL keeps the peer's
 * certificate and chain for the life of the connection). The verification itself still runs
 * in full, on identical certificates. Returns how many were replaced. */
unsigned certcache_share(struct certcache *cc, X509_STORE_CTX *sctx);

/* After a successful verification only: the certificates of that chain not cached yet are
 * taken in, so that a peer's next connections share them. */
void certcache_learn(struct certcache *cc, X509_STORE_CTX *sctx);

/* Certificates held now. */
unsigned certcache_count(const struct certcache *cc);

#endif
