/* decode.h: HTTP content codings (Content-Encoding), undone by whoever
 * reads the body rather than by curl on the event loop: gzip and deflate
 * with zlib (a small gzip body whole, with libdeflate), br with
 * libbrotlidec; identity passes through. The decoded size is capped, so
 * a small body that inflates to gigabytes stops at the cap. A decoder is
 * used by one thread at a time. */
#ifndef FEEDMUX_DECODE_H
#define FEEDMUX_DECODE_H

#include <stddef.h>

/* The codings offered in Accept-Encoding, best first. */
#define DECODE_ACCEPT "gzip, deflate, br"

struct decoder;

/* Where decoded bytes go, in order, in pieces of any size. */
typedef void (*decoder_sink)(void *arg, const char *data, size_t len);

/* A decoder for a Content-Encoding header value (NULL, empty or
 * "identity": none), passing at most max_out decoded bytes. For a coding
 * it cannot undo the decoder has failed from the start: decoder_error
 * names the coding. */
struct decoder *decoder_new(const char *content_encoding, size_t max_out);
/* Decode the next len bytes of body into sink. Returns 0, or -1 once the
 * body is found corrupt or past max_out (see decoder_error); after a
 * failure every push returns -1 at once. */
int decoder_push(struct decoder *d, const char *in, size_t len, decoder_sink sink, void *arg);
/* The body is complete: what the decoder still holds goes to sink (a
 * small gzip body is decoded whole here, not piece by piece in
 * decoder_push). -1 (see decoder_error) when a compressed stream has not
 * ended, or an earlier push failed. */
int decoder_finish(struct decoder *d, decoder_sink sink, void *arg);
/* Why the decoder failed, or NULL; owned by the decoder. */
const char *decoder_error(const struct decoder *d);
/* Decoded bytes passed to the sink so far. */
size_t decoder_out(const struct decoder *d);
void decoder_free(struct decoder *d);

#endif
