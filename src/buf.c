/* buf.c: geometric growth; data stays NUL-terminated after every call. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Prepare an empty buffer. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Make room for n more bytes plus the terminator. */
static void
buf_grow(struct buf *b, size_t n)
{
	size_t want = b->len + n + 1;
	size_t cap = b->cap ? b->cap : 64;

	if (want <= b->cap)
		return;
	while (cap < want)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Room for n more bytes (and the NUL), allocated to size. */
void
buf_reserve(struct buf *b, size_t n)
{
	size_t want = b->len + n + 1;

	if (want <= b->cap)
		return;
	b->data = xrealloc(b->data, want);
	b->cap = want;
}

/* Append n bytes. */
void
buf_append(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a C string. */
void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_puts(b, s);
	free(s);
}

/* Empty the buffer, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Hand the bytes to the caller. */
char *
buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	buf_init(b);
	return p;
}

/* Release the memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}
