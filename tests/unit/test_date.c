/* test_date.c: date_parse() against real-world formats with known UTC
 * values (the first 30 are feedvalidator's rss20 data-types-datetime
 * "everything" cases, values from the corpus EXPECTED.tsv; the rest come
 * from corpus feeds), strings that are not dates, and the formatters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "date.h"

struct date_case {
	const char *in;
	long long want;
	const char *what;
};

static const struct date_case good_cases[] = {
    {"Thu, 09 Feb 2006 23:59:45 +0000", 1139529585LL, "01 simple"},                 /* 2006-02-09T23:59:45Z */
    {"09 Feb 2006 23:59:45 +0000", 1139529585LL, "02 no weekday"},                  /* 2006-02-09T23:59:45Z */
    {"Thu, 9 Feb 2006 23:59:45 +0000", 1139529585LL, "03 single-digit day"},        /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59 +0000", 1139529540LL, "04 no seconds"},                /* 2006-02-09T23:59:00Z */
    {"Thu, 09 Feb 06 23:59:45 +0000", 1139529585LL, "05 two-digit year 06"},        /* 2006-02-09T23:59:45Z */
    {"Fri, 09 Feb 96 23:59:45 +0000", 823910385LL, "06 two-digit year 96"},         /* 1996-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 16:59:45 PDT", 1139529585LL, "07 PDT"},                      /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 17:59:45 CST", 1139529585LL, "08 CST"},                      /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 16:59:45 G", 1139529585LL, "09 military G (RFC 822 signs)"}, /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 12:59:45 L", 1139529585LL, "10 military L"},                 /* 2006-02-09T23:59:45Z */
    {"Fri, 10 Feb 2006 03:59:45 Q", 1139529585LL, "11 military Q"},                 /* 2006-02-09T23:59:45Z */
    {"Fri, 10 Feb 2006 03:59:45 +0400", 1139529585LL, "12 +0400"},                  /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 16:59:45 -0700", 1139529585LL, "13 -0700"},                  /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59:45 -0000", 1139529585LL, "14 -0000"},                  /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 21:25:45 -0234", 1139529585LL, "15 -0234"},                  /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59:45 UT", 1139529585LL, "16 UT"},                        /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59:45 GMT", 1139529585LL, "17 GMT"},                      /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59:45 Z", 1139529585LL, "18 Z"},                          /* 2006-02-09T23:59:45Z */
    {"tHu, 09 Feb 2006 23:59:45 +0000", 1139529585LL, "19 mixed-case day"},         /* 2006-02-09T23:59:45Z */
    {"Thu, 09 fEb 2006 23:59:45 +0000", 1139529585LL, "20 mixed-case month"},       /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 16:59:45 pDt", 1139529585LL, "21 mixed-case PDT"},           /* 2006-02-09T23:59:45Z */
    {"Thu, 09 Feb 2006 23:59:45 z", 1139529585LL, "22 lower-case z"},               /* 2006-02-09T23:59:45Z */
    {"Thu(oh how I hate thursdays), 9(th) Feb(ruary) 2006 23:59:45 +0000(GMT r0x0rz)", 1139529585LL,
     "23 comments"}, /* 2006-02-09T23:59:45Z */
    {"Thu, 09 (nested (comment) Mar)Feb(escaped comment\\) 2005) 2006()23:59:45 +0000", 1139529585LL,
     "24 nested comments"},                                                         /* 2006-02-09T23:59:45Z */
    {"\tThu , \t 09  Feb\t2006  23:59:45\t +0000", 1139529585LL, "25 white space"}, /* 2006-02-09T23:59:45Z */
    {"\n\tThu,\n\t09 Feb\n2006 23:59:45\n\t+0000\n", 1139529585LL,
     "26 multi-line white space"},                                        /* 2006-02-09T23:59:45Z */
    {"Sun, 09 Feb 1806 23:59:45 +0000", -5171904015LL, "27 before 1970"}, /* 1806-02-09T23:59:45Z */
    {"Fri, 09 Feb 1906 23:59:45 +0000", -2016230415LL, "28 near past"},   /* 1906-02-09T23:59:45Z */
    {"Tue, 09 Feb 2016 23:59:45 +0000", 1455062385LL, "29 near future"},  /* 2016-02-09T23:59:45Z */
    {"Tue, 09 Feb 2106 23:59:45 +0000", 4295203185LL, "30 after 2038"},   /* 2106-02-09T23:59:45Z */
    {"Fri, 01 Dec 2023 12:30:00 +0100", 1701430200LL,
     "miniflux / newsboat style +0100"},                                      /* 2023-12-01T11:30:00Z */
    {"Fri, 12 May 2017 19:40:53 +0530", 1494598253LL, "+0530"},               /* 2017-05-12T14:10:53Z */
    {"Fri, 08 Jul 2016 13:40:00 UTC", 1467985200LL, "UTC name"},              /* 2016-07-08T13:40:00Z */
    {"21 Oct 2002 06:45 EDT", 1035197100LL, "EDT, no weekday, no seconds"},   /* 2002-10-21T10:45:00Z */
    {"Fri 19 Nov 2010 01:30:00 GMT", 1290130200LL, "no comma after weekday"}, /* 2010-11-19T01:30:00Z */
    {"Fri,  3 Mar 2006 08:00:00 -0800 ", 1141401600LL,
     "double space, trailing space"},                                             /* 2006-03-03T16:00:00Z */
    {"Fri, 16 June 2006 10:30:00 GMT", 1150453800LL, "long month name"},          /* 2006-06-16T10:30:00Z */
    {"Fri, 23 December 2011 10:00:00 EST", 1324652400LL, "long month name, EST"}, /* 2011-12-23T15:00:00Z */
    {"Fri, 16 Sept 2006 10:30:00 GMT", 1158402600LL, "Sept"},                     /* 2006-09-16T10:30:00Z */
    {"Fri, 16 Jun 2006 10:30:00 GMT+0300", 1150443000LL,
     "GMT+0300 (curl reads GMT only)"},                                             /* 2006-06-16T07:30:00Z */
    {"Fri, 16 Jun 2006 10:30:00 UTC-05:00", 1150471800LL, "UTC-05:00"},             /* 2006-06-16T15:30:00Z */
    {"Fri, 16 Jun 2006 10:30:00 +05:30", 1150434000LL, "+05:30 with colon"},        /* 2006-06-16T05:00:00Z */
    {"Fri, 16 Jun 2006 10:30:00 EEST", 1150443000LL, "EEST (not in curl's table)"}, /* 2006-06-16T07:30:00Z */
    {"Fri, 16 Jun 2006 10:30:00 AEST", 1150417800LL, "AEST"},                       /* 2006-06-16T00:30:00Z */
    {"Fri, 16 Jun 2006 10:30:00", 1150453800LL, "no zone: UTC"},                    /* 2006-06-16T10:30:00Z */
    {"Friday, 16-Jun-06 10:30:00 GMT", 1150453800LL, "RFC 850"},                    /* 2006-06-16T10:30:00Z */
    {"Fri Jun 16 10:30:00 2006", 1150453800LL, "asctime"},                          /* 2006-06-16T10:30:00Z */
    {"16 Jun 2006", 1150416000LL, "date only"},                                     /* 2006-06-16T00:00:00Z */
    {"Fri, 16 Jun 2006 10:30:00 +0000 (UTC)", 1150453800LL, "zone comment"},        /* 2006-06-16T10:30:00Z */
    {"Sat, 1 Jan 2000 0:00:00 GMT", 946684800LL, "single-digit hour"},              /* 2000-01-01T00:00:00Z */
    {"31 Dec 99 23:59:59 +0000", 946684799LL, "two-digit year 99"},                 /* 1999-12-31T23:59:59Z */
    {"2003-12-13T18:30:02Z", 1071340202LL, "RFC 3339 Z"},                           /* 2003-12-13T18:30:02Z */
    {"2003-12-13T18:30:02+01:00", 1071336602LL, "RFC 3339 offset"},                 /* 2003-12-13T17:30:02Z */
    {"2003-12-13T18:30:02.25Z", 1071340202LL, "fractional seconds"},                /* 2003-12-13T18:30:02Z */
    {"2007-09-28T10:56:18.792-07:00", 1191002178LL, "milliseconds and offset"},     /* 2007-09-28T17:56:18Z */
    {"2003-12-13T08:29:29-04:00", 1071318569LL, "negative offset"},                 /* 2003-12-13T12:29:29Z */
    {"2002-12-31T19:20+01:00", 1041358800LL, "W3CDTF no seconds"},                  /* 2002-12-31T18:20:00Z */
    {"2003-07-01T01:55:07-0500", 1057042507LL, "offset without colon"},             /* 2003-07-01T06:55:07Z */
    {"2003-07-01T01:55:07 -05:00", 1057042507LL, "space before offset"},            /* 2003-07-01T06:55:07Z */
    {"2006-01-11 16:42:47 -0800", 1137026567LL, "space instead of T"},              /* 2006-01-12T00:42:47Z */
    {"2003-07-01 T 01:55:07-05:00", 1057042507LL, "spaces around T"},               /* 2003-07-01T06:55:07Z */
    {"2003-09-24T11:36:36", 1064403396LL, "no zone: UTC"},                          /* 2003-09-24T11:36:36Z */
    {"20021231T19:20:30.45+01:00", 1041358830LL, "basic date"},                     /* 2002-12-31T18:20:30Z */
    {"2002-12-31T192030+01:00", 1041358830LL, "basic time"},                        /* 2002-12-31T18:20:30Z */
    {"2006-01-17T12:35:1+01:00", 1137497701LL, "one-digit seconds"},                /* 2006-01-17T11:35:01Z */
    {"2003-12-13 18:30:02 UTC", 1071340202LL, "named zone after ISO"},              /* 2003-12-13T18:30:02Z */
    {"2025-06-01", 1748736000LL, "W3CDTF date"},                                    /* 2025-06-01T00:00:00Z */
    {"2025-06", 1748736000LL, "W3CDTF year-month"},                                 /* 2025-06-01T00:00:00Z */
    {"2025", 1735689600LL, "W3CDTF year"},                                          /* 2025-01-01T00:00:00Z */
    {"2024-02-29T12:00:00Z", 1709208000LL, "leap day"},                             /* 2024-02-29T12:00:00Z */
    {"2003-07-01T24:00:00Z", 1057104000LL, "24:00 is the next midnight"},           /* 2003-07-02T00:00:00Z */
    {"  2003-12-13T18:30:02Z  ", 1071340202LL, "surrounding white space"},          /* 2003-12-13T18:30:02Z */
};

static const char *const bad_cases[] = {
    "",
    "   ",
    "garbage",
    "12345",
    "Earth",
    "2023-02-29T12:00:00Z",
    "2003-13-01T15:51:30-05:00",
    "2003-07-32T15:51:30-05:00",
    "2003-07-01T25:51:30-05:00",
    "2003-07-01T01:61:30-05:00",
    "2003-07-01T01:55:61-05:00",
    "2003-06-31T15:51:30-05:00",
    "Fri, 32 Jun 2006 10:30:00 GMT",
    "Fri, 16 Jun 2006 25:30:00 GMT",
    "http://example.org/10",
    "insert updated date here",
    "2003-12-13T18:30:02+25:00",
};

static void test_date_good(void **state);
static void test_date_bad(void **state);
static void test_date_format(void **state);
static void test_date_roundtrip(void **state);

/* Every known format gives its UTC value. */
static void
test_date_good(void **state)
{
	size_t n = sizeof good_cases / sizeof good_cases[0];
	int failures = 0;

	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		time_t t = 0;
		if (date_parse(good_cases[i].in, &t) != 0) {
			print_error("not parsed: \"%s\" (%s)\n", good_cases[i].in, good_cases[i].what);
			failures++;
		} else if ((long long)t != good_cases[i].want) {
			print_error("\"%s\" (%s): got %lld, want %lld\n", good_cases[i].in,
			            good_cases[i].what, (long long)t, good_cases[i].want);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* Strings that are not dates (or impossible ones) are refused, and the
 * output is left alone. */
static void
test_date_bad(void **state)
{
	int failures = 0;

	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		time_t t = 42;
		if (date_parse(bad_cases[i], &t) == 0 || t != 42) {
			print_error("accepted: \"%s\" -> %lld\n", bad_cases[i], (long long)t);
			failures++;
		}
	}
	assert_int_equal(date_parse(NULL, NULL), -1);
	assert_int_equal(failures, 0);
}

/* RFC 3339 and HTTP formatting, independent of the locale. */
static void
test_date_format(void **state)
{
	char out[64];

	date_format_rfc3339(0, out, sizeof out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	date_format_rfc3339(1139529585, out, sizeof out);
	assert_string_equal(out, "2006-02-09T23:59:45Z");
	date_format_http(784111777, out, sizeof out);
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	date_format_http(1139529585, out, sizeof out);
	assert_string_equal(out, "Thu, 09 Feb 2006 23:59:45 GMT");
	date_format_rfc3339(-5364662400LL, out, sizeof out);
	assert_string_equal(out, "1800-01-01T00:00:00Z");
	date_format_http(4294967296LL, out, sizeof out);
	assert_string_equal(out, "Sun, 07 Feb 2106 06:28:16 GMT");
}

/* What we write, we read back. */
static void
test_date_roundtrip(void **state)
{
	static const long long times[] = {0, 1, 951782400, 1139529585, 1709999999, 4294967296LL, -86400};
	char out[64];

	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		time_t t = 0;
		date_format_rfc3339((time_t)times[i], out, sizeof out);
		assert_int_equal(date_parse(out, &t), 0);
		assert_int_equal((long long)t, times[i]);
		date_format_http((time_t)times[i], out, sizeof out);
		assert_int_equal(date_parse(out, &t), 0);
		assert_int_equal((long long)t, times[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_date_good),
	    cmocka_unit_test(test_date_bad),
	    cmocka_unit_test(test_date_format),
	    cmocka_unit_test(test_date_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
