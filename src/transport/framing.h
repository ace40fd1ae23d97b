/* framing.h: small text helpers the transports share for what they put
 * around the stream layer's output: the TCP/polling stream header, and the
 * namespace declarations a top-level element needs when it travels alone
 * (a WebSocket message, a child of a BOSH <body/>): stanzas get
 * xmlns='jabber:client', stream:* elements get xmlns:stream. */
#ifndef PLUCS_FRAMING_H
#define PLUCS_FRAMING_H

#include <stddef.h>

#include "core/buf.h"

#define NS_FRAMING "urn:ietf:params:xml:ns:xmpp-framing"
#define NS_HTTPBIND "http://jabber.org/protocol/httpbind"
#define NS_XBOSH "urn:xmpp:xbosh"

/* <?xml version='1.0'?><stream:stream ... > of a server's stream. */
void framing_stream_header(buf *out, const char *id, const char *from, const char *to,
                           const char *lang);
/* Appends the element data[0..len) with the namespace declarations it
 * needs to stand alone (data: one element as the serializer wrote it with
 * jabber:client as context). */
void framing_qualify(buf *out, const char *data, size_t len);

#endif
