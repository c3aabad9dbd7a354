/* sanitized: whether this program was built with AddressSanitizer (make SANITIZE=1, the fuzz
 * build). Such a build runs several times slower; the lab stretches its waits for it. */
#ifndef PIC_BASE_SANITIZED_H
#define PIC_BASE_SANITIZED_H

#if defined(__SANITIZE_ADDRESS__)
#define PIC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PIC_SANITIZED 1
#endif
#endif
#ifndef PIC_SANITIZED
#define PIC_SANITIZED 0
#endif

/* What a version line says of such a build. */
#define PIC_SANITIZED_MARK " [sanitizers: address, undefined]"

#endif
