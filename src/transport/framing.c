/* framing.c: see framing.h. The serializer writes an element's own xmlns
 * attribute directly after its name, so "does it declare its namespace" is
 * a look at the bytes after the name. */
#include "transport/framing.h"

#include <string.h>

#include "xml/xml.h"

void framing_stream_header(buf *out, const char *id, const char *from, const char *to,
                           const char *lang)
{
    buf_puts(out, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' id='");
    buf_puts(out, id);
    buf_printf(out, "' version='1.0' xml:lang='%s'", lang);
    if (from) {
        buf_puts(out, " from='");
        xml_escape(out, from, strlen(from), true);
        buf_puts(out, "'");
    }
    if (to) {
        buf_puts(out, " to='");
        xml_escape(out, to, strlen(to), true);
        buf_puts(out, "'");
    }
    buf_puts(out, ">");
}

void framing_qualify(buf *out, const char *data, size_t len)
{
    if (len < 2 || data[0] != '<') {
        buf_append(out, data, len);
        return;
    }
    size_t name_end = 1;
    while (name_end < len && !strchr(" />\t\r\n", data[name_end]))
        name_end++;
    buf_append(out, data, name_end);
    if (name_end > 8 && !strncmp(data + 1, "stream:", 7))
        buf_puts(out, " xmlns:stream='" NS_STREAM "'");
    else if (!(len - name_end >= 7 && !strncmp(data + name_end, " xmlns=", 7)))
        buf_puts(out, " xmlns='" NS_CLIENT "'");
    buf_append(out, data + name_end, len - name_end);
}
