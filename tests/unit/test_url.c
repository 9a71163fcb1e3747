/* test_url.c: resolution against bases and the canonical form used for
 * deduplication, both through libcurl's URL API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "url.h"

/* Assert url_resolve(base, ref) == want (NULL for none). */
static void
check_resolve(const char *base, const char *ref, const char *want)
{
	char *got = url_resolve(base, ref);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("resolve(%s, %s) gave %s, want nothing", base ? base : "NULL", ref ? ref : "NULL", got);
		return;
	}
	if (got == NULL)
		fail_msg("resolve(%s, %s) gave nothing, want %s", base ? base : "NULL", ref ? ref : "NULL", want);
	if (strcmp(got, want) != 0)
		fail_msg("resolve(%s, %s) gave %s, want %s", base ? base : "NULL", ref ? ref : "NULL", got, want);
	free(got);
}

/* Assert url_canonical(a) == url_canonical(b). */
static void
check_same(const char *a, const char *b)
{
	char *ca = url_canonical(a), *cb = url_canonical(b);

	if (ca == NULL || cb == NULL || strcmp(ca, cb) != 0)
		fail_msg("canonical(%s)=%s and canonical(%s)=%s should be equal", a, ca ? ca : "(null)", b,
		         cb ? cb : "(null)");
	free(ca);
	free(cb);
}

/* Assert url_canonical(a) != url_canonical(b). */
static void
check_differ(const char *a, const char *b)
{
	char *ca = url_canonical(a), *cb = url_canonical(b);

	assert_non_null(ca);
	assert_non_null(cb);
	if (strcmp(ca, cb) == 0)
		fail_msg("canonical(%s) and canonical(%s) should differ (both %s)", a, b, ca);
	free(ca);
	free(cb);
}

/* RFC 3986 reference resolution cases feeds use. */
static void
test_resolve(void **state)
{
	const char *base = "http://example.org/news/world/feed.xml";

	check_resolve(base, "/a/b.html", "http://example.org/a/b.html");
	check_resolve(base, "story.html", "http://example.org/news/world/story.html");
	check_resolve(base, "../x", "http://example.org/news/x");
	check_resolve(base, "//cdn.example.net/i.png", "http://cdn.example.net/i.png");
	check_resolve(base, "?page=2", "http://example.org/news/world/feed.xml?page=2");
	check_resolve(base, "https://other.example/p", "https://other.example/p");
	check_resolve(base, "  /lead-space", "http://example.org/lead-space");
	check_resolve(base, "", base);
	check_resolve("http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s");
	check_resolve("http://a/b/c/d;p?q#old", "#s", "http://a/b/c/d;p?q#s");
	check_resolve(NULL, "https://example.org/x", "https://example.org/x");
	check_resolve(NULL, "relative/only", NULL);
	check_resolve(base, NULL, NULL);
	check_resolve("not a url", "https://example.org/", "https://example.org/");
}

/* Canonical equality rules of DESIGN.md. */
static void
test_canonical_same(void **state)
{
	check_same("http://example.org/a", "https://example.org/a");
	check_same("http://EXAMPLE.org/a", "http://example.org/a");
	check_same("http://example.org:80/a", "http://example.org/a");
	check_same("https://example.org:443/a", "https://example.org/a");
	check_same("http://example.org/a/", "http://example.org/a");
	check_same("http://example.org/a#comments", "http://example.org/a");
	check_same("http://example.org/a?utm_source=rss&utm_medium=feed", "http://example.org/a");
	check_same("http://example.org/a?id=3&utm_campaign=x", "http://example.org/a?id=3");
	check_same("http://example.org/a?fbclid=abc&id=3&gclid=z", "http://example.org/a?id=3");
	check_same("http://example.org", "http://example.org/");
}

/* What must stay distinct. */
static void
test_canonical_differ(void **state)
{
	check_differ("http://example.org/a", "http://example.org/b");
	check_differ("http://example.org/a?id=1", "http://example.org/a?id=2");
	check_differ("http://example.org:8080/a", "http://example.org/a");
	check_differ("http://example.org/A", "http://example.org/a");
	check_differ("http://a.example.org/x", "http://b.example.org/x");
}

/* Non-http(s) and junk have no canonical form. */
static void
test_canonical_rejects(void **state)
{
	assert_null(url_canonical("mailto:a@example.org"));
	assert_null(url_canonical("javascript:alert(1)"));
	assert_null(url_canonical("relative/path"));
	assert_null(url_canonical(NULL));
	assert_true(url_is_http("HTTPS://x"));
	assert_false(url_is_http("ftp://x"));
	assert_false(url_is_http(NULL));
}

/* What curl itself makes of an absolute URL (the base plays no part):
 * the answer url_resolve's shortcut for links that need no work must
 * give. NULL when curl refuses it. */
static char *
curl_answer(const char *ref)
{
	CURLU *u = curl_url();
	char *got = NULL, *out = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		out = strdup(got);
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}

/* Call fn(arg, variant) for every variant of each link one edit away:
 * each edit inserted at every place, or put in place of the character
 * there. */
static void
each_variant(const char *const *links, size_t nlinks, const char *const *edits, size_t nedits,
             void (*fn)(void *arg, const char *url), void *arg)
{
	char buf[512];

	for (size_t i = 0; i < nlinks; i++) {
		size_t len = strlen(links[i]);

		for (size_t at = 0; at <= len; at++)
			for (size_t e = 0; e < nedits; e++)
				for (int replace = 0; replace < 2; replace++) {
					if (replace && at == len)
						continue;
					snprintf(buf, sizeof buf, "%.*s%s%s", (int)at, links[i], edits[e],
					         links[i] + at + (size_t)replace);
					fn(arg, buf);
				}
	}
}

/* test_settled_like_curl's check of one variant; arg counts them. */
static void
settled_check(void *arg, const char *url)
{
	const char *bases[] = {"http://example.com/a/b", NULL};
	size_t *checked = arg;
	char *want;

	/* Only absolute http(s) links: against a base, anything else is
	 * resolved, not parsed alone. */
	if (!url_is_http(url))
		return;
	want = curl_answer(url);
	for (int b = 0; b < 2; b++) {
		char *got = url_resolve(bases[b], url);

		if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
			fail_msg("resolve(%s, \"%s\") gave %s, curl gives %s", bases[b] ? bases[b] : "NULL", url,
			         got ? got : "nothing", want ? want : "nothing");
		free(got);
		(*checked)++;
	}
	free(want);
}

/* url_resolve answers links that need no work without curl: for links
 * like the corpus's, and every variant one edit away from them (a dot
 * segment, an upper-case letter, a port, an IPv4 number, an empty query,
 * a character to encode...), its answer is curl's, with a base and
 * without. */
static void
test_settled_like_curl(void **state)
{
	static const char *const links[] = {
	    "http://example.com/2024/05/story.html",
	    "https://www.bbc.co.uk/news/world-europe-12345678",
	    "https://news.example.org/a/b/c?id=42&utm_source=rss#comments",
	    "http://feeds.example.net/~r/blog/~3/abc-DEF_123/",
	    "https://example.com/path;params/x.y?q=a:b@c/d?e#frag/x?y",
	    "http://a.b/",
	    "https://sub-domain.example.travel/x/y/z/",
	    "http://127.0.0.1/feeds/00001.xml",
	    "https://example.com/%E2%80%99s-quote",
	    "http://xn--bcher-kva.example/b%C3%BCcher",
	};
	static const char *const edits[] = {
	    "",   "/",  "/.", "/..", "/./", "/../x", "?",  "#",  "?a=b", "#f", "%20", " ",  "A",  "..", ":80", ":",
	    "@",  "//", "?a?b", "#a#b", "-", ".",  "~",  "[",  "]",    "\xc3\xa9", "\\", "|",  "{",  ";",  "=",  "0",
	    "X",  "0x7f.1", "1", "\t", "'", "\"", "^", "`",
	};
	size_t checked = 0;

	(void)state;
	each_variant(links, sizeof links / sizeof links[0], edits, sizeof edits / sizeof edits[0], settled_check,
	             &checked);
	assert_true(checked > 10000);
}

/* What test_canonical_like_curl counts. */
struct canonical_count {
	size_t checked, settled;
};

/* test_canonical_like_curl's check of one variant. */
static void
canonical_check(void *arg, const char *url)
{
	struct canonical_count *c = arg;
	char *got = url_canonical(url), *want = url_canonical_curl(url), *same;

	if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
		fail_msg("canonical(\"%s\") gave %s, through curl %s", url, got ? got : "nothing",
		         want ? want : "nothing");
	/* how many took the shortcut: resolve gives them back as they are */
	same = url_resolve(NULL, url);
	c->settled += same != NULL && strcmp(same, url) == 0;
	c->checked++;
	free(same);
	free(got);
	free(want);
}

/* url_canonical splits links curl would give back as they are without
 * curl: for links and edits like the ones above, its answer is the one
 * through curl's parser. */
static void
test_canonical_like_curl(void **state)
{
	static const char *const links[] = {
	    "http://example.com/2024/05/story.html",
	    "https://www.bbc.co.uk/news/world-europe-12345678/",
	    "https://news.example.org/a/b/c?id=42&utm_source=rss&&fbclid=x&b=#comments",
	    "http://feeds.example.net/~r/blog/~3/abc-DEF_123/?utm_medium=feed",
	    "https://example.com/path;params/x.y?q=a:b@c/d?e#frag/x?y",
	    "http://a.b/",
	    "https://example.com/%E2%80%99s-quote?gclid=1",
	};
	static const char *const edits[] = {
	    "",  "/",  "//", "/.", "/..", "?", "#", "?a=b", "&", "&&", "&utm_source=x", "#f", "%20", " ", "A",
	    ":80", ":443", ":8080", "@", "-", ".", "~", "=", "0", "X", "?#", "#?", "\xc3\xa9",
	};
	struct canonical_count c = {0, 0};

	(void)state;
	each_variant(links, sizeof links / sizeof links[0], edits, sizeof edits / sizeof edits[0], canonical_check,
	             &c);
	assert_true(c.checked > 10000);
	assert_true(c.settled > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_canonical_same),
	    cmocka_unit_test(test_canonical_differ),
	    cmocka_unit_test(test_canonical_rejects),
	    cmocka_unit_test(test_settled_like_curl),
	    cmocka_unit_test(test_canonical_like_curl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
