/* publish.h: the published documents. Outputs are rendered only when the
 * store reports a change (after a short debounce), gzipped once, given a
 * strong ETag, swapped in for the HTTP server, and written atomically to
 * output_dir. Serving a request is handing out a prepared buffer. */
#ifndef FEEDMUX_PUBLISH_H
#define FEEDMUX_PUBLISH_H

#include <stddef.h>
#include <time.h>

struct event_base;
struct config;
struct store;
struct metrics;

/* A rendered document. Immutable once published; reference counted so a
 * response in flight keeps its bytes while a newer rendering replaces it. */
struct document {
	char *path;          /* "/feed.atom" */
	const char *content_type;
	unsigned char *body;
	size_t len;
	unsigned char *gz;   /* gzip of body */
	size_t gzlen;
	char etag[40];       /* strong: "\"<hex>\"" */
	time_t mtime;        /* when its bytes last changed */
	char lastmod[32];    /* mtime as an HTTP date, for Last-Modified */
	int written;         /* in output_dir (or no output_dir) */
	int refs;
	/* body [0] and gz [1] in memory files, for sendfile; made by http.c
	 * on first use, freed with the document (serve_failed bit i: cannot). */
	struct evbuffer_file_segment *serve[2];
	int serve_failed;
};

struct publisher;

/* m (may be NULL) receives render counts and times. */
struct publisher *publisher_new(struct event_base *base, const struct config *cfg, struct store *st,
                                struct metrics *m);
void publisher_free(struct publisher *pub);
/* Use cfg from now on (after a reload); re-renders. cfg outlives pub's use. */
void publisher_set_config(struct publisher *pub, const struct config *cfg);
/* The store changed: render after the debounce delay. */
void publisher_mark_dirty(struct publisher *pub);
/* Render now. Returns 0, or -1 when an output could not be rendered or
 * written (the previous one stays published). */
int publisher_render(struct publisher *pub, time_t now);
/* The current document for path, with a reference the caller drops with
 * document_unref(); NULL when there is none. */
struct document *publisher_get(struct publisher *pub, const char *path);
void document_unref(struct document *doc);
/* Why output_dir is not up to date (e.g. "cannot write ...: No space left
 * on device"), or NULL when every document is written. */
const char *publisher_write_error(const struct publisher *pub);

#endif
