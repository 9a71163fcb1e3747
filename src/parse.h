/* parse.h: a streaming feed parser. Bytes are pushed as they arrive from the
 * network (libxml2 SAX2 push parser); complete items are handed out one at a
 * time. A feed is never held whole in memory. The parser is a pure function
 * of bytes: no network, no database. */
#ifndef FEEDMUX_PARSE_H
#define FEEDMUX_PARSE_H

#include <stddef.h>

#include "item.h"

struct parser;

enum feed_format {
	FEED_FORMAT_UNKNOWN = 0,
	FEED_FORMAT_RSS,  /* RSS 0.9x / 2.0 */
	FEED_FORMAT_RDF,  /* RSS 1.0 / 0.90 */
	FEED_FORMAT_ATOM, /* Atom 1.0 / 0.3 */
	FEED_FORMAT_JSON, /* JSON Feed */
};

/* Called once per complete item; the callee takes ownership of it. */
typedef void (*parse_item_fn)(void *arg, struct item *it);

/* base_url: the feed's URL, for resolving relative links (may be NULL).
 * charset: the HTTP Content-Type charset, or NULL. */
struct parser *parser_new(const char *base_url, const char *charset, parse_item_fn fn, void *arg);
/* Push len bytes. Returns 0, or -1 once the parse has failed or a limit
 * was hit (further pushes are ignored; items already handed out stay).
 * After a well-formedness error it still returns 0 and keeps the bytes
 * (up to 16 MiB) for a recovering pass at parser_finish(). */
int parser_push(struct parser *p, const char *data, size_t len);
/* End of input. Returns 0 when the document was a feed and parsed cleanly
 * or was recovered (then parser_warning() says how; the recovered items
 * are handed out here), -1 otherwise with *err set to a message the caller
 * frees. Items complete before an error have already been handed out. */
int parser_finish(struct parser *p, char **err);
/* After parser_finish(): what was repaired to read the document, e.g.
 * "parsed with errors: not well-formed (line 3): ..." when a recovering
 * pass was needed, or the encoding repairs; NULL when there were none.
 * Owned by the parser. */
const char *parser_warning(const struct parser *p);
/* The feed-level metadata seen so far (owned by the parser). */
const struct feed_meta *parser_meta(const struct parser *p);
enum feed_format parser_format(const struct parser *p);
size_t parser_item_count(const struct parser *p);
void parser_free(struct parser *p);

#endif
