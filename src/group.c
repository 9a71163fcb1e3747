/* group.c: topics come from topic.c (config rules, feed membership) and
 * stories from story.c (near-duplicate headlines across publishers). The
 * story index lives in memory and covers story_window; at start it is
 * rebuilt by replaying the store's recent items oldest first, which gives
 * the same grouping as when they arrived (the index is deterministic). */
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
};

/* Expire the story index after this many reports. */
#define GROUP_EXPIRE_EVERY 1024

struct rebuild {
	struct grouper *g;
	struct store *st;
	time_t story_since;
	int topics;      /* re-decide topics too */
	int failed;
};

static int grouper_topics(struct grouper *g, struct store *st, int64_t item, const char *feed,
                          const struct item *it);
static int grouper_story(struct grouper *g, struct store *st, int64_t item, const char *feed,
                         const struct item *it, time_t when);
static int rebuild_cb(void *arg, const struct store_entry *e);
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

/* Free everything. */
void
grouper_free(struct grouper *g)
{
	if (g == NULL)
		return;
	topic_set_free(g->topics);
	story_index_free(g->stories);
	free(g->idx);
	free(g->names);
	free(g);
}

/* Decide and store an item's topics. */
static int
grouper_topics(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it)
{
	size_t n = topic_set_match(g->topics, feed, it, g->idx);

	for (size_t i = 0; i < n; i++)
		g->names[i] = g->cfg->topics[g->idx[i]].name;
	return store_item_set_topics(st, item, g->names, n);
}

/* Add an item to the story index and store its story. */
static int
grouper_story(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
              time_t when)
{
	char *text = NULL;
	uint64_t story;
	int rc;

	if (g->stories == NULL)
		return 0;
	/* The window is between reports, so it follows the newest report
	 * seen, not the clock (old feeds still group among themselves); what
	 * falls behind it can join no story and only costs memory. */
	if (when > g->newest)
		g->newest = when;
	if (when < g->newest - g->cfg->story_window)
		return 0;
	if (++g->adds % GROUP_EXPIRE_EVERY == 0)
		story_index_expire(g->stories, g->newest - g->cfg->story_window);
	/* The summary only matters when the title has nothing to match on. */
	if ((it->title == NULL || *it->title == '\0') && it->summary != NULL)
		text = sanitize_text(it->summary);
	story = story_index_add(g->stories, (uint64_t)item, feed, it->title, text, when);
	free(text);
	if (story != (uint64_t)item && story_index_story_size(g->stories, story) == 2)
		g->multi++;
	rc = store_item_set_story(st, item, story == (uint64_t)item ? 0 : (int64_t)story);
	/* The lead may have been purged while still in the index (keep can
	 * be shorter than story_window): the report then leads nothing, which
	 * is harmless, so it does not fail the feed's transaction. */
	if (rc == 0 && story != (uint64_t)item)
		store_item_set_story(st, (int64_t)story, (int64_t)story);
	return rc;
}

/* Topics and story of a freshly stored item. */
int
grouper_apply(struct grouper *g, struct store *st, int64_t item, const char *feed, const struct item *it,
              time_t when)
{
	if (item <= 0)
		return 0;
	if (grouper_topics(g, st, item, feed, it) < 0)
		return -1;
	return grouper_story(g, st, item, feed, it, when);
}

/* One stored item during a rebuild. */
static int
rebuild_cb(void *arg, const struct store_entry *e)
{
	struct rebuild *rb = arg;
	const struct item *it = e->item;
	time_t when = it->published ? it->published : e->first_seen;

	if (rb->topics && grouper_topics(rb->g, rb->st, e->item_id, e->feed_name, it) < 0)
		goto fail;
	/* Only reports dated within the window can still be grouped. */
	if (when >= rb->story_since && grouper_story(rb->g, rb->st, e->item_id, e->feed_name, it, when) < 0)
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

/* Replay stored items through topics (only when the topic rules changed
 * since they were decided: that walk covers every item that can still be
 * published) and stories (the items of the story window). */
int
grouper_rebuild(struct grouper *g, struct store *st, time_t now, time_t since)
{
	struct rebuild rb = {g, st, now - g->cfg->story_window, 0, 0};
	char *want = grouper_fingerprint(g->cfg), *have = store_meta_get(st, "topic_rules");
	int rc = -1;

	rb.topics = have == NULL || strcmp(have, want) != 0;
	if (!rb.topics)
		since = rb.story_since;
	else if (rb.story_since < since)
		since = rb.story_since;
	if (since < 0)
		since = 0;
	if (g->stories == NULL && !rb.topics) {
		rc = 0;
		goto done;
	}
	if (store_begin(st) < 0)
		goto done;
	if (store_foreach_recent(st, since, rebuild_cb, &rb) < 0 || rb.failed ||
	    (rb.topics && store_meta_set(st, "topic_rules", want) < 0)) {
		store_rollback(st);
		log_err("group: could not re-decide topics and stories of stored items");
		goto done;
	}
	rc = store_commit(st);
	if (rc == 0 && rb.topics && have != NULL)
		log_info("topics changed: topics of stored items decided again");
done:
	free(want);
	free(have);
	return rc;
}

/* Forget stories older than the window. */
void
grouper_expire(struct grouper *g, time_t now)
{
	/* Relative to the newest report, as in grouper_story (now only bounds
	 * it: a report dated in the future was clamped to the clock). */
	if (g->stories != NULL && g->newest > 0)
		story_index_expire(g->stories, (g->newest < now ? g->newest : now) - g->cfg->story_window);
}

/* Stories with more than one item. */
uint64_t
grouper_story_count(const struct grouper *g)
{
	return g->multi;
}
