/* test_item.c: the item struct's life, identity hashes (id, canonical link,
 * feed + title + date) and content hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "item.h"

static struct item *mk(const char *id, const char *link, const char *title, time_t published);
static size_t mix(char *s, size_t len, const char *const *parts, size_t nparts, unsigned *seed);
static int id_eq(const struct item *a, const char *fa, const struct item *b, const char *fb);
static int content_eq(const struct item *a, const struct item *b);

/* A fresh item with the given fields (NULL: absent). */
static struct item *
mk(const char *id, const char *link, const char *title, time_t published)
{
	struct item *it = item_new();

	it->id = id ? strdup(id) : NULL;
	it->link = link ? strdup(link) : NULL;
	it->title = title ? strdup(title) : NULL;
	it->published = published;
	return it;
}

/* Fill s with at least len bytes of parts picked by a seeded LCG (s has
 * room for len plus the longest part, and the NUL). Returns the length. */
static size_t
mix(char *s, size_t len, const char *const *parts, size_t nparts, unsigned *seed)
{
	size_t n = 0;

	while (n < len) {
		const char *p;

		*seed = *seed * 1103515245u + 12345u;
		p = parts[(*seed >> 16) % nparts];
		memcpy(s + n, p, strlen(p));
		n += strlen(p);
	}
	s[n] = '\0';
	return n;
}

/* Whether two items (of feeds fa and fb) have one identity. */
static int
id_eq(const struct item *a, const char *fa, const struct item *b, const char *fb)
{
	struct item_hash ha, hb;

	item_identity_hash(a, fa, &ha, NULL);
	item_identity_hash(b, fb, &hb, NULL);
	return memcmp(ha.b, hb.b, sizeof ha.b) == 0;
}

/* Whether two items have one content hash. */
static int
content_eq(const struct item *a, const struct item *b)
{
	struct item_hash ha, hb;

	item_content_hash(a, &ha);
	item_content_hash(b, &hb);
	return memcmp(ha.b, hb.b, sizeof ha.b) == 0;
}

/* item_new defaults, categories and enclosures are owned and freed. */
static void
test_lifecycle(void **state)
{
	struct item *it = item_new();
	struct feed_meta m;

	assert_int_equal(it->id_is_permalink, 1);
	assert_null(it->title);
	item_add_category(it, "world");
	item_add_category(it, "europe");
	item_add_category(it, NULL);
	assert_int_equal(it->ncategories, 2);
	assert_string_equal(it->categories[1], "europe");
	item_add_enclosure(it, "https://a.example/x.mp3", "audio/mpeg", 1234);
	item_add_enclosure(it, "https://a.example/y.jpg", NULL, 0);
	assert_int_equal(it->nenclosures, 2);
	assert_string_equal(it->enclosures[0].type, "audio/mpeg");
	assert_int_equal(it->enclosures[0].length, 1234);
	assert_null(it->enclosures[1].type);
	item_free(it);
	item_free(NULL);

	memset(&m, 0, sizeof m);
	m.title = strdup("T");
	m.link = strdup("https://a.example/");
	m.id = strdup("urn:x");
	m.updated = 5;
	feed_meta_clear(&m);
	assert_null(m.title);
	assert_int_equal(m.updated, 0);
	feed_meta_clear(&m);
}

/* The id wins over the link; it is trimmed; a URI id is global, any
 * other id only means something inside its feed. */
static void
test_identity_id(void **state)
{
	struct item *a = mk("tag:example.com,2024:1", "https://a.example/1", "One", 100);
	struct item *b = mk("  tag:example.com,2024:1\n", "https://b.example/other", "Other", 200);
	struct item *c = mk(NULL, "https://a.example/1", "One", 100);
	struct item *n1 = mk("12345", "https://a.example/1", "One", 100);
	struct item *n2 = mk("12345", "https://b.example/2", "Two", 100);
	struct item *u = mk("https://a.example/?p=12345", NULL, NULL, 0);

	assert_true(id_eq(a, "f", b, "f"));
	assert_true(id_eq(a, "f", b, "g"));  /* URI id: same article in two feeds */
	assert_false(id_eq(a, "f", c, "f")); /* id vs link: different inputs */
	assert_true(id_eq(n1, "f", n2, "f"));
	assert_false(id_eq(n1, "f", n2, "g")); /* "12345" is only unique per feed */
	assert_false(id_eq(n1, "f", u, "f"));
	item_free(a);
	item_free(b);
	item_free(c);
	item_free(n1);
	item_free(n2);
	item_free(u);
}

/* A blank id falls back to the link. */
static void
test_identity_blank_id(void **state)
{
	struct item *a = mk("   ", "https://a.example/1", "One", 100);
	struct item *b = mk(NULL, "http://A.example/1/", "Another title", 999);

	assert_true(id_eq(a, "f", b, "g"));
	item_free(a);
	item_free(b);
}

/* Every canonical-link rule: scheme, host case, default port, trailing
 * slash, fragment, tracking parameters. */
static void
test_identity_canonical_link(void **state)
{
	static const char *const same[] = {
	    "https://news.example.com/world/story-1",
	    "http://news.example.com/world/story-1",
	    "https://NEWS.Example.COM/world/story-1",
	    "https://news.example.com:443/world/story-1",
	    "http://news.example.com:80/world/story-1",
	    "https://news.example.com/world/story-1/",
	    "https://news.example.com/world/story-1#comments",
	    "https://news.example.com/world/story-1?utm_source=rss&utm_medium=feed",
	    "https://news.example.com/world/story-1?utm_campaign=x#top",
	    "https://news.example.com/world/story-1?fbclid=abc",
	};
	static const char *const differ[] = {
	    "https://news.example.com/world/story-2",
	    "https://news.example.com/World/story-1", /* paths are case-sensitive */
	    "https://news.example.com:8443/world/story-1",
	    "https://news.example.com/world/story-1?id=7",
	    "https://other.example.com/world/story-1",
	};
	struct item *base = mk(NULL, same[0], "x", 1);

	for (size_t i = 1; i < sizeof same / sizeof same[0]; i++) {
		struct item *it = mk(NULL, same[i], "y", 2);
		if (!id_eq(base, "f", it, "g"))
			fail_msg("%s should equal %s", same[i], same[0]);
		item_free(it);
	}
	for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
		struct item *it = mk(NULL, differ[i], "x", 1);
		if (id_eq(base, "f", it, "f"))
			fail_msg("%s should differ from %s", differ[i], same[0]);
		item_free(it);
	}
	/* The kept query keeps its parameters, tracking ones dropped. */
	{
		struct item *a = mk(NULL, "https://n.example/a?id=7&utm_source=x", NULL, 0);
		struct item *b = mk(NULL, "https://n.example/a?id=7", NULL, 0);
		assert_true(id_eq(a, "f", b, "f"));
		item_free(a);
		item_free(b);
	}
	item_free(base);
}

/* Without id or usable link: feed + normalized title + date. */
static void
test_identity_fallback(void **state)
{
	struct item *a = mk(NULL, NULL, "Storm  hits\tcoast", 1000);
	struct item *b = mk(NULL, NULL, " Storm hits coast ", 1000);
	struct item *c = mk(NULL, NULL, "Storm hits coast", 2000);
	struct item *d = mk(NULL, "mailto:x@example.com", "Storm hits coast", 1000);
	struct item *e = mk(NULL, NULL, NULL, 1000);
	struct item *f = mk(NULL, NULL, NULL, 1000);

	assert_true(id_eq(a, "f", b, "f"));
	assert_false(id_eq(a, "f", b, "g")); /* the feed is part of it */
	assert_false(id_eq(a, "f", c, "f")); /* and so is the date */
	assert_true(id_eq(a, "f", d, "f"));  /* a non-http link is not used */

	/* A made-up date (missing or clamped) moves every fetch: ignored. */
	b->published = 5000;
	b->date_flags = ITEM_DATE_MISSING;
	c->published = 6000;
	c->date_flags = ITEM_DATE_MISSING;
	assert_true(id_eq(b, "f", c, "f"));
	c->date_flags = ITEM_DATE_CLAMPED;
	assert_true(id_eq(b, "f", c, "f"));

	/* No title: the summary stands in. */
	e->summary = strdup("<p>first</p>");
	f->summary = strdup("<p>second</p>");
	assert_false(id_eq(e, "f", f, "f"));
	free(f->summary);
	f->summary = strdup("  <p>first</p> ");
	assert_true(id_eq(e, "f", f, "f"));

	item_free(a);
	item_free(b);
	item_free(c);
	item_free(d);
	item_free(e);
	item_free(f);
}

/* The identity does not depend on fields outside its inputs. */
static void
test_identity_stable(void **state)
{
	struct item *a = mk("urn:uuid:1", "https://a.example/1", "One", 100);
	struct item *b = mk("urn:uuid:1", "https://a.example/1", "One", 100);
	struct item_hash h1, h2;
	char hex[33];

	b->summary = strdup("changed");
	b->updated = 12345;
	assert_true(id_eq(a, "f", b, "f"));
	item_identity_hash(a, "f", &h1, NULL);
	item_identity_hash(a, "f", &h2, NULL);
	assert_memory_equal(h1.b, h2.b, sizeof h1.b);
	item_hash_hex(&h1, hex);
	assert_int_equal(strlen(hex), 32);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
	item_free(a);
	item_free(b);
}

/* Content: stable under white space, sensitive to every field, fields
 * kept apart, independent of id, link and dates. */
static void
test_content_hash(void **state)
{
	struct item *a = mk("urn:1", "https://a.example/1", "Hello world", 1);
	struct item *b = mk("urn:2", "https://b.example/2", "  Hello \n\t world ", 2);
	struct item *x = mk(NULL, NULL, "ab", 0);
	struct item *y = mk(NULL, NULL, "a", 0);
	struct item *e1 = item_new();
	struct item *e2 = item_new();
	struct item_hash h;
	char hex1[33], hex2[33];

	a->summary = strdup("<p>Summary</p>");
	b->summary = strdup("<p>Summary</p>\n");
	a->content = strdup("<p>Body  text</p>");
	b->content = strdup("<p>Body text</p>");
	assert_true(content_eq(a, b));
	item_content_hash(a, &h);
	item_hash_hex(&h, hex1);
	item_content_hash(a, &h);
	item_hash_hex(&h, hex2);
	assert_string_equal(hex1, hex2);

	free(b->title);
	b->title = strdup("Hello World");
	assert_false(content_eq(a, b));
	free(b->title);
	b->title = strdup("Hello world");
	free(b->summary);
	b->summary = strdup("<p>Summary.</p>");
	assert_false(content_eq(a, b));
	free(b->summary);
	b->summary = strdup("<p>Summary</p>");
	free(b->content);
	b->content = strdup("<p>Body text!</p>");
	assert_false(content_eq(a, b));

	/* ("ab", "c") is not ("a", "bc"), nor ("abc", NULL). */
	x->summary = strdup("c");
	y->summary = strdup("bc");
	assert_false(content_eq(x, y));
	free(y->title);
	y->title = strdup("abc");
	free(y->summary);
	y->summary = NULL;
	assert_false(content_eq(x, y));
	free(x->summary);
	x->summary = NULL;
	x->content = strdup("c");
	free(y->title);
	y->title = strdup("ab");
	y->summary = strdup("c");
	assert_false(content_eq(x, y)); /* summary vs content */

	/* Absent and empty are the same. */
	e2->title = strdup("");
	e2->summary = strdup("   ");
	assert_true(content_eq(e1, e2));

	item_free(a);
	item_free(b);
	item_free(x);
	item_free(y);
	item_free(e1);
	item_free(e2);
}

/* The content hash of a fixed item with every kind of white space run,
 * a control byte, UTF-8, and fields longer than the 4 KiB the text is
 * hashed in: its value is pinned, as stored hashes must not change with
 * the code (the value is what feedmux 0.1.0 stored). */
static void
test_content_hash_pinned(void **state)
{
	static const char *const parts[] = {"Word", " ", "  ", "\t", "\n", "\r\n", " \n ", "\v\f",
	                                    "\x01", "\xc3\xa9t\xc3\xa9", "x", "  \t  "};
	struct item *it = item_new();
	char *s = malloc(10000);
	unsigned seed = 7;
	struct item_hash h;
	char hex[33];

	(void)state;
	mix(s, 9000, parts, 12, &seed);
	it->title = strdup("  Title\twith \n runs ");
	it->summary = strdup(s);
	it->content = strdup(s + 4090);
	item_content_hash(it, &h);
	item_hash_hex(&h, hex);
	assert_string_equal(hex, "afbcaac21877954c4a715875cff17e41");
	free(s);
	item_free(it);
}

/* White space runs collapse to one space wherever they fall (across
 * the 4 KiB buffer, after a space, around control bytes): a text hashes
 * as its collapsed form does. */
static void
test_content_hash_collapse(void **state)
{
	static const char *const parts[] = {"a", "bc", " ", "  ", "\t", "\n", "\r", "\v", "\f", "\x01",
	                                    "\x1f", "\xc3\xa9", "0123456789abcdef", " x ", "   \n\t "};
	unsigned seed = 99;

	(void)state;
	for (int round = 0; round < 400; round++) {
		size_t len = (size_t)(round % 20 == 0 ? 9000 : round * 7 % 300), n, m = 0;
		char *s = malloc(len + 32), *r = malloc(len + 32);
		struct item *a = item_new(), *b = item_new();
		int space = 0;

		n = mix(s, len, parts, 15, &seed);
		/* the reference: trimmed, each run of white space one ' ' */
		for (size_t i = 0; i < n; i++) {
			if (strchr(" \t\n\r\v\f", s[i]) != NULL) {
				space = m > 0;
				continue;
			}
			if (space)
				r[m++] = ' ';
			space = 0;
			r[m++] = s[i];
		}
		r[m] = '\0';
		a->content = s;
		b->content = r;
		if (!content_eq(a, b))
			fail_msg("round %d: %zu bytes do not hash as their collapsed form", round, n);
		item_free(a);
		item_free(b);
	}
}

/* Locality: the host of a URL, the authority of a tag: URI, whatever the
 * path; the whole string without a scheme. */
static void
test_locality(void **state)
{
#define LOC(s) item_locality(s, strlen(s))
	struct item *a = item_new(), *b = item_new();
	struct item_hash h;
	uint32_t la, lb;

	assert_int_equal(LOC("https://x.example/a/b?c#d"), LOC("http://x.example"));
	assert_int_equal(LOC("https://x.example:8080/a"), LOC("https://x.example/"));
	assert_int_equal(LOC("tag:x.example,2026:item-1"), LOC("https://x.example/z"));
	assert_int_equal(LOC("x.example"), LOC("https://x.example/z")); /* no scheme: all of it */
	assert_int_equal(LOC("//x.example/p?q"), LOC("https://x.example/z")); /* url_canonical's form */
	assert_true(LOC("https://x.example/a") != LOC("https://y.example/a"));
	assert_true(LOC("feed-a") != LOC("feed-b"));
	/* The identity's: the id URI's, the canonical link's, else the feed's. */
	a->id = strdup("https://x.example/1");
	item_identity_hash(a, "f", &h, &la);
	assert_int_equal(la, LOC("https://x.example/"));
	b->link = strdup("HTTPS://Y.example/p?utm_source=z");
	item_identity_hash(b, "f", &h, &lb);
	assert_int_equal(lb, LOC("https://y.example/"));
	free(a->id);
	a->id = strdup("guid-1");
	item_identity_hash(a, "f", &h, &la);
	assert_int_equal(la, LOC("f"));
	item_free(a);
	item_free(b);
#undef LOC
}

/* Hex is lower-case, two digits a byte, in order. */
static void
test_hash_hex(void **state)
{
	struct item_hash h;
	char hex[33];

	for (int i = 0; i < 16; i++)
		h.b[i] = (uint8_t)(i * 17);
	item_hash_hex(&h, hex);
	assert_string_equal(hex, "00112233445566778899aabbccddeeff");
}

/* Run the item tests. */
int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_identity_id),
	    cmocka_unit_test(test_identity_blank_id),
	    cmocka_unit_test(test_identity_canonical_link),
	    cmocka_unit_test(test_identity_fallback),
	    cmocka_unit_test(test_identity_stable),
	    cmocka_unit_test(test_content_hash),
	    cmocka_unit_test(test_content_hash_pinned),
	    cmocka_unit_test(test_content_hash_collapse),
	    cmocka_unit_test(test_hash_hex),
	    cmocka_unit_test(test_locality),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
