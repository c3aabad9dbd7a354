/* rplua: `piclab replay --to-lua` — a capture written as an editable Lua scenario. */
#ifndef PIC_RPLUA_H
#define PIC_RPLUA_H

#include "replay.h"

/* Decodes, groups and casts o->capture and writes o->out as a scenario; the exit code. */
int rplua_write(const struct replay_opts *o);

#endif
