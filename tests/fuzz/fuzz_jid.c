/* fuzz_jid.c: libFuzzer target for JID parsing (src/xmpp/jid.c): any input
 * either fails or yields a JID whose string form parses to an equal JID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    jid j;
    if (jid_parse(s, &j) == 0) {
        char *full = jid_to_string(&j);
        jid k;
        if (jid_parse(full, &k) != 0 || !jid_equal(&j, &k))
            abort();   /* prepared JIDs must be stable */
        jid_clear(&k);
        free(full);
        jid_clear(&j);
    }
    free(s);
    return 0;
}
