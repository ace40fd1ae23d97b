/* xml_pool.h: why this exists: an expat parser is about 9 KiB in some 30
 * small allocations, and during a login burst every new session's parser
 * is alive at once, interleaved on malloc's heap with the sessions' own
 * long-lived data. When the idle sweep releases the parsers
 * (xstream_release), their memory is freed but stays in holes between
 * session data, on pages the kernel cannot take back: an idle plain session
 * then costs about twice what it holds (docs/performance.md, memory per
 * idle session). This pool keeps expat's small allocations apart: per
 * thread, per size class, in 64 KiB chunks of their own, mapped from the
 * kernel; a chunk whose objects are all freed is unmapped (one spare per
 * class is kept), so released parsers give back whole pages.
 *
 * Thread rule: an object is freed by the thread that allocated it (a
 * stream's parser lives and dies on its worker). A free from another
 * thread is still correct: it goes to the owner's remote list under a
 * mutex, and the owner takes it back on its next call. */
#ifndef PLUCS_XML_POOL_H
#define PLUCS_XML_POOL_H

#include <stddef.h>

/* Largest size the pool serves (expat's 4096 plus xml_stream.c's 16-byte
 * header); larger requests are for malloc. */
#define XPOOL_MAX 4112

/* Under AddressSanitizer expat's allocations stay separate malloc blocks,
 * so ASan keeps checking expat's own memory use (xml_stream.c). */
#if defined(__SANITIZE_ADDRESS__)
#define XPOOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XPOOL_ENABLED 0
#endif
#endif
#ifndef XPOOL_ENABLED
#define XPOOL_ENABLED 1
#endif

/* n bytes (1..XPOOL_MAX), 16-byte aligned, from the calling thread's pool;
 * NULL when n is out of range or no memory can be mapped. */
void *xpool_alloc(size_t n);
/* Gives back an object of xpool_alloc (any thread). */
void xpool_free(void *p);
/* The usable size of an object of xpool_alloc (its class's size). */
size_t xpool_usable(const void *p);

/* Unmaps the calling thread's spare chunks (its burst is over). */
void xpool_trim(void);

/* For tests and metrics: chunks mapped now, by all threads. */
size_t xpool_chunks(void);

#endif
