/* store.h: feedmux's memory, an SQLite database. It decides, for every item
 * offered, whether it is new, a duplicate, an update or stale (DESIGN.md,
 * "Identity and deduplication"), keeps each feed's HTTP validators and
 * metadata, and hands out the entries to publish. A store is used by one
 * thread at a time (its connection has no mutex of its own). */
#ifndef FEEDMUX_STORE_H
#define FEEDMUX_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "item.h"

enum store_outcome {
	STORE_NEW = 0,
	STORE_DUPLICATE,
	STORE_UPDATE,
	STORE_STALE,
	STORE_OUTCOMES
};

struct store;

/* An entry to publish. Everything is owned by the store and valid only
 * during the callback. */
struct store_entry {
	const struct item *item;  /* fields as stored */
	const char *feed_name;    /* the first source */
	const char *entry_id;     /* stable id to publish */
	time_t first_seen;
	time_t updated;           /* moves only when content changes */
	time_t sort_date;         /* what lists are ordered and windowed by */
	const struct feed_meta *source; /* the first source's metadata */
	int64_t item_id;          /* the item's key (store_last_item) */
	int64_t story;            /* store_item_set_story's, 0: none */
	const char *const *topics; /* store_item_set_topics' names, in order */
	size_t ntopics;
};

/* A feed's health as the poller keeps it, persisted across restarts. */
struct store_health {
	time_t last_attempt, last_success, next_due;
	long last_status;
	const char *last_error; /* NULL: none */
	int failures;
	long long bytes, items;
	long long n304;
};

typedef int (*store_entry_fn)(void *arg, const struct store_entry *e);

/* Open (creating or migrating) the database at path; ":memory:" for a
 * throw-away one. On failure returns NULL and sets *err (caller frees). */
struct store *store_open(const char *path, char **err);
void store_close(struct store *st);

/* One unit of work per fetched feed: its own transaction, or with
 * batching on a part of a transaction that store_flush commits (a unit
 * rolled back takes that transaction with it). */
int store_begin(struct store *st);
int store_begin_named(struct store *st, const char *name);
/* A unit that may touch much of the file: a transaction of its own, after
 * committing the open batch; ended by store_commit or store_rollback. */
int store_begin_alone(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Batch units from now on (the daemon: see store.c). */
void store_set_batching(struct store *st);
int store_flush(struct store *st);
int store_pending(const struct store *st);
/* fn(arg, name) for every named unit of a batch that could not be
 * committed (its work is gone, validators included). */
void store_set_lost_fn(struct store *st, void (*fn)(void *arg, const char *name), void *arg);

/* Feeds. */
int store_feed_get_validators(struct store *st, const char *feed, char **etag, char **last_modified);
int store_feed_set_validators(struct store *st, const char *feed, const char *url, const char *etag,
                              const char *last_modified);
int store_feed_set_meta(struct store *st, const char *feed, const struct feed_meta *m);
/* Like store_feed_get_validators, but none when they were saved for
 * another URL than url (the feed's URL changed); url NULL: no check. */
int store_feed_get_validators_for(struct store *st, const char *feed, const char *url, char **etag,
                                  char **last_modified);
/* Save a feed's health (h->last_error NULL clears it). */
int store_feed_save_health(struct store *st, const char *feed, const struct store_health *h);
/* Load a feed's health into h; h->last_error is *error_out, which the
 * caller frees (NULL: none). Returns 1 found, 0 not found (h zeroed),
 * -1 on a database error. */
int store_feed_load_health(struct store *st, const char *feed, struct store_health *h, char **error_out);

/* The hashes an item is looked up and stored by: pure functions of the
 * item and the feed's name, so they can be made off the store's thread. */
struct store_keys {
	struct item_hash ident;        /* item_identity_hash, localized (store.c) */
	struct item_hash ident_legacy; /* item_identity_hash as is: before schema 6 */
	uint32_t locality;             /* the identity's */
	struct item_hash content;      /* item_content_hash */
	struct item_hash link;         /* of the canonical link, localized, when has_link */
	struct item_hash link_legacy;  /* the same, as is */
	int has_link;
};
void store_item_keys(const struct item *it, const char *feed, struct store_keys *k);

/* Offer one item from feed at time now; *out says what the store decided.
 * keys: store_item_keys(it, feed), or NULL to make them here. Returns 0, or
 * -1 on a database error (logged). */
int store_offer(struct store *st, const char *feed, const struct item *it, const struct store_keys *keys,
                time_t now, enum store_outcome *out);
/* Decisions counted since open, by outcome. */
uint64_t store_count(const struct store *st, enum store_outcome o);
/* The item the last store_offer decided about (its key), or 0 when that
 * offer failed or there was none. */
int64_t store_last_item(const struct store *st);
/* The topics of an item (names of [topic] sections, in the order given;
 * repeats are dropped), replacing its previous ones. -1 for an unknown
 * item or a database error. */
int store_item_set_topics(struct store *st, int64_t item, const char *const *names, size_t n);
/* The story an item belongs to: the key of the item that opened it (0:
 * none). -1 for an unknown item or a database error. */
int store_item_set_story(struct store *st, int64_t item, int64_t story);
/* Mark item as the lead of its story (story = its own key): as
 * store_item_set_story(st, item, item), but an item that is not there is
 * no error. */
int store_item_mark_lead(struct store *st, int64_t item);

/* Only items whose first source, or another feed they were seen in, is
 * one of these feeds are walked; items of feeds removed from the config
 * leave the outputs, their state is kept until purged. names NULL or n 0:
 * every feed. The list is copied. */
int store_set_active_feeds(struct store *st, const char *const *names, size_t n);
/* Delete, in one transaction, the items whose date (published, else first
 * seen) AND first-seen time are both before `before`, with their sources,
 * enclosures and topics; then the feeds that are not active (see
 * store_set_active_feeds; none when every feed is) and have no items left.
 * *purged (may be NULL) is the number of items deleted. Must be called
 * outside a feed transaction. With before = now - keep: an old item a feed
 * re-sends while it is stored is a duplicate (or stale); once purged it is
 * NEW again, first seen now, and stays (its first-seen time is recent), so
 * it is new once, and published only if its own date is within max_age. */
int store_purge(struct store *st, time_t before, size_t *purged);

/* Call fn for up to limit entries whose date is at or after since, newest
 * first (by published, else first seen; ties by id), in a deterministic
 * order; only items of active feeds (store_set_active_feeds), as in every
 * walk. fn returning non-zero stops the walk; it must not change the store
 * or walk it again. Returns 0 or -1. */
int store_foreach_entry(struct store *st, time_t since, size_t limit, store_entry_fn fn, void *arg);
/* The same, only items in topic (NULL: all, as store_foreach_entry). */
int store_foreach_entry_topic(struct store *st, const char *topic, time_t since, size_t limit,
                              store_entry_fn fn, void *arg);
/* As store_foreach_entry_topic, but a story's other reports are left out:
 * its lead stands for it, so limit counts the entries a list shows. */
int store_foreach_lead_topic(struct store *st, const char *topic, time_t since, size_t limit,
                             store_entry_fn fn, void *arg);
/* As store_foreach_lead_topic, but each entry carries only its item key,
 * feed name, entry id, dates (published, updated, first seen) and story:
 * no text, enclosures, topics or source, which are not even read. For a
 * pass that only counts and dates a list's entries. */
int store_foreach_lead_head(struct store *st, const char *topic, time_t since, size_t limit,
                            store_entry_fn fn, void *arg);
/* Call fn for the entries of the items ids[0..n), in that order, as the
 * walks above hand them out (an id no longer stored is passed over): for
 * writing a list chosen by store_foreach_lead_head. Returns 0 or -1. */
int store_foreach_item(struct store *st, const int64_t *ids, size_t n, store_entry_fn fn, void *arg);
/* Call fn for every report of story (the items whose story is it, its lead
 * included; 0 is no story), oldest first (by first seen, then key); as
 * store_foreach_entry otherwise. */
int store_foreach_story(struct store *st, int64_t story, store_entry_fn fn, void *arg);
/* The same, each report carrying only its item key, feed name, entry id,
 * title, link, dates, story and source title (no summary, content,
 * categories, enclosures or topics, which are not read). */
int store_foreach_story_brief(struct store *st, int64_t story, store_entry_fn fn, void *arg);
/* Call fn for every item first seen at or after since, oldest first (by
 * first seen, then key): for rebuilding the story index at start and
 * re-deciding topics after a reload. Rows are read in batches, so fn may
 * change the store (store_item_set_topics, store_item_set_story, even
 * store_offer), but not walk it again. */
int store_foreach_recent(struct store *st, time_t since, store_entry_fn fn, void *arg);

/* The meta table: small facts about the state (not items). get returns a
 * copy the caller frees, or NULL when unset. */
char *store_meta_get(struct store *st, const char *key);
/* A number that moves with every commit changing what a rendered document
 * can show (items, their sources, enclosures, topics and stories, feed
 * metadata, purges, schema migrations); -1 on error. Equal numbers mean
 * the documents rendered from the store would be the same, for the same
 * configuration and time. */
int64_t store_generation(struct store *st);
int store_meta_set(struct store *st, const char *key, const char *value);

/* Items per day of the last `days` days before now (day 0: the last 24 h),
 * by first source feed, or by topic when by_topic: fn(arg, name, day,
 * count) for every non-empty (name, day). Returns 0 or -1. */
typedef void (*store_daily_fn)(void *arg, const char *name, int day, unsigned count);
int store_daily_counts(struct store *st, int by_topic, time_t now, int days, store_daily_fn fn, void *arg);

#endif
