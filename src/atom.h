/* atom.h: writing Atom 1.0 (RFC 4287) documents with libxml2's
 * xmlTextWriter; never by pasting strings. */
#ifndef FEEDMUX_ATOM_H
#define FEEDMUX_ATOM_H

#include <time.h>

#include "buf.h"
#include "store.h"

struct atom_head {
	const char *id;
	const char *title;
	const char *subtitle;  /* may be NULL */
	const char *self;      /* URL of this document */
	const char *alternate; /* may be NULL */
	const char *author;
	time_t updated;
	/* Topics become <category term=NAME scheme=topic_scheme label=...>;
	 * topic_label may be NULL (no label). */
	const char *topic_scheme;
	const char *(*topic_label)(void *arg, const char *name);
	void *topic_arg;
};

/* Another report of the same story, shown in the lead's entry. */
struct atom_related {
	const char *href;      /* its link */
	const char *title;     /* its headline */
	const char *publisher; /* its feed's title */
};

struct atom_writer;

/* Start a feed document. Returns NULL on a libxml2 failure (logged). */
struct atom_writer *atom_writer_new(const struct atom_head *head);
/* Append one entry. Returns 0 or -1. */
int atom_writer_entry(struct atom_writer *w, const struct store_entry *e);
/* Append a story: the lead's entry with a <link rel="related"> and a
 * <contributor> per other report; updated is the story's (it moves when a
 * report joins). Returns 0 or -1. */
int atom_writer_story(struct atom_writer *w, const struct store_entry *lead, const struct atom_related *rel,
                      size_t nrel, time_t updated);
/* End the document and append its bytes to out. Returns 0 or -1. */
int atom_writer_finish(struct atom_writer *w, struct buf *out);
void atom_writer_free(struct atom_writer *w);

#endif
