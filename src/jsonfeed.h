/* jsonfeed.h: writing JSON Feed 1.1 (https://jsonfeed.org/version/1.1)
 * documents with json-c; the same entries as the Atom writer, for readers
 * that prefer JSON. Output is deterministic: the same head and entries in
 * the same order give the same bytes. */
#ifndef FEEDMUX_JSONFEED_H
#define FEEDMUX_JSONFEED_H

#include "buf.h"
#include "store.h"

struct jsonfeed_head {
	const char *title;
	const char *home_page_url; /* may be NULL */
	const char *feed_url;      /* URL of this document; may be NULL */
	const char *description;   /* may be NULL */
	const char *author;        /* NULL: the title */
};

struct jsonfeed_writer;

/* Start a feed document. Returns NULL on a json-c failure (logged). */
struct jsonfeed_writer *jsonfeed_writer_new(const struct jsonfeed_head *h);
/* Append one item. Returns 0 or -1. */
int jsonfeed_writer_entry(struct jsonfeed_writer *w, const struct store_entry *e);
/* End the document and append its bytes (UTF-8, ending in a newline) to
 * out. Returns 0 or -1. */
int jsonfeed_writer_finish(struct jsonfeed_writer *w, struct buf *out);
void jsonfeed_writer_free(struct jsonfeed_writer *w);

#endif
