/* slowbuild: the time scale of a run. A sanitizer build of the lab or of the SUT runs several
 * times slower than a normal one, so every time limit and wait of its scenarios is stretched. */
#ifndef PIC_HARNESS_SLOWBUILD_H
#define PIC_HARNESS_SLOWBUILD_H

#include <stddef.h>

/* The factor a sanitizer build gets. */
#define SLOWBUILD_SCALE 3.0

/* The time scale: given (--time-scale, else $PICLAB_TIME_SCALE) when set, else SLOWBUILD_SCALE
 * when the lab or the accessproxy at sut_binary is a sanitizer build, else 1; why says which.
 * Returns 0 (and an error message in why) when given is not a number in 1..20. */
double slowbuild_scale(const char *given, const char *sut_kind, const char *sut_binary,
		       char *why, size_t size);

#endif
