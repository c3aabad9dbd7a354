/* profile: how each lab IM service behaves where real services differed (AOL-, Yahoo!-, MSN-like
 * providers and the enterprise home server): presence wording, offline answers, size limits. */
#ifndef PIC_PROFILE_H
#define PIC_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Presence as the lab's users set and see it; the order is part of the API (ua.h mirrors it). */
enum profile_pres {
	PROFILE_OFFLINE = 0,
	PROFILE_ONLINE,
	PROFILE_AWAY,
	PROFILE_BUSY,
	PROFILE_MEETING,  /* "in a meeting": only the enterprise has it */
	PROFILE_NPRES
};

/* How a SUBSCRIBE to a user the service does not have is answered (CONT-004). */
enum profile_unknown {
	PROFILE_UNKNOWN_PENDING = 0, /* 202, NOTIFY pending: never authorized, shown offline */
	PROFILE_UNKNOWN_OFFLINE,     /* 200, NOTIFY active with a closed PIDF */
	PROFILE_UNKNOWN_404,         /* 404: the watcher's server shows the contact offline */
};

struct profile {
	const char *name;               /* "aol", "yahoo", "msn", "enterprise" */
	const char *note[PROFILE_NPRES]; /* wording shown to its users and put in PIDF <note> */
	/* What its users see of a foreign "in a meeting" (PRES-003: online on every provider). */
	enum profile_pres meeting_as;
	int offline_status;             /* answer to a MESSAGE or INVITE for an offline user */
	const char *offline_reason;
	bool store_offline;             /* offline MESSAGEs are kept and delivered later */
	size_t max_message;             /* body bytes; larger gets 413 (IM-004) */
	const char *verified_header;    /* header it adds to requests for its users, or NULL */
	enum profile_unknown unknown;
	bool fold_screen_names;         /* user parts compared without spaces (AOL screen names) */
	bool polite_block;              /* a blocked watcher sees offline instead of a refusal */
};

/* The profile for a service name ("aol", "yahoo", "msn"; anything else: the enterprise). */
const struct profile *profile_find(const char *name);
/* "online", "away", "busy", "in-a-meeting", "offline" (also "in a meeting", "meeting"). */
int profile_pres_parse(const char *s, enum profile_pres *p);
const char *profile_pres_str(enum profile_pres p);
/* What a user of this profile sees when a contact's state is p (in a meeting -> online). */
enum profile_pres profile_seen_as(const struct profile *pf, enum profile_pres p);
/* Copies a user part as the service compares it (AOL: spaces dropped). */
void profile_user_norm(const struct profile *pf, const char *user, char *out, size_t size);

#endif
