/* story.h: groups items from different feeds that report the same news
 * into stories. The daemon keeps one in-memory index: it adds each item as
 * it is stored (or, at start, the store's recent items in time order) and
 * expires items older than the window now and then. Story ids are item
 * ids: a story is known by the id of the item that opened it. */
#ifndef FEEDMUX_STORY_H
#define FEEDMUX_STORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* IDF-weighted Jaccard over headline tokens an item must reach with an
 * item of another feed to join that item's story; tuned on
 * tests/data/stories-dev.tsv for precision first (tests/bench/README-stories.md). */
#define STORY_THRESHOLD_DEFAULT 0.25
/* story_window: an item joins a story only if it is this close in time
 * to the matched item and to the story's earliest item. */
#define STORY_WINDOW_DEFAULT (48L * 3600)

struct story_index;

/* An empty index. threshold in (0, 1]; window_seconds > 0. */
struct story_index *story_index_new(double threshold, long window_seconds);
void story_index_free(struct story_index *si);

/* Add an item (id is the caller's item key; feed names its feed; title
 * and summary_text are plain UTF-8, either may be NULL; the summary's
 * first sentence is used only when the title has no words to match on).
 * Returns the story the item joined: an existing story's id, or id itself
 * for a new story. Items of one feed never join each other's story
 * directly (they may meet through another feed's item). Adding an id
 * already in the index changes nothing and returns its story. */
uint64_t story_index_add(struct story_index *si, uint64_t id, const char *feed, const char *title,
                         const char *summary_text, time_t when);

/* Forget items older than before (window housekeeping); a story lives
 * while any of its items does. */
void story_index_expire(struct story_index *si, time_t before);

/* The story of an item in the index: 0 and *story set, or -1. */
int story_index_lookup(const struct story_index *si, uint64_t id, uint64_t *story);

/* How many indexed items a story has (0: unknown story). */
size_t story_index_story_size(const struct story_index *si, uint64_t story);

/* How many items the index holds. */
size_t story_index_count(const struct story_index *si);
/* For tests: band cells a lookup would not reach (0: sound); *cells: filed. */
size_t story_index_check(const struct story_index *si, size_t *cells);

/* The confirmation score of two indexed items with the index's current
 * word weights (-1 if either is unknown); for tests and tuning. */
double story_index_score(const struct story_index *si, uint64_t a, uint64_t b);

#endif
