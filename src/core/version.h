/* version.h: the PLUCS release, the one place it is written down. The
 * server reports it in XEP-0092 software version answers and tools may print
 * it; bump it with every release. */
#ifndef PLUCS_VERSION_H
#define PLUCS_VERSION_H

#define PLUCS_NAME "PLUCS"
#define PLUCS_VERSION "0.1.0"

#endif
