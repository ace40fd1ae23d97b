/* alloc.h: the one out-of-memory policy of PLUCS. A server that cannot get
 * a few hundred bytes cannot answer, log or store reliably either, and a
 * half-handled stanza is worse than a restart (systemd restarts plucsd;
 * every committed message is on disk). So every allocation goes through
 * these wrappers: on failure they write one line to stderr (which is the
 * journal under systemd) and abort(). Callers never check for NULL.
 *
 * The single exception is memory handed to a library that handles failure
 * itself: expat's allocator (xml/xml_stream.c) returns NULL and expat stops
 * the parse with XML_ERROR_NO_MEMORY, which the stream answers with a
 * stream error. */
#ifndef PLUCS_ALLOC_H
#define PLUCS_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
/* Zeroed; n * size checked for overflow. */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* At most n bytes of s, always terminated. */
char *xstrndup(const char *s, size_t n);

#endif
