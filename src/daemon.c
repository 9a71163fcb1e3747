/* daemon.c: start-up, the event loop's life, signals and reload. Signals
 * are libevent events, so no work happens in a signal handler. A reload
 * parses the file into a fresh config and swaps it in only when valid;
 * feeds are matched by name, so a reload never loses feeds or items. */
#include "daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fetch.h"
#include "group.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "pages.h"
#include "poll.h"
#include "publish.h"
#include "store.h"
#include "strlist.h"
#include "version.h"
#include "workers.h"
#include "xalloc.h"

/* Polls are committed together at most this long after the first of
 * them (and before any render), so a burst of thousands of polls costs a
 * few commits; a crash loses at most this much polling, which the next
 * start fetches again. */
#define DAEMON_BATCH_MS 1000
/* --once: feeds under way always allowed, and the body bytes past which
 * no more start (see daemon_once_pump). */
#define DAEMON_ONCE_MIN 8
#define DAEMON_ONCE_BYTES (2 * 1024 * 1024)
/* At most this often, free heap pages go back to the system. */
#define DAEMON_TRIM_MS 250

static void daemon_signal_cb(evutil_socket_t sig, short what, void *arg);
static void daemon_watchdog_cb(evutil_socket_t fd, short what, void *arg);
static void daemon_purge_cb(evutil_socket_t fd, short what, void *arg);
static void daemon_status_cb(evutil_socket_t fd, short what, void *arg);
static void daemon_commit_cb(evutil_socket_t fd, short what, void *arg);
static void daemon_store_lost(void *arg, const char *name);
static void daemon_arm_commit(struct daemon *d);
static void daemon_stories_written(void *arg);
static void daemon_start_grouper(struct daemon *d);
static int feed_changed(const struct config_feed *a, const struct config_feed *b);
static void daemon_reload(struct daemon *d);
static void daemon_build_feeds(struct daemon *d);
static void daemon_report_status(struct daemon *d);
static int daemon_run_once(struct daemon *d);
static void daemon_once_pump(struct daemon *d);
static void daemon_cleanup(struct daemon *d);
static void daemon_log_errors(const struct strlist *errors);
static void daemon_apply_feeds(struct daemon *d);
static struct event_base *daemon_base_new(void);

/* The one event base. With epoll, changes to a descriptor's events are
 * collected and applied once per loop pass (a served request turns reading
 * off and writing on and back; each was an epoll_ctl call). No descriptor
 * here is dup()ed, which is the changelist's one caveat. */
static struct event_base *
daemon_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

/* Print config errors to the log. */
static void
daemon_log_errors(const struct strlist *errors)
{
	for (size_t i = 0; i < errors->n; i++)
		log_err("%s", errors->v[i]);
}

/* Tell the store which feeds are configured, and re-decide topics and
 * stories of the items that can still be published. */
static void
daemon_apply_feeds(struct daemon *d)
{
	const char **names = xcalloc(d->cfg->nfeeds ? d->cfg->nfeeds : 1, sizeof *names);
	time_t now = time(NULL);

	for (size_t i = 0; i < d->cfg->nfeeds; i++)
		names[i] = d->cfg->feeds[i].name;
	/* Every stored item is re-decided, also those whose first source left
	 * the config: another configured feed may carry them too. */
	if (store_set_active_feeds(d->st, NULL, 0) < 0 ||
	    grouper_rebuild(d->grouper, d->st, now, d->cfg->max_age > 0 ? now - d->cfg->max_age : 0) < 0)
		log_err("could not re-decide topics and stories of stored items");
	if (store_set_active_feeds(d->st, names, d->cfg->nfeeds) < 0)
		log_err("could not record the configured feeds in the state database");
	free(names);
}

/* Create a poller for every configured feed. */
static void
daemon_build_feeds(struct daemon *d)
{
	d->nfeeds = d->cfg->nfeeds;
	d->feeds = xcalloc(d->nfeeds ? d->nfeeds : 1, sizeof *d->feeds);
	for (size_t i = 0; i < d->nfeeds; i++)
		d->feeds[i] = poll_feed_new(d, &d->cfg->feeds[i]);
}

/* SIGTERM/SIGINT stop; SIGHUP reloads. */
static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		daemon_reload(d);
		return;
	}
	if (d->stopping)
		return;
	log_notice("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	d->stopping = 1;
	event_base_loopbreak(d->base);
}

/* Ping systemd's watchdog from the loop itself, so a stuck loop stops the pings. */
static void
daemon_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_watchdog();
}

/* Health changed since the last STATUS=: tell systemd (at most every 2 s,
 * so thousands of polls cost one message). */
static void
daemon_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (!d->status_dirty)
		return;
	d->status_dirty = 0;
	daemon_report_status(d);
}

/* Give the allocator's free pages back to the system, at most every
 * DAEMON_TRIM_MS as feeds finish (and before --once's render). The parse
 * pipeline's bodies and items are freed all over the heap and the worker
 * thread's arena, and glibc returns only the top of each: at the end of a
 * cold --once of 10,000 feeds 19 MB of the 35 MB they held was free but
 * still resident. Cold peak RSS at 10,000 feeds: 65 MB without, 62-64
 * trimming once a second, 58.7-59.7 every 250 ms; every 100 ms gave
 * 58 MB for 1.5 s more system time (freed pages fault in again). */
static void
daemon_trim(struct daemon *d, int force)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!force && now - d->trimmed_ms < DAEMON_TRIM_MS)
		return;
	d->trimmed_ms = now;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Commit the store's batch of polls. */
static void
daemon_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	store_flush(d->st);
}

/* The open batch holds work: commit it within DAEMON_BATCH_MS. */
static void
daemon_arm_commit(struct daemon *d)
{
	if (store_pending(d->st) && !evtimer_pending(d->commit, NULL)) {
		struct timeval tv = {0, DAEMON_BATCH_MS * 1000};
		evtimer_add(d->commit, &tv);
	}
}

/* The story thread's results joined the open batch: commit it soon, and
 * publish them (--once renders once, at the end). */
static void
daemon_stories_written(void *arg)
{
	struct daemon *d = arg;

	daemon_arm_commit(d);
	if (!d->once)
		publisher_mark_dirty(d->pub);
}

/* Stories on a thread beside the loop, when feeds are parsed on threads
 * too (a machine with one CPU keeps both on the loop). */
static void
daemon_start_grouper(struct daemon *d)
{
	if (d->workers != NULL)
		grouper_start_thread(d->grouper, d->base, daemon_stories_written, d);
}

/* A batch of polls could not be committed: those feeds failed. */
static void
daemon_store_lost(void *arg, const char *name)
{
	struct daemon *d = arg;

	size_t i = config_feed_pos(d->cfg, name);

	/* The story index saw the batch's items: it starts again from what
	 * the store kept (once per batch would do; again is cheap). */
	if (d->grouper != NULL)
		grouper_invalidate(d->grouper, d->st);
	/* d->feeds[i] polls d->cfg->feeds[i]. */
	if (i < d->nfeeds && strcmp(poll_feed_name(d->feeds[i]), name) == 0)
		poll_feed_store_lost(d->feeds[i]);
}

/* Whether a kept feed's settings changed in a reload. */
static int
feed_changed(const struct config_feed *a, const struct config_feed *b)
{
	if (strcmp(a->url, b->url) != 0 || a->interval != b->interval || a->topics.n != b->topics.n)
		return 1;
	if ((a->title == NULL) != (b->title == NULL) || (a->title && strcmp(a->title, b->title) != 0))
		return 1;
	for (size_t i = 0; i < a->topics.n; i++)
		if (strcmp(a->topics.v[i], b->topics.v[i]) != 0)
			return 1;
	return 0;
}

/* Retention: items older than keep leave the database. */
static void
daemon_purge_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t purged = 0;

	grouper_expire(d->grouper, time(NULL));
	if (store_purge(d->st, time(NULL) - d->cfg->keep, &purged) < 0)
		log_warn("retention: could not purge items older than keep");
	else if (purged > 0)
		log_info("retention: purged %zu item(s) older than keep", purged);
}

/* Re-read the config; apply it only when valid. */
static void
daemon_reload(struct daemon *d)
{
	struct strlist errors;
	struct config *cfg;
	struct poll_feed **feeds;
	size_t added = 0, removed = 0, changed = 0;

	notify_reloading();
	/* Parses on the lanes use the grouper a reload replaces. */
	if (d->workers != NULL)
		workers_drain(d->workers);
	strlist_init(&errors);
	cfg = config_load(d->config_path, &errors);
	if (cfg == NULL) {
		daemon_log_errors(&errors);
		log_err("reload: %s has %zu error(s); still running on the previous configuration", d->config_path,
		        errors.n);
		notify_status("reload failed: %s", errors.n ? errors.v[0] : "config error");
		free(d->reload_error);
		d->reload_error = xstrdup(errors.n ? errors.v[0] : "configuration error");
		d->metrics.reload_failures++;
		strlist_free(&errors);
		notify_ready();
		return;
	}
	strlist_free(&errors);
	free(d->reload_error);
	d->reload_error = NULL;
	d->metrics.reloads++;
	feeds = xcalloc(cfg->nfeeds ? cfg->nfeeds : 1, sizeof *feeds);
	/* Kept feeds by name through the old config's index: d->feeds[j]
	 * polls d->cfg->feeds[j]. */
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		size_t j = config_feed_pos(d->cfg, cfg->feeds[i].name);

		if (j < d->nfeeds && d->feeds[j] != NULL && strcmp(poll_feed_name(d->feeds[j]), cfg->feeds[i].name) == 0) {
			if (feed_changed(&d->cfg->feeds[j], &cfg->feeds[i]))
				changed++;
			feeds[i] = d->feeds[j];
			d->feeds[j] = NULL;
			poll_feed_set_config(feeds[i], &cfg->feeds[i]);
		}
		if (feeds[i] == NULL) {
			feeds[i] = poll_feed_new(d, &cfg->feeds[i]);
			added++;
		}
	}
	for (size_t j = 0; j < d->nfeeds; j++) {
		if (d->feeds[j] != NULL) {
			poll_feed_retire(d->feeds[j]);
			removed++;
		}
	}
	free(d->feeds);
	d->feeds = feeds;
	d->nfeeds = cfg->nfeeds;
	fetcher_set_config(d->fetcher, cfg);
	publisher_set_config(d->pub, cfg);
	if (d->http != NULL)
		http_server_set_config(d->http, cfg);
	config_free(d->cfg);
	d->cfg = cfg;
	grouper_free(d->grouper);
	d->grouper = grouper_new(cfg);
	daemon_start_grouper(d);
	daemon_apply_feeds(d);
	/* New feeds start soon; kept feeds keep their timers. */
	for (size_t i = 0; i < d->nfeeds; i++)
		if (!poll_feed_scheduled(d->feeds[i]))
			poll_feed_schedule_first(d->feeds[i]);
	log_notice("reload: %zu feed(s) added, %zu removed, %zu changed", added, removed, changed);
	daemon_report_status(d);
	notify_ready();
}

/* Tell systemd how many feeds are polled and failing. */
static void
daemon_report_status(struct daemon *d)
{
	size_t failing = 0;

	for (size_t i = 0; i < d->nfeeds; i++)
		if (poll_feed_health(d->feeds[i])->last_error != NULL)
			failing++;
	notify_status("polling %zu feeds, %zu failing", d->nfeeds, failing);
}

/* A feed finished a poll: --once bookkeeping and its progress line. */
void
daemon_feed_done(struct daemon *d, const struct poll_feed *pf)
{
	const struct feed_health *h = poll_feed_health(pf);

	daemon_trim(d, 0);
	daemon_arm_commit(d);
	if (!d->once) {
		d->status_dirty = 1;
		return;
	}
	if (h->last_error != NULL)
		d->once_failed++;
	d->once_bytes += h->bytes;
	if (d->once_pending > 0)
		d->once_pending--;
	if (d->progress)
		fprintf(stderr, "\r\033[Kpolling: %zu/%zu feeds done, %zu failed, %.1f MB", d->nfeeds - d->once_pending,
		        d->nfeeds, d->once_failed, (double)d->once_bytes / 1e6);
	if (d->once_pending == 0) {
		event_base_loopbreak(d->base);
		return;
	}
	daemon_once_pump(d);
	/* Every feed has started: commit what the batch holds now, while the
	 * last ones are still under way, so that the commit the render waits
	 * for holds only theirs (its checkpoint was 100-190 ms of a 3.5 s
	 * cold run at 2,000 feeds, with nothing else to do). */
	if (d->once_next == d->nfeeds && !d->once_all_started) {
		d->once_all_started = 1;
		store_flush(d->st);
	}
}

/* --once: keep at most `concurrency` feeds started and not finished
 * (fetching, parsing or waiting for the store), so a fast network does
 * not pile up thousands of parsed feeds ahead of the store; and past
 * DAEMON_ONCE_MIN of them, start more only while the bodies they hold
 * (about what their parsed items take) stay under DAEMON_ONCE_BYTES.
 * When the store is the slowest stage, the feeds in the window are
 * mostly parsed ones waiting for it, each holding its items: at 10,000
 * feeds and a window of 64 that was 6 MB of the peak. */
static void
daemon_once_pump(struct daemon *d)
{
	size_t window = (size_t)d->cfg->concurrency, open;

	if (d->once_pumping)
		return; /* a feed that finished at once: the loop below goes on */
	d->once_pumping = 1;
	while (d->once_next < d->nfeeds && (open = d->once_next - (d->nfeeds - d->once_pending)) < window &&
	       (open < DAEMON_ONCE_MIN || d->pipe_bytes < DAEMON_ONCE_BYTES))
		poll_feed_start(d->feeds[d->once_next++]);
	d->once_pumping = 0;
}

/* --once: poll every feed, publish, report. */
static int
daemon_run_once(struct daemon *d)
{
	struct timespec t0, t1;

	d->exit_code = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d->progress = isatty(STDERR_FILENO) && !log_verbose();
	d->once_pending = d->nfeeds;
	d->once_next = 0;
	d->once_all_started = 0;
	daemon_once_pump(d);
	if (d->once_pending > 0)
		event_base_dispatch(d->base);
	if (d->progress)
		fputs("\r\033[K", stderr);
	/* The story index is the largest thing in memory and nothing more
	 * will be grouped: the render's memory comes on top of less. */
	grouper_forget_stories(d->grouper);
	daemon_trim(d, 1);
	if (publisher_render(d->pub, time(NULL)) < 0)
		d->exit_code = 1;
	for (size_t i = 0; i < d->nfeeds; i++) {
		const struct feed_health *h = poll_feed_health(d->feeds[i]);
		if (h->last_error != NULL)
			fprintf(stderr, "feed %s: %s\n", poll_feed_name(d->feeds[i]), h->last_error);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "feedmux: %zu feed(s) polled, %zu failed, %.1f MB in %.1f s\n", d->nfeeds, d->once_failed,
	        (double)d->once_bytes / 1e6, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (d->once_failed > 0)
		d->exit_code = 1;
	return d->exit_code;
}

/* Free everything, in dependency order. */
static void
daemon_cleanup(struct daemon *d)
{
	if (d->st != NULL) {
		/* Commit while the feeds that could hear of a failure exist. */
		store_flush(d->st);
		store_set_lost_fn(d->st, NULL, NULL);
	}
	http_server_free(d->http);
	d->http = NULL;
	/* Cancelled transfers report to their pollers, which must still exist. */
	fetcher_free(d->fetcher);
	d->fetcher = NULL;
	/* Parses still on a lane end and report to their pollers first, then
	 * the stories of what they stored (its callback publishes). */
	workers_free(d->workers);
	d->workers = NULL;
	if (d->grouper != NULL)
		grouper_drain(d->grouper);
	for (size_t i = 0; i < d->nfeeds; i++)
		poll_feed_free(d->feeds[i]);
	free(d->feeds);
	publisher_free(d->pub);
	grouper_free(d->grouper);
	store_close(d->st);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->purge)
		event_free(d->purge);
	if (d->status)
		event_free(d->status);
	if (d->commit)
		event_free(d->commit);
	if (d->backlog)
		event_free(d->backlog);
	if (d->base)
		event_base_free(d->base);
	config_free(d->cfg);
	free(d->config_path);
	free(d->reload_error);
}

/* The daemon's whole life. */
int
daemon_main(const char *config_path, enum daemon_mode mode)
{
	struct daemon d;
	struct strlist errors;
	char *err = NULL;
	uint64_t wd;
	struct timespec ts;
	int nfds;

	memset(&d, 0, sizeof d);
	atomic_init(&d.lane_bytes, 0);
	d.exit_code = 1;
	d.once = mode == DAEMON_ONCE;
	d.config_path = xstrdup(config_path);
	strlist_init(&errors);
	d.cfg = config_load(config_path, &errors);
	if (d.cfg == NULL) {
		daemon_log_errors(&errors);
		strlist_free(&errors);
		goto done;
	}
	strlist_free(&errors);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d.rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;

	d.base = daemon_base_new();
	if (d.base == NULL) {
		log_err("cannot create the event loop");
		goto done;
	}
	d.st = store_open(d.cfg->state, &err);
	if (d.st == NULL) {
		log_err("state %s: %s", d.cfg->state, err ? err : "cannot open");
		goto done;
	}
	d.fetcher = fetcher_new(d.base, d.cfg);
	if (d.fetcher == NULL) {
		log_err("cannot initialise libcurl");
		goto done;
	}
	d.workers = workers_new(d.base, 0);
	if (d.workers == NULL)
		log_warn("no worker thread: feeds are parsed on the event loop");
	d.pub = publisher_new(d.base, d.cfg, d.st, &d.metrics);
	d.grouper = grouper_new(d.cfg);
	daemon_apply_feeds(&d);
	daemon_build_feeds(&d);
	/* Outputs are rebuilt from the store before the first poll (--once
	 * renders once, at the end, and would only write them twice). */
	if (!d.once && publisher_render(d.pub, time(NULL)) < 0)
		log_warn("could not publish the stored items at start-up");
	d.commit = evtimer_new(d.base, daemon_commit_cb, &d);
	daemon_start_grouper(&d);
	store_set_lost_fn(d.st, daemon_store_lost, &d);
	store_set_batching(d.st);

	if (d.once) {
		d.exit_code = daemon_run_once(&d);
		goto done;
	}

	nfds = notify_listen_fds(); /* reads and clears LISTEN_FDS: ask once */
	if (d.cfg->listen.n > 0 || nfds > 0) {
		d.http = http_server_new(d.base, d.cfg, d.pub, &d.metrics, nfds, &err);
		if (d.http == NULL) {
			log_err("%s", err);
			goto done;
		}
		http_server_set_pages(d.http, pages_render, &d);
	}
	d.sig_term = evsignal_new(d.base, SIGTERM, daemon_signal_cb, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, daemon_signal_cb, &d);
	d.sig_hup = evsignal_new(d.base, SIGHUP, daemon_signal_cb, &d);
	evsignal_add(d.sig_term, NULL);
	evsignal_add(d.sig_int, NULL);
	evsignal_add(d.sig_hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	wd = notify_watchdog_usec();
	if (wd > 0) {
		struct timeval tv = {(time_t)(wd / 2000000), (suseconds_t)((wd / 2) % 1000000)};
		d.watchdog = event_new(d.base, -1, EV_PERSIST, daemon_watchdog_cb, &d);
		event_add(d.watchdog, &tv);
	}
	{
		struct timeval hour = {3600, 0};
		d.purge = event_new(d.base, -1, EV_PERSIST, daemon_purge_cb, &d);
		event_add(d.purge, &hour);
		daemon_purge_cb(-1, 0, &d);
	}
	{
		struct timeval two = {2, 0};
		d.status = event_new(d.base, -1, EV_PERSIST, daemon_status_cb, &d);
		event_add(d.status, &two);
	}
	for (size_t i = 0; i < d.nfeeds; i++)
		poll_feed_schedule_first(d.feeds[i]);
	log_notice("feedmux %s started: %zu feeds, state %s", FEEDMUX_VERSION, d.nfeeds, d.cfg->state);
	notify_ready();
	daemon_report_status(&d);
	event_base_dispatch(d.base);
	/* Publish what is pending, so a stop loses nothing already stored. */
	publisher_render(d.pub, time(NULL));
	d.exit_code = 0;
	log_notice("stopped");
done:
	free(err);
	daemon_cleanup(&d);
	return d.exit_code;
}
