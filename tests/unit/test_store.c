/* test_store.c: dedup decisions, cross-feed sources, guid quirks,
 * persistence, the walk's order, and refusing damaged files; schema 2:
 * topics, stories, the active-feeds filter, the recent-items walk, purge
 * and retention, feed health, validators tied to a URL, and migrating a
 * version 1 file. File databases live in a fresh mkdtemp directory per
 * test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

#define MAXE 32

struct seen {
	size_t n;
	size_t stop_after; /* 0: never stop */
	char *entry_id[MAXE];
	char *title[MAXE];
	char *summary[MAXE];
	char *feed[MAXE];
	char *source_title[MAXE];
	time_t updated[MAXE];
	time_t first_seen[MAXE];
	time_t published[MAXE];
	size_t ncat[MAXE];
	size_t nenc[MAXE];
	int64_t item_id[MAXE];
	int64_t story[MAXE];
	char *topics[MAXE]; /* comma-joined */
};

struct tmp {
	char dir[256];
	char path[300];
};

static struct item *mk(const char *id, const char *link, const char *title, const char *summary);
static enum store_outcome offer(struct store *st, const char *feed, const struct item *it, time_t now);
static int collect_cb(void *arg, const struct store_entry *e);
static void walk(struct store *st, time_t since, size_t limit, struct seen *s);
static void walk_topic(struct store *st, const char *topic, time_t since, size_t limit, struct seen *s);
static void walk_story(struct store *st, int64_t story, struct seen *s);
static struct item *mkd(const char *id, const char *title, time_t published);
static void offer_many(struct store *st, const char *feed, int from, int to, time_t published, time_t now);
static void seen_free(struct seen *s);
static void tmp_make(struct tmp *t);
static void tmp_remove(struct tmp *t);
static long long sql_int(const char *path, const char *sql);
static char *slurp(const char *path, size_t *len);
static int recent_cb(void *arg, const struct store_entry *e);
static int count_cb(void *arg, const struct store_entry *e);
static void v1_insert(sqlite3 *db, const char *feed, const struct item *it, time_t now);

/* An item with the given fields (NULL: absent). */
static struct item *
mk(const char *id, const char *link, const char *title, const char *summary)
{
	struct item *it = item_new();

	it->id = id ? strdup(id) : NULL;
	it->link = link ? strdup(link) : NULL;
	it->title = title ? strdup(title) : NULL;
	it->summary = summary ? strdup(summary) : NULL;
	return it;
}

/* Offer and return the decision, failing the test on a database error. */
static enum store_outcome
offer(struct store *st, const char *feed, const struct item *it, time_t now)
{
	enum store_outcome o = STORE_OUTCOMES;

	assert_int_equal(store_offer(st, feed, it, NULL, now, &o), 0);
	return o;
}

/* Copy what the walk hands out. */
static int
collect_cb(void *arg, const struct store_entry *e)
{
	struct seen *s = arg;
	size_t i = s->n;

	assert_true(i < MAXE);
	/* what lists are ordered and windowed by: the published date, else
	 * when the item was first seen */
	assert_int_equal(e->sort_date, e->item->published > 0 ? e->item->published : e->first_seen);
	s->entry_id[i] = strdup(e->entry_id);
	s->title[i] = e->item->title ? strdup(e->item->title) : NULL;
	s->summary[i] = e->item->summary ? strdup(e->item->summary) : NULL;
	s->feed[i] = strdup(e->feed_name);
	s->source_title[i] = e->source->title ? strdup(e->source->title) : NULL;
	s->updated[i] = e->updated;
	s->first_seen[i] = e->first_seen;
	s->published[i] = e->item->published;
	s->ncat[i] = e->item->ncategories;
	s->nenc[i] = e->item->nenclosures;
	s->item_id[i] = e->item_id;
	s->story[i] = e->story;
	{
		char buf[256] = "";
		for (size_t j = 0; j < e->ntopics; j++) {
			if (j > 0)
				strcat(buf, ",");
			strcat(buf, e->topics[j]);
		}
		s->topics[i] = strdup(buf);
	}
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

/* Walk into s. */
static void
walk(struct store *st, time_t since, size_t limit, struct seen *s)
{
	size_t stop = s->stop_after;

	memset(s, 0, sizeof *s);
	s->stop_after = stop;
	assert_int_equal(store_foreach_entry(st, since, limit, collect_cb, s), 0);
}

/* Walk one topic into s. */
static void
walk_topic(struct store *st, const char *topic, time_t since, size_t limit, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_foreach_entry_topic(st, topic, since, limit, collect_cb, s), 0);
}

/* An item with a URI id, a title and a date (0: none). */
static struct item *
mkd(const char *id, const char *title, time_t published)
{
	struct item *it = mk(id, NULL, title, title);

	it->published = published;
	return it;
}

/* Offer items "tag:FEED,N" for N in [from, to) from feed: all NEW. */
static void
offer_many(struct store *st, const char *feed, int from, int to, time_t published, time_t now)
{
	for (int i = from; i < to; i++) {
		char id[64];
		struct item *it;

		snprintf(id, sizeof id, "tag:%s,%d", feed, i);
		it = mkd(id, id, published);
		assert_int_equal(offer(st, feed, it, now), STORE_NEW);
		item_free(it);
	}
}

/* Free what a walk copied. */
static void
seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->entry_id[i]);
		free(s->title[i]);
		free(s->summary[i]);
		free(s->feed[i]);
		free(s->source_title[i]);
		free(s->topics[i]);
	}
	memset(s, 0, sizeof *s);
}

/* A fresh directory holding state.db. */
static void
tmp_make(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(t->dir, sizeof t->dir, "%s/feedmux-store-XXXXXX", base);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/state.db", t->dir);
}

/* Remove the database, its WAL files, its clean mark and the directory. */
static void
tmp_remove(struct tmp *t)
{
	char p[320];

	unlink(t->path);
	snprintf(p, sizeof p, "%s-wal", t->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", t->path);
	unlink(p);
	snprintf(p, sizeof p, "%s.clean", t->path);
	unlink(p);
	rmdir(t->dir);
}

/* One integer from a query on a separate connection (-1 on error). */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/* A whole file (caller frees), NULL when it cannot be read. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		} else {
			*len = (size_t)n;
		}
	}
	fclose(f);
	return data;
}

/* New, then the same again, then only white space changed: duplicates. */
static void
test_new_and_duplicate(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *a =
	    mk("tag:a.example,2024:1", "https://a.example/1", "Storm hits coast", "<p>Winds</p>");
	struct item *b =
	    mk("tag:a.example,2024:1", "https://a.example/1", "  Storm  hits coast", "<p>Winds</p>\n");
	struct seen s = {0};

	assert_non_null(st);
	assert_null(err);
	a->published = 1000;
	b->published = 1000;
	assert_int_equal(offer(st, "a", a, 2000), STORE_NEW);
	assert_int_equal(offer(st, "a", a, 2100), STORE_DUPLICATE);
	assert_int_equal(offer(st, "a", b, 2200), STORE_DUPLICATE);
	assert_int_equal(store_count(st, STORE_NEW), 1);
	assert_int_equal(store_count(st, STORE_DUPLICATE), 2);
	assert_int_equal(store_count(st, STORE_UPDATE), 0);
	assert_int_equal(store_count(st, STORE_STALE), 0);

	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:a.example,2024:1"); /* a URI id is published as is */
	assert_int_equal(s.first_seen[0], 2000);
	assert_int_equal(s.updated[0], 1000); /* the source's own date */
	seen_free(&s);
	item_free(a);
	item_free(b);
	store_close(st);
}

/* Newer timestamp and new content: update, updated moves, id and first
 * seen stay. Older: stale. Equal timestamp: stale (documented choice). */
static void
test_update_and_stale(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *v1 = mk("urn:uuid:7", "https://a.example/7", "Title", "first");
	struct item *v2 = mk("urn:uuid:7", "https://a.example/7", "Title", "second");
	struct item *old = mk("urn:uuid:7", "https://a.example/7", "Title", "older");
	struct item *same = mk("urn:uuid:7", "https://a.example/7", "Title", "same date, new text");
	struct seen s = {0};

	assert_non_null(st);
	v1->published = 500;
	v1->updated = 1000;
	v2->published = 500;
	v2->updated = 2000;
	old->updated = 900;
	same->updated = 2000;
	item_add_enclosure(v1, "https://a.example/7.mp3", "audio/mpeg", 10);
	item_add_enclosure(v2, "https://a.example/7b.mp3", "audio/mpeg", 20);
	item_add_enclosure(v2, "https://a.example/7c.jpg", "image/jpeg", 30);

	assert_int_equal(offer(st, "a", v1, 1500), STORE_NEW);
	assert_int_equal(offer(st, "a", v2, 2500), STORE_UPDATE);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.summary[0], "second");
	assert_int_equal(s.updated[0], 2000);
	assert_int_equal(s.first_seen[0], 1500);
	assert_string_equal(s.entry_id[0], "urn:uuid:7");
	assert_int_equal(s.nenc[0], 2);
	seen_free(&s);

	assert_int_equal(offer(st, "a", old, 2600), STORE_STALE);
	assert_int_equal(offer(st, "a", same, 2700), STORE_STALE);
	assert_int_equal(offer(st, "a", v2, 2800), STORE_DUPLICATE);
	walk(st, 0, 10, &s);
	assert_string_equal(s.summary[0], "second");
	assert_int_equal(s.updated[0], 2000);
	seen_free(&s);

	assert_int_equal(store_count(st, STORE_NEW), 1);
	assert_int_equal(store_count(st, STORE_UPDATE), 1);
	assert_int_equal(store_count(st, STORE_STALE), 2);
	assert_int_equal(store_count(st, STORE_DUPLICATE), 1);
	assert_int_equal(store_count(st, STORE_OUTCOMES), 0);
	item_free(v1);
	item_free(v2);
	item_free(old);
	item_free(same);
	store_close(st);
}

/* Unknown timestamps: a dated version beats an undated one; an undated
 * one never beats a dated one; with no dates at all the first feed's new
 * content is an update (updated moves to now) and another feed's is not. */
static void
test_update_unknown_dates(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *u1 = mk("tag:x,1", NULL, "T", "one");
	struct item *u2 = mk("tag:x,1", NULL, "T", "two");
	struct item *d3 = mk("tag:x,1", NULL, "T", "three");
	struct item *u4 = mk("tag:x,1", NULL, "T", "four");
	struct item *m5 = mk("tag:x,1", NULL, "T", "five");
	struct seen s = {0};

	assert_non_null(st);
	assert_int_equal(offer(st, "a", u1, 1000), STORE_NEW);
	assert_int_equal(offer(st, "b", u2, 1100), STORE_STALE);  /* other feed, no dates */
	assert_int_equal(offer(st, "a", u2, 1200), STORE_UPDATE); /* first feed, no dates */
	walk(st, 0, 10, &s);
	assert_int_equal(s.updated[0], 1200);
	assert_int_equal(s.first_seen[0], 1000);
	seen_free(&s);

	d3->updated = 800; /* dated, though earlier than the stored updated */
	assert_int_equal(offer(st, "a", d3, 1300), STORE_UPDATE);
	walk(st, 0, 10, &s);
	assert_string_equal(s.summary[0], "three");
	assert_int_equal(s.updated[0], 1300); /* never backwards: now */
	seen_free(&s);

	assert_int_equal(offer(st, "a", u4, 1400), STORE_STALE);
	/* A made-up date (the parser's first-seen time) counts as none. */
	m5->published = 5000;
	m5->date_flags = ITEM_DATE_MISSING;
	assert_int_equal(offer(st, "a", m5, 1500), STORE_STALE);
	item_free(u1);
	item_free(u2);
	item_free(d3);
	item_free(u4);
	item_free(m5);
	store_close(st);
}

/* The same URI guid in two feeds: one entry, the second feed a source. */
static void
test_cross_feed_guid(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *a = mk("https://news.example.com/?p=42", "https://news.example.com/a/42", "Story", "x");
	struct item *b = mk("https://news.example.com/?p=42", "https://news.example.com/a/42", "Story", "x");
	struct item *c = mk("https://news.example.com/?p=42", "https://news.example.com/a/42", "Story", "y");
	struct seen s = {0};

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	a->published = b->published = c->published = 100;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "world", a, 1000), STORE_NEW);
	assert_int_equal(offer(st, "top", b, 1100), STORE_DUPLICATE);
	assert_int_equal(offer(st, "top", b, 1200), STORE_DUPLICATE);
	assert_int_equal(offer(st, "europe", c, 1300), STORE_STALE); /* another rendition, same date */
	assert_int_equal(store_commit(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.feed[0], "world");
	seen_free(&s);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_sources"), 2);
	assert_int_equal(
	    sql_int(t.path, "SELECT count(*) FROM item_sources WHERE feed = 'top' AND first_seen = 1100"), 1);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_sources WHERE feed = 'world'"), 0);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
	tmp_remove(&t);
}

/* The same article in two feeds with different guids but one canonical
 * link (tracking parameters, https vs http, host case, slash, fragment). */
static void
test_cross_feed_link(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *a = mk("a-1", "https://news.example.com/world/story?utm_source=rss", "Story", "text");
	struct item *b = mk("b-77", "http://NEWS.example.com/world/story/#top", "Story", "text");
	struct item *b2 =
	    mk(NULL, "http://news.example.com:80/world/story?utm_medium=x&fbclid=1", "Story", "other text");
	struct seen s = {0};

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(offer(st, "a", a, 1000), STORE_NEW);
	assert_int_equal(offer(st, "b", b, 1100), STORE_DUPLICATE);
	/* b's next offer finds it by b's own identity, recorded with b. */
	assert_int_equal(offer(st, "b", b, 1200), STORE_DUPLICATE);
	assert_int_equal(offer(st, "c", b2, 1300), STORE_STALE);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.feed[0], "a");
	assert_string_equal(s.summary[0], "text");
	assert_true(strncmp(s.entry_id[0], "urn:feedmux:", 12) == 0); /* "a-1" is no URI */
	assert_int_equal(strlen(s.entry_id[0]), 12 + 32);
	seen_free(&s);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_sources WHERE feed IN ('b', 'c')"), 2);
	assert_int_equal(store_count(st, STORE_NEW), 1);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(b2);
	tmp_remove(&t);
}

/* One feed whose items share a link but have distinct guids keeps them
 * all; another feed's item with that link joins the oldest; that feed's
 * second item with the same link is its own entry. */
static void
test_shared_link_same_feed(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	const char *guids[] = {"1", "2", "3"};
	struct item *x = mk("x", "https://blog.example.com/", "Post 1", "one");
	struct item *y = mk("y", "https://blog.example.com/", "Other post", "other");
	struct seen s = {0};

	assert_non_null(st);
	for (size_t i = 0; i < 3; i++) {
		char title[16];
		struct item *it;
		snprintf(title, sizeof title, "Post %zu", i + 1);
		it = mk(guids[i], "https://blog.example.com/", title, title);
		it->published = (time_t)(100 + i);
		assert_int_equal(offer(st, "blog", it, 1000), STORE_NEW);
		assert_int_equal(offer(st, "blog", it, 1001), STORE_DUPLICATE);
		item_free(it);
	}
	x->published = 100;
	assert_int_equal(offer(st, "mirror", x, 1100), STORE_STALE);
	assert_int_equal(offer(st, "mirror", y, 1200), STORE_NEW);
	assert_int_equal(offer(st, "mirror", x, 1300), STORE_STALE);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 4);
	seen_free(&s);
	item_free(x);
	item_free(y);
	store_close(st);
}

/* A feed that reuses one guid for different items (title and link both
 * differ) keeps each; the same guid with a new title but the same link
 * is the same item (an update). */
static void
test_guid_reuse(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *a = mk("https://site.example/feed", "https://site.example/a", "Alpha", "a");
	struct item *b = mk("https://site.example/feed", "https://site.example/b", "Beta", "b");
	struct item *c = mk("https://site.example/feed", "https://site.example/c", "Gamma", "c");
	struct item *b2 = mk("https://site.example/feed", "https://site.example/b", "Beta, corrected", "b2");
	struct seen s = {0};

	assert_non_null(st);
	a->published = 100;
	b->published = 200;
	c->published = 300;
	b2->published = 200;
	b2->updated = 400;
	assert_int_equal(offer(st, "f", a, 1000), STORE_NEW);
	assert_int_equal(offer(st, "f", b, 1000), STORE_NEW);
	assert_int_equal(offer(st, "f", c, 1000), STORE_NEW);
	assert_int_equal(offer(st, "f", a, 2000), STORE_DUPLICATE);
	assert_int_equal(offer(st, "f", b, 2000), STORE_DUPLICATE);
	assert_int_equal(offer(st, "f", c, 2000), STORE_DUPLICATE);
	assert_int_equal(offer(st, "f", b2, 2100), STORE_UPDATE);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.title[0], "Gamma");
	assert_string_equal(s.title[1], "Beta, corrected");
	assert_string_equal(s.title[2], "Alpha");
	assert_string_equal(s.entry_id[2], "https://site.example/feed");
	assert_true(strncmp(s.entry_id[0], "urn:feedmux:", 12) == 0);
	assert_true(strncmp(s.entry_id[1], "urn:feedmux:", 12) == 0);
	assert_string_not_equal(s.entry_id[0], s.entry_id[1]);
	seen_free(&s);
	item_free(a);
	item_free(b);
	item_free(c);
	item_free(b2);
	store_close(st);
}

/* Close and reopen a file database: nothing is new, validators, metadata,
 * ids and dates are kept; the file is WAL at the current schema. */
static void
test_persistence(void **state)
{
	struct tmp t;
	char *err = NULL, *etag = NULL, *lm = NULL;
	struct store *st;
	struct item *items[5];
	struct feed_meta m;
	struct seen before = {0}, after = {0};

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(store_feed_get_validators(st, "f", &etag, &lm), 0);
	assert_null(etag);
	assert_null(lm);
	memset(&m, 0, sizeof m);
	m.title = "Feed F";
	m.link = "https://f.example/";
	m.id = "urn:f";
	m.updated = 77;
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < 5; i++) {
		char id[32], link[64];
		snprintf(id, sizeof id, "id-%d", i);
		snprintf(link, sizeof link, "https://f.example/%d", i);
		items[i] = mk(i == 4 ? NULL : id, link, "T", "S");
		items[i]->published = i == 3 ? 0 : 100 * (i + 1);
		item_add_category(items[i], "world");
		item_add_category(items[i], "news");
		assert_int_equal(offer(st, "f", items[i], 1000), STORE_NEW);
	}
	assert_int_equal(store_feed_set_meta(st, "f", &m), 0);
	assert_int_equal(store_feed_set_validators(st, "f", "https://f.example/rss", "\"abc\"",
	                                           "Sat, 28 Nov 2026 12:00:00 GMT"),
	                 0);
	assert_int_equal(store_commit(st), 0);
	walk(st, 0, 100, &before);
	store_close(st);

	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 7);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_null(err);
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(offer(st, "f", items[i], 5000), STORE_DUPLICATE);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_count(st, STORE_NEW), 0);
	assert_int_equal(store_count(st, STORE_DUPLICATE), 5);
	assert_int_equal(store_feed_get_validators(st, "f", &etag, &lm), 0);
	assert_string_equal(etag, "\"abc\"");
	assert_string_equal(lm, "Sat, 28 Nov 2026 12:00:00 GMT");
	free(etag);
	free(lm);
	walk(st, 0, 100, &after);
	assert_int_equal(before.n, 5);
	assert_int_equal(after.n, before.n);
	for (size_t i = 0; i < after.n; i++) {
		assert_string_equal(after.entry_id[i], before.entry_id[i]);
		assert_int_equal(after.updated[i], before.updated[i]);
		assert_int_equal(after.first_seen[i], 1000);
		assert_string_equal(after.source_title[i], "Feed F");
		assert_int_equal(after.ncat[i], 2);
	}
	seen_free(&before);
	seen_free(&after);
	/* Clearing validators (a 200 without them) keeps the URL. */
	assert_int_equal(store_feed_set_validators(st, "f", NULL, NULL, NULL), 0);
	assert_int_equal(store_feed_get_validators(st, "f", &etag, &lm), 0);
	assert_null(etag);
	assert_null(lm);
	store_close(st);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM feeds WHERE url = 'https://f.example/rss'"),
	                 1);
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *stmt = NULL;
		assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
	for (int i = 0; i < 5; i++)
		item_free(items[i]);
	tmp_remove(&t);
}

/* Newest first by published (else first seen), ties by entry id; limit,
 * early stop and since; categories, enclosures and source metadata. */
static void
test_foreach_order(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct feed_meta m;
	struct seen s = {0};
	struct {
		const char *id;
		time_t published;
	} in[] = {
	    {"tag:e,3", 300}, {"tag:e,1", 100}, {"tag:e,2b", 200}, {"tag:e,2a", 200}, {"tag:e,0", 0},
	};

	assert_non_null(st);
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		struct item *it = mk(in[i].id, NULL, in[i].id, NULL);
		it->published = in[i].published;
		if (i == 0) {
			item_add_category(it, "a");
			item_add_category(it, "b\nc");
			item_add_enclosure(it, "https://e.example/x.mp3", "audio/mpeg", 5);
		}
		assert_int_equal(offer(st, "e", it, 250), STORE_NEW); /* undated: 250 */
		item_free(it);
	}
	memset(&m, 0, sizeof m);
	m.title = "E";
	assert_int_equal(store_feed_set_meta(st, "e", &m), 0);

	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.entry_id[0], "tag:e,3");
	assert_string_equal(s.entry_id[1], "tag:e,0");
	assert_string_equal(s.entry_id[2], "tag:e,2a");
	assert_string_equal(s.entry_id[3], "tag:e,2b");
	assert_string_equal(s.entry_id[4], "tag:e,1");
	assert_int_equal(s.ncat[0], 2);
	assert_int_equal(s.nenc[0], 1);
	assert_string_equal(s.source_title[0], "E");
	assert_int_equal(s.published[1], 0);
	seen_free(&s);

	walk(st, 0, 2, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[1], "tag:e,0");
	seen_free(&s);

	walk(st, 200, 100, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.entry_id[3], "tag:e,2b");
	seen_free(&s);

	walk(st, 0, 0, &s);
	assert_int_equal(s.n, 0);

	s.stop_after = 3;
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 3);
	seen_free(&s);
	store_close(st);
}

/* A rolled-back feed transaction leaves nothing behind. */
static void
test_rollback(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *a = mk("urn:r:1", NULL, "R", NULL);
	struct seen s = {0};

	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "r", a, 10), STORE_NEW);
	store_rollback(st);
	store_rollback(st); /* nothing open: harmless */
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "r", a, 20), STORE_NEW);
	assert_int_equal(store_commit(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	seen_free(&s);
	item_free(a);
	store_close(st);
}

/* A store in a fresh temp dir, in batching mode (as the daemon runs it). */
static struct store *
open_batching(struct tmp *t)
{
	char *err = NULL;
	struct store *st;

	tmp_make(t);
	st = store_open(t->path, &err);
	if (st == NULL)
		fail_msg("cannot open %s: %s", t->path, err ? err : "?");
	store_set_batching(st);
	return st;
}

/* One unit of work for feed holding one new item, released into the batch. */
static void
unit_of_one(struct store *st, const char *feed, const struct item *it, time_t now)
{
	assert_int_equal(store_begin_named(st, feed), 0);
	assert_int_equal(offer(st, feed, it, now), STORE_NEW);
	assert_int_equal(store_commit(st), 0);
}

/* lost_fn for the batching tests: the names heard, comma-separated. */
static void
lost_cb(void *arg, const char *name)
{
	char *heard = arg;

	if (*heard != '\0')
		strcat(heard, ",");
	strcat(heard, name);
}

/* Batching: units join one transaction that only store_flush commits; a
 * unit rolled back takes the batch with it, and lost_fn names the units
 * the batch held. A clean close leaves STATE.clean, which the next open
 * uses up. */
static void
test_batching(void **state)
{
	struct tmp t;
	char *err = NULL, mark[320], heard[64] = "";
	struct store *st;
	struct item *a = mk("urn:b:1", NULL, "A", NULL), *b = mk("urn:b:2", NULL, "B", NULL);
	struct seen s = {0};
	struct stat sb;

	st = open_batching(&t);
	snprintf(mark, sizeof mark, "%s.clean", t.path);
	store_set_lost_fn(st, lost_cb, heard);
	assert_int_equal(store_pending(st), 0);
	unit_of_one(st, "a", a, 10);
	assert_int_equal(store_pending(st), 1); /* released, not committed */
	assert_int_equal(store_begin_named(st, "b"), 0);
	assert_int_equal(offer(st, "b", b, 10), STORE_NEW);
	store_rollback(st);
	if (store_pending(st))
		fail_msg("a unit rolled back left its batch open");
	if (strcmp(heard, "a") != 0)
		fail_msg("the batch rolled back with unit b named \"%s\" to lost_fn; expected \"a\"", heard);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 0);
	seen_free(&s);
	unit_of_one(st, "a", a, 10); /* fetched again */
	assert_int_equal(store_flush(st), 0);
	assert_int_equal(store_pending(st), 0);
	assert_int_equal(store_flush(st), 0); /* nothing open: harmless */
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	seen_free(&s);
	store_close(st);
	assert_int_equal(stat(mark, &sb), 0);

	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_not_equal(stat(mark, &sb), 0); /* used up before any write */
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	seen_free(&s);
	store_close(st);
	item_free(a);
	item_free(b);
	tmp_remove(&t);
}

/* Batching: a unit begun alone (a replay) first commits the batch and is
 * then a transaction of its own, not a savepoint in the batch: rolling it
 * back keeps what the batch held, a flush while it is open commits
 * nothing, and its commit leaves no batch open. */
static void
test_unit_alone(void **state)
{
	struct tmp t;
	struct store *st;
	struct item *a = mk("urn:al:1", NULL, "A", NULL), *b = mk("urn:al:2", NULL, "B", NULL),
	            *c = mk("urn:al:3", NULL, "C", NULL);
	struct seen s = {0};

	(void)state;
	st = open_batching(&t);
	unit_of_one(st, "a", a, 10);
	assert_int_equal(store_pending(st), 1);
	assert_int_equal(store_begin_alone(st), 0);
	assert_int_equal(offer(st, "b", b, 10), STORE_NEW);
	store_rollback(st);
	if (store_pending(st))
		fail_msg("a transaction is still open after rolling back a unit begun alone");
	walk(st, 0, 10, &s);
	if (s.n != 1)
		fail_msg("rolling back a unit begun alone left %zu items; expected the batch's 1", s.n);
	seen_free(&s);
	assert_int_equal(store_begin_alone(st), 0);
	assert_int_equal(offer(st, "c", c, 10), STORE_NEW);
	assert_int_equal(store_flush(st), 0);
	if (!store_pending(st))
		fail_msg("store_flush committed a unit begun alone before its store_commit");
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_pending(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 2);
	seen_free(&s);
	/* batching goes on as before */
	unit_of_one(st, "b", b, 11);
	assert_int_equal(store_pending(st), 1);
	assert_int_equal(store_flush(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 3);
	seen_free(&s);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
	tmp_remove(&t);
}

/* Batching: a feed's row is written once per unit of its own items, and a
 * unit rolled back takes it along (with the batch), so the feed's next
 * unit writes it again
 * (else its items would break the items -> feeds foreign key). Keys made
 * ahead (store_item_keys, as the worker lanes do) decide like keys made by
 * store_offer itself. */
static void
test_unit_feed_row(void **state)
{
	struct tmp t;
	struct store *st;
	struct item *c = mk("urn:u:1", NULL, "C", NULL), *d1 = mk("urn:u:2", NULL, "D1", NULL),
	            *d2 = mk("urn:u:3", "http://example.org/d2", "D2", "<p>two</p>");
	struct store_keys k;
	enum store_outcome o = STORE_OUTCOMES;
	struct seen s = {0};

	(void)state;
	st = open_batching(&t);
	unit_of_one(st, "c", c, 10);
	assert_int_equal(store_begin_named(st, "d"), 0);
	assert_int_equal(offer(st, "d", d1, 10), STORE_NEW);
	store_rollback(st);
	assert_int_equal(store_begin_named(st, "d"), 0);
	store_item_keys(d2, "d", &k);
	if (store_offer(st, "d", d2, &k, 10, &o) != 0)
		fail_msg("feed d's item after its rolled-back unit was not stored (no feeds row?)");
	assert_int_equal(o, STORE_NEW);
	assert_int_equal(offer(st, "d", d2, 11), STORE_DUPLICATE); /* keys made by store_offer */
	assert_int_equal(store_offer(st, "d", d2, &k, 12, &o), 0);
	assert_int_equal(o, STORE_DUPLICATE);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_flush(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1); /* d2; c went with the batch d1's unit took */
	assert_string_equal(s.title[0], "D2");
	seen_free(&s);
	store_close(st);
	item_free(c);
	item_free(d1);
	item_free(d2);
	tmp_remove(&t);
}

/* Garbage, a damaged page, or a schema from the future: refused with a
 * clear message, the file left exactly as it was. */
static void
test_refuse_damaged(void **state)
{
	struct tmp t;
	char *err = NULL, *before, *after;
	size_t blen = 0, alen = 0;
	struct store *st;
	FILE *f;
	struct stat sb;
	char wal[320];

	tmp_make(&t);
	snprintf(wal, sizeof wal, "%s-wal", t.path);

	/* Garbage. */
	f = fopen(t.path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 8192; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	before = slurp(t.path, &blen);
	st = store_open(t.path, &err);
	assert_null(st);
	assert_non_null(err);
	assert_non_null(strstr(err, t.path));
	assert_non_null(strstr(err, "refusing"));
	free(err);
	err = NULL;
	after = slurp(t.path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	assert_int_not_equal(stat(wal, &sb), 0);
	free(before);
	free(after);
	unlink(t.path);

	/* A real database with one page overwritten. */
	st = store_open(t.path, &err);
	assert_non_null(st);
	for (int i = 0; i < 50; i++) {
		char id[32];
		struct item *it;
		snprintf(id, sizeof id, "urn:d:%d", i);
		it = mk(id, NULL, "A title long enough to fill some pages of the database", NULL);
		assert_int_equal(offer(st, "d", it, 10), STORE_NEW);
		item_free(it);
	}
	store_close(st);
	f = fopen(t.path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 4096, SEEK_SET), 0); /* pages 2 and 3 */
	for (int i = 0; i < 2 * 4096; i++)
		fputc(0xa5, f);
	fclose(f);
	before = slurp(t.path, &blen);
	st = store_open(t.path, &err);
	assert_null(st);
	assert_non_null(err);
	assert_non_null(strstr(err, "refusing"));
	free(err);
	err = NULL;
	after = slurp(t.path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
	tmp_remove(&t);

	/* A newer schema than this build knows. */
	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	store_close(st);
	{
		sqlite3 *db = NULL;
		assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	st = store_open(t.path, &err);
	assert_null(st);
	assert_non_null(err);
	assert_non_null(strstr(err, "schema version 99"));
	free(err);
	tmp_remove(&t);

	/* A directory that does not exist. */
	st = store_open("/nonexistent-feedmux-dir/state.db", &err);
	assert_null(st);
	assert_non_null(err);
	free(err);
}

/* An update replaces enclosures and categories, keeps the first feed. */
static void
test_update_cross_feed(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *a = mk("tag:u,1", "https://u.example/1", "T", "old");
	struct item *b = mk("tag:u,1", "https://u.example/1", "T", "new");
	struct seen s = {0};

	assert_non_null(st);
	a->published = 100;
	b->published = 100;
	b->updated = 300;
	item_add_category(a, "x");
	item_add_enclosure(a, "https://u.example/1.mp3", NULL, 0);
	assert_int_equal(offer(st, "a", a, 1000), STORE_NEW);
	assert_int_equal(offer(st, "b", b, 1100), STORE_UPDATE);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.feed[0], "a");
	assert_string_equal(s.summary[0], "new");
	assert_int_equal(s.ncat[0], 0);
	assert_int_equal(s.nenc[0], 0);
	assert_int_equal(s.updated[0], 300);
	seen_free(&s);
	item_free(a);
	item_free(b);
	store_close(st);
}

/* The item each offer decided about, whatever the decision. */
static void
test_last_item(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *a = mkd("tag:l,1", "One", 100);
	struct item *b = mkd("tag:l,2", "Two", 200);
	struct seen s = {0};
	int64_t ida, idb;

	assert_non_null(st);
	assert_int_equal(store_last_item(st), 0);
	assert_int_equal(offer(st, "f", a, 1000), STORE_NEW);
	ida = store_last_item(st);
	assert_true(ida > 0);
	assert_int_equal(offer(st, "f", b, 1000), STORE_NEW);
	idb = store_last_item(st);
	assert_true(idb > 0 && idb != ida);
	assert_int_equal(offer(st, "f", a, 1100), STORE_DUPLICATE);
	assert_int_equal(store_last_item(st), ida);
	assert_int_equal(offer(st, "g", a, 1200), STORE_DUPLICATE); /* through another feed */
	assert_int_equal(store_last_item(st), ida);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.item_id[0], idb);
	assert_int_equal(s.item_id[1], ida);
	assert_int_equal(s.story[0], 0);
	assert_string_equal(s.topics[0], "");
	seen_free(&s);
	item_free(a);
	item_free(b);
	store_close(st);
}

/* The first topics of an item the last offer inserted skip the lookup of
 * its date and the removal of old topics: they must still carry its sort
 * date (its own, or first seen when it has none), in a unit and out of
 * one, and a second setting still replaces the first. */
static void
test_topics_fresh(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *t1 = mkd("tag:f,1", "One", 100);
	struct item *t2 = mkd("tag:f,2", "Two", 0);
	struct item *t3 = mkd("tag:f,3", "Three", 200);
	struct item *t4 = mkd("tag:f,4", "Four", 300);
	const char *world[] = {"world"};
	const char *asia[] = {"asia"};
	const char *sport[] = {"sport"};
	int64_t id2, id4;
	struct seen s = {0};

	assert_non_null(st);
	assert_int_equal(offer(st, "f", t1, 1000), STORE_NEW);
	assert_int_equal(store_item_set_topics(st, store_last_item(st), world, 1), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "f", t2, 1500), STORE_NEW); /* undated: 1500 */
	id2 = store_last_item(st);
	assert_int_equal(store_item_set_topics(st, id2, world, 1), 0);
	assert_int_equal(offer(st, "f", t3, 1500), STORE_NEW);
	assert_int_equal(store_item_set_topics(st, store_last_item(st), world, 1), 0);
	assert_int_equal(store_commit(st), 0);

	walk_topic(st, "world", 0, 10, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.entry_id[0], "tag:f,2");
	assert_string_equal(s.entry_id[1], "tag:f,3");
	assert_string_equal(s.entry_id[2], "tag:f,1");
	seen_free(&s);
	walk_topic(st, "world", 1200, 10, &s); /* since: by the sort date */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:f,2");
	seen_free(&s);

	/* Set twice right after the insert: the second replaces the first. */
	assert_int_equal(offer(st, "f", t4, 2000), STORE_NEW);
	id4 = store_last_item(st);
	assert_int_equal(store_item_set_topics(st, id4, sport, 1), 0);
	assert_int_equal(store_item_set_topics(st, id4, asia, 1), 0);
	walk_topic(st, "sport", 0, 10, &s);
	assert_int_equal(s.n, 0);
	walk_topic(st, "asia", 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:f,4");
	seen_free(&s);
	/* An offer that inserts nothing leaves no item to trust. */
	assert_int_equal(offer(st, "f", t4, 2100), STORE_DUPLICATE);
	assert_int_equal(store_item_set_topics(st, id2, asia, 1), 0);
	walk_topic(st, "world", 0, 10, &s);
	assert_int_equal(s.n, 2);
	seen_free(&s);
	walk_topic(st, "asia", 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[0], "tag:f,2"); /* first seen 1500 */
	assert_string_equal(s.entry_id[1], "tag:f,4");
	seen_free(&s);
	item_free(t1);
	item_free(t2);
	item_free(t3);
	item_free(t4);
	store_close(st);
}

/* Topics: set in the given order without repeats, replaced, walked per
 * topic newest first with limit and since, following an update's new
 * date; an unknown item is refused. */
static void
test_topics(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *t1 = mkd("tag:t,1", "One", 100);
	struct item *t2 = mkd("tag:t,2", "Two", 200);
	struct item *t3 = mkd("tag:t,3", "Three", 300);
	struct item *t1b = mkd("tag:t,1", "One", 400);
	const char *world_europe[] = {"world", "europe"};
	const char *world[] = {"world"};
	const char *sport_world[] = {"sport", "world", NULL, "sport"};
	const char *asia[] = {"asia"};
	const char *asia_sport_world[] = {"asia", "sport", "world"};
	int64_t id1, id2, id3;
	struct seen s = {0};

	assert_non_null(st);
	assert_int_equal(offer(st, "f", t1, 1000), STORE_NEW);
	id1 = store_last_item(st);
	assert_int_equal(offer(st, "f", t2, 1000), STORE_NEW);
	id2 = store_last_item(st);
	assert_int_equal(offer(st, "f", t3, 1000), STORE_NEW);
	id3 = store_last_item(st);
	assert_int_equal(store_item_set_topics(st, id1, world_europe, 2), 0);
	assert_int_equal(store_item_set_topics(st, id2, world, 1), 0);
	assert_int_equal(store_item_set_topics(st, id3, sport_world, 4), 0);

	walk_topic(st, "world", 0, 10, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.entry_id[0], "tag:t,3");
	assert_string_equal(s.entry_id[1], "tag:t,2");
	assert_string_equal(s.entry_id[2], "tag:t,1");
	assert_string_equal(s.topics[0], "sport,world");
	assert_string_equal(s.topics[2], "world,europe");
	assert_int_equal(s.item_id[2], id1);
	seen_free(&s);
	walk_topic(st, "europe", 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:t,1");
	seen_free(&s);
	walk_topic(st, "nothing", 0, 10, &s);
	assert_int_equal(s.n, 0);
	walk_topic(st, NULL, 0, 10, &s); /* NULL: every item */
	assert_int_equal(s.n, 3);
	seen_free(&s);
	walk_topic(st, "world", 0, 2, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[1], "tag:t,2");
	seen_free(&s);
	walk_topic(st, "world", 150, 10, &s);
	assert_int_equal(s.n, 2);
	seen_free(&s);
	walk_topic(st, "world", 0, 0, &s);
	assert_int_equal(s.n, 0);

	/* Replace and clear. */
	assert_int_equal(store_item_set_topics(st, id1, asia, 1), 0);
	assert_int_equal(store_item_set_topics(st, id2, NULL, 0), 0);
	walk_topic(st, "world", 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:t,3");
	seen_free(&s);
	walk_topic(st, "europe", 0, 10, &s);
	assert_int_equal(s.n, 0);
	walk(st, 0, 10, &s);
	assert_string_equal(s.topics[0], "sport,world");
	assert_string_equal(s.topics[1], "");
	assert_string_equal(s.topics[2], "asia");
	seen_free(&s);

	/* An update that moves the date moves the item in its topics. */
	assert_int_equal(store_item_set_topics(st, id3, asia_sport_world, 3), 0);
	walk_topic(st, "asia", 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[0], "tag:t,3");
	seen_free(&s);
	free(t1b->summary);
	t1b->summary = strdup("One, revised");
	assert_int_equal(offer(st, "f", t1b, 2000), STORE_UPDATE);
	walk_topic(st, "asia", 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[0], "tag:t,1");
	assert_string_equal(s.entry_id[1], "tag:t,3");
	seen_free(&s);
	walk_topic(st, "asia", 350, 10, &s);
	assert_int_equal(s.n, 1);
	seen_free(&s);

	assert_int_equal(store_item_set_topics(st, 9999, world, 1), -1);
	assert_int_equal(store_item_set_topics(st, 0, NULL, 0), -1);
	item_free(t1);
	item_free(t2);
	item_free(t3);
	item_free(t1b);
	store_close(st);
}

/* Walk one story into s. */
static void
walk_story(struct store *st, int64_t story, struct seen *s)
{
	memset(s, 0, sizeof *s);
	assert_int_equal(store_foreach_story(st, story, collect_cb, s), 0);
}

/* Stories are item keys; every walk reports them; a story's items are
 * walked oldest first; unknown items refused. */
static void
test_story(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *a = mkd("tag:s,1", "Quake hits city", 100);
	struct item *b = mkd("tag:s,2", "City hit by quake", 200);
	struct item *c = mkd("tag:s,3", "Quake: the aftermath", 300);
	const char *only_h[] = {"h"};
	struct seen s = {0};
	int64_t ida, idb, idc;

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(offer(st, "f", a, 1000), STORE_NEW);
	ida = store_last_item(st);
	assert_int_equal(offer(st, "g", b, 1000), STORE_NEW);
	idb = store_last_item(st);
	assert_int_equal(store_item_set_story(st, ida, ida), 0);
	assert_int_equal(store_item_set_story(st, idb, ida), 0);
	assert_int_equal(store_item_set_story(st, 424242, ida), -1);
	store_close(st);
	st = store_open(t.path, &err); /* and they persist */
	assert_non_null(st);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.item_id[0], idb);
	assert_int_equal(s.story[0], ida);
	assert_int_equal(s.story[1], ida);
	seen_free(&s);
	assert_int_equal(offer(st, "h", c, 900), STORE_NEW); /* first seen before the others */
	idc = store_last_item(st);
	assert_int_equal(store_item_set_story(st, idc, ida), 0);
	walk_story(st, ida, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.item_id[0], idc);
	assert_int_equal(s.item_id[1], ida); /* same first seen: by key */
	assert_int_equal(s.item_id[2], idb);
	{
		/* The brief walk: the same reports in the same order, with their
		 * titles and sources but no summary. */
		struct seen brief = {0};

		assert_int_equal(store_foreach_story_brief(st, ida, collect_cb, &brief), 0);
		assert_int_equal(brief.n, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(brief.item_id[i], s.item_id[i]);
			assert_string_equal(brief.title[i], s.title[i]);
			assert_string_equal(brief.feed[i], s.feed[i]);
			assert_int_equal(brief.first_seen[i], s.first_seen[i]);
			assert_null(brief.summary[i]);
		}
		seen_free(&brief);
	}
	seen_free(&s);
	assert_int_equal(store_set_active_feeds(st, only_h, 1), 0);
	walk_story(st, ida, &s);
	assert_int_equal(s.n, 1);
	seen_free(&s);
	assert_int_equal(store_set_active_feeds(st, NULL, 0), 0);
	walk_story(st, 0, &s); /* 0 is no story */
	assert_int_equal(s.n, 0);
	walk_story(st, idb, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_item_set_story(st, idb, 0), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.story[1], 0);
	seen_free(&s);
	walk_story(st, ida, &s);
	assert_int_equal(s.n, 2);
	seen_free(&s);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
	tmp_remove(&t);
}

/* A list's walk leaves a story's other reports out, so its limit counts
 * what the list shows: the newest reports of a story do not crowd out
 * the entries after it, and a topic's walk does the same. */
static void
test_story_leads(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct seen s = {0};
	const char *topics[] = {"quakes"};
	int64_t ids[8];

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	/* Dates 100..800: items 0, 1 and 2 stand alone, 3 leads the story
	 * that 4..7 (the newest) joined. */
	for (int i = 0; i < 8; i++) {
		char id[32], title[32];
		struct item *it;

		snprintf(id, sizeof id, "tag:l,%d", i);
		snprintf(title, sizeof title, "Report %d", i);
		it = mkd(id, title, 100 * (i + 1));
		assert_int_equal(offer(st, i < 4 ? "f" : "g", it, 1000), STORE_NEW);
		ids[i] = store_last_item(st);
		assert_int_equal(store_item_set_topics(st, ids[i], topics, 1), 0);
		item_free(it);
	}
	for (int i = 3; i < 8; i++)
		assert_int_equal(store_item_set_story(st, ids[i], ids[3]), 0);
	for (int pass = 0; pass < 2; pass++) {
		const char *topic = pass ? "quakes" : NULL;

		memset(&s, 0, sizeof s);
		assert_int_equal(store_foreach_lead_topic(st, topic, 0, 3, collect_cb, &s), 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.item_id[0], ids[3]); /* the lead, by its own date */
		assert_int_equal(s.item_id[1], ids[2]);
		assert_int_equal(s.item_id[2], ids[1]);
		seen_free(&s);
	}
	/* The head walk: the same entries, in the same order, with their keys,
	 * dates and stories but no text. */
	for (int pass = 0; pass < 2; pass++) {
		struct seen h = {0};

		memset(&s, 0, sizeof s);
		assert_int_equal(store_foreach_lead_topic(st, pass ? "quakes" : NULL, 0, 5, collect_cb, &s), 0);
		assert_int_equal(store_foreach_lead_head(st, pass ? "quakes" : NULL, 0, 5, collect_cb, &h), 0);
		assert_int_equal(h.n, s.n);
		for (size_t i = 0; i < h.n; i++) {
			assert_int_equal(h.item_id[i], s.item_id[i]);
			assert_int_equal(h.story[i], s.story[i]);
			assert_int_equal(h.updated[i], s.updated[i]);
			assert_int_equal(h.published[i], s.published[i]);
			assert_int_equal(h.first_seen[i], s.first_seen[i]);
			assert_null(h.title[i]);
		}
		seen_free(&h);
		seen_free(&s);
	}
	/* Entries by key, in the order asked; a key not stored is passed over. */
	{
		const int64_t pick[] = {ids[5], 424242, ids[1]};

		memset(&s, 0, sizeof s);
		assert_int_equal(store_foreach_item(st, pick, 3, collect_cb, &s), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.item_id[0], ids[5]);
		assert_int_equal(s.item_id[1], ids[1]);
		assert_string_equal(s.title[0], "Report 5");
		assert_string_equal(s.topics[1], "quakes");
		seen_free(&s);
	}
	/* The other walks still see every report. */
	walk(st, 0, 3, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.item_id[0], ids[7]);
	seen_free(&s);
	/* A report that left its story is an entry of its own again. */
	assert_int_equal(store_item_set_story(st, ids[7], 0), 0);
	memset(&s, 0, sizeof s);
	assert_int_equal(store_foreach_lead_topic(st, NULL, 0, 2, collect_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.item_id[0], ids[7]);
	assert_int_equal(s.item_id[1], ids[3]);
	seen_free(&s);
	store_close(st);
	tmp_remove(&t);
}

/* Only items seen in an active feed are walked (first source or not); the
 * list is copied; NULL or an empty list means every feed. */
static void
test_active_feeds(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct item *shared = mkd("tag:shared,1", "Shared", 50);
	char n0[8], n1[8];
	const char *names[2] = {n0, n1};
	const char *only_c[] = {"c"};
	const char *topic[] = {"t"};
	struct seen s = {0};

	assert_non_null(st);
	offer_many(st, "a", 0, 3, 100, 1000);
	assert_int_equal(store_item_set_topics(st, store_last_item(st), topic, 1), 0);
	offer_many(st, "b", 0, 2, 200, 1000);
	offer_many(st, "c", 0, 2, 300, 1000);
	assert_int_equal(store_item_set_topics(st, store_last_item(st), topic, 1), 0);
	assert_int_equal(offer(st, "c", shared, 1000), STORE_NEW);
	assert_int_equal(offer(st, "a", shared, 1100), STORE_DUPLICATE);

	strcpy(n0, "a");
	strcpy(n1, "b");
	assert_int_equal(store_set_active_feeds(st, names, 2), 0);
	strcpy(n0, "c"); /* the store keeps its own copy */
	strcpy(n1, "c");
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 6); /* a's 3, b's 2, and the item c shares with a */
	for (size_t i = 0; i < s.n; i++)
		assert_true(strcmp(s.feed[i], "c") != 0 || strcmp(s.entry_id[i], "tag:shared,1") == 0);
	seen_free(&s);
	walk_topic(st, "t", 0, 100, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.feed[0], "a");
	seen_free(&s);

	assert_int_equal(store_set_active_feeds(st, only_c, 1), 0);
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 3);
	seen_free(&s);

	/* Inside a feed's transaction too. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_set_active_feeds(st, NULL, 0), 0);
	assert_int_equal(store_commit(st), 0);
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 8);
	seen_free(&s);
	assert_int_equal(store_set_active_feeds(st, only_c, 1), 0);
	assert_int_equal(store_set_active_feeds(st, only_c, 0), 0); /* empty: all */
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 8);
	seen_free(&s);
	item_free(shared);
	store_close(st);
}

struct recent {
	struct store *st;
	size_t n;
	size_t stop_after;
	time_t last_seen;
	int64_t last_id;
	int64_t first_id;
	int offer_new; /* offer one new item during the walk */
};

/* Check the order and write during the walk: topics, story, an offer. */
static int
recent_cb(void *arg, const struct store_entry *e)
{
	struct recent *r = arg;
	const char *seen[] = {"seen"};

	if (r->n > 0)
		assert_true(e->first_seen > r->last_seen || (e->first_seen == r->last_seen && e->item_id > r->last_id));
	else
		r->first_id = e->item_id;
	r->last_seen = e->first_seen;
	r->last_id = e->item_id;
	assert_int_equal(store_item_set_topics(r->st, e->item_id, seen, 1), 0);
	assert_int_equal(store_item_set_story(r->st, e->item_id, r->first_id), 0);
	if (r->offer_new) {
		struct item *it = mkd("tag:late,1", "Late", 0);
		assert_int_equal(offer(r->st, "late", it, 3000), STORE_NEW);
		item_free(it);
		r->offer_new = 0;
	}
	if (r->n == 0)
		assert_int_equal(store_foreach_recent(r->st, 0, recent_cb, r), -1); /* no nested walk */
	r->n++;
	return r->stop_after != 0 && r->n >= r->stop_after;
}

/* Count the walk's entries. */
static int
count_cb(void *arg, const struct store_entry *e)
{
	(*(size_t *)arg)++;
	return 0;
}

/* Oldest first by first seen, then key, across batch boundaries inside
 * one first-seen second; the callback may write; since, stop, filter. */
static void
test_recent(void **state)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", &err);
	struct recent r;
	const char *none[] = {"none"};
	size_t n = 0;

	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	offer_many(st, "x", 0, 300, 0, 2000); /* many in one second */
	offer_many(st, "y", 0, 300, 100, 1000);
	offer_many(st, "z", 0, 10, 100, 500);
	assert_int_equal(store_commit(st), 0);

	memset(&r, 0, sizeof r);
	r.st = st;
	r.offer_new = 1;
	assert_int_equal(store_foreach_recent(st, 1000, recent_cb, &r), 0);
	assert_int_equal(r.n, 601); /* the item offered during the walk comes last */
	assert_int_equal(r.last_seen, 3000);
	assert_int_equal(store_foreach_entry_topic(st, "seen", 0, 10000, count_cb, &n), 0);
	assert_int_equal(n, 601);

	memset(&r, 0, sizeof r);
	r.st = st;
	assert_int_equal(store_foreach_recent(st, 2000, recent_cb, &r), 0);
	assert_int_equal(r.n, 301);
	memset(&r, 0, sizeof r);
	r.st = st;
	assert_int_equal(store_foreach_recent(st, 0, recent_cb, &r), 0);
	assert_int_equal(r.n, 611);
	memset(&r, 0, sizeof r);
	r.st = st;
	r.stop_after = 5;
	assert_int_equal(store_foreach_recent(st, 0, recent_cb, &r), 0);
	assert_int_equal(r.n, 5);
	n = 0;
	assert_int_equal(store_foreach_recent(st, 3001, count_cb, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_set_active_feeds(st, none, 1), 0);
	assert_int_equal(store_foreach_recent(st, 0, count_cb, &n), 0);
	assert_int_equal(n, 0);
	store_close(st);
}

/* Retention. Items whose date and first-seen time are both older than
 * `before` go, with their enclosures, sources and topics; then inactive
 * feeds without items. An old item a feed re-sends while it is still
 * stored (within keep) is a DUPLICATE, not NEW; once purged (outside
 * keep) it is NEW again, with first seen now, so it is not published (its
 * date is older than max_age) and the next purge keeps it: it is not new
 * on every poll. A new file gives its freed pages back. */
static void
test_purge(void **state)
{
	const time_t day = 86400, now = 1000 * 86400, before = now - 90 * 86400;
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *old0 = NULL;
	struct item *late = mkd("tag:late,1", "Old news, seen late", now - 200 * day);
	struct item *undated = mkd("undated-1", "No date", 0);
	const char *topics[] = {"world", "europe"};
	const char *active[] = {"r", "late"};
	struct seen s = {0};
	size_t purged = 99;

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(sql_int(t.path, "PRAGMA auto_vacuum"), 2); /* INCREMENTAL */
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < 300; i++) {
		char id[32], big[2048];
		struct item *it;

		snprintf(id, sizeof id, "tag:o,%d", i);
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		it = mkd(id, id, now - 200 * day);
		free(it->summary);
		it->summary = strdup(big);
		item_add_category(it, "c");
		item_add_enclosure(it, "https://o.example/a.mp3", "audio/mpeg", 1);
		assert_int_equal(offer(st, "o", it, now - 200 * day), STORE_NEW);
		assert_int_equal(store_item_set_topics(st, store_last_item(st), topics, 2), 0);
		if (i == 1)
			assert_int_equal(offer(st, "p", it, now - 199 * day), STORE_DUPLICATE);
		if (i == 0)
			old0 = it;
		else
			item_free(it);
	}
	assert_int_equal(offer(st, "u", undated, now - 100 * day), STORE_NEW); /* dated by first seen */
	assert_int_equal(store_commit(st), 0);
	offer_many(st, "r", 0, 5, now - day, now - day);
	assert_int_equal(offer(st, "late", late, now - day), STORE_NEW);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_sources"), 1);

	/* Within keep: still known. */
	assert_int_equal(offer(st, "o", old0, now), STORE_DUPLICATE);
	store_begin(st);
	assert_int_equal(store_purge(st, before, &purged), -1); /* not inside a feed's transaction */
	store_rollback(st);
	assert_int_equal(store_purge(st, before, &purged), 0);
	assert_int_equal(purged, 301);
	walk(st, 0, 100, &s);
	assert_int_equal(s.n, 6);
	seen_free(&s);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM enclosures"), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_topics"), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_sources"), 0);
	assert_int_equal(sql_int(t.path, "PRAGMA freelist_count"), 0);
	/* Every feed is active: no feed row goes. */
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM feeds"), 5);
	assert_int_equal(store_purge(st, before, NULL), 0);
	assert_int_equal(store_set_active_feeds(st, active, 2), 0);
	assert_int_equal(store_purge(st, before, &purged), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM feeds"), 2); /* o, p, u went */

	/* Outside keep: new again, but not published and not purged next. */
	assert_int_equal(store_set_active_feeds(st, NULL, 0), 0);
	assert_int_equal(offer(st, "o", old0, now), STORE_NEW);
	walk(st, now - 14 * day, 100, &s); /* max_age 14d: r's 5 (late is dated too long ago) */
	assert_int_equal(s.n, 5);
	for (size_t i = 0; i < s.n; i++)
		assert_string_not_equal(s.entry_id[i], "tag:o,0");
	seen_free(&s);
	assert_int_equal(store_purge(st, before, &purged), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(offer(st, "o", old0, now + day), STORE_DUPLICATE);
	/* Everything older than a later cut-off. */
	assert_int_equal(store_purge(st, now + 2 * day, &purged), 0);
	assert_int_equal(purged, 7);
	store_close(st);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM items"), 0);
	item_free(old0);
	item_free(late);
	item_free(undated);
	tmp_remove(&t);
}

/* Health round trip, a missing feed, and no effect on the validators. */
static void
test_health(void **state)
{
	char *err = NULL, *error = NULL, *etag = NULL, *lm = NULL;
	struct store *st = store_open(":memory:", &err);
	struct store_health h, got;

	assert_non_null(st);
	memset(&got, 0xff, sizeof got);
	assert_int_equal(store_feed_load_health(st, "f", &got, &error), 0);
	assert_null(error);
	assert_null(got.last_error);
	assert_int_equal(got.failures, 0);

	assert_int_equal(store_feed_set_validators(st, "f", "https://f.example/rss", "\"e\"", NULL), 0);
	memset(&h, 0, sizeof h);
	h.last_attempt = 1000;
	h.last_success = 900;
	h.next_due = 2800;
	h.last_status = 503;
	h.last_error = "HTTP 503";
	h.failures = 3;
	h.bytes = 5000000000LL;
	h.items = 42;
	h.n304 = 17;
	assert_int_equal(store_feed_save_health(st, "f", &h), 0);
	assert_int_equal(store_feed_load_health(st, "f", &got, &error), 1);
	assert_int_equal(got.last_attempt, 1000);
	assert_int_equal(got.last_success, 900);
	assert_int_equal(got.next_due, 2800);
	assert_int_equal(got.last_status, 503);
	assert_string_equal(error, "HTTP 503");
	assert_ptr_equal(got.last_error, error);
	assert_int_equal(got.failures, 3);
	assert_int_equal(got.bytes, 5000000000LL);
	assert_int_equal(got.items, 42);
	assert_int_equal(got.n304, 17);
	free(error);
	h.last_error = NULL;
	h.failures = 0;
	assert_int_equal(store_feed_save_health(st, "f", &h), 0);
	assert_int_equal(store_feed_load_health(st, "f", &got, &error), 1);
	assert_null(error);
	assert_int_equal(got.failures, 0);
	assert_int_equal(store_feed_get_validators(st, "f", &etag, &lm), 0);
	assert_string_equal(etag, "\"e\"");
	free(etag);
	/* A feed known only by its health. */
	assert_int_equal(store_feed_save_health(st, "g", &h), 0);
	assert_int_equal(store_feed_load_health(st, "g", &got, &error), 1);
	store_close(st);
}

/* Validators belong to the URL they were saved for. */
static void
test_validators_for(void **state)
{
	char *err = NULL, *etag = NULL, *lm = NULL;
	struct store *st = store_open(":memory:", &err);

	assert_non_null(st);
	assert_int_equal(store_feed_set_validators(st, "f", "https://a.example/rss", "\"1\"", "Mon"), 0);
	assert_int_equal(store_feed_get_validators_for(st, "f", "https://a.example/rss", &etag, &lm), 0);
	assert_string_equal(etag, "\"1\"");
	assert_string_equal(lm, "Mon");
	free(etag);
	free(lm);
	assert_int_equal(store_feed_get_validators_for(st, "f", "https://b.example/rss", &etag, &lm), 0);
	assert_null(etag);
	assert_null(lm);
	assert_int_equal(store_feed_get_validators_for(st, "f", NULL, &etag, &lm), 0);
	assert_string_equal(etag, "\"1\"");
	free(etag);
	free(lm);
	/* Saved without a URL: they belong to none. */
	assert_int_equal(store_feed_set_validators(st, "g", NULL, "\"2\"", NULL), 0);
	assert_int_equal(store_feed_get_validators_for(st, "g", "https://g.example/", &etag, &lm), 0);
	assert_null(etag);
	assert_int_equal(store_feed_get_validators(st, "g", &etag, &lm), 0);
	assert_string_equal(etag, "\"2\"");
	free(etag);
	assert_int_equal(store_feed_get_validators_for(st, "unknown", "https://u.example/", &etag, &lm), 0);
	assert_null(etag);
	assert_null(lm);
	store_close(st);
}

/* Schema version 1, verbatim, as the first release created it. */
static const char v1_schema[] =
    "CREATE TABLE feeds ("
    "  name TEXT PRIMARY KEY NOT NULL, url TEXT, current_url TEXT, etag TEXT, last_modified TEXT,"
    "  title TEXT, link TEXT, feed_id TEXT, updated INTEGER NOT NULL DEFAULT 0,"
    "  last_attempt INTEGER NOT NULL DEFAULT 0, last_success INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0,"
    "  next_due INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    "  items INTEGER NOT NULL DEFAULT 0, n304 INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY, identity BLOB NOT NULL UNIQUE, link_hash BLOB,"
    "  content_hash BLOB NOT NULL, feed TEXT NOT NULL REFERENCES feeds(name),"
    "  entry_id TEXT NOT NULL UNIQUE, src_id TEXT, id_is_permalink INTEGER NOT NULL DEFAULT 1,"
    "  title TEXT, link TEXT, summary TEXT, content TEXT, author TEXT, categories TEXT,"
    "  published INTEGER NOT NULL DEFAULT 0, updated_src INTEGER NOT NULL DEFAULT 0,"
    "  date_flags INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, updated INTEGER NOT NULL,"
    "  sort_date INTEGER GENERATED ALWAYS AS"
    "    (CASE WHEN published > 0 THEN published ELSE first_seen END) VIRTUAL);"
    "CREATE INDEX items_link ON items(link_hash, feed);"
    "CREATE INDEX items_feed ON items(feed);"
    "CREATE INDEX items_date ON items(sort_date DESC, entry_id);"
    "CREATE TABLE enclosures ("
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE, pos INTEGER NOT NULL,"
    "  url TEXT NOT NULL, type TEXT, length INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (item, pos)) WITHOUT ROWID;"
    "CREATE TABLE item_sources ("
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  feed TEXT NOT NULL REFERENCES feeds(name), identity BLOB NOT NULL,"
    "  first_seen INTEGER NOT NULL, PRIMARY KEY (item, feed)) WITHOUT ROWID;"
    "CREATE INDEX item_sources_identity ON item_sources(identity);"
    "CREATE INDEX item_sources_feed ON item_sources(feed);"
    "PRAGMA user_version = 1;";

/* Insert an item as version 1's store_offer did (no link). */
static void
v1_insert(sqlite3 *db, const char *feed, const struct item *it, time_t now)
{
	sqlite3_stmt *stmt = NULL;
	struct item_hash ident, content;

	item_identity_hash(it, feed, &ident, NULL);
	item_content_hash(it, &content);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "INSERT INTO items(identity, content_hash, feed, entry_id, src_id, "
	                                    "title, summary, categories, published, first_seen, updated) "
	                                    "VALUES (?1, ?2, ?3, coalesce(?4, 'urn:feedmux:' || hex(?1)), ?4, ?5, ?6, 'a\nb', ?7, ?8, ?7)",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	sqlite3_bind_blob(stmt, 1, ident.b, sizeof ident.b, SQLITE_TRANSIENT);
	sqlite3_bind_blob(stmt, 2, content.b, sizeof content.b, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, feed, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, it->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 5, it->title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, it->summary, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)it->published);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)now);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
}

/* A version 1 file migrates to the current version on open and keeps its items,
 * sources, enclosures and validators: nothing comes back as new. */
static void
test_migrate_v1(void **state)
{
	struct tmp t;
	sqlite3 *db = NULL;
	char *err = NULL, *etag = NULL, *lm = NULL;
	struct store *st;
	struct item *a = mkd("tag:m,1", "First", 100);
	struct item *b = mkd("tag:m,2", "Second", 200);
	struct item *c = mk(NULL, "https://l.example/x", "Third", "Third");
	struct item *c2 = mk("https://h.example/3", "https://l.example/x", "Third", "Third");
	const char *topics[] = {"world"};
	struct seen s = {0};

	tmp_make(&t);
	assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "INSERT INTO feeds(name, url, etag, title) "
	                              "VALUES ('f', 'https://f.example/rss', '\"v1\"', 'Feed F'), ('g', NULL, NULL, NULL)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	v1_insert(db, "f", a, 1000);
	v1_insert(db, "f", b, 3000);
	/* Without an id, the identity is the canonical link's hash, which is
	 * also the link key (both of schema 1's form). */
	v1_insert(db, "f", c, 3000);
	assert_int_equal(sqlite3_exec(db,
	                              "INSERT INTO enclosures(item, pos, url) VALUES (1, 0, 'https://f.example/1.mp3');"
	                              "INSERT INTO item_sources(item, feed, identity, first_seen) "
	                              "SELECT 1, 'g', identity, 1100 FROM items WHERE id = 1;"
	                              "UPDATE items SET link = 'https://l.example/x', link_hash = identity, "
	                              "entry_id = 'urn:feedmux:c' WHERE id = 3",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 1);

	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_null(err);
	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(t.path, "PRAGMA auto_vacuum"), 0); /* fixed at creation */
	/* Step 5: the walk's date index without the entry id. */
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'items_date'"), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'items_sort_date'"), 1);
	/* Step 6: the items stored before keep their keys, up to id 3. */
	assert_int_equal(sql_int(t.path, "SELECT value FROM meta WHERE key = 'legacy_keys'"), 3);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "f", c, 5000), STORE_DUPLICATE);
	/* Another feed's rendition with an id of its own: found by the link,
	 * in its old form. */
	assert_int_equal(offer(st, "h", c2, 5000), STORE_DUPLICATE);
	assert_int_equal(store_last_item(st), 3);
	assert_int_equal(store_commit(st), 0);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.entry_id[0], "urn:feedmux:c"); /* first seen 3000, undated */
	assert_string_equal(s.entry_id[1], "tag:m,2");
	assert_string_equal(s.entry_id[2], "tag:m,1");
	assert_string_equal(s.source_title[2], "Feed F");
	assert_int_equal(s.nenc[2], 1);
	assert_int_equal(s.ncat[2], 2);
	assert_int_equal(s.story[2], 0);
	assert_string_equal(s.topics[2], "");
	seen_free(&s);
	assert_int_equal(offer(st, "f", a, 5000), STORE_DUPLICATE);
	assert_int_equal(offer(st, "f", b, 5000), STORE_DUPLICATE);
	assert_int_equal(offer(st, "g", a, 5000), STORE_DUPLICATE);
	assert_int_equal(store_feed_get_validators_for(st, "f", "https://f.example/rss", &etag, &lm), 0);
	assert_string_equal(etag, "\"v1\"");
	free(etag);
	free(lm);
	assert_int_equal(store_item_set_topics(st, store_last_item(st), topics, 1), 0);
	assert_int_equal(store_item_set_story(st, store_last_item(st), store_last_item(st)), 0);
	walk_topic(st, "world", 0, 10, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.entry_id[0], "tag:m,1");
	seen_free(&s);
	assert_int_equal(store_purge(st, 2000, NULL), 0); /* without incremental_vacuum */
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.entry_id[1], "tag:m,2");
	seen_free(&s);
	store_close(st);
	st = store_open(t.path, &err); /* already current: nothing to do */
	assert_non_null(st);
	store_close(st);
	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 7);
	item_free(a);
	item_free(b);
	item_free(c);
	item_free(c2);
	tmp_remove(&t);
}

/* Schema 7 moves the stories out of items: a version 6 file's stories
 * (items.story, with its partial index) come through the migration, walks
 * and leads see them, and a purged item takes its story row along. */
static void
test_migrate_v6_stories(void **state)
{
	struct tmp t;
	sqlite3 *db = NULL;
	char *err = NULL;
	struct store *st;
	struct seen s = {0};
	int64_t ids[3];

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	for (int i = 0; i < 3; i++) {
		char id[32];
		struct item *it;

		snprintf(id, sizeof id, "tag:v6,%d", i);
		it = mkd(id, "Report", 100 * (i + 1));
		assert_int_equal(offer(st, i == 0 ? "f" : "g", it, 1000 + i), STORE_NEW);
		ids[i] = store_last_item(st);
		item_free(it);
	}
	store_close(st);
	/* Back to version 6's form: the stories in items, no item_stories. */
	assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
	{
		char *sql = sqlite3_mprintf("BEGIN;"
		                            "UPDATE items SET story = %lld WHERE id IN (%lld, %lld);"
		                            "DROP TABLE item_stories;"
		                            "CREATE INDEX items_story ON items(story) WHERE story <> 0;"
		                            "PRAGMA user_version = 6;"
		                            "COMMIT;",
		                            (long long)ids[0], (long long)ids[0], (long long)ids[2]);

		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_free(sql);
	}
	sqlite3_close(db);

	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_null(err);
	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 7);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'items_story'"), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_stories"), 2);
	walk(st, 0, 10, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.item_id[0], ids[2]);
	assert_int_equal(s.story[0], ids[0]);
	assert_int_equal(s.story[1], 0);
	assert_int_equal(s.story[2], ids[0]);
	seen_free(&s);
	walk_story(st, ids[0], &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.item_id[0], ids[0]);
	assert_int_equal(s.item_id[1], ids[2]);
	seen_free(&s);
	/* The list's walk shows the lead, not its other report. */
	assert_int_equal(store_foreach_lead_topic(st, NULL, 0, 10, collect_cb, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.item_id[0], ids[1]);
	assert_int_equal(s.item_id[1], ids[0]);
	seen_free(&s);
	/* Setting the same story again changes nothing; clearing removes the row. */
	assert_int_equal(store_item_set_story(st, ids[2], ids[0]), 0);
	assert_int_equal(store_item_set_story(st, ids[2], 0), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_stories"), 1);
	assert_int_equal(store_item_set_story(st, 424242, 0), -1);
	/* Purging the lead (first seen 1000) takes its story row with it. */
	assert_int_equal(store_purge(st, 1001, NULL), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM items"), 2);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM item_stories"), 0);
	store_close(st);
	tmp_remove(&t);
}

/* Keys begin with their source's locality: one publisher's ids, the ids
 * one feed scopes, and links of one host share their first four bytes
 * (and so the index pages they are stored in); other sources differ. The
 * second half (the seen filter's key) stays apart. */
static void
test_key_locality(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *it[6];

	it[0] = mk("https://x.example/1", "https://l.example/a", "One", "1");
	it[1] = mk("https://x.example/2", "https://l.example/b", "Two", "2");
	it[2] = mk("tag:x.example,2026:3", "https://m.example/c", "Three", "3");
	it[3] = mk("https://y.example/1", "https://l.example/d", "Four", "4");
	it[4] = mk("a-1", NULL, "Five", "5"); /* no URI: the feed scopes it */
	it[5] = mk("a-2", NULL, "Six", "6");
	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(offer(st, "f", it[i], 1000), STORE_NEW);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
#define SAME_PREFIX(col, a, b)                                                                              \
	sql_int(t.path, "SELECT (SELECT substr(" col ", 1, 4) FROM items WHERE id = " #a ") = "            \
	                "(SELECT substr(" col ", 1, 4) FROM items WHERE id = " #b ")")
	assert_int_equal(SAME_PREFIX("identity", 1, 2), 1);
	assert_int_equal(SAME_PREFIX("identity", 1, 3), 1); /* tag: URI of the same host */
	assert_int_equal(SAME_PREFIX("identity", 1, 4), 0);
	assert_int_equal(SAME_PREFIX("identity", 5, 6), 1);
	assert_int_equal(SAME_PREFIX("identity", 1, 5), 0);
	assert_int_equal(SAME_PREFIX("link_hash", 1, 2), 1);
	assert_int_equal(SAME_PREFIX("link_hash", 1, 4), 1);
	assert_int_equal(SAME_PREFIX("link_hash", 1, 3), 0);
	assert_int_equal(SAME_PREFIX("identity", 1, 2) + SAME_PREFIX("substr(identity, 9)", 1, 2), 1);
	/* Entry ids made from the identity share their start too. */
	assert_int_equal(sql_int(t.path, "SELECT (SELECT substr(entry_id, 1, 20) FROM items WHERE id = 5) = "
	                                 "(SELECT substr(entry_id, 1, 20) FROM items WHERE id = 6)"),
	                 1);
#undef SAME_PREFIX
	for (int i = 0; i < 6; i++)
		item_free(it[i]);
	tmp_remove(&t);
}

/* Run the store tests. */
/* The meta table keeps small facts across reopen. */
static void
test_meta(void **state)
{
	struct tmp t;
	struct store *st;
	char *err = NULL, *v;

	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_null(store_meta_get(st, "topic_rules"));
	assert_int_equal(store_meta_set(st, "topic_rules", "abc"), 0);
	assert_int_equal(store_meta_set(st, "topic_rules", "def"), 0);
	store_close(st);
	st = store_open(t.path, &err);
	assert_non_null(st);
	v = store_meta_get(st, "topic_rules");
	assert_non_null(v);
	assert_string_equal(v, "def");
	free(v);
	store_close(st);
	tmp_remove(&t);
}

/* The generation moves with every commit that changed what a rendered
 * document can show, and only then: a duplicate offer, validators,
 * health, feed metadata written again unchanged, a story set again and a
 * rolled-back batch leave it; new items, metadata that changed, topics,
 * stories, a batch's commit and a purge that removed items move it; and
 * it is kept in the file. */
static void
test_generation(void **state)
{
	const time_t now = 1000 * 86400;
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *a = mkd("urn:g:1", "A", now - 3600), *b = mkd("urn:g:2", "B", now - 60);
	struct item *c = mkd("urn:g:3", "C", now - 30), *old = mkd("urn:g:0", "Old", now - 400 * 86400);
	struct feed_meta meta = {"Feed G", "https://g.example/", NULL, 0, 0};
	struct store_health h;
	const char *topics[] = {"world"};
	size_t purged = 0;
	int64_t g, g2;

	st = open_batching(&t);
	g = store_generation(st);
	if (g < 1)
		fail_msg("a new file's generation is %lld; creating the schema must move it", (long long)g);
#define MOVED(what)                                                                                               \
	do {                                                                                                      \
		g2 = store_generation(st);                                                                        \
		if (g2 <= g)                                                                                      \
			fail_msg("%s: the generation stayed at %lld", what, (long long)g);                      \
		g = g2;                                                                                           \
	} while (0)
#define KEPT(what)                                                                                                \
	do {                                                                                                      \
		g2 = store_generation(st);                                                                        \
		if (g2 != g)                                                                                      \
			fail_msg("%s: the generation moved from %lld to %lld", what, (long long)g, (long long)g2); \
	} while (0)

	unit_of_one(st, "g", a, now);
	KEPT("a unit released into the open batch"); /* not committed yet */
	assert_int_equal(store_flush(st), 0);
	MOVED("a new item committed");
	assert_int_equal(store_begin_named(st, "g"), 0);
	assert_int_equal(offer(st, "g", a, now + 60), STORE_DUPLICATE);
	assert_int_equal(store_feed_set_validators(st, "g", "https://g.example/rss", "\"v\"", NULL), 0);
	memset(&h, 0, sizeof h);
	h.last_attempt = now;
	h.next_due = now + 1800;
	assert_int_equal(store_feed_save_health(st, "g", &h), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_flush(st), 0);
	KEPT("a duplicate, validators and health");

	assert_int_equal(store_feed_set_meta(st, "g", &meta), 0);
	MOVED("the feed's title and link set");
	assert_int_equal(store_feed_set_meta(st, "g", &meta), 0);
	KEPT("the feed's metadata set again, the same");
	meta.title = "Feed G, renamed";
	assert_int_equal(store_feed_set_meta(st, "g", &meta), 0);
	MOVED("the feed's title changed");

	assert_int_equal(store_item_set_topics(st, store_last_item(st), topics, 1), 0);
	MOVED("an item's topics set");
	assert_int_equal(store_item_set_story(st, store_last_item(st), store_last_item(st)), 0);
	MOVED("an item made a story's lead");
	assert_int_equal(store_item_set_story(st, store_last_item(st), store_last_item(st)), 0);
	KEPT("an item's story set again, the same");

	unit_of_one(st, "g", b, now);
	assert_int_equal(store_begin_named(st, "h"), 0);
	assert_int_equal(offer(st, "h", c, now), STORE_NEW);
	store_rollback(st); /* takes the batch, b too */
	KEPT("a batch rolled back");
	assert_int_equal(store_flush(st), 0);
	KEPT("a flush after the rollback");

	assert_int_equal(store_purge(st, now - 90 * 86400, &purged), 0);
	assert_int_equal(purged, 0);
	assert_int_equal(store_flush(st), 0);
	KEPT("a purge that removed nothing");
	unit_of_one(st, "g", old, now - 400 * 86400);
	assert_int_equal(store_flush(st), 0);
	MOVED("an old item committed");
	assert_int_equal(store_purge(st, now - 90 * 86400, &purged), 0);
	assert_int_equal(purged, 1);
	assert_int_equal(store_flush(st), 0); /* a unit of the batch */
	MOVED("a purge that removed an item");
#undef MOVED
#undef KEPT

	store_close(st);
	st = store_open(t.path, &err);
	assert_non_null(st);
	if (store_generation(st) != g)
		fail_msg("the generation reopened is %lld, closed at %lld", (long long)store_generation(st), (long long)g);
	store_close(st);
	item_free(a);
	item_free(b);
	item_free(c);
	item_free(old);
	tmp_remove(&t);
}

/* New items skip their lookups when the store's filter says no row has
 * their keys; it must never say so wrongly. A second store on the same
 * file (another process, as far as SQLite knows) adds items after the
 * first has built its filter: the first must find them as duplicates,
 * not insert them again (which the UNIQUE identity would refuse, losing
 * the offer). */
static void
test_seen_other_writer(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *a, *b;
	struct item *x = mk("tag:x,1", "https://example.com/x", "X", "x");
	struct item *y = mk("tag:y,1", "https://example.com/y", "Y", "y");
	struct item *y_link = mk(NULL, "https://example.com/y", "Y", "y");

	(void)state;
	tmp_make(&t);
	a = store_open(t.path, &err);
	assert_non_null(a);
	b = store_open(t.path, &err);
	assert_non_null(b);
	assert_int_equal(offer(a, "fa", x, 1000), STORE_NEW); /* a builds its filter */
	assert_int_equal(offer(b, "fb", y, 1100), STORE_NEW);
	if (offer(a, "fa", y, 1200) != STORE_DUPLICATE)
		fail_msg("an item another connection stored was not found by identity");
	/* and by link, from a third feed, without an id */
	if (offer(a, "fc", y_link, 1300) != STORE_DUPLICATE)
		fail_msg("an item another connection stored was not found by link");
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM items"), 2);
	store_close(a);
	store_close(b);
	item_free(x);
	item_free(y);
	item_free(y_link);
	tmp_remove(&t);
}

/* 30,000 items (90,000 keys) outgrow the first filter (65,536 keys) and
 * one rolled back: every one offered again is a duplicate, found by
 * identity; the rolled-back one is new again. */
static void
test_seen_grows(void **state)
{
	struct tmp t;
	char *err = NULL;
	struct store *st;
	struct item *gone = mkd("tag:gone,1", "gone", 500);

	(void)state;
	tmp_make(&t);
	st = store_open(t.path, &err);
	assert_non_null(st);
	assert_int_equal(store_begin(st), 0);
	offer_many(st, "f", 0, 30000, 1000, 2000);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(offer(st, "f", gone, 2100), STORE_NEW);
	store_rollback(st);
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < 30000; i++) {
		char id[64];
		struct item *it;

		snprintf(id, sizeof id, "tag:f,%d", i);
		it = mkd(id, id, 1000);
		if (offer(st, "f", it, 3000) != STORE_DUPLICATE)
			fail_msg("item %d of 30000, offered again, was not a duplicate", i);
		item_free(it);
	}
	assert_int_equal(offer(st, "f", gone, 3100), STORE_NEW);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(sql_int(t.path, "SELECT count(*) FROM items"), 30001);
	store_close(st);
	item_free(gone);
	tmp_remove(&t);
}

int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_and_duplicate),
	    cmocka_unit_test(test_update_and_stale),
	    cmocka_unit_test(test_update_unknown_dates),
	    cmocka_unit_test(test_update_cross_feed),
	    cmocka_unit_test(test_cross_feed_guid),
	    cmocka_unit_test(test_cross_feed_link),
	    cmocka_unit_test(test_shared_link_same_feed),
	    cmocka_unit_test(test_guid_reuse),
	    cmocka_unit_test(test_key_locality),
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_foreach_order),
	    cmocka_unit_test(test_rollback),
	    cmocka_unit_test(test_batching),
	    cmocka_unit_test(test_unit_alone),
	    cmocka_unit_test(test_unit_feed_row),
	    cmocka_unit_test(test_refuse_damaged),
	    cmocka_unit_test(test_last_item),
	    cmocka_unit_test(test_topics),
	    cmocka_unit_test(test_topics_fresh),
	    cmocka_unit_test(test_story),
	    cmocka_unit_test(test_story_leads),
	    cmocka_unit_test(test_active_feeds),
	    cmocka_unit_test(test_recent),
	    cmocka_unit_test(test_purge),
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_validators_for),
	    cmocka_unit_test(test_migrate_v1),
	    cmocka_unit_test(test_migrate_v6_stories),
	    cmocka_unit_test(test_meta),
	    cmocka_unit_test(test_generation),
	    cmocka_unit_test(test_seen_other_writer),
	    cmocka_unit_test(test_seen_grows),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
