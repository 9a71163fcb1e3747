/* test_group.c: the grouper against a real store: a story's lead is
 * marked when the story gets its second report, and a batch the store
 * loses makes the story index start again from what the store kept; each
 * inline and with the story thread, which must decide the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <event2/event.h>

#include "config.h"
#include "group.h"
#include "item.h"
#include "store.h"
#include "story.h"

#define NOW 1800000000

/* What the daemon's lost_fn does for the grouper. */
struct lost {
	struct grouper *g;
	struct store *st;
	int heard;
};

/* What a story walk saw: keys and story marks. */
struct seen {
	int64_t id[8], story[8];
	size_t n;
};

static struct item *mk(const char *id, const char *title);
static void lost_cb(void *arg, const char *name);
static int64_t poll_one(struct store *st, struct grouper *g, const char *feed, const struct item *it, int keep);
static int seen_cb(void *arg, const struct store_entry *e);
static void walk_story(struct store *st, int64_t story, struct seen *s);
static void expect_pair(struct store *st, int64_t lead, int64_t other, const char *what);
static void config_stories(struct config *cfg);
static int threaded(void **state);
static struct grouper *grouper_for(struct config *cfg, int thread, struct event_base **base);
static void grouper_done(struct grouper *g, struct event_base *base);
static int recent_cb(void *arg, const struct store_entry *e);

/* Each test runs inline and threaded (the daemon's story thread). */
static int inline_mode = 0, threaded_mode = 1;

/* An item with an id and a title, dated NOW. */
static struct item *
mk(const char *id, const char *title)
{
	struct item *it = item_new();

	it->id = strdup(id);
	it->title = strdup(title);
	it->published = NOW;
	return it;
}

static void
lost_cb(void *arg, const char *name)
{
	struct lost *l = arg;

	(void)name;
	l->heard++;
	grouper_invalidate(l->g, l->st);
}

/* One feed's poll as poll.c stores it: a unit of the batch with the item
 * offered and grouped, then kept (the unit committed into the batch) or
 * failed (the unit, and with it the batch, rolled back). The item's key. */
static int64_t
poll_one(struct store *st, struct grouper *g, const char *feed, const struct item *it, int keep)
{
	enum store_outcome o = STORE_OUTCOMES;
	int64_t id;

	assert_int_equal(grouper_prepare(g), 0);
	assert_int_equal(store_begin_named(st, feed), 0);
	assert_int_equal(store_offer(st, feed, it, NULL, NOW, &o), 0);
	assert_int_equal(o, STORE_NEW);
	id = store_last_item(st);
	assert_int_equal(grouper_apply(g, st, id, feed, it, it->published, 1, 0, NULL), 0);
	if (keep) {
		assert_int_equal(store_commit(st), 0);
		grouper_submit(g);
	} else {
		store_rollback(st);
	}
	return id;
}

/* Whether the test runs with the story thread (state: &threaded_mode). */
static int
threaded(void **state)
{
	return *state != NULL && *(int *)*state;
}

/* A grouper, with a story thread (and a base for it) when thread. */
static struct grouper *
grouper_for(struct config *cfg, int thread, struct event_base **base)
{
	struct grouper *g = grouper_new(cfg);

	*base = NULL;
	if (thread) {
		*base = event_base_new();
		assert_non_null(*base);
		grouper_start_thread(g, *base, NULL, NULL);
	}
	return g;
}

static void
grouper_done(struct grouper *g, struct event_base *base)
{
	grouper_free(g);
	if (base != NULL)
		event_base_free(base);
}

static int
seen_cb(void *arg, const struct store_entry *e)
{
	struct seen *s = arg;

	if (s->n < sizeof s->id / sizeof s->id[0]) {
		s->id[s->n] = e->item_id;
		s->story[s->n] = e->story;
	}
	s->n++;
	return 0;
}

static void
walk_story(struct store *st, int64_t story, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_foreach_story(st, story, seen_cb, s), 0);
}

/* The store holds story lead as the lead and other as its one other
 * report, both marked with it; what ends the failure message. */
static void
expect_pair(struct store *st, int64_t lead, int64_t other, const char *what)
{
	struct seen s;

	walk_story(st, lead, &s);
	if (s.n != 2)
		fail_msg("story %lld has %zu report(s) %s", (long long)lead, s.n, what);
	assert_int_equal(s.id[0], lead);
	assert_int_equal(s.story[0], lead);
	assert_int_equal(s.id[1], other);
	assert_int_equal(s.story[1], lead);
}

/* Stories on, no topics, the default threshold and window. */
static void
config_stories(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->stories = 1;
	cfg->story_threshold = STORY_THRESHOLD_DEFAULT;
	cfg->story_window = STORY_WINDOW_DEFAULT;
}

/* Three feeds carry one headline. The second feed's poll is lost with its
 * batch (a later unit of the batch fails), after it had marked the first
 * report as the story's lead: the third report must mark the lead again.
 * A story index that kept the lost report would count the third as the
 * story's third and leave the lead unmarked (story 0), so that lists
 * showed it without its story; and it would take the next new item, which
 * gets the lost report's key, for that report, story and all. */
static void
test_lost_batch_marks_lead_again(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct config cfg;
	struct grouper *g;
	struct lost l = {0};
	struct item *a = mk("tag:a,1", "Earthquake of magnitude 7 strikes northern Chile coast");
	struct item *b = mk("tag:b,1", "Earthquake of magnitude 7 strikes northern Chile coast");
	struct item *c = mk("tag:c,1", "Earthquake of magnitude 7 strikes northern Chile coast");
	struct item *x = mk("tag:x,1", "Parliament passes the budget after a long night");
	struct item *y = mk("tag:y,1", "Storm closes schools across the western isles");
	struct seen s;
	struct event_base *base;
	int64_t lead, third;

	assert_non_null(st);
	config_stories(&cfg);
	g = grouper_for(&cfg, threaded(state), &base);
	l.g = g;
	l.st = st;
	store_set_batching(st);
	store_set_lost_fn(st, lost_cb, &l);

	lead = poll_one(st, g, "a", a, 1);
	assert_int_equal(store_flush(st), 0);
	poll_one(st, g, "b", b, 1);
	poll_one(st, g, "x", x, 0); /* fails: takes b's unit with it */
	assert_int_equal(l.heard, 1);
	grouper_drain(g); /* b's story, decided on the thread, is dropped */
	if (l.heard != 1)
		fail_msg("the store lost %d batches: a result for a lost item was written", l.heard);
	walk_story(st, lead, &s);
	assert_int_equal(s.n, 0); /* the mark went with the batch */

	/* The next item takes the lost report's key: it is not that report. */
	poll_one(st, g, "y", y, 1);
	third = poll_one(st, g, "c", c, 1);
	grouper_drain(g);
	assert_int_equal(store_flush(st), 0);
	expect_pair(st, lead, third, "stored, expected the lead and the third");

	store_set_lost_fn(st, NULL, NULL);
	grouper_done(g, base);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
	item_free(x);
	item_free(y);
}

/* Later reports of a story leave its lead's mark as it is. */
static void
test_lead_marked_once(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct config cfg;
	struct grouper *g;
	const char *feeds[] = {"a", "b", "c", "d"};
	int64_t ids[4];
	struct seen s;
	struct event_base *base;

	assert_non_null(st);
	config_stories(&cfg);
	g = grouper_for(&cfg, threaded(state), &base);
	for (size_t i = 0; i < 4; i++) {
		char id[32];
		struct item *it;

		snprintf(id, sizeof id, "tag:%s,1", feeds[i]);
		it = mk(id, "Central bank raises interest rates by half a point");
		ids[i] = poll_one(st, g, feeds[i], it, 1);
		item_free(it);
	}
	grouper_drain(g);
	walk_story(st, ids[0], &s);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.id[i], ids[i]);
		assert_int_equal(s.story[i], ids[0]);
	}
	grouper_done(g, base);
	store_close(st);
}

/* With the story thread an item and its story are two commits. When the
 * story's is lost (a crash after the items' batch), the replay a new
 * grouper runs at its first grouping decides and writes it again. */
static void
test_story_lost_after_items(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct config cfg;
	struct grouper *g;
	struct event_base *base;
	struct item *a = mk("tag:a,1", "Earthquake of magnitude 7 strikes northern Chile coast");
	struct item *b = mk("tag:b,1", "Earthquake of magnitude 7 strikes northern Chile coast");
	struct item *c = mk("tag:c,1", "Storm closes schools across the western isles");
	struct seen s;
	int64_t lead, other;

	(void)state;
	assert_non_null(st);
	config_stories(&cfg);
	store_set_batching(st);
	g = grouper_for(&cfg, 1, &base);
	assert_int_equal(grouper_rebuild(g, st, NOW, 0), 0); /* as at a start */
	lead = poll_one(st, g, "a", a, 1);
	other = poll_one(st, g, "b", b, 1);
	assert_int_equal(store_flush(st), 0); /* the items are stored ... */
	grouper_invalidate(g, st);            /* ... their stories are lost */
	grouper_drain(g);
	walk_story(st, lead, &s);
	assert_int_equal(s.n, 0);
	grouper_done(g, base);

	/* A restart: a new grouper, its replay deferred to the first item. */
	g = grouper_for(&cfg, 1, &base);
	assert_int_equal(grouper_rebuild(g, st, NOW, 0), 0);
	poll_one(st, g, "c", c, 1);
	grouper_drain(g);
	assert_int_equal(store_flush(st), 0);
	expect_pair(st, lead, other, "after the replay, expected 2");
	grouper_done(g, base);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
}

/* Every stored item's story, by key. */
struct stories {
	int64_t id[64], story[64];
	size_t n;
};

static int
recent_cb(void *arg, const struct store_entry *e)
{
	struct stories *r = arg;

	assert_true(r->n < sizeof r->id / sizeof r->id[0]);
	r->id[r->n] = e->item_id;
	r->story[r->n++] = e->story;
	return 0;
}

/* The story thread decides what the loop would: the same items through
 * an inline and a threaded grouper, each with a store of its own, end with
 * the same story for every item (grouped in order, results written after
 * drain); and before the thread's results come back, nothing is written. */
static void
test_thread_same_as_inline(void **state)
{
	static const char *const heads[] = {
	    "Earthquake of magnitude 7 strikes northern Chile coast",
	    "Central bank raises interest rates by half a point",
	    "Strong earthquake strikes northern Chile, tsunami warning lifted",
	    "Parliament passes the budget after a long night",
	    "Central bank lifts interest rates by half a point to fight inflation",
	    "Storm closes schools across the western isles",
	    "Budget passes parliament after a long night of votes",
	    "Western isles schools closed by storm",
	    "Magnitude 7 earthquake hits northern Chile coast",
	    "Interest rates raised by half a point by the central bank",
	};
	const char *feeds[] = {"a", "b", "c", "d"};
	struct config cfg;
	struct store *st[2];
	struct grouper *g[2];
	struct event_base *base[2];
	struct stories r[2];
	char *err = NULL;

	(void)state;
	config_stories(&cfg);
	for (int m = 0; m < 2; m++) {
		st[m] = store_open(":memory:", &err);
		assert_non_null(st[m]);
		g[m] = grouper_for(&cfg, m == 1, &base[m]);
		/* Polls of 3 items each: a unit is one task on the thread. */
		for (size_t i = 0; i < 3 * sizeof heads / sizeof heads[0];) {
			const char *feed = feeds[(i / 3) % 4];

			assert_int_equal(grouper_prepare(g[m]), 0);
			assert_int_equal(store_begin_named(st[m], feed), 0);
			for (size_t k = 0; k < 3; k++, i++) {
				enum store_outcome o = STORE_OUTCOMES;
				char id[32];
				struct item *it;

				snprintf(id, sizeof id, "tag:%s,%zu", feed, i);
				it = mk(id, heads[i % (sizeof heads / sizeof heads[0])]);
				it->published = NOW - (time_t)(i * 60);
				assert_int_equal(store_offer(st[m], feed, it, NULL, NOW, &o), 0);
				assert_int_equal(o, STORE_NEW);
				assert_int_equal(grouper_apply(g[m], st[m], store_last_item(st[m]), feed, it, it->published,
				                               1, 0, NULL),
				                 0);
				item_free(it);
			}
			assert_int_equal(store_commit(st[m]), 0);
			grouper_submit(g[m]);
		}
		memset(&r[m], 0, sizeof r[m]);
		if (m == 1) {
			assert_int_equal(store_foreach_recent(st[m], 0, recent_cb, &r[m]), 0);
			for (size_t i = 0; i < r[m].n; i++)
				if (r[m].story[i] != 0)
					fail_msg("item %lld has story %lld before the thread's results came back",
					         (long long)r[m].id[i], (long long)r[m].story[i]);
			memset(&r[m], 0, sizeof r[m]);
			grouper_drain(g[m]);
		}
		assert_int_equal(store_foreach_recent(st[m], 0, recent_cb, &r[m]), 0);
	}
	assert_int_equal(r[0].n, r[1].n);
	assert_true(r[0].n == 3 * sizeof heads / sizeof heads[0]);
	{
		size_t grouped = 0;

		for (size_t i = 0; i < r[0].n; i++) {
			assert_int_equal(r[0].id[i], r[1].id[i]);
			if (r[0].story[i] != r[1].story[i])
				fail_msg("item %lld: story %lld inline, %lld on the thread", (long long)r[0].id[i],
				         (long long)r[0].story[i], (long long)r[1].story[i]);
			grouped += r[0].story[i] != 0;
		}
		if (grouped < r[0].n / 2)
			fail_msg("only %zu of %zu items were grouped: the test shows nothing", grouped, r[0].n);
	}
	for (int m = 0; m < 2; m++) {
		grouper_done(g[m], base[m]);
		store_close(st[m]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(test_lost_batch_marks_lead_again, &inline_mode),
	    cmocka_unit_test_prestate(test_lost_batch_marks_lead_again, &threaded_mode),
	    cmocka_unit_test_prestate(test_lead_marked_once, &inline_mode),
	    cmocka_unit_test_prestate(test_lead_marked_once, &threaded_mode),
	    cmocka_unit_test(test_thread_same_as_inline),
	    cmocka_unit_test(test_story_lost_after_items),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
