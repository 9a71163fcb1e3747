/* opml.h: OPML 2.0 (http://opml.org/spec2.opml) both ways: the list of
 * subscriptions as OPML, so a feed reader can import what feedmux polls;
 * and a reader's OPML export turned into feedmux.conf sections, so people
 * can move over from the reader they use today. */
#ifndef FEEDMUX_OPML_H
#define FEEDMUX_OPML_H

#include "buf.h"
#include "config.h"
#include "item.h"

/* What the daemon has learnt about feed f from fetching it (its own title
 * and home page), or NULL when nothing. Valid until the next call. */
typedef const struct feed_meta *(*opml_meta_fn)(void *arg, const struct config_feed *f);

/* Append to out an OPML 2.0 document of the feeds in cfg, in config order:
 * one <outline type="rss"> per feed with text and title (the configured
 * title, else the feed's own title from meta, else the feed's name),
 * xmlUrl, htmlUrl when meta knows the home page, and the feed's topics
 * as category="/topic1,/topic2". title NULL: cfg->title. meta may be
 * NULL. Deterministic: no dates. Returns 0, or -1 on a libxml2 failure
 * (logged; out unchanged). */
int opml_write(const struct config *cfg, const char *title, opml_meta_fn meta, void *arg, struct buf *out);

/* Read the OPML file at path ("-": standard input), as exported by a feed
 * reader, and append feedmux.conf text to out: a comment header, one
 * [topic NAME] section per folder or category, then one [feed NAME]
 * section per distinct http(s) xmlUrl, in document order. Appended to a
 * config with a [feedmux] section, it passes feedmux -t. Names are
 * lower-case ASCII slugs of the titles (accented Latin, Cyrillic and Greek
 * transliterated), else of the URL's host, made unique with -2, -3...;
 * title = keeps the original title when it differs from the name; a feed
 * lists the topics of all its enclosing folders and categories. Feeds
 * with other URL schemes (newsboat's exec: and filter:) are listed in the
 * header as skipped. On error (unreadable, over 16 MiB, not well-formed,
 * entity declarations, not OPML, no feeds) returns -1 with *err set to
 * "PATH: reason" or "PATH:LINE: reason" (caller frees) and out unchanged;
 * on success returns 0 with *err NULL. */
int opml_import(const char *path, struct buf *out, char **err);

#endif
