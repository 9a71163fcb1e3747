/* test_store.c: dedup decisions, cross-feed sources, guid quirks,
 * persistence, the walk's order, and refusing damaged files. File
 * databases live in a fresh mkdtemp directory per test. */
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
};

struct tmp {
	char dir[256];
	char path[300];
};

static struct item *mk(const char *id, const char *link, const char *title, const char *summary);
static enum store_outcome offer(struct store *st, const char *feed, const struct item *it, time_t now);
static int collect_cb(void *arg, const struct store_entry *e);
static void walk(struct store *st, time_t since, size_t limit, struct seen *s);
static void seen_free(struct seen *s);
static void tmp_make(struct tmp *t);
static void tmp_remove(struct tmp *t);
static long long sql_int(const char *path, const char *sql);
static char *slurp(const char *path, size_t *len);

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

	assert_int_equal(store_offer(st, feed, it, now, &o), 0);
	return o;
}

/* Copy what the walk hands out. */
static int
collect_cb(void *arg, const struct store_entry *e)
{
	struct seen *s = arg;
	size_t i = s->n;

	assert_true(i < MAXE);
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

/* Remove the database, its WAL files and the directory. */
static void
tmp_remove(struct tmp *t)
{
	char p[320];

	unlink(t->path);
	snprintf(p, sizeof p, "%s-wal", t->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", t->path);
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

	assert_int_equal(sql_int(t.path, "PRAGMA user_version"), 1);
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

/* Run the store tests. */
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
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_foreach_order),
	    cmocka_unit_test(test_rollback),
	    cmocka_unit_test(test_refuse_damaged),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
