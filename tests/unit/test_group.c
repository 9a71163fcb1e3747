/* test_group.c: the grouper against a real store: a story's lead is
 * marked when the story gets its second report, and a batch the store
 * loses makes the story index start again from what the store kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

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
static void config_stories(struct config *cfg);

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
	if (keep)
		assert_int_equal(store_commit(st), 0);
	else
		store_rollback(st);
	return id;
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
	int64_t lead, third;

	(void)state;
	assert_non_null(st);
	config_stories(&cfg);
	g = grouper_new(&cfg);
	l.g = g;
	l.st = st;
	store_set_batching(st);
	store_set_lost_fn(st, lost_cb, &l);

	lead = poll_one(st, g, "a", a, 1);
	assert_int_equal(store_flush(st), 0);
	poll_one(st, g, "b", b, 1);
	poll_one(st, g, "x", x, 0); /* fails: takes b's unit with it */
	assert_int_equal(l.heard, 1);
	walk_story(st, lead, &s);
	assert_int_equal(s.n, 0); /* the mark went with the batch */

	/* The next item takes the lost report's key: it is not that report. */
	poll_one(st, g, "y", y, 1);
	third = poll_one(st, g, "c", c, 1);
	assert_int_equal(store_flush(st), 0);
	walk_story(st, lead, &s);
	if (s.n != 2)
		fail_msg("story %lld has %zu report(s) stored, expected the lead and the third", (long long)lead, s.n);
	assert_int_equal(s.id[0], lead);
	assert_int_equal(s.story[0], lead);
	assert_int_equal(s.id[1], third);
	assert_int_equal(s.story[1], lead);

	store_set_lost_fn(st, NULL, NULL);
	grouper_free(g);
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

	(void)state;
	assert_non_null(st);
	config_stories(&cfg);
	g = grouper_new(&cfg);
	for (size_t i = 0; i < 4; i++) {
		char id[32];
		struct item *it;

		snprintf(id, sizeof id, "tag:%s,1", feeds[i]);
		it = mk(id, "Central bank raises interest rates by half a point");
		ids[i] = poll_one(st, g, feeds[i], it, 1);
		item_free(it);
	}
	walk_story(st, ids[0], &s);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.id[i], ids[i]);
		assert_int_equal(s.story[i], ids[0]);
	}
	grouper_free(g);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lost_batch_marks_lead_again),
	    cmocka_unit_test(test_lead_marked_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
