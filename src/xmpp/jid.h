/* jid.h: JIDs (RFC 7622 via libidn stringprep: nodeprep, nameprep,
 * resourceprep). A parsed jid holds prepared, comparable parts. */
#ifndef PLUCS_JID_H
#define PLUCS_JID_H

#include <stdbool.h>

#define JID_PART_MAX 1023

typedef struct jid {
    char *node;      /* NULL when absent */
    char *domain;    /* never NULL in a valid jid; lower case, no trailing dot */
    char *resource;  /* NULL when absent */
} jid;

/* Parses and prepares s. 0 on success (out filled, caller calls jid_clear),
 * -1 when s is not a valid JID (out left empty). */
int jid_parse(const char *s, jid *out);
void jid_clear(jid *j);
int jid_copy(const jid *src, jid *dst);
char *jid_to_string(const jid *j);        /* full form, malloc'ed */
char *jid_bare_string(const jid *j);      /* node@domain or domain, malloc'ed */
bool jid_equal(const jid *a, const jid *b);
bool jid_bare_equal(const jid *a, const jid *b);

/* Single parts: prepared copy (malloc'ed) or NULL when invalid. */
char *jid_nodeprep(const char *s);
char *jid_nameprep(const char *s);
char *jid_resourceprep(const char *s);

#endif
