/* test_atom.c: the Atom writer produces RFC 4287 documents: valid against
 * the RELAX NG schema, every string escaped, dates in RFC 3339 UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "atom.h"
#include "buf.h"
#include "item.h"
#include "store.h"

/* Render a feed with n copies of entry e into out. */
static void
render(const struct store_entry *e, size_t n, struct buf *out)
{
	struct atom_head head = {.id = "http://127.0.0.1:8080/feed.atom",
	                         .title = "World <Desk> & Co",
	                         .subtitle = "sub",
	                         .self = "http://127.0.0.1:8080/feed.atom",
	                         .updated = 1748822400,
	                         .topic_scheme = "http://127.0.0.1:8080/topics/"};
	struct atom_writer *w = atom_writer_new(&head);

	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(atom_writer_entry(w, e), 0);
	assert_int_equal(atom_writer_finish(w, out), 0);
	atom_writer_free(w);
}

/* Validate bytes against tests/data/atom.rng. */
static int
validate(const struct buf *doc)
{
	const char *dir = getenv("TESTS_SRCDIR");
	char path[4096];
	xmlRelaxNGParserCtxtPtr pctx;
	xmlRelaxNGPtr schema;
	xmlRelaxNGValidCtxtPtr vctx;
	xmlDocPtr x;
	int rc;

	if (dir == NULL)
		fail_msg("TESTS_SRCDIR is not set (run through make check)");
	snprintf(path, sizeof path, "%s/data/atom.rng", dir);
	pctx = xmlRelaxNGNewParserCtxt(path);
	schema = xmlRelaxNGParse(pctx);
	if (schema == NULL)
		fail_msg("cannot load %s", path);
	vctx = xmlRelaxNGNewValidCtxt(schema);
	x = xmlReadMemory(doc->data, (int)doc->len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(x);
	rc = xmlRelaxNGValidateDoc(vctx, x);
	xmlFreeDoc(x);
	xmlRelaxNGFreeValidCtxt(vctx);
	xmlRelaxNGFree(schema);
	xmlRelaxNGFreeParserCtxt(pctx);
	return rc;
}

/* A full entry with markup and special characters validates. */
static void
test_full_entry_validates(void **state)
{
	struct item *it = item_new();
	struct feed_meta src = {"Baltic <Monitor>", "http://example.org/", "urn:x-test:feed", 1748822400, 0};
	struct store_entry e;
	struct buf out;

	it->title = strdup("Zelensky & \"allies\" <meet>");
	it->link = strdup("http://example.org/a?x=1&y=2");
	it->summary = strdup("<p>Hello <b>world</b> &amp; more</p>");
	it->content = strdup("<p>Body</p>");
	it->author = strdup("Reporter");
	it->published = 1748822400;
	item_add_category(it, "world");
	item_add_enclosure(it, "http://example.org/a.mp3", "audio/mpeg", 1234);
	memset(&e, 0, sizeof e);
	e.item = it;
	e.feed_name = "baltic";
	e.entry_id = "urn:feedmux:0123456789abcdef0123456789abcdef";
	e.first_seen = 1748822400;
	e.updated = 1748826000;
	e.source = &src;
	buf_init(&out);
	render(&e, 2, &out);
	assert_int_equal(validate(&out), 0);
	assert_non_null(strstr(out.data, "<title type=\"text\">Zelensky &amp; &quot;allies&quot; &lt;meet&gt;</title>"));
	assert_non_null(strstr(out.data, "<updated>2025-06-02T01:00:00Z</updated>"));
	assert_non_null(strstr(out.data, "<published>2025-06-02T00:00:00Z</published>"));
	assert_non_null(strstr(out.data, "href=\"http://example.org/a?x=1&amp;y=2\""));
	assert_non_null(strstr(out.data, "<title type=\"text\">Baltic &lt;Monitor&gt;</title>"));
	assert_non_null(strstr(out.data, "rel=\"enclosure\""));
	buf_free(&out);
	item_free(it);
}

/* An entry with almost nothing (no title, no link, no source) still validates. */
static void
test_minimal_entry_validates(void **state)
{
	struct item *it = item_new();
	struct store_entry e;
	struct buf out;

	memset(&e, 0, sizeof e);
	e.item = it;
	e.feed_name = "x";
	e.entry_id = "urn:feedmux:00";
	e.first_seen = 0;
	e.updated = 0;
	buf_init(&out);
	render(&e, 1, &out);
	assert_int_equal(validate(&out), 0);
	assert_non_null(strstr(out.data, "<published>1970-01-01T00:00:00Z</published>"));
	buf_free(&out);
	item_free(it);
}

/* An empty feed validates and is byte-identical when rendered twice. */
static void
test_empty_feed_deterministic(void **state)
{
	struct buf a, b;

	buf_init(&a);
	buf_init(&b);
	render(NULL, 0, &a);
	render(NULL, 0, &b);
	assert_int_equal(validate(&a), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	buf_free(&a);
	buf_free(&b);
}

/* A story: the lead's entry with related links, one contributor per other
 * publisher, topic categories, and the story's later <updated>. */
static void
test_story_entry(void **state)
{
	struct item *it = item_new();
	struct feed_meta src = {"World Desk Wire", "http://example.org/", NULL, 0, 0};
	const char *topics[] = {"asia-pacific", "world"};
	struct atom_related rel[] = {
	    {"http://b.example/1", "US Defense Secretary Sounds Alarm", "Pacific Brief"},
	    {"http://c.example/2", "Hegseth on Taiwan", "Harbour Ledger"},
	    {"http://c.example/3", "Hegseth, again", "Harbour Ledger"},
	};
	struct atom_head head = {.id = "urn:x", .title = "t", .self = "http://h/feed.atom", .updated = 1,
	                         .topic_scheme = "http://h/topics/"};
	struct store_entry e;
	struct atom_writer *w;
	struct buf out;
	const char *p;
	int contributors = 0;

	it->title = strdup("Hegseth Urges Stronger Defense");
	it->link = strdup("http://a.example/lead");
	memset(&e, 0, sizeof e);
	e.item = it;
	e.feed_name = "worlddesk";
	e.entry_id = "urn:feedmux:1";
	e.first_seen = 1748822400;
	e.updated = 1748822400;
	e.source = &src;
	e.topics = topics;
	e.ntopics = 2;
	buf_init(&out);
	w = atom_writer_new(&head);
	assert_non_null(w);
	assert_int_equal(atom_writer_story(w, &e, rel, 3, 1748830000), 0);
	assert_int_equal(atom_writer_finish(w, &out), 0);
	atom_writer_free(w);
	assert_int_equal(validate(&out), 0);
	assert_non_null(strstr(out.data, "rel=\"related\" href=\"http://b.example/1\" "
	                                 "title=\"Pacific Brief: US Defense Secretary Sounds Alarm\""));
	assert_non_null(strstr(out.data, "<category term=\"asia-pacific\" scheme=\"http://h/topics/\"/>"));
	assert_non_null(strstr(out.data, "<updated>2025-06-02T02:06:40Z</updated>"));
	for (p = out.data; (p = strstr(p, "<contributor>")) != NULL; p++)
		contributors++;
	assert_int_equal(contributors, 2);
	buf_free(&out);
	item_free(it);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_entry_validates),
	    cmocka_unit_test(test_minimal_entry_validates),
	    cmocka_unit_test(test_empty_feed_deterministic),
	    cmocka_unit_test(test_story_entry),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
