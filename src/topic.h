/* topic.h: which [topic] sections an item belongs to.
 *
 * A topic matches an item when one of its match terms occurs in the item's
 * title or summary (as text: tags dropped, entities decoded; the content
 * when there is no summary) or, for a topic with categories = yes, in one of
 * the item's categories; and none of its exclude terms occurs in that same
 * text. Terms match whole words, ignoring case and accents (Unicode: Latin,
 * Greek, Cyrillic, ...); a term of several words matches those words in a
 * row, whatever punctuation or spacing is between them. Every character
 * that is not a letter or digit ends a word, apostrophes and hyphens
 * included: "Kyiv" matches "Kyiv's" and "Kyiv-based", not "Kyivstar".
 * Han, Hiragana and Katakana characters are words of one character each.
 * Every topic in a feed's own topics = holds all of that feed's items,
 * whatever their text. At most TOPIC_TEXT_MAX bytes of an item's text are
 * read. */
#ifndef FEEDMUX_TOPIC_H
#define FEEDMUX_TOPIC_H

#include <stddef.h>

#include "config.h"
#include "item.h"

#define TOPIC_TEXT_MAX (64 * 1024)

struct topic_set;

/* Compile the topics of cfg, folding every term once. The set keeps no
 * pointer into cfg; its indexes are those of cfg->topics. */
struct topic_set *topic_set_new(const struct config *cfg);
void topic_set_free(struct topic_set *ts);
/* How many topics the set was compiled from (cfg->ntopics). */
size_t topic_set_count(const struct topic_set *ts);
/* The topics it belongs to, as indexes into cfg->topics in config order,
 * into idx, which has room for topic_set_count(ts) entries. feed_name is
 * the configured name of the item's feed (NULL: none). Returns how many.
 * Safe to call from several threads on one set. */
size_t topic_set_match(const struct topic_set *ts, const char *feed_name, const struct item *it, size_t *idx);

#endif
