/* test_normalize.c: what the daemon does to an item between the parser
 * and the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "item.h"
#include "normalize.h"

#define NOW ((time_t)1780000000)

/* Script and handlers go; relative URLs become absolute. */
static void
test_html_sanitized_and_absolute(void **state)
{
	struct item *it = item_new();

	it->summary = strdup("<p onclick=\"x()\">Hi <a href=\"/a\">a</a><script>alert(1)</script></p>");
	it->content = strdup("<img src=\"i.png\"><iframe src=\"http://evil/\"></iframe>");
	normalize_item(it, "http://example.org/news/feed.xml", NOW);
	assert_non_null(it->summary);
	assert_null(strstr(it->summary, "script"));
	assert_null(strstr(it->summary, "onclick"));
	assert_non_null(strstr(it->summary, "href=\"http://example.org/a\""));
	assert_non_null(strstr(it->content, "src=\"http://example.org/news/i.png\""));
	assert_null(strstr(it->content, "iframe"));
	item_free(it);
}

/* Titles become plain text; markup-only fields disappear. */
static void
test_title_text_and_empty_fields(void **state)
{
	struct item *it = item_new();

	it->title = strdup("  <b>Kyiv</b> &amp; the   <i>EU</i> ");
	it->summary = strdup("<script>only()</script>");
	normalize_item(it, NULL, NOW);
	assert_string_equal(it->title, "Kyiv & the EU");
	assert_null(it->summary);
	item_free(it);
}

/* Future dates are clamped to now and flagged; missing dates flagged. */
static void
test_dates(void **state)
{
	struct item *a = item_new(), *b = item_new(), *c = item_new();

	a->published = NOW + 30 * 86400;
	assert_int_equal(normalize_item(a, NULL, NOW), 1);
	assert_int_equal(a->published, NOW);
	assert_true(a->date_flags & ITEM_DATE_CLAMPED);

	b->published = NOW + 3600; /* within the slack: time zones, clock skew */
	assert_int_equal(normalize_item(b, NULL, NOW), 0);
	assert_int_equal(b->published, NOW + 3600);
	assert_int_equal(b->date_flags, 0);

	assert_int_equal(normalize_item(c, NULL, NOW), 0);
	assert_true(c->date_flags & ITEM_DATE_MISSING);
	item_free(a);
	item_free(b);
	item_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_sanitized_and_absolute),
	    cmocka_unit_test(test_title_text_and_empty_fields),
	    cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
