/* atom.c: an xmlTextWriter writing into an xmlBuffer. Every string goes
 * through the writer, which escapes it; dates are RFC 3339 UTC. The
 * caller writes the head first, then entries in the order it wants them
 * published, then finishes. */
#include "atom.h"

#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "log.h"
#include "version.h"
#include "xalloc.h"

#define ATOM_NS "http://www.w3.org/2005/Atom"

struct atom_writer {
	xmlBufferPtr xbuf;
	xmlTextWriterPtr w;
	int failed;
	char *topic_scheme;
	const char *(*topic_label)(void *arg, const char *name);
	void *topic_arg;
};

static void atom_text(struct atom_writer *w, const char *name, const char *value);
static void atom_text_typed(struct atom_writer *w, const char *name, const char *type, const char *value);
static void atom_date(struct atom_writer *w, const char *name, time_t t);
static void atom_link(struct atom_writer *w, const char *rel, const char *href, const char *type);
static void atom_check(struct atom_writer *w, int rc);

/* Remember a libxml2 failure; later calls become no-ops. */
static void
atom_check(struct atom_writer *w, int rc)
{
	if (rc < 0)
		w->failed = 1;
}

/* <name>value</name> when value is set. */
static void
atom_text(struct atom_writer *w, const char *name, const char *value)
{
	if (value == NULL || w->failed)
		return;
	atom_check(w, xmlTextWriterWriteElement(w->w, BAD_CAST name, BAD_CAST value));
}

/* <name type="type">value</name>; always written (Atom requires some). */
static void
atom_text_typed(struct atom_writer *w, const char *name, const char *type, const char *value)
{
	if (w->failed)
		return;
	atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST name));
	if (type != NULL)
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "type", BAD_CAST type));
	atom_check(w, xmlTextWriterWriteString(w->w, BAD_CAST(value ? value : "")));
	atom_check(w, xmlTextWriterEndElement(w->w));
}

/* <name>RFC 3339</name>. */
static void
atom_date(struct atom_writer *w, const char *name, time_t t)
{
	char s[40];

	date_format_rfc3339(t, s, sizeof s);
	atom_text(w, name, s);
}

/* <link rel= href= type=/>. */
static void
atom_link(struct atom_writer *w, const char *rel, const char *href, const char *type)
{
	if (href == NULL || w->failed)
		return;
	atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "link"));
	if (rel != NULL)
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "rel", BAD_CAST rel));
	atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "href", BAD_CAST href));
	if (type != NULL)
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "type", BAD_CAST type));
	atom_check(w, xmlTextWriterEndElement(w->w));
}

/* Start the document and write the feed's own elements. */
struct atom_writer *
atom_writer_new(const struct atom_head *head)
{
	struct atom_writer *w = xcalloc(1, sizeof *w);

	w->topic_scheme = head->topic_scheme ? xstrdup(head->topic_scheme) : NULL;
	w->topic_label = head->topic_label;
	w->topic_arg = head->topic_arg;
	w->xbuf = xmlBufferCreate();
	if (w->xbuf == NULL)
		goto fail;
	w->w = xmlNewTextWriterMemory(w->xbuf, 0);
	if (w->w == NULL)
		goto fail;
	atom_check(w, xmlTextWriterSetIndent(w->w, 1));
	atom_check(w, xmlTextWriterSetIndentString(w->w, BAD_CAST "  "));
	atom_check(w, xmlTextWriterStartDocument(w->w, "1.0", "utf-8", NULL));
	atom_check(w, xmlTextWriterStartElementNS(w->w, NULL, BAD_CAST "feed", BAD_CAST ATOM_NS));
	atom_text(w, "id", head->id);
	atom_text_typed(w, "title", "text", head->title);
	if (head->subtitle != NULL)
		atom_text_typed(w, "subtitle", "text", head->subtitle);
	atom_date(w, "updated", head->updated);
	atom_link(w, "self", head->self, "application/atom+xml");
	atom_link(w, "alternate", head->alternate, "text/html");
	if (!w->failed) {
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "author"));
		atom_text(w, "name", head->author ? head->author : head->title);
		atom_check(w, xmlTextWriterEndElement(w->w));
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "generator"));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "uri", BAD_CAST FEEDMUX_URL));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "version", BAD_CAST FEEDMUX_VERSION));
		atom_check(w, xmlTextWriterWriteString(w->w, BAD_CAST "feedmux"));
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	if (w->failed)
		goto fail;
	return w;
fail:
	log_err("atom: cannot start the document");
	atom_writer_free(w);
	return NULL;
}

/* Write one <entry>. */
int
atom_writer_entry(struct atom_writer *w, const struct store_entry *e)
{
	return atom_writer_story(w, e, NULL, 0, e->updated);
}

/* Write one <entry> for a story (a plain entry when nrel is 0). */
int
atom_writer_story(struct atom_writer *w, const struct store_entry *e, const struct atom_related *rel, size_t nrel,
                  time_t updated)
{
	const struct item *it = e->item;
	time_t published = it->published ? it->published : e->first_seen;

	if (w->failed)
		return -1;
	atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "entry"));
	atom_text(w, "id", e->entry_id);
	atom_text_typed(w, "title", "text", it->title);
	atom_link(w, "alternate", it->link, NULL);
	for (size_t i = 0; i < nrel; i++) {
		char *title;

		if (rel[i].href == NULL)
			continue;
		title = rel[i].publisher ? xasprintf("%s: %s", rel[i].publisher, rel[i].title ? rel[i].title : "")
		                         : xstrdup(rel[i].title ? rel[i].title : "");
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "link"));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "rel", BAD_CAST "related"));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "href", BAD_CAST rel[i].href));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "title", BAD_CAST title));
		atom_check(w, xmlTextWriterEndElement(w->w));
		free(title);
	}
	for (size_t i = 0; i < it->nenclosures; i++)
		atom_link(w, "enclosure", it->enclosures[i].url, it->enclosures[i].type);
	atom_date(w, "published", published);
	atom_date(w, "updated", updated > e->updated ? updated : e->updated);
	if (it->author != NULL && *it->author != '\0') {
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "author"));
		atom_text(w, "name", it->author);
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	for (size_t i = 0; i < nrel; i++) {
		size_t j;

		if (rel[i].publisher == NULL)
			continue;
		for (j = 0; j < i && (rel[j].publisher == NULL || strcmp(rel[j].publisher, rel[i].publisher) != 0); j++)
			;
		if (j < i)
			continue; /* one contributor per publisher */
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "contributor"));
		atom_text(w, "name", rel[i].publisher);
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	for (size_t i = 0; i < e->ntopics; i++) {
		const char *label = w->topic_label ? w->topic_label(w->topic_arg, e->topics[i]) : NULL;

		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "category"));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "term", BAD_CAST e->topics[i]));
		if (w->topic_scheme != NULL)
			atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "scheme", BAD_CAST w->topic_scheme));
		if (label != NULL)
			atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "label", BAD_CAST label));
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	for (size_t i = 0; i < it->ncategories; i++) {
		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "category"));
		atom_check(w, xmlTextWriterWriteAttribute(w->w, BAD_CAST "term", BAD_CAST it->categories[i]));
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	if (it->summary != NULL && *it->summary != '\0')
		atom_text_typed(w, "summary", "html", it->summary);
	if (it->content != NULL && *it->content != '\0')
		atom_text_typed(w, "content", "html", it->content);
	if (e->source != NULL) {
		const struct feed_meta *s = e->source;

		atom_check(w, xmlTextWriterStartElement(w->w, BAD_CAST "source"));
		atom_text(w, "id", s->id ? s->id : s->link);
		atom_text_typed(w, "title", "text", s->title ? s->title : e->feed_name);
		atom_link(w, "alternate", s->link, NULL);
		if (s->updated)
			atom_date(w, "updated", s->updated);
		atom_check(w, xmlTextWriterEndElement(w->w));
	}
	atom_check(w, xmlTextWriterEndElement(w->w));
	return w->failed ? -1 : 0;
}

/* Close the document and hand out its bytes. */
int
atom_writer_finish(struct atom_writer *w, struct buf *out)
{
	if (w->failed)
		return -1;
	atom_check(w, xmlTextWriterEndDocument(w->w));
	atom_check(w, xmlTextWriterFlush(w->w));
	if (w->failed) {
		log_err("atom: cannot finish the document");
		return -1;
	}
	buf_append(out, (const char *)xmlBufferContent(w->xbuf), (size_t)xmlBufferLength(w->xbuf));
	return 0;
}

/* Free the writer and its buffer. */
void
atom_writer_free(struct atom_writer *w)
{
	if (w == NULL)
		return;
	if (w->w != NULL)
		xmlFreeTextWriter(w->w);
	if (w->xbuf != NULL)
		xmlBufferFree(w->xbuf);
	free(w->topic_scheme);
	free(w);
}
