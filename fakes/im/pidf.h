/* pidf: the presence documents the lab's services exchange (RFC 3863 PIDF with the RFC 4480
 * RPID activities away, busy and meeting). */
#ifndef PIC_PIDF_H
#define PIC_PIDF_H

#include <stddef.h>

#include "profile.h"

#define PIDF_TYPE "application/pidf+xml"

/* Writes the document for entity ("sip:alice@contoso.test") in state p with the note text. */
int pidf_build(char *buf, size_t size, const char *entity, enum profile_pres p,
	       const char *note);
/* Reads the state and note of a document; EBADMSG when it is not a PIDF presence. A closed
 * basic status is offline whatever the rest says; an open one is online unless an activity
 * says away, busy or meeting, or the note says "Stepped Out" or "Away". */
int pidf_parse(const char *doc, size_t len, enum profile_pres *p, char *note, size_t nsize);

#endif
