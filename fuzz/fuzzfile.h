/* fuzzfile: scratch files for fuzz targets whose entry point reads a path (config, CSV,
 * capture), and the throw-away certificates a valid proxy configuration needs. */
#ifndef FUZZ_FUZZFILE_H
#define FUZZ_FUZZFILE_H

#include <stddef.h>

/* The process's scratch folder (made once, removed at exit); NULL if it cannot be made. */
const char *fuzzfile_dir(void);
/* Writes size bytes to DIR/name; with expand, every "@/" becomes "DIR/" (so that inputs can
 * name the certificates). Returns the path (a static buffer per call site is not kept: copy
 * it before the next call), or NULL. */
const char *fuzzfile_write(const char *name, const void *data, size_t size, int expand);
/* DIR/ca.crt, DIR/int.{crt,key} (CN ap-int.contoso.test), DIR/ext.{crt,key} (CN
 * ap.contoso.test), made once with the openssl command; 0 or an errno. */
int fuzzfile_certs(void);

#endif
