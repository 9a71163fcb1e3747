/* store.h: feedmux's memory, an SQLite database. It decides, for every item
 * offered, whether it is new, a duplicate, an update or stale (DESIGN.md,
 * "Identity and deduplication"), keeps each feed's HTTP validators and
 * metadata, and hands out the entries to publish. */
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
	const struct feed_meta *source; /* the first source's metadata */
};

typedef int (*store_entry_fn)(void *arg, const struct store_entry *e);

/* Open (creating or migrating) the database at path; ":memory:" for a
 * throw-away one. On failure returns NULL and sets *err (caller frees). */
struct store *store_open(const char *path, char **err);
void store_close(struct store *st);

/* One transaction per fetched feed. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Feeds. */
int store_feed_get_validators(struct store *st, const char *feed, char **etag, char **last_modified);
int store_feed_set_validators(struct store *st, const char *feed, const char *url, const char *etag,
                              const char *last_modified);
int store_feed_set_meta(struct store *st, const char *feed, const struct feed_meta *m);

/* Offer one item from feed at time now; *out says what the store decided.
 * Returns 0, or -1 on a database error (logged). */
int store_offer(struct store *st, const char *feed, const struct item *it, time_t now,
                enum store_outcome *out);
/* Decisions counted since open, by outcome. */
uint64_t store_count(const struct store *st, enum store_outcome o);

/* Call fn for up to limit entries whose date is at or after since, newest
 * first (by published, else first seen; ties by id), in a deterministic
 * order. fn returning non-zero stops the walk. Returns 0 or -1. */
int store_foreach_entry(struct store *st, time_t since, size_t limit, store_entry_fn fn, void *arg);

#endif
