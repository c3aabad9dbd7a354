/* mem: reference-counted allocations with destructors (the ownership model of the whole tree). */
#ifndef PIC_MEM_H
#define PIC_MEM_H

#include <stddef.h>

/* Called once when the last reference goes; must undo everything the object did to the world. */
typedef void (mem_destroy_h)(void *data);

/* Zeroed block with refcount 1, or NULL when out of memory. */
void *mem_zalloc(size_t size, mem_destroy_h *dh);
/* Takes one more reference; NULL passes through. */
void *mem_ref(void *data);
/* Drops one reference and always returns NULL, so `x = mem_deref(x);` leaves nothing dangling. */
void *mem_deref(void *data);
/* Current refcount (for tests and debug dumps). */
unsigned mem_nrefs(const void *data);
/* Refcounted copy of a string (or of its first n bytes); NULL when out of memory. */
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
/* Number of live mem blocks in the process: unit tests assert it returns to its start value. */
size_t mem_live(void);

#endif
