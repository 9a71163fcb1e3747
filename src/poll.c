/* poll.c: a feed's life cycle. Its timer fires; we ask the store for its
 * validators and queue a conditional GET; body chunks go into a push
 * parser created on the first chunk (when the Content-Type charset is
 * known); complete items are normalized and collected (the parser's caps
 * bound them); when the transfer ends they are offered to the store in one
 * transaction, validators are saved only after a clean parse, outputs are
 * marked dirty if anything changed, and the next poll is scheduled.
 *
 * With worker threads (workers.h), parsing, normalizing and the topic
 * match run on the feed's lane: the body moves there in POLL_CHUNK pieces,
 * and from the first chunk until the lane's end task hands the feed back
 * (poll_parsed, on the loop thread) the parser, items, clamped, matches and
 * keys belong to the lane; the loop thread touches none of them. The store, the grouper
 * and everything else stay on the loop thread. */
#include "poll.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "date.h"
#include "decode.h"
#include "fetch.h"
#include "group.h"
#include "item.h"
#include "log.h"
#include "metrics.h"
#include "normalize.h"
#include "parse.h"
#include "publish.h"
#include "schedule.h"
#include "store.h"
#include "workers.h"
#include "xalloc.h"

/* Bytes of body handed to a worker at a time. */
#define POLL_CHUNK (64 * 1024)
/* Body bytes queued for the workers, at most (and a little more: each
 * running transfer may add one chunk): past it, transfers pause and the
 * rest of their bodies wait in the kernel's socket buffers, until the
 * queue is below half. With 64 transfers at once fetching outruns
 * parsing, and the queue was the largest heap user of a cold cycle. */
#define POLL_BACKLOG (2 * 1024 * 1024)
/* How often a paused fetcher looks at the queue again. */
#define POLL_BACKLOG_MS 2

struct poll_feed {
	struct daemon *d;
	const struct config_feed *cf;
	char *name;
	char *url;            /* current URL (after permanent redirects) */
	struct event *timer;
	int in_flight;
	int retired;          /* removed from the config; free when done */
	size_t pipe_bytes;    /* its share of d->pipe_bytes */
	struct parser *parser;
	/* Undoes the body's Content-Encoding on the lane, in front of the
	 * parser; NULL until the first body bytes. */
	struct decoder *decoder;
	atomic_int decode_failed; /* set on the lane: the transfer may stop */
	char *parse_base;     /* the URL the parser resolves against (a copy) */
	struct item **items;  /* collected during a transfer */
	unsigned char *clamped; /* items[i] was dated in the future */
	struct grouper_match **matches; /* items[i]'s topics, decided on the lane */
	struct store_keys *keys; /* items[i]'s store keys, made on the lane */
	size_t nitems;
	size_t items_cap;
	struct buf chunk;     /* body not yet handed to the worker */
	struct poll_result *res; /* the transfer's result, while the end task runs */
	int finish_parse;     /* the end task finishes the parse (a whole body came) */
	int parse_done;       /* parse_rc and parse_err are set */
	int parse_rc;
	char *parse_err;
	long ttl_hint;        /* RSS <ttl> seen last, seconds */
	struct feed_health health;
};

/* A copy of a fetch_result that outlives the fetcher's callback. */
struct poll_result {
	struct fetch_result r;
	char *strings[9];
};

/* A piece of body on its way to a worker. */
struct poll_chunk {
	struct poll_feed *pf;
	size_t len;
	char *data;
};

static void poll_timer_cb(evutil_socket_t fd, short what, void *arg);
static int poll_on_data(void *arg, const struct fetch_response *resp, const char *data, size_t len);
static void poll_on_done(void *arg, const struct fetch_result *res);
static void poll_on_item(void *arg, struct item *it);
static void poll_finish(struct poll_feed *pf, const struct fetch_result *res);
static int poll_store_items(struct poll_feed *pf, const struct fetch_result *res, int parsed_ok);
static void poll_schedule(struct poll_feed *pf, long hint);
static void poll_discard(struct poll_feed *pf);
static char *content_type_charset(const char *ct);
static long poll_hint(const struct fetch_result *res, long ttl);
static void poll_set_warning(struct poll_feed *pf, const char *warning);
static void poll_load_health(struct poll_feed *pf);
static struct poll_result *poll_result_dup(const struct fetch_result *res);
static void poll_result_free(struct poll_result *pr);
static void poll_parse_chunk(void *arg);
static void poll_sink(void *arg, const char *data, size_t len);
static void poll_push(struct poll_feed *pf, const char *data, size_t len);
static void poll_parse_end(void *arg);
static void poll_parsed(void *arg);
static void poll_submit_chunk(struct poll_feed *pf);
static void poll_finish_parse(struct poll_feed *pf);
static size_t poll_lane(const struct poll_feed *pf);
static void poll_save_health(struct poll_feed *pf);
static void poll_fail(struct poll_feed *pf, char *error);
static void poll_backlog_wait(struct daemon *d);
static void poll_backlog_arm(struct daemon *d);
static void poll_backlog_cb(evutil_socket_t fd, short what, void *arg);

static const struct fetch_ops poll_fetch_ops = {poll_on_data, poll_on_done};

/* Create the poller. */
struct poll_feed *
poll_feed_new(struct daemon *d, const struct config_feed *cf)
{
	struct poll_feed *pf = xcalloc(1, sizeof *pf);

	pf->d = d;
	pf->cf = cf;
	pf->name = xstrdup(cf->name);
	pf->url = xstrdup(cf->url);
	if (d->base != NULL && !d->once) /* --once starts polls itself */
		pf->timer = evtimer_new(d->base, poll_timer_cb, pf);
	poll_load_health(pf);
	return pf;
}

/* Health survives restarts: read what the last run saved. */
static void
poll_load_health(struct poll_feed *pf)
{
	struct store_health sh;
	struct feed_health *h = &pf->health;
	char *error = NULL;

	if (store_feed_load_health(pf->d->st, pf->name, &sh, &error) != 1) {
		free(error);
		return;
	}
	h->last_attempt = sh.last_attempt;
	h->last_success = sh.last_success;
	h->last_status = sh.last_status;
	h->last_error = error;
	h->failures = sh.failures;
	h->next_due = sh.next_due;
	h->bytes = (size_t)sh.bytes;
	h->items = (size_t)sh.items;
	h->n304 = (unsigned long)sh.n304;
	h->gone = sh.last_status == 410;
}

/* Write the feed's health to the store. */
static void
poll_save_health(struct poll_feed *pf)
{
	const struct feed_health *h = &pf->health;
	struct store_health sh;

	memset(&sh, 0, sizeof sh);
	sh.last_attempt = h->last_attempt;
	sh.last_success = h->last_success;
	sh.next_due = h->next_due;
	sh.last_status = h->last_status;
	sh.last_error = h->last_error;
	sh.failures = h->failures;
	sh.bytes = (long long)h->bytes;
	sh.items = (long long)h->items;
	sh.n304 = (long long)h->n304;
	if (store_feed_save_health(pf->d->st, pf->name, &sh) < 0)
		log_warn("feed %s: could not save its health to the state database", pf->name);
}

/* Free the poller; its transfer must be over. */
void
poll_feed_free(struct poll_feed *pf)
{
	if (pf == NULL)
		return;
	if (pf->timer != NULL)
		event_free(pf->timer);
	poll_discard(pf);
	buf_free(&pf->chunk);
	free(pf->health.last_error);
	free(pf->health.warning);
	free(pf->name);
	free(pf->url);
	free(pf);
}

/* Follow a reloaded configuration. */
void
poll_feed_set_config(struct poll_feed *pf, const struct config_feed *cf)
{
	if (strcmp(pf->cf->url, cf->url) != 0) {
		free(pf->url);
		pf->url = xstrdup(cf->url);
		pf->health.gone = 0;
	}
	pf->cf = cf;
}

/* Stop polling; free once no transfer refers to pf. */
void
poll_feed_retire(struct poll_feed *pf)
{
	if (pf->timer != NULL)
		evtimer_del(pf->timer);
	pf->cf = NULL;
	if (!pf->in_flight) {
		poll_feed_free(pf);
		return;
	}
	pf->retired = 1;
}

/* The feed's name. */
const char *
poll_feed_name(const struct poll_feed *pf)
{
	return pf->name;
}

/* The feed's health. */
const struct feed_health *
poll_feed_health(const struct poll_feed *pf)
{
	return &pf->health;
}

/* Drop a partial parse and collected items. */
static void
poll_discard(struct poll_feed *pf)
{
	parser_free(pf->parser);
	pf->parser = NULL;
	decoder_free(pf->decoder);
	pf->decoder = NULL;
	atomic_store(&pf->decode_failed, 0);
	free(pf->parse_base);
	pf->parse_base = NULL;
	for (size_t i = 0; i < pf->nitems; i++) {
		item_free(pf->items[i]);
		free(pf->matches[i]);
	}
	/* Between polls a feed keeps nothing of its items (thousands of
	 * feeds wait between polls at any time). */
	free(pf->items);
	free(pf->clamped);
	free(pf->matches);
	free(pf->keys);
	pf->items = NULL;
	pf->clamped = NULL;
	pf->matches = NULL;
	pf->keys = NULL;
	pf->nitems = 0;
	pf->items_cap = 0;
	buf_free(&pf->chunk);
	pf->d->pipe_bytes -= pf->pipe_bytes;
	pf->pipe_bytes = 0;
	poll_result_free(pf->res);
	pf->res = NULL;
	pf->finish_parse = 0;
	pf->parse_done = 0;
	pf->parse_rc = 0;
	free(pf->parse_err);
	pf->parse_err = NULL;
}

/* Arm the first poll. */
void
poll_feed_schedule_first(struct poll_feed *pf)
{
	const struct config *cfg = pf->d->cfg;
	struct sched_params sp = {pf->cf->interval ? pf->cf->interval : cfg->interval, cfg->min_interval,
	                          cfg->max_interval};
	struct timeval tv = {schedule_first_delay(&sp, sched_rand_unit(&pf->d->rng)), 0};
	time_t now = time(NULL);

	if (pf->health.gone)
		return;
	/* After a restart the feed keeps its rhythm: a poll that was due in
	 * the future stays there (within one interval), so a quick restart
	 * does not hit every publisher at once. */
	if (pf->health.next_due > now && pf->health.next_due - now <= sp.interval)
		tv.tv_sec = pf->health.next_due - now;
	pf->health.next_due = now + tv.tv_sec;
	evtimer_add(pf->timer, &tv);
}

/* Whether a poll is pending or running. */
int
poll_feed_scheduled(const struct poll_feed *pf)
{
	return pf->in_flight || (pf->timer != NULL && evtimer_pending(pf->timer, NULL));
}

/* Timer fired: poll. */
static void
poll_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	poll_feed_start(arg);
}

/* Start a conditional GET. */
void
poll_feed_start(struct poll_feed *pf)
{
	struct fetch_request req;
	char *etag = NULL, *lm = NULL;

	if (pf->in_flight)
		return;
	if (pf->health.gone) {
		/* Not polled again (HTTP 410); --once still counts it, as failed. */
		daemon_feed_done(pf->d, pf);
		return;
	}
	if (store_feed_get_validators_for(pf->d->st, pf->name, pf->url, &etag, &lm) < 0)
		etag = lm = NULL;
	memset(&req, 0, sizeof req);
	req.url = pf->url;
	req.etag = etag;
	req.last_modified = lm;
	req.allow_file = strncasecmp(pf->cf->url, "file:", 5) == 0;
	/* Inflating is done on the lane, next to the parse, not on the loop. */
	req.raw_encoding = 1;
	pf->health.last_attempt = time(NULL);
	pf->in_flight = 1;
	log_debug("feed %s: polling %s", pf->name, pf->url);
	if (fetcher_start(pf->d->fetcher, &req, &poll_fetch_ops, pf) < 0) {
		struct fetch_result res;

		memset(&res, 0, sizeof res);
		res.error = "cannot start the transfer";
		res.url = pf->url;
		poll_finish(pf, &res);
	}
	free(etag);
	free(lm);
}

/* The charset parameter of a Content-Type, or NULL. */
static char *
content_type_charset(const char *ct)
{
	const char *p;
	size_t len;

	if (ct == NULL || (p = strcasestr(ct, "charset=")) == NULL)
		return NULL;
	p += 8;
	if (*p == '"')
		p++;
	len = strcspn(p, "\"; \t");
	return len ? xstrndup(p, len) : NULL;
}

/* Body bytes: into the parser. */
static int
poll_on_data(void *arg, const struct fetch_response *resp, const char *data, size_t len)
{
	struct poll_feed *pf = arg;

	if (pf->d->workers != NULL && atomic_load(&pf->d->lane_bytes) >= POLL_BACKLOG) {
		poll_backlog_wait(pf->d);
		return FETCH_PAUSE;
	}
	/* A body that cannot be decoded is not worth more bytes. */
	if (atomic_load(&pf->decode_failed))
		return -1;
	pf->pipe_bytes += len;
	pf->d->pipe_bytes += len;
	if (pf->parser == NULL) {
		char *charset = content_type_charset(resp->content_type);

		pf->decoder = decoder_new(resp->content_encoding, (size_t)pf->d->cfg->max_body);
		if (decoder_error(pf->decoder) != NULL) {
			atomic_store(&pf->decode_failed, 1);
			free(charset);
			return -1;
		}
		pf->parse_base = xstrdup(pf->url);
		pf->parser = parser_new(pf->parse_base, charset, poll_on_item, pf);
		free(charset);
	}
	/* A parse that failed keeps its items; the rest of the body is
	 * drained without parsing rather than aborting the transfer. */
	if (pf->d->workers == NULL) {
		poll_push(pf, data, len);
		return atomic_load(&pf->decode_failed) ? -1 : 0;
	}
	/* Chunks of at most POLL_CHUNK bytes, each one allocation made to
	 * size (doubling from small would end at twice POLL_CHUNK). */
	if (pf->chunk.len > 0 && pf->chunk.len + len > POLL_CHUNK)
		poll_submit_chunk(pf);
	if (pf->chunk.cap == 0)
		buf_reserve(&pf->chunk, len > POLL_CHUNK ? len : POLL_CHUNK);
	buf_append(&pf->chunk, data, len);
	if (pf->chunk.len >= POLL_CHUNK)
		poll_submit_chunk(pf);
	return 0;
}

/* Transfers are paused: look at the workers' queue again shortly. */
static void
poll_backlog_wait(struct daemon *d)
{
	if (d->backlog == NULL)
		d->backlog = evtimer_new(d->base, poll_backlog_cb, d);
	if (evtimer_pending(d->backlog, NULL))
		return;
	if (fetcher_paused(d->fetcher) == 0)
		log_debug("workers' queue holds %zu bytes: transfers pause", atomic_load(&d->lane_bytes));
	poll_backlog_arm(d);
}

/* Look at the queue again in POLL_BACKLOG_MS. */
static void
poll_backlog_arm(struct daemon *d)
{
	struct timeval tv = {0, POLL_BACKLOG_MS * 1000};

	evtimer_add(d->backlog, &tv);
}

/* Resume the paused transfers once the queue is below half. */
static void
poll_backlog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (atomic_load(&d->lane_bytes) < POLL_BACKLOG / 2) {
		log_debug("workers' queue below %d bytes: %zu paused transfer(s) resume", POLL_BACKLOG / 2,
		          fetcher_paused(d->fetcher));
		fetcher_resume(d->fetcher);
	} else {
		poll_backlog_arm(d);
	}
}

/* The lane of a feed's tasks: any stable number will do. */
static size_t
poll_lane(const struct poll_feed *pf)
{
	return (size_t)((uintptr_t)pf >> 6);
}

/* Hand the body gathered so far to the feed's lane. */
static void
poll_submit_chunk(struct poll_feed *pf)
{
	struct poll_chunk *c;

	if (pf->chunk.len == 0)
		return;
	c = xmalloc(sizeof *c);
	c->pf = pf;
	c->len = pf->chunk.len;
	c->data = buf_steal(&pf->chunk); /* the buffer moves, no copy */
	atomic_fetch_add(&pf->d->lane_bytes, c->len);
	workers_submit(pf->d->workers, poll_lane(pf), poll_parse_chunk, NULL, c);
}

/* On the lane: parse a piece of body. */
static void
poll_parse_chunk(void *arg)
{
	struct poll_chunk *c = arg;

	poll_push(c->pf, c->data, c->len);
	atomic_fetch_sub(&c->pf->d->lane_bytes, c->len);
	free(c->data);
	free(c);
}

/* Decoded body bytes: into the parser. */
static void
poll_sink(void *arg, const char *data, size_t len)
{
	parser_push(arg, data, len);
}

/* Body bytes as they came: through the decoder (on the lane, or inline
 * without workers). */
static void
poll_push(struct poll_feed *pf, const char *data, size_t len)
{
	if (decoder_push(pf->decoder, data, len, poll_sink, pf->parser) < 0)
		atomic_store(&pf->decode_failed, 1);
}

/* Finish the parse, once (on the lane, or inline without workers). */
static void
poll_finish_parse(struct poll_feed *pf)
{
	if (pf->parse_done)
		return;
	if (decoder_finish(pf->decoder, poll_sink, pf->parser) < 0)
		atomic_store(&pf->decode_failed, 1);
	pf->parse_rc = parser_finish(pf->parser, &pf->parse_err);
	pf->parse_done = 1;
}

/* On the lane: the body is complete. */
static void
poll_parse_end(void *arg)
{
	struct poll_feed *pf = arg;

	if (pf->finish_parse)
		poll_finish_parse(pf);
}

/* Back on the loop thread: the lane is done with the feed. */
static void
poll_parsed(void *arg)
{
	struct poll_feed *pf = arg;
	struct poll_result *pr = pf->res;

	pf->res = NULL;
	poll_finish(pf, &pr->r);
	poll_result_free(pr);
}

/* A complete item: normalize it and keep it for the store (on the lane
 * with workers: nothing here may log or touch shared state). */
static void
poll_on_item(void *arg, struct item *it)
{
	struct poll_feed *pf = arg;
	int clamped = normalize_item(it, pf->parse_base, time(NULL));

	if (pf->nitems == pf->items_cap) {
		pf->items_cap = pf->items_cap ? pf->items_cap * 2 : 32;
		pf->items = xreallocarray(pf->items, pf->items_cap, sizeof *pf->items);
		pf->clamped = xreallocarray(pf->clamped, pf->items_cap, sizeof *pf->clamped);
		pf->matches = xreallocarray(pf->matches, pf->items_cap, sizeof *pf->matches);
		pf->keys = xreallocarray(pf->keys, pf->items_cap, sizeof *pf->keys);
	}
	pf->clamped[pf->nitems] = (unsigned char)clamped;
	/* On a lane, the topics too: the grouper cannot change under it (a
	 * reload drains the lanes first). And the store's keys, which depend
	 * on nothing else. */
	pf->matches[pf->nitems] = pf->d->workers != NULL ? grouper_match(pf->d->grouper, pf->name, it) : NULL;
	store_item_keys(it, pf->name, &pf->keys[pf->nitems]);
	pf->items[pf->nitems++] = it;
}

/* Copy what poll_finish needs of a result. */
static struct poll_result *
poll_result_dup(const struct fetch_result *res)
{
	struct poll_result *pr = xcalloc(1, sizeof *pr);
	const char **fields[9] = {&pr->r.error,    &pr->r.url,       &pr->r.effective_url,
	                          &pr->r.moved_to, &pr->r.etag,      &pr->r.last_modified,
	                          &pr->r.retry_after, &pr->r.cache_control, &pr->r.expires};

	pr->r = *res;
	for (size_t i = 0; i < 9; i++) {
		pr->strings[i] = *fields[i] ? xstrdup(*fields[i]) : NULL;
		*fields[i] = pr->strings[i];
	}
	return pr;
}

/* Free a copied result. */
static void
poll_result_free(struct poll_result *pr)
{
	if (pr == NULL)
		return;
	for (size_t i = 0; i < 9; i++)
		free(pr->strings[i]);
	free(pr);
}

/* Offer what the transfer brought to the store in one transaction.
 * Returns 0, or -1 when nothing was saved (the next poll brings it all
 * again: the validators were not saved either). */
static int
poll_store_items(struct poll_feed *pf, const struct fetch_result *res, int parsed_ok)
{
	struct store *st = pf->d->st;
	time_t now = time(NULL);
	size_t changed = 0;
	enum store_outcome o;

	if (pf->nitems > 0 && grouper_prepare(pf->d->grouper) < 0)
		return -1;
	if (store_begin_named(st, pf->name) < 0)
		goto fail;
	for (size_t i = 0; i < pf->nitems; i++) {
		const struct item *it = pf->items[i];

		if (store_offer(st, pf->name, it, &pf->keys[i], now, &o) < 0)
			goto fail;
		if (o != STORE_NEW && o != STORE_UPDATE)
			continue;
		changed++;
		if (grouper_apply(pf->d->grouper, st, store_last_item(st), pf->name, it,
		                  it->published ? it->published : now, o == STORE_NEW, pf->d->workers != NULL, pf->matches[i]) < 0)
			goto fail;
	}
	if (pf->parser != NULL && store_feed_set_meta(st, pf->name, parser_meta(pf->parser)) < 0)
		goto fail;
	/* Validators only after a clean parse, so a broken body is fetched
	 * again in full next time. */
	if (parsed_ok && store_feed_set_validators(st, pf->name, pf->url, res->etag, res->last_modified) < 0)
		goto fail;
	if (store_commit(st) < 0)
		goto fail;
	grouper_submit(pf->d->grouper);
	pf->health.items = pf->nitems;
	pf->health.new_items = changed;
	if (changed > 0) {
		log_info("feed %s: %zu new or updated item(s) of %zu", pf->name, changed, pf->nitems);
		/* --once renders once, at the end. */
		if (!pf->d->once)
			publisher_mark_dirty(pf->d->pub);
	}
	return 0;
fail:
	store_rollback(st);
	/* The story index saw this unit's items, which are gone (the rest
	 * of the batch, if lost too, is daemon_store_lost's). */
	grouper_invalidate(pf->d->grouper, st);
	return -1;
}

/* Remember (and log, when it changes) what had to be repaired. */
static void
poll_set_warning(struct poll_feed *pf, const char *warning)
{
	struct feed_health *h = &pf->health;

	if (warning != NULL && (h->warning == NULL || strcmp(h->warning, warning) != 0))
		log_warn("feed %s: %s", pf->name, warning);
	free(h->warning);
	h->warning = warning ? xstrdup(warning) : NULL;
}

/* Server hints on the next poll, in seconds (0: none). */
static long
poll_hint(const struct fetch_result *res, long ttl)
{
	const char *ma;

	if (res->retry_after != NULL && (res->status == 429 || res->status == 503)) {
		char *end;
		long secs = strtol(res->retry_after, &end, 10);
		if (end != res->retry_after && *end == '\0')
			return secs;
		time_t t;
		if (date_parse(res->retry_after, &t) == 0 && t > time(NULL))
			return (long)(t - time(NULL));
	}
	if (res->cache_control != NULL && (ma = strcasestr(res->cache_control, "max-age=")) != NULL)
		return strtol(ma + 8, NULL, 10);
	if (ttl > 0)
		return ttl;
	return 0;
}

/* Arm the timer for the next poll. */
static void
poll_schedule(struct poll_feed *pf, long hint)
{
	const struct config *cfg = pf->d->cfg;
	struct sched_params sp = {pf->cf->interval ? pf->cf->interval : cfg->interval, cfg->min_interval,
	                          cfg->max_interval};
	struct timeval tv = {0, 0};

	if (pf->d->once || pf->d->stopping || pf->health.gone || pf->timer == NULL)
		return;
	tv.tv_sec = schedule_next_delay(&sp, pf->health.failures, hint, sched_rand_unit(&pf->d->rng));
	pf->health.next_due = time(NULL) + tv.tv_sec;
	evtimer_add(pf->timer, &tv);
}

/* The transfer is over. */
static void
poll_on_done(void *arg, const struct fetch_result *res)
{
	struct poll_feed *pf = arg;

	if (pf->parser != NULL && pf->d->workers != NULL) {
		/* The lane still has body to parse: finish there, then come
		 * back to poll_finish through poll_parsed. */
		poll_submit_chunk(pf);
		pf->res = poll_result_dup(res);
		pf->finish_parse = res->ok && res->status != 304;
		workers_submit(pf->d->workers, poll_lane(pf), poll_parse_end, poll_parsed, pf);
		return;
	}
	poll_finish(pf, res);
}

/* Record the outcome of a poll. */
static void
poll_finish(struct poll_feed *pf, const struct fetch_result *res)
{
	struct feed_health *h = &pf->health;
	char *error = NULL;
	int parsed_ok = 0;
	size_t bytes = res->bytes;
	enum metrics_fetch outcome;

	pf->in_flight = 0;
	if (pf->retired) {
		poll_feed_free(pf);
		return;
	}
	if (pf->d->stopping && !res->ok) {
		/* Cancelled by a stop: not the feed's fault, nothing to record. */
		poll_discard(pf);
		return;
	}
	h->last_status = res->status;
	/* Validators saved below belong to the URL they came from. */
	if (res->ok && res->moved_to != NULL) {
		log_notice("feed %s: moved permanently to %s; update feedmux.conf", pf->name, res->moved_to);
		free(pf->url);
		pf->url = xstrdup(res->moved_to);
	}
	if (res->ok && res->status == 304) {
		h->n304++;
		outcome = METRICS_FETCH_NOT_MODIFIED;
		log_debug("feed %s: not modified", pf->name);
	} else if (res->ok && pf->parser == NULL) {
		error = xstrdup("empty response");
		outcome = METRICS_FETCH_PARSE_ERROR;
	} else if (res->ok) {
		poll_finish_parse(pf);
		if (!atomic_load(&pf->decode_failed)) {
			for (size_t i = 0; i < pf->nitems; i++)
				if (pf->clamped[i])
					log_info("feed %s: item \"%s\" is dated in the future; using the current time",
					         pf->name, pf->items[i]->title ? pf->items[i]->title : "(untitled)");
			if (pf->parse_rc < 0) {
				error = xasprintf("%s (%zu item(s) kept)", pf->parse_err ? pf->parse_err : "parse failed",
				                  pf->nitems);
			} else {
				parsed_ok = 1;
				poll_set_warning(pf, parser_warning(pf->parser));
			}
			pf->ttl_hint = parser_meta(pf->parser)->ttl * 60;
			if ((pf->nitems > 0 || parsed_ok) && poll_store_items(pf, res, parsed_ok) < 0) {
				free(error);
				error = xasprintf("could not save items to the state database %s (%zu item(s); the "
				                  "reason is logged by the store)",
				                  pf->d->cfg->state, pf->nitems);
			}
			outcome = parsed_ok ? METRICS_FETCH_OK : METRICS_FETCH_PARSE_ERROR;
		} else {
			/* As a transfer that broke: nothing of it is kept. */
			error = xstrdup(decoder_error(pf->decoder));
			outcome = METRICS_FETCH_NET_ERROR;
		}
	} else if (atomic_load(&pf->decode_failed)) {
		/* The transfer was stopped because its body could not be decoded. */
		error = xstrdup(decoder_error(pf->decoder));
		outcome = METRICS_FETCH_NET_ERROR;
	} else {
		error = xstrdup(res->error ? res->error : "transfer failed");
		outcome = res->status >= 400 ? METRICS_FETCH_HTTP_ERROR : METRICS_FETCH_NET_ERROR;
	}
	/* Body bytes as decoded, like those curl decodes itself. */
	if (pf->decoder != NULL)
		bytes = decoder_out(pf->decoder);
	h->bytes = bytes;
	pf->d->metrics.fetches[outcome]++;
	pf->d->metrics.fetch_bytes += bytes;
	if (res->status == 410) {
		h->gone = 1;
		free(error);
		error = xasprintf("HTTP 410 Gone from %s: polling stopped; remove the feed from feedmux.conf",
		                  res->effective_url ? res->effective_url : pf->url);
	}
	if (error != NULL) {
		poll_fail(pf, error);
	} else {
		if (h->failures > 0)
			log_info("feed %s: recovered after %d failure(s)", pf->name, h->failures);
		free(h->last_error);
		h->last_error = NULL;
		h->failures = 0;
		h->last_success = time(NULL);
	}
	poll_discard(pf);
	poll_schedule(pf, poll_hint(res, pf->ttl_hint));
	poll_save_health(pf);
	daemon_feed_done(pf->d, pf);
}

/* Record a failure (taking error), logged when it is news. */
static void
poll_fail(struct poll_feed *pf, char *error)
{
	struct feed_health *h = &pf->health;

	/* --once prints every failure in its summary instead. */
	if (h->last_error == NULL || strcmp(h->last_error, error) != 0)
		log_msg(pf->d->once ? LOG_DEBUG : LOG_WARNING, "feed %s: %s", pf->name, error);
	free(h->last_error);
	h->last_error = error;
	h->failures++;
}

/* The poll's unit of work was rolled back with its batch. */
void
poll_feed_store_lost(struct poll_feed *pf)
{
	/* Counted once for --once's summary (the poll itself succeeded). */
	if (pf->health.last_error == NULL && pf->d->once)
		pf->d->once_failed++;
	poll_fail(pf, xasprintf("could not save items to the state database %s (the batch holding this poll "
	                        "was rolled back; the reason is logged by the store)",
	                        pf->d->cfg->state));
	pf->d->status_dirty = 1;
}

/* One line of health. */
void
poll_feed_describe(const struct poll_feed *pf, struct buf *out)
{
	const struct feed_health *h = &pf->health;
	char last[40] = "never", next[40] = "-";

	if (h->last_success)
		date_format_rfc3339(h->last_success, last, sizeof last);
	if (h->next_due && !h->gone)
		date_format_rfc3339(h->next_due, next, sizeof next);
	buf_printf(out, "%s\t%s\tstatus=%ld\tlast_success=%s\tnext=%s\tfailures=%d\titems=%zu\tbytes=%zu\t304s=%lu\t%s\n",
	           pf->name, h->gone ? "gone" : h->last_error ? "failing" : h->last_success ? "ok" : "pending",
	           h->last_status, last, next, h->failures, h->items, h->bytes, h->n304,
	           h->last_error ? h->last_error : h->warning ? h->warning : "");
}
