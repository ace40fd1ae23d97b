/* xnode_block.h: one allocation per element (issue 17 item 4). A parsed or
 * copied element used to take one allocation for the node, one for its
 * name, one for its attribute array and two per attribute; a routed
 * <message/> with its <body/> took a dozen malloc/free pairs before any
 * routing. A block holds the node, then its attribute array, then all its
 * strings; xnode.c frees a string or the array separately only when it
 * lies outside the node's block (xnode.blk), so the xnode API and its
 * ownership rules (unlink, set_attr, free of a subtree) are unchanged.
 *
 * Under AddressSanitizer every piece is still a separate allocation
 * (blk = 0), so ASan keeps catching an overflow of one string into the
 * next and a use after xnode_free of any piece. Internal to src/xml/. */
#ifndef PLUCS_XNODE_BLOCK_H
#define PLUCS_XNODE_BLOCK_H

#include <stddef.h>

#include "xml/xml.h"

#if defined(__SANITIZE_ADDRESS__)
#define XNODE_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XNODE_BLOCKS 0
#endif
#endif
#ifndef XNODE_BLOCKS
#define XNODE_BLOCKS 1
#endif

typedef struct xblock {
    xnode *n;
    char *p;     /* next free byte of the block (XNODE_BLOCKS) */
    char *end;
} xblock;

/* Allocates a zeroed node with room for nattrs attributes (n->attrs set,
 * n->nattrs left 0 for the caller to fill) and strbytes bytes of strings
 * (each string's terminator included). */
xnode *xblock_start(xblock *b, size_t nattrs, size_t strbytes);
/* len bytes of string storage plus a terminator, from the block (or a
 * separate allocation); the caller fills it. */
char *xblock_alloc(xblock *b, size_t len);
/* A terminated copy of s[0..len). */
char *xblock_strn(xblock *b, const char *s, size_t len);

/* Bytes of the block xblock_start allocates (for memory budgets). */
size_t xblock_size(size_t nattrs, size_t strbytes);

#endif
