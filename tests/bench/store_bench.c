/* store_bench.c: the state database at 100,000 items (issue 5).
 *
 *	make tests/bench/store_bench && tests/bench/store_bench [-f feeds] [-n items-per-feed] [-r rounds] [-k]
 *
 * 1. Load: feeds x items (default 2,000 x 50 = 100,000) offered into a
 *    fresh file database in a mkdtemp directory under $TMPDIR, one
 *    transaction per feed as the poller does (offers, topics for a third
 *    of the items, metadata, validators). Items look like news: a tag:
 *    guid, a link with utm_* parameters, a 60-byte title, a 400-byte HTML
 *    summary, two categories, an enclosure on every tenth; first-seen
 *    times spread over ten simulated days.
 * 2. Re-poll: the same items offered again (all duplicates): the cost of
 *    an unchanged feed's poll.
 * 3. Size: database + WAL as they stand, then after a checkpoint
 *    (TRUNCATE, from a second connection): bytes per item.
 * 4. Walks: the newest 200 entries (what /feed.atom renders), the newest
 *    200 of one topic, the newest 200 with all but one feed active, and
 *    the items first seen in the last simulated day, oldest first.
 * 5. Steady stream: rounds of one simulated day each, every feed bringing
 *    items/10 new items, then store_purge(now - 10 days), as the daemon's
 *    keep would; the file's size after each round's checkpoint.
 *
 * Figures on the development machine (2 vCPU VM shared with other builds,
 * ext4, SQLite 3.40.1, gcc -O2; wall clock, four runs):
 *
 *	load, 100,000 items       7.9-12.1 s    8,200-12,700 items/s stored
 *	re-poll, all duplicates   1.0-1.2 s     80,000-98,000 items/s
 *	database + WAL            114.8 MB      1,148 bytes/item
 *	after checkpoint          110.2 MB      1,102 bytes/item
 *	walk newest 200           0.6 ms
 *	walk newest 200 of a topic 0.9 ms (a topic holds a tenth of a third)
 *	walk, 1,999 of 2,000 feeds active 0.65 ms
 *	first seen in the last day, 10,000 items, oldest first: 35-40 ms
 *	steady stream, 10 rounds x 10,000 new items, purge keep = 10 days:
 *	  100,000 items stored after every round, ~10,000 purged a round,
 *	  the file 111.0 MB after round 1 and 109.2 MB after round 10, no
 *	  free pages left (incremental_vacuum); 4,500-8,700 items/s stored
 *	  in transactions of 5 items. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "item.h"
#include "store.h"

#define DAY 86400L
#define T0 1750000000L /* June 2025 */
#define KEEP_DAYS 10
#define WALK_LIMIT 200
#define WALK_REPEAT 20
#define NTOPICS 10

struct bench {
	char dir[256];
	char path[300];
	int feeds;
	int per_feed;
	int rounds;
	struct store *st;
	uint64_t rng;
	long long offered;
};

static double now_s(void);
static uint64_t rnd(struct bench *b);
static void die(const char *what);
static long long file_size(const char *path);
static void checkpoint(const char *path, long long *db, long long *freelist);
static struct item *make_item(struct bench *b, int feed, long long serial, time_t published);
static void load_feed(struct bench *b, int feed, long long first, int n, time_t now, int topics);
static int count_cb(void *arg, const struct store_entry *e);
static double walk_ms(struct bench *b, const char *topic, size_t *n);
static void cleanup(struct bench *b);

/* Monotonic seconds. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*, deterministic. */
static uint64_t
rnd(struct bench *b)
{
	uint64_t x = b->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Give up. */
static void
die(const char *what)
{
	fprintf(stderr, "store_bench: %s\n", what);
	exit(1);
}

/* A file's size, 0 when it does not exist. */
static long long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Checkpoint the WAL into the database from a second connection and
 * truncate it; the database's size and free pages after. */
static void
checkpoint(const char *path, long long *db, long long *freelist)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(c, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		die("checkpoint failed");
	*freelist = -1;
	if (sqlite3_prepare_v2(c, "PRAGMA freelist_count", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		*freelist = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(c);
	*db = file_size(path);
}

/* One news-like item: serial makes it unique. */
static struct item *
make_item(struct bench *b, int feed, long long serial, time_t published)
{
	static const char *const words[] = {"minister", "storm",  "election", "market", "talks",  "border",
	                                    "court",    "record", "strike",   "summit", "energy", "vote"};
	struct item *it = item_new();
	char buf[600];
	size_t off = 0;

	snprintf(buf, sizeof buf, "tag:feed%d.bench.invalid,2025:%lld", feed, serial);
	it->id = strdup(buf);
	snprintf(buf, sizeof buf, "https://feed%d.bench.invalid/2025/06/story-%lld?utm_source=rss&utm_medium=feed",
	         feed, serial);
	it->link = strdup(buf);
	snprintf(buf, sizeof buf, "%s %s %s after %s %s, item %lld", words[rnd(b) % 12], words[rnd(b) % 12],
	         words[rnd(b) % 12], words[rnd(b) % 12], words[rnd(b) % 12], serial);
	it->title = strdup(buf);
	off = (size_t)snprintf(buf, sizeof buf, "<p>");
	while (off < 400)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s %s ", words[rnd(b) % 12], words[rnd(b) % 12]);
	snprintf(buf + off, sizeof buf - off, "</p>");
	it->summary = strdup(buf);
	it->author = strdup("Staff reporter");
	item_add_category(it, words[serial % 12]);
	item_add_category(it, "world");
	if (serial % 10 == 0)
		item_add_enclosure(it, "https://cdn.bench.invalid/audio/episode.mp3", "audio/mpeg", 12345678);
	it->published = published;
	return it;
}

/* One poll of one feed: n items from serial first, in one transaction. */
static void
load_feed(struct bench *b, int feed, long long first, int n, time_t now, int topics)
{
	char name[32], url[80], title[64];
	struct feed_meta m;
	enum store_outcome o;

	snprintf(name, sizeof name, "feed%d", feed);
	snprintf(url, sizeof url, "https://feed%d.bench.invalid/rss", feed);
	snprintf(title, sizeof title, "Bench feed %d", feed);
	if (store_begin(b->st) != 0)
		die("begin failed");
	for (int i = 0; i < n; i++) {
		long long serial = first + i;
		struct item *it = make_item(b, feed, serial, now - (time_t)(rnd(b) % 3600));

		if (store_offer(b->st, name, it, NULL, now, &o) != 0)
			die("offer failed");
		if (topics && serial % 3 == 0) {
			char topic[16];
			const char *names[1] = {topic};
			snprintf(topic, sizeof topic, "topic%lld", serial % NTOPICS);
			if (store_item_set_topics(b->st, store_last_item(b->st), names, 1) != 0)
				die("set topics failed");
		}
		item_free(it);
		b->offered++;
	}
	memset(&m, 0, sizeof m);
	m.title = title;
	m.link = url;
	if (store_feed_set_meta(b->st, name, &m) != 0 ||
	    store_feed_set_validators(b->st, name, url, "\"0123456789abcdef\"", "Sun, 01 Jun 2025 12:00:00 GMT") != 0)
		die("feed update failed");
	if (store_commit(b->st) != 0)
		die("commit failed");
}

/* Count entries. */
static int
count_cb(void *arg, const struct store_entry *e)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* The median time of WALK_REPEAT walks of the newest WALK_LIMIT entries
 * (of topic, or of all when NULL), in milliseconds. */
static double
walk_ms(struct bench *b, const char *topic, size_t *n)
{
	double t[WALK_REPEAT];

	for (int r = 0; r < WALK_REPEAT; r++) {
		double t0 = now_s();
		*n = 0;
		if (store_foreach_entry_topic(b->st, topic, 0, WALK_LIMIT, count_cb, n) != 0)
			die("walk failed");
		t[r] = (now_s() - t0) * 1e3;
	}
	for (int i = 1; i < WALK_REPEAT; i++)
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[WALK_REPEAT / 2];
}

/* Remove the database files and the directory, unless -k. */
static void
cleanup(struct bench *b)
{
	char p[320];

	unlink(b->path);
	snprintf(p, sizeof p, "%s-wal", b->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", b->path);
	unlink(p);
	rmdir(b->dir);
}

int
main(int argc, char **argv)
{
	struct bench b;
	const char *tmp = getenv("TMPDIR");
	char *err = NULL, wal[320];
	long long items, db, freelist, next_serial;
	double t0, dt;
	size_t n;
	int ch, keep = 0;
	time_t now = T0;

	memset(&b, 0, sizeof b);
	b.feeds = 2000;
	b.per_feed = 50;
	b.rounds = 10;
	b.rng = 0x66656564;
	while ((ch = getopt(argc, argv, "f:n:r:k")) != -1) {
		switch (ch) {
		case 'f':
			b.feeds = atoi(optarg);
			break;
		case 'n':
			b.per_feed = atoi(optarg);
			break;
		case 'r':
			b.rounds = atoi(optarg);
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: store_bench [-f feeds] [-n items per feed] [-r rounds] [-k]\n");
			return 2;
		}
	}
	if (b.feeds < 2 || b.per_feed < 10 || b.rounds < 0)
		die("need at least 2 feeds and 10 items per feed");
	snprintf(b.dir, sizeof b.dir, "%s/feedmux-store-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(b.dir) == NULL)
		die(strerror(errno));
	snprintf(b.path, sizeof b.path, "%s/state.db", b.dir);
	snprintf(wal, sizeof wal, "%s-wal", b.path);
	b.st = store_open(b.path, &err);
	if (b.st == NULL)
		die(err);
	items = (long long)b.feeds * b.per_feed;
	printf("store_bench: %d feeds x %d items = %lld items, SQLite %s, database in %s\n\n", b.feeds,
	       b.per_feed, items, sqlite3_libversion(), b.dir);
	printf("%-34s %12s %10s %14s\n", "phase", "items", "seconds", "items/s");

	/* 1. Load, first-seen times over KEEP_DAYS days. */
	t0 = now_s();
	for (int f = 0; f < b.feeds; f++) {
		now = T0 + (time_t)((long long)f * KEEP_DAYS * DAY / b.feeds);
		load_feed(&b, f, (long long)f * b.per_feed, b.per_feed, now, 1);
	}
	dt = now_s() - t0;
	if (store_count(b.st, STORE_NEW) != (uint64_t)items)
		die("not every item was new");
	printf("%-34s %12lld %10.2f %14.0f\n", "load (one transaction per feed)", items, dt, (double)items / dt);

	/* 2. The same again: every item a duplicate. */
	b.rng = 0x66656564;
	t0 = now_s();
	for (int f = 0; f < b.feeds; f++) {
		now = T0 + (time_t)((long long)f * KEEP_DAYS * DAY / b.feeds);
		load_feed(&b, f, (long long)f * b.per_feed, b.per_feed, now + 1800, 0);
	}
	dt = now_s() - t0;
	printf("%-34s %12lld %10.2f %14.0f\n", "re-poll (all duplicates)", items, dt, (double)items / dt);
	printf("  decisions: %llu new, %llu duplicate, %llu update, %llu stale\n\n",
	       (unsigned long long)store_count(b.st, STORE_NEW), (unsigned long long)store_count(b.st, STORE_DUPLICATE),
	       (unsigned long long)store_count(b.st, STORE_UPDATE), (unsigned long long)store_count(b.st, STORE_STALE));

	/* 3. Size. */
	printf("%-34s %14s %14s\n", "size", "bytes", "bytes/item");
	printf("%-34s %14lld %14.0f\n", "database + WAL, as written", file_size(b.path) + file_size(wal),
	       (double)(file_size(b.path) + file_size(wal)) / (double)items);
	checkpoint(b.path, &db, &freelist);
	printf("%-34s %14lld %14.0f\n", "after checkpoint (WAL truncated)", db + file_size(wal),
	       (double)(db + file_size(wal)) / (double)items);
	printf("\n");

	/* 4. Walks. */
	printf("%-34s %10s %12s\n", "walk", "entries", "ms (median)");
	dt = walk_ms(&b, NULL, &n);
	printf("%-34s %10zu %12.2f\n", "newest 200", n, dt);
	dt = walk_ms(&b, "topic3", &n);
	printf("%-34s %10zu %12.2f\n", "newest 200 of one topic", n, dt);
	{
		const char **names = calloc((size_t)b.feeds, sizeof *names);
		char (*bufs)[16] = calloc((size_t)b.feeds, sizeof *bufs);
		for (int f = 1; f < b.feeds; f++) {
			snprintf(bufs[f], sizeof bufs[f], "feed%d", f);
			names[f - 1] = bufs[f];
		}
		if (store_set_active_feeds(b.st, names, (size_t)b.feeds - 1) != 0)
			die("set active feeds failed");
		dt = walk_ms(&b, NULL, &n);
		printf("%-34s %10zu %12.2f\n", "newest 200, all feeds but one", n, dt);
		store_set_active_feeds(b.st, NULL, 0);
		free(names);
		free(bufs);
	}
	t0 = now_s();
	n = 0;
	if (store_foreach_recent(b.st, T0 + (KEEP_DAYS - 1) * DAY, count_cb, &n) != 0)
		die("recent walk failed");
	printf("%-34s %10zu %12.2f\n\n", "first seen in the last day", n, (now_s() - t0) * 1e3);

	/* 5. Steady stream with purge. */
	printf("%-6s %10s %10s %10s %14s %10s %12s\n", "round", "new", "purged", "stored", "db bytes", "free pg",
	       "items/s");
	next_serial = items;
	for (int r = 1; r <= b.rounds; r++) {
		int per = b.per_feed / 10;
		size_t purged = 0;
		long long stored = 0;

		now = T0 + (time_t)(KEEP_DAYS + r) * DAY;
		t0 = now_s();
		for (int f = 0; f < b.feeds; f++) {
			load_feed(&b, f, next_serial, per, now, 1);
			next_serial += per;
		}
		dt = now_s() - t0;
		if (store_purge(b.st, now - KEEP_DAYS * DAY, &purged) != 0)
			die("purge failed");
		n = 0;
		if (store_foreach_recent(b.st, 0, count_cb, &n) != 0)
			die("count failed");
		stored = (long long)n;
		checkpoint(b.path, &db, &freelist);
		printf("%-6d %10lld %10zu %10lld %14lld %10lld %12.0f\n", r, (long long)b.feeds * per, purged, stored, db,
		       freelist, (double)b.feeds * per / dt);
	}
	dt = walk_ms(&b, NULL, &n);
	printf("\nnewest 200 after the stream: %.2f ms\n", dt);

	store_close(b.st);
	if (keep)
		printf("kept %s\n", b.dir);
	else
		cleanup(&b);
	return 0;
}
