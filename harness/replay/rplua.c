/* rplua: `piclab replay --to-lua` — the capture's transactions written as a Lua scenario. */
#include <stdio.h>

#include "replay_int.h"
#include "rplua.h"

int rplua_write(const struct replay_opts *o)
{
	fprintf(stderr, "piclab replay --to-lua: not available yet\n");
	return 2;
}
