/* jsonfeed.c: the document is a json-c object tree built as entries
 * arrive and serialized once at the end. json-c keeps an object's keys in
 * insertion order, so each object is filled in one fixed order and the
 * bytes are deterministic. Empty values are left out rather than written
 * as "" or null, except content_html, which the spec requires (it may be
 * ""). JSON Feed's summary is plain text, so the HTML summary is reduced
 * to its text by the sanitizer. Dates are RFC 3339 UTC. The
 * origin of each item goes in a "_feedmux" extension object (JSON Feed
 * extensions start with an underscore; readers ignore unknown ones). */
#include "jsonfeed.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "log.h"
#include "sanitize.h"
#include "version.h"
#include "xalloc.h"

#define JSONFEED_VERSION "https://jsonfeed.org/version/1.1"
#define JSONFEED_FORMAT (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSONFEED_MIME_DEFAULT "application/octet-stream"

struct jsonfeed_writer {
	json_object *root;
	json_object *items; /* borrowed from root */
	int failed;
};

static json_object *jsonfeed_must(json_object *o);
static void jsonfeed_add(struct jsonfeed_writer *w, json_object *obj, const char *key, json_object *val);
static void jsonfeed_add_str(struct jsonfeed_writer *w, json_object *obj, const char *key, const char *s);
static void jsonfeed_add_date(struct jsonfeed_writer *w, json_object *obj, const char *key, time_t t);
static json_object *jsonfeed_authors(struct jsonfeed_writer *w, const char *name);
static json_object *jsonfeed_source(struct jsonfeed_writer *w, const struct store_entry *e);
static int jsonfeed_nonempty(const char *s);

/* json-c returns NULL only when out of memory: abort, as xalloc does. */
static json_object *
jsonfeed_must(json_object *o)
{
	if (o == NULL) {
		log_err("jsonfeed: out of memory");
		abort();
	}
	return o;
}

/* Whether s is set and not "". */
static int
jsonfeed_nonempty(const char *s)
{
	return s != NULL && *s != '\0';
}

/* obj[key] = val, taking val. */
static void
jsonfeed_add(struct jsonfeed_writer *w, json_object *obj, const char *key, json_object *val)
{
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		w->failed = 1;
	}
}

/* obj[key] = s when s is not empty. */
static void
jsonfeed_add_str(struct jsonfeed_writer *w, json_object *obj, const char *key, const char *s)
{
	if (jsonfeed_nonempty(s))
		jsonfeed_add(w, obj, key, jsonfeed_must(json_object_new_string(s)));
}

/* obj[key] = RFC 3339 of t, when t is known (not 0). */
static void
jsonfeed_add_date(struct jsonfeed_writer *w, json_object *obj, const char *key, time_t t)
{
	char s[40];

	if (t == 0)
		return;
	date_format_rfc3339(t, s, sizeof s);
	jsonfeed_add_str(w, obj, key, s);
}

/* [{"name": name}], the 1.1 authors array. */
static json_object *
jsonfeed_authors(struct jsonfeed_writer *w, const char *name)
{
	json_object *arr = jsonfeed_must(json_object_new_array());
	json_object *a = jsonfeed_must(json_object_new_object());

	jsonfeed_add_str(w, a, "name", name);
	if (json_object_array_add(arr, a) != 0) {
		json_object_put(a);
		w->failed = 1;
	}
	return arr;
}

/* {"about": ..., "source": {"title", "url", "feed"}}: where e came from;
 * "feed" is the configured feed name. */
static json_object *
jsonfeed_source(struct jsonfeed_writer *w, const struct store_entry *e)
{
	const struct feed_meta *s = e->source;
	json_object *ext = jsonfeed_must(json_object_new_object());
	json_object *src = jsonfeed_must(json_object_new_object());

	jsonfeed_add_str(w, ext, "about", FEEDMUX_URL);
	jsonfeed_add_str(w, src, "title", s != NULL && jsonfeed_nonempty(s->title) ? s->title : e->feed_name);
	jsonfeed_add_str(w, src, "url", s != NULL ? s->link : NULL);
	jsonfeed_add_str(w, src, "feed", e->feed_name);
	jsonfeed_add(w, ext, "source", src);
	return ext;
}



/* Start the document with the feed's own fields. */
struct jsonfeed_writer *
jsonfeed_writer_new(const struct jsonfeed_head *h)
{
	struct jsonfeed_writer *w = xcalloc(1, sizeof *w);
	const char *title = h->title != NULL ? h->title : "";

	w->root = jsonfeed_must(json_object_new_object());
	jsonfeed_add_str(w, w->root, "version", JSONFEED_VERSION);
	jsonfeed_add(w, w->root, "title", jsonfeed_must(json_object_new_string(title)));
	jsonfeed_add_str(w, w->root, "home_page_url", h->home_page_url);
	jsonfeed_add_str(w, w->root, "feed_url", h->feed_url);
	jsonfeed_add_str(w, w->root, "description", h->description);
	jsonfeed_add(w, w->root, "authors",
	             jsonfeed_authors(w, jsonfeed_nonempty(h->author) ? h->author : title));
	w->items = jsonfeed_must(json_object_new_array());
	jsonfeed_add(w, w->root, "items", w->items);
	if (w->failed) {
		log_err("jsonfeed: cannot start the document");
		jsonfeed_writer_free(w);
		return NULL;
	}
	return w;
}

/* Append one item. */
int
jsonfeed_writer_entry(struct jsonfeed_writer *w, const struct store_entry *e)
{
	const struct item *it = e->item;
	json_object *o;
	const char *html;
	char *text = NULL;

	if (w->failed)
		return -1;
	o = jsonfeed_must(json_object_new_object());
	jsonfeed_add(w, o, "id", jsonfeed_must(json_object_new_string(e->entry_id ? e->entry_id : "")));
	jsonfeed_add_str(w, o, "url", it->link);
	jsonfeed_add_str(w, o, "title", it->title);
	/* One of content_html and content_text must be present. */
	html = jsonfeed_nonempty(it->content) ? it->content : it->summary;
	jsonfeed_add(w, o, "content_html", jsonfeed_must(json_object_new_string(html ? html : "")));
	if (jsonfeed_nonempty(it->content) && jsonfeed_nonempty(it->summary)) {
		text = sanitize_text(it->summary);
		jsonfeed_add_str(w, o, "summary", text);
		free(text);
	}
	jsonfeed_add_date(w, o, "date_published", it->published ? it->published : e->first_seen);
	jsonfeed_add_date(w, o, "date_modified", e->updated);
	if (jsonfeed_nonempty(it->author))
		jsonfeed_add(w, o, "authors", jsonfeed_authors(w, it->author));
	if (it->ncategories > 0) {
		json_object *tags = jsonfeed_must(json_object_new_array());

		for (size_t i = 0; i < it->ncategories; i++) {
			json_object *t;

			if (!jsonfeed_nonempty(it->categories[i]))
				continue;
			t = jsonfeed_must(json_object_new_string(it->categories[i]));
			if (json_object_array_add(tags, t) != 0) {
				json_object_put(t);
				w->failed = 1;
			}
		}
		if (json_object_array_length(tags) > 0)
			jsonfeed_add(w, o, "tags", tags);
		else
			json_object_put(tags);
	}
	if (it->nenclosures > 0) {
		json_object *atts = jsonfeed_must(json_object_new_array());

		for (size_t i = 0; i < it->nenclosures; i++) {
			const struct enclosure *enc = &it->enclosures[i];
			json_object *a;

			if (!jsonfeed_nonempty(enc->url))
				continue;
			a = jsonfeed_must(json_object_new_object());
			jsonfeed_add_str(w, a, "url", enc->url);
			/* mime_type is required; an enclosure without one is still a file. */
			jsonfeed_add_str(w, a, "mime_type",
			                 jsonfeed_nonempty(enc->type) ? enc->type : JSONFEED_MIME_DEFAULT);
			if (enc->length > 0)
				jsonfeed_add(w, a, "size_in_bytes",
				             jsonfeed_must(json_object_new_int64(enc->length)));
			if (json_object_array_add(atts, a) != 0) {
				json_object_put(a);
				w->failed = 1;
			}
		}
		if (json_object_array_length(atts) > 0)
			jsonfeed_add(w, o, "attachments", atts);
		else
			json_object_put(atts);
	}
	if (e->source != NULL || jsonfeed_nonempty(e->feed_name))
		jsonfeed_add(w, o, "_feedmux", jsonfeed_source(w, e));
	if (json_object_array_add(w->items, o) != 0) {
		json_object_put(o);
		w->failed = 1;
	}
	return w->failed ? -1 : 0;
}

/* Serialize the document and hand out its bytes. */
int
jsonfeed_writer_finish(struct jsonfeed_writer *w, struct buf *out)
{
	size_t len = 0;
	const char *s;

	if (w->failed)
		return -1;
	s = json_object_to_json_string_length(w->root, JSONFEED_FORMAT, &len);
	if (s == NULL) {
		log_err("jsonfeed: cannot serialize the document");
		w->failed = 1;
		return -1;
	}
	buf_append(out, s, len);
	buf_puts(out, "\n");
	return 0;
}

/* Free the writer and its document. */
void
jsonfeed_writer_free(struct jsonfeed_writer *w)
{
	if (w == NULL)
		return;
	json_object_put(w->root);
	free(w);
}
