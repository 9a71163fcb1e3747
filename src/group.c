/* group.c: topics come from topic.c (config rules, feed membership) and
 * stories from story.c (near-duplicate headlines across publishers). The
 * story index lives in memory and covers story_window; it is rebuilt by
 * replaying the store's recent items oldest first, which gives the same
 * grouping as when they arrived (the index is deterministic). That replay
 * is deferred until an item has to be grouped (grouper_prepare), so a
 * start or a poll cycle that brings nothing new never pays for it.
 *
 * With a story thread (grouper_start_thread), the daemon's, a unit's new
 * items are handed to it after the unit committed (grouper_submit), in
 * order, so it groups them exactly as the loop would; the loop then
 * writes the stories in a unit of their own. The thread owns the index
 * (stories, newest, adds) while tasks are queued: the loop touches it
 * only after workers_drain. Work the store loses moves the epoch, so
 * results of batches queued before are dropped, and the index starts
 * again at the next grouper_prepare. An item and its story are two
 * commits; a crash between them loses the story, which the replay after
 * the restart decides again (it rewrites what differs from the store).
 * At 10,000 bench feeds the index was
 * a fifth of the event loop's time in a cold cycle, and the loop is what
 * bounds that cycle. */
#include "group.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "config.h"
#include "item.h"
#include "log.h"
#include "sanitize.h"
#include "store.h"
#include "story.h"
#include "topic.h"
#include "workers.h"
#include "xalloc.h"

struct grouper {
	const struct config *cfg;
	struct topic_set *topics;
	struct story_index *stories; /* NULL when stories = no */
	size_t *idx;                 /* scratch for topic_set_match */
	const char **names;          /* scratch: topic names of one item */
	uint64_t multi;              /* stories with more than one item */
	time_t newest;               /* the newest report's date */
	uint64_t adds;
	struct store *replay;        /* non-NULL: the story index awaits a replay from it */
	time_t replay_since;
	/* The story thread (NULL: stories are decided inline). */
	struct workers *pool;
	struct group_batch *open; /* the unit's items, until grouper_submit */
	uint64_t epoch;           /* moves when queued results are to be dropped */
	int reset;                /* the index starts again at grouper_prepare */
	void (*written)(void *arg);
	void *written_arg;
};

/* An item on its way through the story thread: what the index needs, and
 * (set there) what it said. */
struct group_pending {
	int64_t item;
	char *feed;
	char *title;
	char *summary; /* the summary's HTML, only when there is no title */
	time_t when;
	uint64_t story;
	size_t size;
	int indexed; /* 0: behind the window, not grouped */
};

/* A unit's items (or, with expire set, an expiry) as one task. */
struct group_batch {
	struct grouper *g;
	struct store *st;
	uint64_t epoch;
	time_t expire; /* > 0: expire the index at this clock instead */
	struct group_pending *v;
	size_t n, cap;
};

/* The unit of work the story thread's results are written in: not a feed
 * name (those are letters, digits, '.', '_' and '-'), so a lost batch
 * that held it makes the daemon restart the index and blame no feed. */
#define GROUP_UNIT "(stories)"

/* Expire the story index after this many reports. */
#define GROUP_EXPIRE_EVERY 1024

struct rebuild {
	struct grouper *g;
	struct store *st;
	time_t story_since;
	int topics;      /* re-decide topics too */
	int failed;
};

static int grouper_store_topics(struct grouper *g, struct store *st, int64_t item, const size_t *idx, size_t n,
                                int fresh);
static int grouper_topics(struct grouper *g, struct store *st, int64_t item, const char *feed,
                          const struct item *it, int fresh);
static int grouper_story(struct grouper *g, struct store *st, int64_t item, const char *feed,
                         const struct item *it, time_t when, int64_t stored);
static int grouper_index(struct grouper *g, int64_t item, const char *feed, const char *title,
                         const char *summary, time_t when, uint64_t *story, size_t *size);
static int grouper_record(struct grouper *g, struct store *st, int64_t item, uint64_t story, size_t size,
                          int64_t stored);
static void grouper_queue(struct grouper *g, struct store *st, int64_t item, const char *feed,
                          const struct item *it, time_t when);
static void group_batch_free(struct group_batch *b);
static void group_batch_run(void *arg);
static void group_batch_done(void *arg);
static void grouper_reset(struct grouper *g);
static int rebuild_cb(void *arg, const struct store_entry *e);
static int grouper_replay(struct grouper *g, struct store *st, time_t since, time_t story_since, int topics,
                          const char *rules);
static char *grouper_fingerprint(const struct config *cfg);

/* Compile the topics and start an empty story index. */
struct grouper *
grouper_new(const struct config *cfg)
{
	struct grouper *g = xcalloc(1, sizeof *g);
	size_t n;

	g->cfg = cfg;
	g->topics = topic_set_new(cfg);
	n = topic_set_count(g->topics);
	g->idx = xcalloc(n ? n : 1, sizeof *g->idx);
	g->names = xcalloc(n ? n : 1, sizeof *g->names);
	if (cfg->stories)
		g->stories = story_index_new(cfg->story_threshold, cfg->story_window);
	return g;
}

/* Free everything, after the story thread's queued work and its writes. */
void
grouper_free(struct grouper *g)
{
	if (g == NULL)
		return;
	if (g->pool != NULL)
		workers_free(g->pool);
	group_batch_free(g->open);
	topic_set_free(g->topics);
	story_index_free(g->stories);
	free(g->idx);
	free(g->names);
	free(g);
}

/* Free the story index; no item is grouped into a story after this. */
void
grouper_forget_stories(struct grouper *g)
{
	grouper_drain(g);
	story_index_free(g->stories);
	g->stories = NULL;
	g->replay = NULL;
}

/* The store rolled back a batch the story index had seen: start the index
 * again, from the store, at the next grouping (grouper_prepare, which
 * first lets a story thread's queue run out: the thread may be using the
 * index); results queued before are dropped. */
void
grouper_invalidate(struct grouper *g, struct store *st)
{
	if (g->stories == NULL)
		return;
	group_batch_free(g->open);
	g->open = NULL;
	g->epoch++;
	g->multi = 0;
	g->replay = st;
	g->replay_since = time(NULL) - g->cfg->story_window;
	g->reset = 1;
}

/* An empty story index. */
static void
grouper_reset(struct grouper *g)
{
	story_index_free(g->stories);
	g->stories = story_index_new(g->cfg->story_threshold, g->cfg->story_window);
	g->newest = 0;
	g->reset = 0;
}

/* Store an item's topics, n indexes into the config's topics. */
static int
grouper_store_topics(struct grouper *g, struct store *st, int64_t item, const size_t *idx, size_t n, int fresh)
{
	/* A new item has no topics to replace. */
	if (n == 0 && fresh)
		return 0;
	for (size_t i = 0; i < n; i++)
		g->names[i] = g->cfg->topics[idx[i]].name;
	return store_item_set_topics(st, item, g->names, n);
}

/* Decide and store an item's topics. */
static int
grouper_topics(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
               int fresh)
{
	size_t n = topic_set_match(g->topics, feed, it, g->idx);

	return grouper_store_topics(g, st, item, g->idx, n, fresh);
}

/* Add an item to the story index and store its story. */
static int
grouper_story(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
              time_t when, int64_t stored)
{
	uint64_t story;
	size_t size;

	if (g->stories == NULL)
		return 0;
	if (grouper_index(g, item, feed, it->title, it->summary, when, &story, &size) != 0)
		return 0;
	return grouper_record(g, st, item, story, size, stored);
}

/* Add an item to the story index: 0 with its story and that story's size
 * (0 for a story of its own), or 1 when it is behind the window. Only
 * the index's side of the grouper: the story thread's, when there is one. */
static int
grouper_index(struct grouper *g, int64_t item, const char *feed, const char *title, const char *summary,
              time_t when, uint64_t *story, size_t *size)
{
	char *text = NULL;

	/* The window is between reports, so it follows the newest report
	 * seen, not the clock (old feeds still group among themselves); what
	 * falls behind it can join no story and only costs memory. */
	if (when > g->newest)
		g->newest = when;
	if (when < g->newest - g->cfg->story_window)
		return 1;
	if (++g->adds % GROUP_EXPIRE_EVERY == 0)
		story_index_expire(g->stories, g->newest - g->cfg->story_window);
	/* The summary only matters when the title has nothing to match on. */
	if ((title == NULL || *title == '\0') && summary != NULL)
		text = sanitize_text(summary);
	*story = story_index_add(g->stories, (uint64_t)item, feed, title, text, when);
	free(text);
	*size = *story != (uint64_t)item ? story_index_story_size(g->stories, *story) : 0;
	return 0;
}

/* Store what the index said of an item (stored: the story the store has
 * for it, in a replay; else -1). The loop's side. */
static int
grouper_record(struct grouper *g, struct store *st, int64_t item, uint64_t story, size_t size, int64_t stored)
{
	int rc;

	if (size == 2)
		g->multi++;
	/* A replay (stored >= 0) mostly finds what is stored already: then
	 * nothing is written but a follower's mark on its lead. A report
	 * that leads nothing yet keeps a lead's mark (its own id) it has. */
	if (stored >= 0 && story == (uint64_t)item && (stored == 0 || stored == item))
		return 0;
	if (stored >= 0 && story != (uint64_t)item && stored == (int64_t)story) {
		store_item_mark_lead(st, (int64_t)story); /* as below */
		return 0;
	}
	rc = store_item_set_story(st, item, story == (uint64_t)item ? 0 : (int64_t)story);
	/* The lead is marked when its story gets a second report; later
	 * reports find it marked (checking the mark reads the lead's whole
	 * row: at 10,000 feeds, half of 98,704 story updates were such
	 * checks). Work the store rolls back makes the index start again
	 * (grouper_invalidate), so a mark lost with its batch is made again.
	 * The lead may have been purged while still in the index (keep can
	 * be shorter than story_window): the report then leads nothing, which
	 * is harmless, so it does not fail the feed's transaction. */
	if (rc == 0 && story != (uint64_t)item && size <= 2)
		store_item_mark_lead(st, (int64_t)story);
	return rc;
}

/* Topics and story of a freshly stored item. */
int
grouper_apply(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
              time_t when, int fresh, int matched, const struct grouper_match *m)
{
	int rc;

	if (item <= 0)
		return 0;
	if (matched)
		rc = grouper_store_topics(g, st, item, m != NULL ? m->idx : NULL, m != NULL ? m->n : 0, fresh);
	else
		rc = grouper_topics(g, st, item, feed, it, fresh);
	if (rc < 0)
		return -1;
	if (g->pool != NULL && g->stories != NULL) {
		grouper_queue(g, st, item, feed, it, when);
		return 0;
	}
	return grouper_story(g, st, item, feed, it, when, -1);
}

/* Group on a thread of its own from now on; written(arg) runs on the loop
 * after its results were written in a unit of the store's open batch
 * (the daemon commits it and marks the outputs dirty). Without a thread
 * stories stay inline. */
void
grouper_start_thread(struct grouper *g, struct event_base *base, void (*written)(void *arg), void *arg)
{
	if (g->stories == NULL || g->pool != NULL)
		return;
	g->pool = workers_new(base, 1);
	if (g->pool == NULL)
		log_warn("group: no story thread: stories are decided on the event loop");
	g->written = written;
	g->written_arg = arg;
}

/* Keep an item for the unit's batch (copies: the item is the poller's). */
static void
grouper_queue(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
              time_t when)
{
	struct group_batch *b = g->open;
	struct group_pending *p;

	if (b == NULL) {
		b = g->open = xcalloc(1, sizeof *b);
		b->g = g;
		b->st = st;
		b->epoch = g->epoch;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	p = &b->v[b->n++];
	memset(p, 0, sizeof *p);
	p->item = item;
	p->feed = xstrdup(feed);
	p->title = it->title != NULL ? xstrdup(it->title) : NULL;
	if ((it->title == NULL || *it->title == '\0') && it->summary != NULL)
		p->summary = xstrdup(it->summary);
	p->when = when;
}

/* The unit the items were stored in committed: hand them to the thread. */
void
grouper_submit(struct grouper *g)
{
	struct group_batch *b = g->open;

	g->open = NULL;
	if (b == NULL)
		return;
	if (g->pool == NULL || b->n == 0) {
		group_batch_free(b);
		return;
	}
	workers_submit(g->pool, 0, group_batch_run, group_batch_done, b);
}

/* Wait for the story thread's queue and write its results. Outside a unit
 * of work, on the loop. */
void
grouper_drain(struct grouper *g)
{
	if (g->pool != NULL)
		workers_drain(g->pool);
}

static void
group_batch_free(struct group_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].feed);
		free(b->v[i].title);
		free(b->v[i].summary);
	}
	free(b->v);
	free(b);
}

/* On the story thread: group the batch's items in order (or expire). */
static void
group_batch_run(void *arg)
{
	struct group_batch *b = arg;
	struct grouper *g = b->g;

	if (g->stories == NULL)
		return;
	if (b->expire > 0) {
		if (g->newest > 0)
			story_index_expire(g->stories, (g->newest < b->expire ? g->newest : b->expire) -
			                                   g->cfg->story_window);
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct group_pending *p = &b->v[i];

		p->indexed = grouper_index(g, p->item, p->feed, p->title, p->summary, p->when, &p->story,
		                           &p->size) == 0;
	}
}

/* On the loop: write what the thread decided, unless the store lost work
 * since the batch was queued (then the index starts again anyway). */
static void
group_batch_done(void *arg)
{
	struct group_batch *b = arg;
	struct grouper *g = b->g;
	size_t i;

	if (b->expire > 0 || b->epoch != g->epoch)
		goto done;
	if (store_begin_named(b->st, GROUP_UNIT) < 0)
		goto fail;
	for (i = 0; i < b->n; i++)
		if (b->v[i].indexed && grouper_record(g, b->st, b->v[i].item, b->v[i].story, b->v[i].size, -1) < 0)
			break;
	if (i < b->n) {
		store_rollback(b->st);
		goto fail;
	}
	if (store_commit(b->st) < 0)
		goto fail;
	if (g->written != NULL)
		g->written(g->written_arg);
	goto done;
fail:
	log_err("group: could not store the stories of %zu item(s); the story index starts again", b->n);
	grouper_invalidate(g, b->st);
done:
	group_batch_free(b);
}

/* An item's topics, decided without the store: safe on any thread while
 * the grouper lives. NULL when the item has none. */
struct grouper_match *
grouper_match(const struct grouper *g, const char *feed, const struct item *it)
{
	size_t n = topic_set_count(g->topics);
	struct grouper_match *m;

	if (n == 0)
		return NULL;
	m = xmalloc(sizeof *m + n * sizeof m->idx[0]);
	m->n = topic_set_match(g->topics, feed, it, m->idx);
	if (m->n == 0) {
		free(m);
		return NULL;
	}
	return m;
}

/* One stored item during a rebuild. */
static int
rebuild_cb(void *arg, const struct store_entry *e)
{
	struct rebuild *rb = arg;
	const struct item *it = e->item;
	time_t when = it->published ? it->published : e->first_seen;

	if (rb->topics && grouper_topics(rb->g, rb->st, e->item_id, e->feed_name, it, 0) < 0)
		goto fail;
	/* Only reports dated within the window can still be grouped. */
	if (when >= rb->story_since &&
	    grouper_story(rb->g, rb->st, e->item_id, e->feed_name, it, when, e->story) < 0)
		goto fail;
	return 0;
fail:
	rb->failed = 1;
	return 1;
}

/* A fingerprint of everything topic decisions depend on: the topic
 * sections and the feeds' topics lists. */
static char *
grouper_fingerprint(const struct config *cfg)
{
	XXH3_state_t *x = XXH3_createState();
	char *hex;

	XXH3_64bits_reset(x);
	for (size_t i = 0; i < cfg->ntopics; i++) {
		const struct config_topic *t = &cfg->topics[i];

		XXH3_64bits_update(x, t->name, strlen(t->name) + 1);
		for (size_t j = 0; j < t->match.n; j++)
			XXH3_64bits_update(x, t->match.v[j], strlen(t->match.v[j]) + 1);
		XXH3_64bits_update(x, "\x01", 1);
		for (size_t j = 0; j < t->exclude.n; j++)
			XXH3_64bits_update(x, t->exclude.v[j], strlen(t->exclude.v[j]) + 1);
		XXH3_64bits_update(x, t->categories ? "\x02" : "\x03", 1);
	}
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const struct config_feed *f = &cfg->feeds[i];

		if (f->topics.n == 0)
			continue;
		XXH3_64bits_update(x, f->name, strlen(f->name) + 1);
		for (size_t j = 0; j < f->topics.n; j++)
			XXH3_64bits_update(x, f->topics.v[j], strlen(f->topics.v[j]) + 1);
	}
	hex = xasprintf("%016llx", (unsigned long long)XXH3_64bits_digest(x));
	XXH3_freeState(x);
	return hex;
}

/* Walk the store's items first seen since `since` through topics (when
 * `topics`, recording `rules` as the rules they were decided by) and,
 * those dated since story_since, stories; in one unit of work. */
static int
grouper_replay(struct grouper *g, struct store *st, time_t since, time_t story_since, int topics,
               const char *rules)
{
	struct rebuild rb = {g, st, story_since, topics, 0};

	/* The index is the loop's once the story thread's queue ran out (a
	 * result that fails to be written asks for a reset). */
	grouper_drain(g);
	if (g->reset)
		grouper_reset(g);
	if (g->stories == NULL)
		rb.story_since = (time_t)INT64_MAX;
	if (since < 0)
		since = 0;
	if (store_begin_alone(st) < 0)
		return -1;
	if (store_foreach_recent(st, since, rebuild_cb, &rb) < 0 || rb.failed ||
	    (topics && store_meta_set(st, "topic_rules", rules) < 0)) {
		store_rollback(st);
		log_err("group: could not re-decide topics and stories of stored items");
		return -1;
	}
	return store_commit(st);
}

/* Re-decide the topics of stored items first seen since `since` when the
 * topic rules changed since they were decided (that walk also rebuilds the
 * story index); otherwise only mark the story index for a replay of the
 * story window, which grouper_prepare runs when it is first needed. */
int
grouper_rebuild(struct grouper *g, struct store *st, time_t now, time_t since)
{
	char *want = grouper_fingerprint(g->cfg), *have = store_meta_get(st, "topic_rules");
	time_t story_since = now - g->cfg->story_window;
	int topics = have == NULL || strcmp(have, want) != 0, rc = 0;

	g->replay = NULL;
	if (topics) {
		rc = grouper_replay(g, st, story_since < since ? story_since : since, story_since, 1, want);
		if (rc == 0 && have != NULL)
			log_info("topics changed: topics of stored items decided again");
	} else if (g->stories != NULL) {
		g->replay = st;
		g->replay_since = story_since;
	}
	free(want);
	free(have);
	return rc;
}

/* Run a deferred story replay (after the story thread's queue, and a
 * reset it awaits); call outside a unit of work. */
int
grouper_prepare(struct grouper *g)
{
	struct store *st = g->replay;

	if (st == NULL)
		return 0;
	g->replay = NULL;
	return grouper_replay(g, st, g->replay_since, g->replay_since, 0, NULL);
}

/* Forget stories older than the window. */
void
grouper_expire(struct grouper *g, time_t now)
{
	/* Relative to the newest report, as in grouper_story (now only bounds
	 * it: a report dated in the future was clamped to the clock). */
	struct group_batch *b;

	if (g->stories == NULL)
		return;
	if (g->pool == NULL) {
		if (g->newest > 0)
			story_index_expire(g->stories, (g->newest < now ? g->newest : now) - g->cfg->story_window);
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->g = g;
	b->expire = now > 0 ? now : 1;
	workers_submit(g->pool, 0, group_batch_run, group_batch_done, b);
}

/* Stories with more than one item (replaying the story window first if
 * that is still pending). */
uint64_t
grouper_story_count(struct grouper *g)
{
	grouper_prepare(g);
	return g->multi;
}
