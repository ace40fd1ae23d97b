/* muc_persist_codec.h: a room configuration (muc.h's muc_config) as the
 * text the store keeps (store_muc.h): one "key<TAB>value" line per field,
 * values escaped (\\, \t, \n). Unknown keys are ignored and missing keys
 * keep what the struct had, so a later plucsd may add fields without a
 * migration. Pure: no room engine, no I/O. */
#ifndef PLUCS_MUC_PERSIST_CODEC_H
#define PLUCS_MUC_PERSIST_CODEC_H

#include "modules/muc.h"

/* The text for c (malloc'ed). */
char *muc_config_encode(const muc_config *c);
/* Applies text to c (which holds defaults or a previous state): strings
 * are replaced (the old ones freed), numbers are clamped to muc.h's
 * limits, enums out of range are ignored. */
void muc_config_decode(const char *text, muc_config *c);

#endif
