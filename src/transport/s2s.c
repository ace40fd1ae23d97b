/* s2s.c: federation entry points (see s2s.h). FIRST CUT: federation off. */
#include "transport/s2s.h"

bool s2s_send(xnode *st)
{
    (void)st;
    return false;
}
