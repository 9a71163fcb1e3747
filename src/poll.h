/* poll.h: polling one feed: its timer, its transfer, its parser, the
 * store transaction for what it brought, and its health. */
#ifndef FEEDMUX_POLL_H
#define FEEDMUX_POLL_H

#include <stddef.h>
#include <time.h>

struct daemon;
struct config_feed;
struct buf;

struct poll_feed;

/* Per-feed health, kept in memory and shown by --once and /status. */
struct feed_health {
	time_t last_attempt;
	time_t last_success;
	long last_status;
	char *last_error;     /* NULL when the last poll succeeded */
	char *warning;        /* what had to be repaired to read it, or NULL */
	int failures;         /* consecutive */
	time_t next_due;      /* wall clock, for display */
	size_t bytes;         /* last body */
	size_t items;         /* items in the last body */
	size_t new_items;     /* of which new or updated */
	unsigned long n304;
	int gone;             /* HTTP 410: polling stopped */
};

/* Create the poller for feed cf (cf must outlive it or be replaced with
 * poll_feed_set_config). */
struct poll_feed *poll_feed_new(struct daemon *d, const struct config_feed *cf);
void poll_feed_free(struct poll_feed *pf);
/* Poll now (queued behind the concurrency cap). */
void poll_feed_start(struct poll_feed *pf);
/* Arm the timer for the first poll, spread over the interval. */
void poll_feed_schedule_first(struct poll_feed *pf);
/* Whether a poll is pending (timer armed) or in flight. */
int poll_feed_scheduled(const struct poll_feed *pf);
/* Follow a reloaded configuration (same feed name). */
void poll_feed_set_config(struct poll_feed *pf, const struct config_feed *cf);
/* The feed left the configuration: free now, or when its transfer ends. */
void poll_feed_retire(struct poll_feed *pf);
/* The store's batch holding this feed's last poll could not be
 * committed: the poll failed after all. */
void poll_feed_store_lost(struct poll_feed *pf);
const char *poll_feed_name(const struct poll_feed *pf);
const struct feed_health *poll_feed_health(const struct poll_feed *pf);
/* One line about this feed's health, appended to out. */
void poll_feed_describe(const struct poll_feed *pf, struct buf *out);

#endif
