/* fuzz_sasl.c: libFuzzer target for strict base64 and SASL PLAIN decoding
 * (src/xmpp/sasl.c): decoding never crashes, and whatever decodes
 * re-encodes to exactly the input (strictness means one spelling only). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    char *d = base64_decode((const char *)data, size, &n);
    if (d) {
        char *e = base64_encode(d, n);
        if (strlen(e) != size || memcmp(e, data, size) != 0)
            abort();
        free(e);
        free(d);
    }
    char *z, *c, *p;
    if (sasl_plain_decode((const char *)data, size, &z, &c, &p) == SASL_PLAIN_OK) {
        if (!*c || !*p)
            abort();
        free(z);
        free(c);
        free(p);
    }
    return 0;
}
