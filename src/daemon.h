/* daemon.h: the daemon's one context: the event base and every module's
 * object hang off it. It is the only mutable state of the program. */
#ifndef FEEDMUX_DAEMON_H
#define FEEDMUX_DAEMON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "metrics.h"

struct event_base;
struct event;
struct config;
struct store;
struct fetcher;
struct publisher;
struct http_server;
struct poll_feed;
struct grouper;

struct daemon {
	struct event_base *base;
	struct config *cfg;      /* owned; replaced whole on reload */
	char *config_path;
	struct store *st;
	struct fetcher *fetcher;
	struct workers *workers;  /* parse threads; NULL: parse on the loop */
	atomic_size_t lane_bytes; /* body bytes queued for the workers, not yet parsed */
	struct event *backlog;    /* resumes paused transfers as lane_bytes falls */
	struct publisher *pub;
	struct grouper *grouper;  /* topics and stories of the current config */
	struct http_server *http;
	struct poll_feed **feeds; /* one per configured feed */
	size_t nfeeds;
	struct event *sig_term, *sig_int, *sig_hup;
	struct event *watchdog;
	struct event *purge;     /* hourly retention */
	struct event *status;    /* STATUS= to systemd when health changed */
	struct event *commit;    /* commits the store's batch of polls (DAEMON_BATCH_MS) */
	int status_dirty;
	uint64_t rng;
	int64_t trimmed_ms;       /* monotonic time of the last daemon_trim */
	int once;                /* poll everything once, publish, exit */
	int progress;            /* --once on a terminal: live progress line */
	size_t once_pending;     /* --once: feeds not yet finished */
	size_t once_next;        /* --once: the next feed to start */
	int once_pumping;        /* inside daemon_once_pump */
	int once_all_started;    /* --once: the batch was committed when the last feed started */
	size_t once_failed;
	size_t once_bytes;
	size_t pipe_bytes;        /* body bytes of feeds fetched or parsed, not yet stored */
	int stopping;
	int exit_code;
	char *reload_error;      /* why the last reload failed; NULL if it did not */
	struct metrics metrics;
};

enum daemon_mode {
	DAEMON_RUN = 0,
	DAEMON_ONCE,
};

/* A feed's poll is over (called by the poller). */
void daemon_feed_done(struct daemon *d, const struct poll_feed *pf);

/* Run the daemon on config_path until stopped (or, --once, until every
 * feed was polled). Returns the process exit status. */
int daemon_main(const char *config_path, enum daemon_mode mode);

#endif
