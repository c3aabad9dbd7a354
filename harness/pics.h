/* pics: the SUT's conformance statement (reports/pics/<kind>.pics) as the runner needs it —
 * which scenarios are n/a for this SUT and must not run. The rules live in reports/pics.lua. */
#ifndef PIC_PICS_H
#define PIC_PICS_H

#include <stdbool.h>
#include <stddef.h>

struct pics;

/* Loads the PICS file at path (items and requirement statuses from root/reports). EINVAL with
 * the message (file:line and what is wrong) printed on stderr. */
int pics_open(struct pics **pp, const char *root, const char *path);
/* true if a scenario covering these requirement ids (space separated) is n/a; why says which
 * requirement depends on which unclaimed item. */
bool pics_scenario_na(struct pics *p, const char *covers, char *why, size_t whysize);
void pics_close(struct pics *p);

#endif
