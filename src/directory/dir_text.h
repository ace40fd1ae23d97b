/* dir_text.h: making directory strings safe for XML. Whatever an
 * administrator (or a directory tool) put into an LDAP attribute ends up in
 * rosters, vCards and search results; one byte XML 1.0 cannot carry (a
 * control character, invalid UTF-8) would make the client drop the whole
 * stream. Directory text therefore passes dir_text_clean() where it enters
 * PLUCS: labels when the snapshot is built (dir_build.c), attribute values
 * when a query result is recorded (dir_record.c). Pure functions. */
#ifndef PLUCS_DIR_TEXT_H
#define PLUCS_DIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..len) may go into XML unchanged: valid UTF-8 (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), no C0 control except
 * TAB, LF and CR (so no NUL either), no U+FFFE / U+FFFF. */
bool dir_text_ok(const char *s, size_t len);

/* A malloc'ed, NUL-terminated copy of s[0..len) that dir_text_ok accepts:
 * forbidden C0 controls are dropped, every byte of an invalid UTF-8
 * sequence (lone or encoded surrogates included) and U+FFFE / U+FFFF become
 * U+FFFD. *outlen (may be NULL) receives the copy's length. */
char *dir_text_clean(const char *s, size_t len, size_t *outlen);

/* dir_text_clean of a C string; NULL stays NULL. */
char *dir_text_dup(const char *s);

#endif
