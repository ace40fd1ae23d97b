/* cli_schema.h: `plucs schema install|check` (cli_schema.c) and the pure
 * part it rests on (cli_schema_defs.c): reading the schema definitions of
 * schema/plucs.ldif and comparing them with what a directory's subschema
 * subentry publishes. */
#ifndef PLUCS_CLI_SCHEMA_H
#define PLUCS_CLI_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* `plucs schema ...`: argv[0] is "schema". */
int cli_schema(int argc, char **argv, const char *registry_path);
void cli_schema_usage(FILE *out);

enum schema_kind { SCHEMA_ATTR, SCHEMA_CLASS };
enum schema_state { SCHEMA_MISSING, SCHEMA_PRESENT, SCHEMA_OTHER_OID };

typedef struct schema_def {
    enum schema_kind kind;
    char *name;          /* owned: NAME 'xmppEnabled' (the first name) */
    char *oid;           /* owned: the numeric OID PLUCS defines */
    char *text;          /* owned: the whole definition "( OID NAME ... )" */
    /* filled by schema_compare: */
    enum schema_state state;
    char *found_oid;     /* owned: the OID the directory has under that name */
} schema_def;

typedef struct schema_defs {
    schema_def *d;
    size_t n;
} schema_defs;

/* Reads the olcAttributeTypes and olcObjectClasses values of an LDIF file
 * (folded lines joined). 0, or -1 with one sentence in err. */
int schema_defs_load(const char *file, schema_defs *out, char *err, size_t errlen);
/* The same from text already in memory (file names the source in errors). */
int schema_defs_parse(const char *text, const char *file, schema_defs *out, char *err, size_t errlen);
void schema_defs_free(schema_defs *s);

/* The numeric OID and the first NAME of a definition "( 1.2.3 NAME 'x' ...)"
 * or "( 1.2.3 NAME ( 'x' 'y' ) ...)"; false when it has no such form.
 * oid and name are malloc'ed. */
bool schema_def_split(const char *def, char **oid, char **name);

/* Fills state/found_oid of every definition from the subschema's values:
 * attrs and classes are NULL-terminated lists of attributeTypes and
 * objectClasses values. Returns the number of definitions not PRESENT. */
size_t schema_compare(schema_defs *s, const char *const *attrs, const char *const *classes);

#endif
