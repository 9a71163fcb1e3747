/* buf.h: a growable byte buffer, always NUL-terminated. The owner of a
 * struct buf frees it with buf_free() or takes the bytes with buf_steal(). */
#ifndef FEEDMUX_BUF_H
#define FEEDMUX_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_append(struct buf *b, const char *s, size_t n);
/* Room for n more bytes, allocated to size (no rounding up). */
void buf_reserve(struct buf *b, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Returns the bytes (never NULL, "" when empty) and leaves b empty. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
