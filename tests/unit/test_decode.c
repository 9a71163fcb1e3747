/* test_decode.c: content codings undone in pieces of any size, exactly;
 * a small gzip body held and undone whole, a large one streamed; gzip
 * members in a row, deflate zlib-wrapped or raw, br; the decoded
 * size capped; corrupt, truncated and unknown codings named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "buf.h"
#include "decode.h"

/* "feedmux " 12,500 times and "end\n", compressed by Python's brotli
 * (quality 5, lgwin 16): 100,004 bytes from 27. */
static const unsigned char br_body[] = {0x6a, 0xd4, 0x30, 0x00, 0x88, 0xc7, 0xd8, 0x77, 0x96,
                                        0x3f, 0x98, 0x3c, 0x25, 0x05, 0x11, 0xe5, 0xb4, 0x72,
                                        0x32, 0xff, 0x52, 0x7e, 0x01, 0xd9, 0x29, 0x57, 0x00};

static void
sink(void *arg, const char *data, size_t len)
{
	buf_append(arg, data, len);
}

/* A text that compresses somewhat, like a feed: n bytes. */
static char *
text(size_t n, unsigned seed)
{
	char *t = malloc(n);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		t[i] = (x >> 16) % 7 == 0 ? ' ' : (char)('a' + (x >> 20) % 26);
	}
	return t;
}

/* in compressed with window_bits (15 zlib, -15 raw, 31 gzip). */
static unsigned char *
compress_with(const char *in, size_t n, int window_bits, size_t *outlen)
{
	z_stream zs;
	unsigned char *out;
	size_t cap;

	memset(&zs, 0, sizeof zs);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&zs, (uLong)n);
	out = malloc(cap);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

/* Push body through a decoder in pieces of `step` bytes (0: one piece of
 * 1 byte, then the rest); returns the decoder's results in *out. */
static int
run(const char *coding, const unsigned char *body, size_t len, size_t step, size_t max_out, struct buf *out,
    struct decoder **dp)
{
	struct decoder *d = decoder_new(coding, max_out);
	int rc = 0;

	buf_init(out);
	for (size_t i = 0; i < len && rc == 0;) {
		size_t n = step == 0 ? (i == 0 ? 1 : len - i) : (len - i < step ? len - i : step);

		rc = decoder_push(d, (const char *)body + i, n, sink, out);
		i += n;
	}
	if (rc == 0)
		rc = decoder_finish(d, sink, out);
	*dp = d;
	return rc;
}

/* gzip, zlib-wrapped and raw deflate: the same bytes back whatever the
 * piece sizes, and the decoded count. */
static void
test_zlib_codings(void **state)
{
	static const struct {
		const char *coding;
		int window_bits;
	} cases[] = {{"gzip", 31}, {"x-gzip", 31}, {"GZIP", 31}, {"deflate", 15}, {"deflate", -15}, {"gzip", 15}};
	static const size_t steps[] = {0, 1, 7, 4096, 65536, 1 << 30};
	const size_t n = 300000;
	char *t = text(n, 1);

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t zlen;
		unsigned char *z = compress_with(t, n, cases[c].window_bits, &zlen);

		for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
			struct buf out;
			struct decoder *d;

			if (run(cases[c].coding, z, zlen, steps[s], 1 << 20, &out, &d) != 0)
				fail_msg("%s (window bits %d) in pieces of %zu: %s", cases[c].coding, cases[c].window_bits,
				         steps[s], decoder_error(d));
			assert_int_equal(out.len, n);
			assert_memory_equal(out.data, t, n);
			assert_int_equal(decoder_out(d), n);
			assert_null(decoder_error(d));
			decoder_free(d);
			buf_free(&out);
		}
		free(z);
	}
	free(t);
}

/* Two gzip members in a row are one body; bytes after the end of a
 * stream are ignored. */
static void
test_gzip_members(void **state)
{
	char *a = text(50000, 2), *b = text(70000, 3);
	size_t la, lb;
	unsigned char *za = compress_with(a, 50000, 31, &la), *zb = compress_with(b, 70000, 31, &lb);
	unsigned char *both = malloc(la + lb + 5);
	struct buf out;
	struct decoder *d;

	(void)state;
	memcpy(both, za, la);
	memcpy(both + la, zb, lb);
	assert_int_equal(run("gzip", both, la + lb, 1000, 1 << 20, &out, &d), 0);
	assert_int_equal(out.len, 120000);
	assert_memory_equal(out.data, a, 50000);
	assert_memory_equal(out.data + 50000, b, 70000);
	decoder_free(d);
	buf_free(&out);
	memcpy(both + la, "\n\n\0xy", 5); /* trailing junk after one member */
	assert_int_equal(run("gzip", both, la + 5, 333, 1 << 20, &out, &d), 0);
	assert_int_equal(out.len, 50000);
	decoder_free(d);
	buf_free(&out);
	free(both);
	free(za);
	free(zb);
	free(a);
	free(b);
}

/* A small gzip body is held and undone whole at its end; a large one,
 * or one whose trailer says it decodes past 8 MiB, streams through zlib
 * as it comes; a trailer that lies about the size is refused either way. */
static void
test_gzip_whole(void **state)
{
	char *t = text(200000, 5);
	size_t zlen, rlen, blen;
	unsigned char *z = compress_with(t, 200000, 31, &zlen);
	/* Bytes that do not compress: 1.5 MiB stay about as large. */
	const size_t rn = 1536 * 1024;
	unsigned char *r = malloc(rn), *rz;
	char *big = calloc(1, 9 << 20);
	unsigned char *bz = compress_with(big, 9 << 20, 31, &blen);
	struct decoder *d;
	struct buf out;
	uint32_t x = 7;

	(void)state;
	for (size_t i = 0; i < rn; i++) {
		x = x * 1103515245u + 12345u;
		r[i] = (unsigned char)(x >> 23);
	}
	rz = compress_with((const char *)r, rn, 31, &rlen);
	assert_true(rlen > 1024 * 1024);
	assert_true(blen < 1024 * 1024);

	/* Small: nothing comes out until the end, then all of it. */
	buf_init(&out);
	d = decoder_new("gzip", 1 << 20);
	for (size_t i = 0; i < zlen; i += 4096)
		assert_int_equal(decoder_push(d, (const char *)z + i, zlen - i < 4096 ? zlen - i : 4096, sink, &out), 0);
	if (out.len != 0)
		fail_msg("a %zu-byte gzip body passed %zu bytes on before its end", zlen, out.len);
	assert_int_equal(decoder_finish(d, sink, &out), 0);
	assert_int_equal(out.len, 200000);
	assert_memory_equal(out.data, t, 200000);
	decoder_free(d);
	buf_free(&out);

	/* Large: bytes come out while the body is still coming. */
	buf_init(&out);
	d = decoder_new("gzip", 4 << 20);
	for (size_t i = 0; i < rlen; i += 65536)
		assert_int_equal(decoder_push(d, (const char *)rz + i, rlen - i < 65536 ? rlen - i : 65536, sink, &out),
		                 0);
	if (out.len == 0)
		fail_msg("a %zu-byte gzip body was held whole", rlen);
	assert_int_equal(decoder_finish(d, sink, &out), 0);
	assert_int_equal(out.len, rn);
	assert_memory_equal(out.data, r, rn);
	decoder_free(d);
	buf_free(&out);

	/* Past 8 MiB decoded from a small body: zlib, within the cap. */
	assert_int_equal(run("gzip", bz, blen, 4096, 16 << 20, &out, &d), 0);
	assert_int_equal(out.len, 9 << 20);
	decoder_free(d);
	buf_free(&out);

	/* The trailer's size, too small or too large by one: corrupt. */
	for (int delta = -1; delta <= 1; delta += 2) {
		unsigned char *lie = malloc(zlen);
		uint32_t isize = 200000u + (uint32_t)delta;

		memcpy(lie, z, zlen);
		for (int i = 0; i < 4; i++)
			lie[zlen - 4 + i] = (unsigned char)(isize >> (8 * i));
		assert_int_equal(run("gzip", lie, zlen, 1000, 1 << 20, &out, &d), -1);
		if (strstr(decoder_error(d), "corrupt gzip body") == NULL)
			fail_msg("a trailer off by %d: '%s'", delta, decoder_error(d));
		decoder_free(d);
		buf_free(&out);
		free(lie);
	}
	free(bz);
	free(big);
	free(rz);
	free(r);
	free(z);
	free(t);
}

/* br, including output larger than one buffer from a tiny input. */
static void
test_brotli(void **state)
{
	struct buf out;
	struct decoder *d;
	unsigned char bad[sizeof br_body];

	(void)state;
	for (size_t step = 1; step <= sizeof br_body; step += 5) {
		assert_int_equal(run("br", br_body, sizeof br_body, step, 1 << 20, &out, &d), 0);
		assert_int_equal(out.len, 100004);
		for (size_t i = 0; i < 12500; i++)
			assert_memory_equal(out.data + i * 8, "feedmux ", 8);
		assert_memory_equal(out.data + 100000, "end\n", 4);
		decoder_free(d);
		buf_free(&out);
	}
	memcpy(bad, br_body, sizeof bad);
	bad[9] ^= 0x55;
	assert_int_equal(run("br", bad, sizeof bad, 4, 1 << 20, &out, &d), -1);
	assert_non_null(strstr(decoder_error(d), "corrupt br body"));
	decoder_free(d);
	buf_free(&out);
}

/* The cap: a bomb stops at max_out bytes passed on, and says max_body. */
static void
test_cap(void **state)
{
	const size_t n = 8 << 20;
	char *zeros = calloc(1, n);
	size_t zlen;
	unsigned char *z = compress_with(zeros, n, 31, &zlen);
	struct buf out;
	struct decoder *d;

	(void)state;
	assert_true(zlen < 64 * 1024);
	assert_int_equal(run("gzip", z, zlen, 4096, 1 << 20, &out, &d), -1);
	assert_true(out.len <= 1 << 20);
	assert_non_null(strstr(decoder_error(d), "max_body"));
	/* After a failure, pushes fail at once and pass nothing on. */
	assert_int_equal(decoder_push(d, (const char *)z, zlen, sink, &out), -1);
	assert_true(out.len <= 1 << 20);
	decoder_free(d);
	buf_free(&out);
	/* Exactly the cap is fine; identity is capped too. */
	assert_int_equal(run("gzip", z, zlen, 4096, n, &out, &d), 0);
	assert_int_equal(out.len, n);
	decoder_free(d);
	buf_free(&out);
	assert_int_equal(run(NULL, (const unsigned char *)zeros, 1000, 100, 999, &out, &d), -1);
	assert_non_null(strstr(decoder_error(d), "max_body"));
	decoder_free(d);
	buf_free(&out);
	free(z);
	free(zeros);
}

/* Broken bodies and codings we do not take are named. */
static void
test_errors(void **state)
{
	char *t = text(20000, 4);
	size_t zlen;
	unsigned char *z = compress_with(t, 20000, 31, &zlen);
	struct buf out;
	struct decoder *d;

	(void)state;
	/* Cut short: the stream has not ended when the body does. */
	assert_int_equal(run("gzip", z, zlen / 2, 100, 1 << 20, &out, &d), -1);
	assert_non_null(strstr(decoder_error(d), "ends before its compressed stream"));
	decoder_free(d);
	buf_free(&out);
	/* A flipped byte in the data. */
	z[zlen / 2] ^= 0xff;
	z[zlen / 2 + 1] ^= 0xff;
	assert_int_equal(run("gzip", z, zlen, 100, 1 << 20, &out, &d), -1);
	assert_non_null(strstr(decoder_error(d), "gzip"));
	decoder_free(d);
	buf_free(&out);
	/* Not gzip at all. */
	assert_int_equal(run("gzip", (const unsigned char *)"<rss/>", 6, 6, 1 << 20, &out, &d), -1);
	assert_non_null(strstr(decoder_error(d), "corrupt gzip body"));
	decoder_free(d);
	buf_free(&out);
	/* Codings: unknown, or two of them. */
	d = decoder_new("compress", 100);
	assert_non_null(strstr(decoder_error(d), "unsupported Content-Encoding 'compress'"));
	assert_int_equal(decoder_push(d, "x", 1, sink, &out), -1);
	decoder_free(d);
	d = decoder_new("gzip, br", 100);
	assert_non_null(strstr(decoder_error(d), "more than one coding"));
	decoder_free(d);
	/* identity, alone or listed with one coding, and empty: fine. */
	d = decoder_new("identity", 100);
	assert_null(decoder_error(d));
	decoder_free(d);
	d = decoder_new(" gzip , identity", 100);
	assert_null(decoder_error(d));
	decoder_free(d);
	d = decoder_new("", 100);
	assert_int_equal(decoder_push(d, "abc", 3, sink, &out), 0);
	assert_int_equal(decoder_finish(d, sink, &out), 0);
	assert_int_equal(decoder_out(d), 3);
	decoder_free(d);
	buf_free(&out);
	/* An empty compressed body never started: nothing to finish. */
	d = decoder_new("gzip", 100);
	assert_int_equal(decoder_finish(d, sink, &out), 0);
	decoder_free(d);
	free(z);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zlib_codings), cmocka_unit_test(test_gzip_members),
	    cmocka_unit_test(test_gzip_whole), cmocka_unit_test(test_brotli),
	    cmocka_unit_test(test_cap),          cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
