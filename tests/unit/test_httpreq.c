/* test_httpreq.c: conditional requests and content coding, decided from
 * request headers alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "httpreq.h"

#define ETAG "\"0123456789abcdef0123456789abcdef\""
#define MTIME ((time_t)1748822400) /* Mon, 02 Jun 2025 00:00:00 GMT */

/* If-None-Match forms. */
static void
test_etag(void **state)
{
	assert_true(httpreq_etag_matches(ETAG, ETAG));
	assert_true(httpreq_etag_matches("*", ETAG));
	assert_true(httpreq_etag_matches("W/" ETAG, ETAG));
	assert_true(httpreq_etag_matches("\"other\", " ETAG, ETAG));
	assert_true(httpreq_etag_matches(" " ETAG " ,\"x\"", ETAG));
	assert_false(httpreq_etag_matches("\"other\"", ETAG));
	assert_false(httpreq_etag_matches("", ETAG));
	assert_false(httpreq_etag_matches("0123456789abcdef0123456789abcdef", ETAG)); /* unquoted */
	assert_false(httpreq_etag_matches(",,,", ETAG));
}

/* Accept-Encoding forms, including q=0 and the wildcard. */
static void
test_gzip(void **state)
{
	assert_true(httpreq_accepts_gzip("gzip"));
	assert_true(httpreq_accepts_gzip("deflate, gzip;q=0.5, br"));
	assert_true(httpreq_accepts_gzip("GZIP"));
	assert_true(httpreq_accepts_gzip("x-gzip"));
	assert_true(httpreq_accepts_gzip("*"));
	assert_true(httpreq_accepts_gzip("br, *;q=0.1"));
	assert_false(httpreq_accepts_gzip(NULL));
	assert_false(httpreq_accepts_gzip(""));
	assert_false(httpreq_accepts_gzip("identity"));
	assert_false(httpreq_accepts_gzip("br"));
	assert_false(httpreq_accepts_gzip("gzip;q=0"));
	assert_false(httpreq_accepts_gzip("gzip; q=0.0"));
	assert_false(httpreq_accepts_gzip("gzipx"));
	assert_false(httpreq_accepts_gzip("*;q=0"));
	assert_false(httpreq_accepts_gzip("gzip;q=0, *"));  /* explicit gzip decides */
	assert_true(httpreq_accepts_gzip("*;q=0, gzip"));
}

/* 304 rules: If-None-Match wins over If-Modified-Since. */
static void
test_not_modified(void **state)
{
	assert_true(httpreq_not_modified(ETAG, NULL, ETAG, MTIME));
	assert_false(httpreq_not_modified("\"x\"", NULL, ETAG, MTIME));
	assert_true(httpreq_not_modified(NULL, "Mon, 02 Jun 2025 00:00:00 GMT", ETAG, MTIME));
	assert_true(httpreq_not_modified(NULL, "Tue, 03 Jun 2025 00:00:00 GMT", ETAG, MTIME));
	assert_false(httpreq_not_modified(NULL, "Sun, 01 Jun 2025 23:59:59 GMT", ETAG, MTIME));
	assert_false(httpreq_not_modified(NULL, "not a date", ETAG, MTIME));
	/* A wrong ETag is not rescued by a matching date. */
	assert_false(httpreq_not_modified("\"x\"", "Tue, 03 Jun 2025 00:00:00 GMT", ETAG, MTIME));
	assert_false(httpreq_not_modified(NULL, NULL, ETAG, MTIME));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_etag),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_not_modified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
