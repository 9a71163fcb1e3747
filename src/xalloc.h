/* xalloc.h: allocation wrappers that abort on out-of-memory, so call sites
 * stay clean. Every x* function returns memory the caller frees with free(). */
#ifndef FEEDMUX_XALLOC_H
#define FEEDMUX_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
#include <stdarg.h>
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
