/* xml_fragment.h: parses one serialized element back into an xnode, for
 * XML the server stored itself (private XML storage, XEP-0049) and now has
 * to put into a stanza again. The same restricted parser as client streams
 * (no DTD, entities, comments or PIs), bounded in size and depth. */
#ifndef PLUCS_XML_FRAGMENT_H
#define PLUCS_XML_FRAGMENT_H

#include <stddef.h>

#include "xml/xml.h"

/* The single element in xml[0..len) (its namespace declared on it or
 * inherited from ctx_ns, may be NULL), or NULL when xml is not exactly one
 * well-formed element within max_depth levels. Caller frees. */
xnode *xml_fragment_parse(const char *xml, size_t len, const char *ctx_ns, unsigned max_depth);

#endif
