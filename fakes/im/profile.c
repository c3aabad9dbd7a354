/* profile: the written-down differences between the lab's IM services.
 *
 * | what                    | enterprise      | aol                  | yahoo                | msn                  |
 * |-------------------------|-----------------|----------------------|----------------------|----------------------|
 * | away shown as           | Away            | Away                 | Stepped Out          | Away                 |
 * | busy shown as           | Busy            | Busy                 | Busy                 | Busy                 |
 * | in a meeting shown as   | In a meeting    | Available (online)   | Available (online)   | Online (online)      |
 * | online shown as         | Online          | Available            | Available            | Online               |
 * | offline MESSAGE/INVITE  | 480 Temporarily | 480 Temporarily      | 202 Accepted, stored | 408 Request Timeout  |
 * |                         | Unavailable     | Unavailable          | and delivered when   | (no endpoint answered|
 * |                         |                 |                      | the user comes online| in time)             |
 * | largest MESSAGE body    | 65536 bytes     | 2048 bytes           | 8192 bytes           | 1664 bytes           |
 * | verification claim      | -               | -                    | -                    | ms-sender-verified:  |
 * |                         |                 |                      |                      | yes on requests it   |
 * |                         |                 |                      |                      | sends for its users  |
 * | SUBSCRIBE, unknown user | 404             | 202 + NOTIFY pending | 200 + NOTIFY closed  | 404                  |
 * | address form            | user@contoso    | screen name: case    | user@yahoo.test      | user@msn.test        |
 * |                         |                 | and spaces ignored   |                      |                      |
 * | blocked watcher         | sees offline    | refused (rejected)   | refused (rejected)   | refused (rejected)   |
 *
 * Whatever the watcher's server gets (404, a pending or a closed NOTIFY), it shows the contact
 * offline without an error to the client (CONT-004). Unverified requests are judged only by the
 * enterprise (TRUST-006/007, in impres.c and imsess.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

#include "profile.h"

#define LOG_MODULE "profile"

static const struct profile profiles[] = {
	{
		.name = "enterprise",
		.note = { "Offline", "Online", "Away", "Busy", "In a meeting" },
		.meeting_as = PROFILE_MEETING,
		.offline_status = 480, .offline_reason = "Temporarily Unavailable",
		.max_message = 65536,
		.unknown = PROFILE_UNKNOWN_404,
		.polite_block = true,
	},
	{
		.name = "aol",
		.note = { "Offline", "Available", "Away", "Busy", "Available" },
		.meeting_as = PROFILE_ONLINE,
		.offline_status = 480, .offline_reason = "Temporarily Unavailable",
		.max_message = 2048,
		.unknown = PROFILE_UNKNOWN_PENDING,
		.fold_screen_names = true,
	},
	{
		.name = "yahoo",
		.note = { "Offline", "Available", "Stepped Out", "Busy", "Available" },
		.meeting_as = PROFILE_ONLINE,
		.offline_status = 202, .offline_reason = "Accepted (stored offline)",
		.store_offline = true,
		.max_message = 8192,
		.unknown = PROFILE_UNKNOWN_OFFLINE,
	},
	{
		.name = "msn",
		.note = { "Offline", "Online", "Away", "Busy", "Online" },
		.meeting_as = PROFILE_ONLINE,
		.offline_status = 408, .offline_reason = "Request Timeout (user offline)",
		.max_message = 1664,
		.verified_header = "ms-sender-verified: yes",
		.unknown = PROFILE_UNKNOWN_404,
	},
};

static const char *const pres_names[PROFILE_NPRES] = {
	"offline", "online", "away", "busy", "in-a-meeting",
};

const struct profile *profile_find(const char *name)
{
	size_t i;

	for (i = 1; name && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcasecmp(profiles[i].name, name))
			return &profiles[i];
	return &profiles[0];
}

int profile_pres_parse(const char *s, enum profile_pres *p)
{
	int i;

	if (!s || !p)
		return EINVAL;
	for (i = 0; i < PROFILE_NPRES; i++) {
		if (!strcasecmp(s, pres_names[i])) {
			*p = i;
			return 0;
		}
	}
	if (!strcasecmp(s, "in a meeting") || !strcasecmp(s, "meeting")) {
		*p = PROFILE_MEETING;
		return 0;
	}
	return EINVAL;
}

const char *profile_pres_str(enum profile_pres p)
{
	return p < PROFILE_NPRES ? pres_names[p] : "offline";
}

enum profile_pres profile_seen_as(const struct profile *pf, enum profile_pres p)
{
	if (p == PROFILE_MEETING)
		return pf->meeting_as;
	return p < PROFILE_NPRES ? p : PROFILE_OFFLINE;
}

void profile_user_norm(const struct profile *pf, const char *user, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	for (; *user && n + 1 < size; user++) {
		if (pf->fold_screen_names && *user == ' ')
			continue;
		out[n++] = *user;
	}
	out[n] = '\0';
}
