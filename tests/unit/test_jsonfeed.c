/* test_jsonfeed.c: the JSON Feed writer produces JSON Feed 1.1 documents:
 * each rendering is parsed back with json-c and its fields, types and
 * dates checked; empty fields are left out; strings survive escaping;
 * the same input gives the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <libxml/parser.h>

#include "buf.h"
#include "item.h"
#include "jsonfeed.h"
#include "store.h"

static const struct jsonfeed_head test_head = {"World \"Desk\" & Co", "http://127.0.0.1:8080/",
                                               "http://127.0.0.1:8080/feed.json", "All the news", NULL};

static void render(const struct jsonfeed_head *h, const struct store_entry *e, size_t n, struct buf *out);
static json_object *parse(const struct buf *doc);
static json_object *get(json_object *o, const char *key);
static const char *get_str(json_object *o, const char *key);
static json_object *first_item(json_object *doc);
static void entry_init(struct store_entry *e, struct item *it);

/* Render a feed with head h and n copies of entry e into out. */
static void
render(const struct jsonfeed_head *h, const struct store_entry *e, size_t n, struct buf *out)
{
	struct jsonfeed_writer *w = jsonfeed_writer_new(h);

	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(jsonfeed_writer_entry(w, e), 0);
	assert_int_equal(jsonfeed_writer_finish(w, out), 0);
	jsonfeed_writer_free(w);
}

/* Parse the bytes back; the whole buffer must be one JSON object. */
static json_object *
parse(const struct buf *doc)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	assert_non_null(doc->data);
	assert_true(doc->len > 0 && doc->data[doc->len - 1] == '\n');
	o = json_tokener_parse_ex(tok, doc->data, (int)doc->len);
	assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
	/* Nothing but the final newline after the object. */
	for (size_t i = json_tokener_get_parse_end(tok); i < doc->len; i++)
		assert_true(doc->data[i] == '\n');
	json_tokener_free(tok);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

/* o[key], which must exist. */
static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("missing key '%s'", key);
	return v;
}

/* o[key], which must be a string. */
static const char *
get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	if (!json_object_is_type(v, json_type_string))
		fail_msg("key '%s' is not a string", key);
	return json_object_get_string(v);
}

/* doc.items[0]. */
static json_object *
first_item(json_object *doc)
{
	json_object *items = get(doc, "items");

	assert_true(json_object_is_type(items, json_type_array));
	assert_true(json_object_array_length(items) >= 1);
	return json_object_array_get_idx(items, 0);
}

/* A store entry for it with fixed ids and times and no source. */
static void
entry_init(struct store_entry *e, struct item *it)
{
	memset(e, 0, sizeof *e);
	e->item = it;
	e->feed_name = "baltic";
	e->entry_id = "urn:feedmux:0123456789abcdef0123456789abcdef";
	e->first_seen = 1748822400;
	e->updated = 1748826000;
}

/* Every field of a full entry and of the head, with the right types. */
static void
test_full_entry(void **state)
{
	struct item *it = item_new();
	struct feed_meta src = {"Baltic <Monitor>", "http://example.org/", "urn:x-test:feed", 1748822400, 0};
	struct store_entry e;
	struct buf out;
	json_object *doc, *item, *v, *a;

	it->title = strdup("Zelensky & allies meet");
	it->link = strdup("http://example.org/a?x=1&y=2");
	it->summary = strdup("<p>Short <b>version</b></p><p>two&nbsp;paras</p><script>alert(1)</script>");
	it->content = strdup("<p>Body</p>");
	it->author = strdup("Reporter");
	it->published = 1748822400;
	item_add_category(it, "world");
	item_add_category(it, "ukraine");
	item_add_enclosure(it, "http://example.org/a.mp3", "audio/mpeg", 1234);
	item_add_enclosure(it, "http://example.org/b.bin", NULL, 0);
	entry_init(&e, it);
	e.source = &src;
	buf_init(&out);
	render(&test_head, &e, 2, &out);
	doc = parse(&out);

	assert_string_equal(get_str(doc, "version"), "https://jsonfeed.org/version/1.1");
	assert_string_equal(get_str(doc, "title"), "World \"Desk\" & Co");
	assert_string_equal(get_str(doc, "home_page_url"), "http://127.0.0.1:8080/");
	assert_string_equal(get_str(doc, "feed_url"), "http://127.0.0.1:8080/feed.json");
	assert_string_equal(get_str(doc, "description"), "All the news");
	v = get(doc, "authors");
	assert_true(json_object_is_type(v, json_type_array));
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(get_str(json_object_array_get_idx(v, 0), "name"), "World \"Desk\" & Co");
	assert_int_equal(json_object_array_length(get(doc, "items")), 2);

	item = first_item(doc);
	assert_string_equal(get_str(item, "id"), "urn:feedmux:0123456789abcdef0123456789abcdef");
	assert_string_equal(get_str(item, "url"), "http://example.org/a?x=1&y=2");
	assert_string_equal(get_str(item, "title"), "Zelensky & allies meet");
	assert_string_equal(get_str(item, "content_html"), "<p>Body</p>");
	/* summary is plain text: tags gone, blocks separated, scripts dropped. */
	assert_string_equal(get_str(item, "summary"), "Short version two paras");
	assert_string_equal(get_str(item, "date_published"), "2025-06-02T00:00:00Z");
	assert_string_equal(get_str(item, "date_modified"), "2025-06-02T01:00:00Z");
	v = get(item, "authors");
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(get_str(json_object_array_get_idx(v, 0), "name"), "Reporter");
	v = get(item, "tags");
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "world");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "ukraine");
	v = get(item, "attachments");
	assert_int_equal(json_object_array_length(v), 2);
	a = json_object_array_get_idx(v, 0);
	assert_string_equal(get_str(a, "url"), "http://example.org/a.mp3");
	assert_string_equal(get_str(a, "mime_type"), "audio/mpeg");
	assert_true(json_object_is_type(get(a, "size_in_bytes"), json_type_int));
	assert_int_equal(json_object_get_int64(get(a, "size_in_bytes")), 1234);
	a = json_object_array_get_idx(v, 1);
	assert_string_equal(get_str(a, "mime_type"), "application/octet-stream");
	assert_false(json_object_object_get_ex(a, "size_in_bytes", NULL));

	v = get(get(item, "_feedmux"), "source");
	assert_string_equal(get_str(v, "title"), "Baltic <Monitor>");
	assert_string_equal(get_str(v, "url"), "http://example.org/");
	assert_string_equal(get_str(v, "feed"), "baltic");
	assert_true(strncmp(get_str(get(item, "_feedmux"), "about"), "http", 4) == 0);

	/* URLs stay readable: no "\/" in the bytes. */
	assert_non_null(strstr(out.data, "\"http://example.org/a?x=1&y=2\""));
	assert_null(strstr(out.data, "\\/"));
	json_object_put(doc);
	buf_free(&out);
	item_free(it);
}

/* Absent or empty fields are left out; content_html is always there. */
static void
test_minimal_entry_omits_empty(void **state)
{
	static const char *const absent[] = {"url",  "title", "summary",     "authors",
	                                     "tags", "image", "attachments", "date_published"};
	struct jsonfeed_head h = {"T", NULL, NULL, NULL, NULL};
	struct item *it = item_new();
	struct store_entry e;
	struct buf out;
	json_object *doc, *item, *v;

	it->title = strdup("");
	it->author = strdup("");
	item_add_category(it, "");
	item_add_enclosure(it, NULL, "audio/mpeg", 10);
	memset(&e, 0, sizeof e);
	e.item = it;
	e.entry_id = "urn:feedmux:00";
	buf_init(&out);
	render(&h, &e, 1, &out);
	doc = parse(&out);

	assert_false(json_object_object_get_ex(doc, "home_page_url", NULL));
	assert_false(json_object_object_get_ex(doc, "feed_url", NULL));
	assert_false(json_object_object_get_ex(doc, "description", NULL));
	/* The author defaults to the title. */
	assert_string_equal(get_str(json_object_array_get_idx(get(doc, "authors"), 0), "name"), "T");
	item = first_item(doc);
	assert_string_equal(get_str(item, "id"), "urn:feedmux:00");
	assert_string_equal(get_str(item, "content_html"), "");
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		if (json_object_object_get_ex(item, absent[i], NULL))
			fail_msg("key '%s' should be absent", absent[i]);
	assert_false(json_object_object_get_ex(item, "date_modified", NULL));
	assert_false(json_object_object_get_ex(item, "_feedmux", NULL));
	/* No null anywhere. */
	assert_null(strstr(out.data, "null"));

	/* first_seen stands in for a missing published date; the source
	 * title falls back to the feed name. */
	e.first_seen = 1748822400;
	e.feed_name = "baltic";
	buf_reset(&out);
	json_object_put(doc);
	render(&h, &e, 1, &out);
	doc = parse(&out);
	item = first_item(doc);
	assert_string_equal(get_str(item, "date_published"), "2025-06-02T00:00:00Z");
	v = get(get(item, "_feedmux"), "source");
	assert_string_equal(get_str(v, "title"), "baltic");
	assert_string_equal(get_str(v, "feed"), "baltic");
	assert_false(json_object_object_get_ex(v, "url", NULL));
	json_object_put(doc);
	buf_free(&out);
	item_free(it);
}

/* content_html is the content, else the summary; summary only with both. */
static void
test_content_summary_choice(void **state)
{
	struct item *it = item_new();
	struct store_entry e;
	struct buf out;
	json_object *doc, *item;

	it->summary = strdup("<p>Only a summary</p>");
	entry_init(&e, it);
	buf_init(&out);
	render(&test_head, &e, 1, &out);
	doc = parse(&out);
	item = first_item(doc);
	assert_string_equal(get_str(item, "content_html"), "<p>Only a summary</p>");
	assert_false(json_object_object_get_ex(item, "summary", NULL));
	json_object_put(doc);

	free(it->summary);
	it->summary = NULL;
	it->content = strdup("<p>Only content</p>");
	buf_reset(&out);
	render(&test_head, &e, 1, &out);
	doc = parse(&out);
	item = first_item(doc);
	assert_string_equal(get_str(item, "content_html"), "<p>Only content</p>");
	assert_false(json_object_object_get_ex(item, "summary", NULL));
	json_object_put(doc);

	/* A summary with no text at all is left out. */
	it->summary = strdup("<img src=\"x.png\"><br>");
	buf_reset(&out);
	render(&test_head, &e, 1, &out);
	doc = parse(&out);
	assert_false(json_object_object_get_ex(first_item(doc), "summary", NULL));
	json_object_put(doc);
	buf_free(&out);
	item_free(it);
}

/* Quotes, backslashes, control characters and non-ASCII text survive the
 * round trip; the bytes carry UTF-8 as is and escape what JSON requires. */
static void
test_escaping(void **state)
{
	static const char title[] = "\"Quoted\" \\ back\tslash\nnew\x01line </script> "
	                            "\xd0\x9a\xd0\xb8\xd1\x97\xd0\xb2 caf\xc3\xa9 \xf0\x9f\x93\xb0";
	struct jsonfeed_head h = {"Desk \xe2\x80\x94 \xc3\x9c", NULL, NULL, "line1\nline2", "A \"B\""};
	struct item *it = item_new();
	struct store_entry e;
	struct buf out;
	json_object *doc, *item;

	it->title = strdup(title);
	it->content = strdup("<p class=\"x\">a &amp; b</p>");
	entry_init(&e, it);
	buf_init(&out);
	render(&h, &e, 1, &out);
	doc = parse(&out);
	item = first_item(doc);
	assert_string_equal(get_str(item, "title"), title);
	assert_string_equal(get_str(item, "content_html"), "<p class=\"x\">a &amp; b</p>");
	assert_string_equal(get_str(doc, "title"), "Desk \xe2\x80\x94 \xc3\x9c");
	assert_string_equal(get_str(doc, "description"), "line1\nline2");
	assert_string_equal(get_str(json_object_array_get_idx(get(doc, "authors"), 0), "name"), "A \"B\"");
	/* Escapes in the bytes themselves. */
	assert_non_null(strstr(out.data, "\\\"Quoted\\\" \\\\ back\\tslash\\nnew\\u0001line"));
	assert_non_null(strstr(out.data, "caf\xc3\xa9"));
	assert_non_null(strstr(out.data, "\xf0\x9f\x93\xb0"));
	/* No raw control character anywhere but the layout's newlines. */
	for (size_t i = 0; i < out.len; i++)
		if ((unsigned char)out.data[i] < 0x20 && out.data[i] != '\n')
			fail_msg("raw control character 0x%02x at byte %zu", (unsigned char)out.data[i], i);
	json_object_put(doc);
	buf_free(&out);
	item_free(it);
}

/* The same input gives the same bytes; an empty feed is valid too. */
static void
test_deterministic(void **state)
{
	struct item *it = item_new();
	struct feed_meta src = {"Src", "http://example.org/", NULL, 0, 0};
	struct store_entry e;
	struct buf a, b, c;
	json_object *doc;

	it->title = strdup("T");
	it->link = strdup("http://example.org/t");
	it->content = strdup("<p>x</p>");
	it->summary = strdup("<p>y</p>");
	item_add_category(it, "c");
	item_add_enclosure(it, "http://example.org/e", "image/png", 5);
	entry_init(&e, it);
	e.source = &src;
	buf_init(&a);
	buf_init(&b);
	buf_init(&c);
	render(&test_head, &e, 3, &a);
	render(&test_head, &e, 3, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Keys come in the documented order. */
	assert_true(strstr(a.data, "\"version\"") < strstr(a.data, "\"title\""));
	assert_true(strstr(a.data, "\"id\"") < strstr(a.data, "\"url\": \"http://example.org/t\""));
	assert_true(strstr(a.data, "\"content_html\"") < strstr(a.data, "\"summary\""));

	render(&test_head, NULL, 0, &c);
	doc = parse(&c);
	assert_true(json_object_is_type(get(doc, "items"), json_type_array));
	assert_int_equal(json_object_array_length(get(doc, "items")), 0);
	json_object_put(doc);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	item_free(it);
}

/* finish appends: bytes already in the buffer stay in front. */
static void
test_finish_appends(void **state)
{
	struct buf out;
	json_object *doc;
	struct buf rest;

	buf_init(&out);
	buf_puts(&out, "prefix");
	render(&test_head, NULL, 0, &out);
	assert_memory_equal(out.data, "prefix{", 7);
	buf_init(&rest);
	buf_puts(&rest, out.data + 6);
	doc = parse(&rest);
	json_object_put(doc);
	buf_free(&rest);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_entry),
	    cmocka_unit_test(test_minimal_entry_omits_empty),
	    cmocka_unit_test(test_content_summary_choice),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_finish_appends),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
