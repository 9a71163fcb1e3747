/* decode.c: content codings undone on the parse worker. Inflating bodies
 * was about a tenth of the event loop's time in a cold cycle, on the
 * thread that bounds it; here it runs next to the parse that reads the
 * bytes.
 *
 * gzip (and x-gzip): zlib with gzip or zlib headers recognized, several
 * gzip members one after the other. deflate: RFC 9110 says zlib-wrapped,
 * some servers send raw deflate; the first two bytes tell which (a zlib
 * header is a multiple of 31 with method 8), as browsers and curl do. br:
 * libbrotlidec. Bytes after the end of a compressed stream are ignored.
 * Decoded bytes go to the sink from a buffer on the stack: a decoder in
 * flight holds only its codec's state.
 *
 * Except a gzip body, which is held whole while it is small (feeds
 * nearly always are) and undone at its end by libdeflate, which inflates
 * about 2.8 times as fast as zlib (1,286 against 453 MB/s over the
 * bench's 2,000 feeds). libdeflate needs all the input and an output
 * buffer that fits: the gzip trailer gives the decoded size. Anything
 * out of the common case (a body past DECODE_HOLD_IN, a trailer size
 * past DECODE_HOLD_OUT or the cap, several members, trailing bytes, a
 * corrupt or lying stream) goes through zlib as before, from the held
 * bytes, so its results and messages are zlib's. */
#include "decode.h"

#include <brotli/decode.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "xalloc.h"

/* Decoded bytes handed to the sink at a time, at most. */
#define DECODE_BUF (32 * 1024)
/* A gzip body is held whole up to this many compressed bytes... */
#define DECODE_HOLD_IN (1024 * 1024)
/* ...and undone in one piece when its trailer says at most this many. */
#define DECODE_HOLD_OUT (8 * 1024 * 1024)

enum decode_coding {
	DC_IDENTITY,
	DC_GZIP,
	DC_DEFLATE,
	DC_BR,
};

struct decoder {
	enum decode_coding coding;
	size_t max_out;
	size_t out;
	z_stream zs;
	int zs_ready;              /* inflateInit2 done */
	unsigned char head[2];     /* deflate: the first bytes, until two came */
	size_t nhead;
	BrotliDecoderState *br;
	int started;               /* compressed bytes came */
	int ended;                 /* the compressed stream ended */
	int holding;               /* gzip: held whole, see decoder_hold */
	unsigned char *held;       /* the gzip bytes held, owned */
	size_t nheld, held_cap;
	char *error;
};

static int decoder_fail(struct decoder *d, char *why);
static int decoder_emit(struct decoder *d, const unsigned char *p, size_t n, decoder_sink sink, void *arg);
static int decoder_zlib_start(struct decoder *d, int window_bits);
static int decoder_inflate(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg);
static int decoder_deflate(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg);
static int decoder_brotli(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg);
static int decoder_gzip(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg);
static int decoder_hold(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg);
static int decoder_unhold(struct decoder *d, decoder_sink sink, void *arg);
static int decoder_whole(struct decoder *d, decoder_sink sink, void *arg);

/* A decoder for one coding; lists (codings applied in turn) are not
 * offered and not taken, except with identity in them. */
struct decoder *
decoder_new(const char *content_encoding, size_t max_out)
{
	struct decoder *d = xcalloc(1, sizeof *d);
	const char *p = content_encoding ? content_encoding : "";

	d->coding = DC_IDENTITY;
	d->max_out = max_out;
	while (*p != '\0') {
		size_t len;
		enum decode_coding c;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if ((len == 4 && strncasecmp(p, "gzip", 4) == 0) || (len == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			c = DC_GZIP;
		else if (len == 7 && strncasecmp(p, "deflate", 7) == 0)
			c = DC_DEFLATE;
		else if (len == 2 && strncasecmp(p, "br", 2) == 0)
			c = DC_BR;
		else if (len == 8 && strncasecmp(p, "identity", 8) == 0)
			c = DC_IDENTITY;
		else {
			decoder_fail(d, xasprintf("unsupported Content-Encoding '%s' (feedmux offers %s)", content_encoding,
			                          DECODE_ACCEPT));
			return d;
		}
		if (c != DC_IDENTITY && d->coding != DC_IDENTITY) {
			decoder_fail(d, xasprintf("unsupported Content-Encoding '%s' (more than one coding)",
			                          content_encoding));
			return d;
		}
		if (c != DC_IDENTITY)
			d->coding = c;
		p += len;
	}
	if (d->coding == DC_BR && (d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL)) == NULL)
		decoder_fail(d, xstrdup("out of memory for a brotli decoder"));
	d->holding = d->coding == DC_GZIP;
	return d;
}

/* Remember the first failure (taking why); -1. */
static int
decoder_fail(struct decoder *d, char *why)
{
	if (d->error == NULL)
		d->error = why;
	else
		free(why);
	return -1;
}

/* Pass decoded bytes on, within max_out. */
static int
decoder_emit(struct decoder *d, const unsigned char *p, size_t n, decoder_sink sink, void *arg)
{
	if (n == 0)
		return 0;
	if (n > d->max_out - d->out)
		return decoder_fail(d, xasprintf("body larger than max_body (%zu bytes) once decoded", d->max_out));
	d->out += n;
	sink(arg, (const char *)p, n);
	return 0;
}

/* inflateInit2 with window_bits. */
static int
decoder_zlib_start(struct decoder *d, int window_bits)
{
	if (inflateInit2(&d->zs, window_bits) != Z_OK)
		return decoder_fail(d, xstrdup("out of memory for an inflate stream"));
	d->zs_ready = 1;
	return 0;
}

/* Run zlib over in, until it is all taken and no output is pending. A
 * gzip body may hold several members. */
static int
decoder_inflate(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg)
{
	unsigned char out[DECODE_BUF];

	d->zs.next_in = (Bytef *)(uintptr_t)in;
	d->zs.avail_in = (uInt)len;
	for (;;) {
		int rc;

		if (d->ended) {
			/* Another gzip member, or trailing bytes to ignore. */
			if (d->coding != DC_GZIP || d->zs.avail_in < 2 || d->zs.next_in[0] != 0x1f ||
			    d->zs.next_in[1] != 0x8b || inflateReset(&d->zs) != Z_OK)
				return 0;
			d->ended = 0;
		}
		d->zs.next_out = out;
		d->zs.avail_out = sizeof out;
		rc = inflate(&d->zs, Z_NO_FLUSH);
		if (decoder_emit(d, out, sizeof out - d->zs.avail_out, sink, arg) < 0)
			return -1;
		if (rc == Z_STREAM_END) {
			d->ended = 1;
			continue;
		}
		if (rc == Z_BUF_ERROR)
			return 0; /* no progress without more input */
		if (rc != Z_OK)
			return decoder_fail(d, xasprintf("corrupt %s body (%s)", d->coding == DC_GZIP ? "gzip" : "deflate",
			                                 d->zs.msg ? d->zs.msg : "inflate failed"));
		if (d->zs.avail_in == 0 && d->zs.avail_out > 0)
			return 0;
	}
}

/* deflate: zlib-wrapped or raw, told by the first two bytes. */
static int
decoder_deflate(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg)
{
	if (!d->zs_ready) {
		unsigned cmf, flg;

		while (d->nhead < 2 && len > 0) {
			d->head[d->nhead++] = *in++;
			len--;
		}
		if (d->nhead < 2)
			return 0;
		cmf = d->head[0];
		flg = d->head[1];
		if (decoder_zlib_start(d, (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0 ? 15 : -15) <
		        0 ||
		    decoder_inflate(d, d->head, 2, sink, arg) < 0)
			return -1;
	}
	return len > 0 ? decoder_inflate(d, in, len, sink, arg) : 0;
}

/* gzip through zlib, as the bytes come. */
static int
decoder_gzip(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg)
{
	if (!d->zs_ready && decoder_zlib_start(d, 15 + 32) < 0)
		return -1;
	return decoder_inflate(d, in, len, sink, arg);
}

/* gzip: keep the bytes for decoder_whole while the body is small; past
 * DECODE_HOLD_IN, zlib takes over from the first byte. */
static int
decoder_hold(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg)
{
	if (len > DECODE_HOLD_IN - d->nheld) {
		if (decoder_unhold(d, sink, arg) < 0)
			return -1;
		return decoder_gzip(d, in, len, sink, arg);
	}
	if (d->nheld + len > d->held_cap) {
		size_t cap = d->held_cap ? d->held_cap : 64 * 1024;

		while (cap < d->nheld + len)
			cap *= 2;
		d->held = xrealloc(d->held, cap);
		d->held_cap = cap;
	}
	memcpy(d->held + d->nheld, in, len);
	d->nheld += len;
	return 0;
}

/* Stop holding: what was held goes through zlib. */
static int
decoder_unhold(struct decoder *d, decoder_sink sink, void *arg)
{
	unsigned char *held = d->held;
	size_t n = d->nheld;
	int rc;

	d->holding = 0;
	d->held = NULL;
	d->nheld = d->held_cap = 0;
	rc = n > 0 ? decoder_gzip(d, held, n, sink, arg) : 0;
	free(held);
	return rc;
}

/* The held gzip body, complete: one member whose trailer size is within
 * bounds, undone by libdeflate. 1 when done so, 0 when it is not that
 * case or libdeflate refused it (zlib is to take it), -1 on failure. */
static int
decoder_whole(struct decoder *d, decoder_sink sink, void *arg)
{
	struct libdeflate_decompressor *dd = NULL;
	unsigned char *out = NULL;
	size_t want, in_used = 0, out_used = 0;
	enum libdeflate_result r;
	const unsigned char *t;
	int ret = 0;

	if (d->nheld < 18) /* a gzip header and trailer */
		return 0;
	t = d->held + d->nheld - 4;
	want = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
	if (want > DECODE_HOLD_OUT || want > d->max_out - d->out)
		return 0;
	if ((dd = libdeflate_alloc_decompressor()) == NULL)
		return 0;
	out = xmalloc(want > 0 ? want : 1);
	r = libdeflate_gzip_decompress_ex(dd, d->held, d->nheld, out, want, &in_used, &out_used);
	if (r != LIBDEFLATE_SUCCESS || in_used != d->nheld)
		goto done;
	d->ended = 1;
	ret = 1;
	for (size_t off = 0; off < out_used && ret == 1; off += DECODE_BUF)
		if (decoder_emit(d, out + off, out_used - off < DECODE_BUF ? out_used - off : DECODE_BUF, sink, arg) < 0)
			ret = -1;
done:
	free(out);
	libdeflate_free_decompressor(dd);
	return ret;
}

/* br. */
static int
decoder_brotli(struct decoder *d, const unsigned char *in, size_t len, decoder_sink sink, void *arg)
{
	unsigned char out[DECODE_BUF];
	const uint8_t *next_in = in;
	size_t avail_in = len;

	while (!d->ended) {
		uint8_t *next_out = out;
		size_t avail_out = sizeof out;
		BrotliDecoderResult r =
		    BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);

		if (decoder_emit(d, out, sizeof out - avail_out, sink, arg) < 0)
			return -1;
		if (r == BROTLI_DECODER_RESULT_ERROR)
			return decoder_fail(d, xasprintf("corrupt br body (%s)",
			                                 BrotliDecoderErrorString(BrotliDecoderGetErrorCode(d->br))));
		if (r == BROTLI_DECODER_RESULT_SUCCESS)
			d->ended = 1;
		else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
			break;
	}
	return 0;
}

/* Decode a piece of body. */
int
decoder_push(struct decoder *d, const char *in, size_t len, decoder_sink sink, void *arg)
{
	const unsigned char *p = (const unsigned char *)in;

	if (d->error != NULL)
		return -1;
	if (len == 0)
		return 0;
	switch (d->coding) {
	case DC_IDENTITY:
		return decoder_emit(d, p, len, sink, arg);
	case DC_GZIP:
		d->started = 1;
		return d->holding ? decoder_hold(d, p, len, sink, arg) : decoder_gzip(d, p, len, sink, arg);
	case DC_DEFLATE:
		d->started = 1;
		return decoder_deflate(d, p, len, sink, arg);
	case DC_BR:
		d->started = 1;
		return decoder_brotli(d, p, len, sink, arg);
	}
	return -1;
}

/* The body is over. */
int
decoder_finish(struct decoder *d, decoder_sink sink, void *arg)
{
	if (d->error != NULL)
		return -1;
	if (d->holding) {
		int rc = decoder_whole(d, sink, arg);

		if (rc < 0 || (rc == 0 && decoder_unhold(d, sink, arg) < 0))
			return -1;
		d->holding = 0;
	}
	if (d->started && !d->ended) {
		static const char *const names[] = {"identity", "gzip", "deflate", "br"};
		return decoder_fail(d, xasprintf("the %s body ends before its compressed stream does", names[d->coding]));
	}
	/* Done: a parsed feed may wait a while for the store, and needs none
	 * of this (the held body, zlib's 32 KiB window). */
	free(d->held);
	d->held = NULL;
	d->nheld = d->held_cap = 0;
	if (d->zs_ready) {
		inflateEnd(&d->zs);
		d->zs_ready = 0;
	}
	return 0;
}

const char *
decoder_error(const struct decoder *d)
{
	return d->error;
}

size_t
decoder_out(const struct decoder *d)
{
	return d->out;
}

void
decoder_free(struct decoder *d)
{
	if (d == NULL)
		return;
	if (d->zs_ready)
		inflateEnd(&d->zs);
	if (d->br != NULL)
		BrotliDecoderDestroyInstance(d->br);
	free(d->held);
	free(d->error);
	free(d);
}
