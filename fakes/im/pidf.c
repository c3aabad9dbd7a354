/* pidf: builds and reads the PIDF presence documents of the lab (RFC 3863, RFC 4480). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

#include "pidf.h"

#define LOG_MODULE "pidf"

/* RFC 4480 5.1: the activities that carry the states the lab's services know */
static const char *pidf_activity(enum profile_pres p)
{
	switch (p) {
	case PROFILE_AWAY: return "<rpid:away/>";
	case PROFILE_BUSY: return "<rpid:busy/>";
	case PROFILE_MEETING: return "<rpid:meeting/>";
	default: return NULL;
	}
}

int pidf_build(char *buf, size_t size, const char *entity, enum profile_pres p,
	       const char *note)
{
	const char *act = pidf_activity(p);
	int n;

	/* RFC 3863 4.1: one tuple with a basic status; the note is what the client shows */
	n = snprintf(buf, size,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		     "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\r\n"
		     "    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\r\n"
		     "    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\r\n"
		     "    entity=\"%s\">\r\n"
		     "  <tuple id=\"t1\">\r\n"
		     "    <status><basic>%s</basic></status>\r\n"
		     "  </tuple>\r\n"
		     "%s%s%s"
		     "  <note>%s</note>\r\n"
		     "</presence>\r\n",
		     entity, p == PROFILE_OFFLINE ? "closed" : "open",
		     act ? "  <dm:person id=\"p1\"><rpid:activities>" : "", act ? act : "",
		     act ? "</rpid:activities></dm:person>\r\n" : "", note ? note : "");
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* The text between <tag> and </tag> (any namespace prefix), or NULL. */
static const char *pidf_elem(const char *doc, const char *name, char *out, size_t size)
{
	char open[48], close[48];
	const char *a, *gt, *b;
	size_t n;

	snprintf(open, sizeof(open), "%s>", name);
	snprintf(close, sizeof(close), "</");
	for (a = strstr(doc, open); a; a = strstr(a + 1, open)) {
		/* "<basic>" or "<x:basic>": the char before the name is '<' or ':' */
		if (a > doc && (a[-1] == '<' || a[-1] == ':'))
			break;
	}
	if (!a)
		return NULL;
	gt = a + strlen(open);
	b = strstr(gt, close);
	if (!b)
		return NULL;
	n = (size_t)(b - gt);
	if (n >= size)
		n = size - 1;
	memcpy(out, gt, n);
	out[n] = '\0';
	return out;
}

int pidf_parse(const char *doc, size_t len, enum profile_pres *p, char *note, size_t nsize)
{
	char buf[8192], basic[32], nt[128];

	if (!doc || !p || len == 0 || len >= sizeof(buf))
		return EBADMSG;
	memcpy(buf, doc, len);
	buf[len] = '\0';
	if (!strstr(buf, "urn:ietf:params:xml:ns:pidf") || !pidf_elem(buf, "basic", basic,
								       sizeof(basic)))
		return EBADMSG;
	if (!pidf_elem(buf, "note", nt, sizeof(nt)))
		nt[0] = '\0';
	if (note && nsize)
		snprintf(note, nsize, "%s", nt);
	if (!strcasecmp(basic, "closed"))
		*p = PROFILE_OFFLINE;
	else if (strstr(buf, ":meeting/>"))
		*p = PROFILE_MEETING;
	else if (strstr(buf, ":busy/>"))
		*p = PROFILE_BUSY;
	else if (strstr(buf, ":away/>") || !strcasecmp(nt, "Away") ||
		 !strcasecmp(nt, "Stepped Out"))
		*p = PROFILE_AWAY;
	else
		*p = PROFILE_ONLINE;
	return 0;
}
