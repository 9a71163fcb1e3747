/* group.h: deciding, for each stored item, its topics and its story, and
 * recording them in the store. Owns the compiled topics and the in-memory
 * story index; a reload builds a new grouper. */
#ifndef FEEDMUX_GROUP_H
#define FEEDMUX_GROUP_H

#include <stdint.h>
#include <time.h>

struct config;
struct event_base;
struct store;
struct item;

struct grouper;

struct grouper *grouper_new(const struct config *cfg);
void grouper_free(struct grouper *g);
/* Decide stories on a thread of the grouper's own (base: the loop its
 * results come back to; written(arg) runs there after they were stored
 * in a unit of the store's open batch). Items grouper_apply takes are
 * grouped after grouper_submit, in order; stories = no: nothing. */
void grouper_start_thread(struct grouper *g, struct event_base *base, void (*written)(void *arg), void *arg);
/* The unit the items grouper_apply took were stored in committed: group
 * them (with a story thread; else they were grouped already). After a
 * rollback, grouper_invalidate instead. */
void grouper_submit(struct grouper *g);
/* Wait for the story thread and store its results; on the loop, outside
 * a unit of work. */
void grouper_drain(struct grouper *g);
/* Free the story index when nothing more will be grouped (--once, before
 * its render): the stories decided are in the store. Items offered after
 * it get no story. */
void grouper_forget_stories(struct grouper *g);
/* The store rolled back work the story index holds (a lost batch): the
 * index is built again from st before the next item is grouped. */
void grouper_invalidate(struct grouper *g, struct store *st);
/* Topics decided ahead (grouper_match): indexes into the config's topics. */
struct grouper_match {
	size_t n;
	size_t idx[];
};

/* Decide an item's topics without the store, on any thread (the grouper
 * only read); NULL when it has none. The caller frees the result. */
struct grouper_match *grouper_match(const struct grouper *g, const char *feed, const struct item *it);
/* Decide and store the topics and story of the item the store just took
 * (new, `fresh`, or updated); when is its date. With `matched`, m is what
 * grouper_match said (by this grouper) and the topics are not decided
 * again. Returns 0 or -1 (store error). */
int grouper_apply(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
                  time_t when, int fresh, int matched, const struct grouper_match *m);
/* At start and after a reload: re-decide the topics of every stored item
 * first seen since `since` if the topic rules changed, and rebuild the
 * story index from the store's items of the last story_window (deferred
 * to grouper_prepare unless topics were walked). Call outside a unit of
 * work. */
int grouper_rebuild(struct grouper *g, struct store *st, time_t now, time_t since);
/* Run the deferred story-index rebuild, if any; call before grouping
 * items, outside a unit of work. Returns 0 or -1 (store error). */
int grouper_prepare(struct grouper *g);
/* Drop items older than story_window from the story index (hourly). */
void grouper_expire(struct grouper *g, time_t now);
/* Stories currently grouping more than one item (for /metrics). */
uint64_t grouper_story_count(struct grouper *g);

#endif
