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
};

struct atom_writer;

/* Start a feed document. Returns NULL on a libxml2 failure (logged). */
struct atom_writer *atom_writer_new(const struct atom_head *head);
/* Append one entry. Returns 0 or -1. */
int atom_writer_entry(struct atom_writer *w, const struct store_entry *e);
/* End the document and append its bytes to out. Returns 0 or -1. */
int atom_writer_finish(struct atom_writer *w, struct buf *out);
void atom_writer_free(struct atom_writer *w);

#endif
