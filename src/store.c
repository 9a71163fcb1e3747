/* store.c: one SQLite connection, its schema migrated forward from a list
 * of steps (PRAGMA user_version counts the steps applied), and every
 * statement prepared once at open and reset after each use, so no read
 * stays open between calls.
 *
 * Tables: feeds (validators, metadata, health), items (one row per entry
 * to publish, keyed by identity hash), enclosures (child rows of items),
 * item_sources (the other feeds an item was seen in, with the identity
 * hash that feed's rendition had, so its next offer is found directly).
 *
 * store_offer decides (outside a transaction, in a savepoint of its own;
 * inside one, a failure is the caller's to roll back):
 *  1. find the item by identity hash, in items or among item_sources;
 *  2. if found by an id but title AND link both differ, the feed reuses
 *     one guid for different items: look again under a second identity,
 *     hash(identity, canonical link or title), so they are kept apart;
 *  3. if not found and it has a link, find the oldest item of ANOTHER
 *     feed with the same canonical link (the same article syndicated
 *     elsewhere), unless the offering feed already has an item with that
 *     link, its own or mapped: then the link does not identify items in
 *     this feed, and items of one feed that share a link stay distinct;
 *  4. not found: NEW. Found: the offering feed is recorded as a source
 *     when it is not the first one; same content hash: DUPLICATE;
 *     otherwise store_decide() picks UPDATE or STALE by timestamp.
 *
 * Schema 2 adds each item's story and topics. item_topics repeats the
 * item's sort date so a topic's newest entries are one index range (kept
 * in step by store_update). The active-feeds filter is a TEMP table every
 * walk statement consults, so the statements stay prepared once. A new
 * file gets auto_vacuum=INCREMENTAL (it can only be chosen before the
 * first table exists), and store_purge gives freed pages back to the file
 * system; an older file reuses its free pages, which bounds it as well.
 * The recent-items walk reads in batches, resuming after the last (first
 * seen, key), so its callback may write. Schema 3 indexes each story's
 * reports. Since schema 6 identity and link keys begin with their source's
 * locality (store_localize); rows from before keep theirs, and lookups try
 * both forms while any such row is left. */
#include "store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "bloom.h"
#include "buf.h"
#include "checkpoint.h"
#include "log.h"
#include "strlist.h"
#include "url.h"
#include "xalloc.h"

/* Short: the store runs on the event loop, so waiting for another
 * process's lock stalls serving and polling; a feed whose transaction
 * cannot start fails this poll and is retried with backoff. */
#define STORE_BUSY_MS "250"
/* WAL frames after a commit that wake the checkpoint thread: SQLite's
 * own default for its automatic checkpoint. */
#define STORE_CHECKPOINT_PAGES 1000

enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_FEED_ENSURE,
	ST_FEED_GET_VALIDATORS,
	ST_FEED_SET_VALIDATORS,
	ST_FEED_SET_META,
	ST_FIND_IDENTITY,
	ST_FIND_ALIAS,
	ST_FIND_LINK,
	ST_ENTRY_ID_TAKEN,
	ST_DATA_VERSION,
	ST_MAX_ITEM,
	ST_SEEN_IDENTITIES,
	ST_SEEN_ALIASES,
	ST_SEEN_LINKS,
	ST_SEEN_ENTRY_IDS,
	ST_ITEM_INSERT,
	ST_ITEM_UPDATE,
	ST_ENC_DELETE,
	ST_ENC_INSERT,
	ST_ENC_SELECT,
	ST_SOURCE_ADD,
	ST_FOREACH,
	ST_FOREACH_TOPIC,
	ST_FOREACH_HEAD,
	ST_FOREACH_TOPIC_HEAD,
	ST_FOREACH_STORY_BRIEF,
	ST_ITEM_ENTRY,
	ST_FOREACH_STORY,
	ST_RECENT,
	ST_ITEM_SORT_DATE,
	ST_ITEM_SET_STORY,
	ST_ITEM_CLEAR_STORY,
	ST_ITEM_EXISTS,
	ST_TOPIC_DELETE,
	ST_TOPIC_INSERT,
	ST_TOPIC_SELECT,
	ST_TOPIC_REDATE,
	ST_ACTIVE_CLEAR,
	ST_ACTIVE_ADD,
	ST_PURGE_ITEMS,
	ST_PURGE_FEEDS,
	ST_FEED_SAVE_HEALTH,
	ST_FEED_LOAD_HEALTH,
	ST_GEN_BUMP,
	ST_GEN_GET,
	ST_COUNT
};

/* The statements whose changes a rendered document can show: a commit
 * after any of them changed a row moves the generation (store_generation).
 * A walk's filter on active feeds is the configuration's, not the file's. */
static const enum store_stmt store_rendered[] = {
    ST_FEED_SET_META,  ST_ITEM_INSERT,      ST_ITEM_UPDATE,  ST_ENC_DELETE,   ST_ENC_INSERT,   ST_SOURCE_ADD,
    ST_ITEM_SET_STORY, ST_ITEM_CLEAR_STORY, ST_TOPIC_DELETE, ST_TOPIC_INSERT, ST_TOPIC_REDATE, ST_PURGE_ITEMS,
};

/* Rows a store_foreach_recent batch holds at most. */
#define STORE_RECENT_BATCH 256

/* What store_offer needs to know about a stored item. */
struct store_row {
	sqlite3_int64 id;
	char *feed;
	char *title;
	struct item_hash content;
	struct item_hash link_hash;
	int has_link_hash;
	time_t published;
	time_t updated_src;
	time_t updated;
	int date_flags;
};

/* One walked entry, owning everything store_entry points to. */
struct store_walk_row {
	struct item *it;
	struct feed_meta meta;
	char *feed;
	char *entry_id;
	char **topics;
	size_t ntopics;
	sqlite3_int64 id;
	sqlite3_int64 story;
	time_t first_seen;
	time_t updated;
	time_t sort_date;
};

/* Keys of the seen filter: 8 bytes of a hash (XXH3-128, so uniform),
 * moved by a constant per kind so the kinds do not share keys. */
#define STORE_SEEN_IDENTITY UINT64_C(0)
#define STORE_SEEN_LINK UINT64_C(0x9E3779B97F4A7C15)
#define STORE_SEEN_ENTRY UINT64_C(0xC2B2AE3D27D4EB4F)
#define STORE_SEEN_MIN 65536 /* keys: 80 KB */

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
	uint64_t counts[STORE_OUTCOMES];
	sqlite3_int64 last_item; /* of the last store_offer */
	/* The item the last store_offer inserted, until its first topics are
	 * set or a unit or batch begins, ends or is lost: it has none to
	 * replace, and its sort date is known (0: none). A rolled-back key is
	 * given to the next insert, so no rollback may leave it set. */
	sqlite3_int64 fresh_item, fresh_sort_date;
	int walking;             /* inside a walk */
	int active;              /* temp.active_feeds filters the walks */
	int incremental;         /* auto_vacuum = INCREMENTAL */
	int legacy_keys;         /* rows keyed before schema 6 may remain (store_offer) */
	int batching;            /* units join one transaction until store_flush */
	int in_unit;             /* between store_begin and store_commit/rollback */
	int alone;               /* the open unit is a transaction of its own */
	size_t units;            /* units released into the open batch */
	struct strlist unit_names; /* their names, for lost_fn */
	const char *unit_name;   /* of the open unit */
	int unit_feed_row;       /* unit_name's feeds row is ensured in the unit */
	void (*lost_fn)(void *arg, const char *name);
	void *lost_arg;
	/* Every identity (items' and aliases'), link hash and entry id in the
	 * database, as keys of a Bloom filter: a new item's lookups are
	 * skipped when it says "never added". Built at the first offer,
	 * rebuilt larger when full, and rebuilt when another connection
	 * has written (data_version moved). Stale keys of rolled-back or
	 * purged rows only cost a lookup. NULL, and seen_off, after a
	 * failed build: every lookup is made. */
	struct bloom *seen;
	int seen_off;
	int64_t seen_version;
	struct checkpointer *ckpt; /* NULL: SQLite checkpoints on our thread */
	int touched;               /* the open transaction changed what renders */
};

static int store_exec(sqlite3 *db, const char *sql, const char *path, const char *what, char **err);
static int store_check(sqlite3 *db, const char *path, char **err);
static char *store_stamp(const char *path);
static int store_was_clean(const char *path);
static void store_mark_clean(const char *path);
static int store_migrate(sqlite3 *db, const char *path, char **err);
static void store_done(sqlite3_stmt *stmt);
static int store_step(struct store *st, sqlite3_stmt *stmt, const char *what);
static int store_run(struct store *st, enum store_stmt s, const char *what);
static int store_renders(const struct store *st, const sqlite3_stmt *stmt);
static int store_gen_bump(struct store *st);
static int store_batch_join(struct store *st);
static void store_batch_lost(struct store *st);
static void store_batch_reset(struct store *st);
static void store_bind_text(sqlite3_stmt *stmt, int idx, const char *s);
static void store_bind_text_static(sqlite3_stmt *stmt, int idx, const char *s);
static void store_bind_hash(sqlite3_stmt *stmt, int idx, const struct item_hash *h);
static char *store_col_strdup(sqlite3_stmt *stmt, int col);
static int store_col_hash(sqlite3_stmt *stmt, int col, struct item_hash *h);
static int store_text_eq(const char *a, const char *b);
static time_t store_timestamp(time_t updated_src, time_t published, int date_flags);
static int store_link_hash(const char *link, struct item_hash *out, uint32_t *locality);
static void store_localize(struct item_hash *h, uint32_t locality);
static void store_reuse_identity(const struct item_hash *ident, const struct item *it,
                                 const struct item_hash *link_hash, struct item_hash *out);
static int store_is_reuse(const struct store_row *row, const struct item *it,
                          const struct item_hash *link_hash, const struct item_hash *link_legacy);
static void store_row_clear(struct store_row *row);
static int store_find(struct store *st, enum store_stmt s, const struct item_hash *h, const char *feed,
                      struct store_row *row);
static int store_find_identity(struct store *st, const struct item_hash *ident, const struct item_hash *legacy,
                               struct store_row *row);
static uint64_t store_seen_hash_key(const struct item_hash *h, uint64_t domain);
static uint64_t store_seen_text_key(const char *s, size_t len);
static int store_seen_scan(struct store *st, struct bloom *b, enum store_stmt s);
static void store_seen_give_up(struct store *st);
static void store_seen_build(struct store *st, size_t capacity);
static void store_seen_sync(struct store *st);
static int store_seen_maybe(const struct store *st, uint64_t key);
static void store_seen_add(struct store *st, uint64_t key);
static char *store_categories(const struct item *it);
static void store_bind_fields(sqlite3_stmt *stmt, const struct item *it, const struct item_hash *link_hash,
                              const struct item_hash *content, time_t published, int date_flags,
                              time_t updated);
static int store_enclosures_write(struct store *st, sqlite3_int64 id, const struct item *it, int replace);
static int store_insert(struct store *st, const char *feed, const struct item *it,
                        const struct item_hash *ident, const struct item_hash *link_hash,
                        const struct item_hash *content, time_t now);
static int store_update(struct store *st, const struct store_row *row, const struct item *it,
                        const struct item_hash *link_hash, const struct item_hash *content, time_t now);
static int store_source_add(struct store *st, sqlite3_int64 id, const char *feed,
                            const struct item_hash *ident, time_t now);
static enum store_outcome store_decide(const struct store_row *row, const char *feed, const struct item *it);
static int store_enclosures_read(struct store *st, sqlite3_int64 id, struct item *it);
static void store_categories_split(struct item *it, const char *s);
static int store_pragma_int(sqlite3 *db, const char *sql, int *out);
static int store_legacy_check(struct store *st, char **err);
static int store_item_sort_date(struct store *st, sqlite3_int64 id, sqlite3_int64 *sort_date);
static int store_story_write(struct store *st, int64_t item, int64_t story);
static int store_topics_read(struct store *st, struct store_walk_row *r);
static int store_walk_row_read(struct store *st, sqlite3_stmt *stmt, int head, struct store_walk_row *r);
static void store_walk_row_clear(struct store_walk_row *r);
static void store_walk_row_entry(const struct store_walk_row *r, struct store_entry *e);
static int store_walk(struct store *st, sqlite3_stmt *stmt, int head, store_entry_fn fn, void *arg);
static int store_walk_story(struct store *st, int64_t story, int brief, store_entry_fn fn, void *arg);
static int store_walk_list(struct store *st, const char *topic, int leads, int head, time_t since,
                           size_t limit, store_entry_fn fn, void *arg);

/* The schema, one step per version; step i takes user_version i to i+1.
 * Never edit a released step: append a new one. */
static const char *const store_migrations[] = {
    /* 1: feeds, items, enclosures, item_sources. Times are Unix seconds,
     * 0 when unknown. Hashes are 16-byte XXH3-128 blobs. */
    "CREATE TABLE feeds ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  url TEXT,"         /* the URL the validators belong to */
    "  current_url TEXT," /* after permanent redirects */
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  title TEXT,"
    "  link TEXT,"
    "  feed_id TEXT,"
    "  updated INTEGER NOT NULL DEFAULT 0,"
    "  last_attempt INTEGER NOT NULL DEFAULT 0,"
    "  last_success INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  next_due INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  items INTEGER NOT NULL DEFAULT 0,"
    "  n304 INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE items ("
    "  id INTEGER PRIMARY KEY,"
    "  identity BLOB NOT NULL UNIQUE,"
    "  link_hash BLOB," /* canonical link, NULL without one */
    "  content_hash BLOB NOT NULL,"
    "  feed TEXT NOT NULL REFERENCES feeds(name)," /* first source */
    "  entry_id TEXT NOT NULL UNIQUE,"             /* published atom:id */
    "  src_id TEXT,"                               /* the source's id/guid */
    "  id_is_permalink INTEGER NOT NULL DEFAULT 1,"
    "  title TEXT,"
    "  link TEXT,"
    "  summary TEXT,"
    "  content TEXT,"
    "  author TEXT,"
    "  categories TEXT," /* newline-joined */
    "  published INTEGER NOT NULL DEFAULT 0,"
    "  updated_src INTEGER NOT NULL DEFAULT 0," /* the source's updated */
    "  date_flags INTEGER NOT NULL DEFAULT 0,"
    "  first_seen INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL," /* moves on content change */
    "  sort_date INTEGER GENERATED ALWAYS AS"
    "    (CASE WHEN published > 0 THEN published ELSE first_seen END) VIRTUAL"
    ");"
    "CREATE INDEX items_link ON items(link_hash, feed);"
    "CREATE INDEX items_feed ON items(feed);"
    "CREATE INDEX items_date ON items(sort_date DESC, entry_id);"
    "CREATE TABLE enclosures ("
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  url TEXT NOT NULL,"
    "  type TEXT,"
    "  length INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (item, pos)"
    ") WITHOUT ROWID;"
    "CREATE TABLE item_sources ("
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  feed TEXT NOT NULL REFERENCES feeds(name),"
    "  identity BLOB NOT NULL," /* that feed's identity hash for the item */
    "  first_seen INTEGER NOT NULL,"
    "  PRIMARY KEY (item, feed)"
    ") WITHOUT ROWID;"
    "CREATE INDEX item_sources_identity ON item_sources(identity);"
    "CREATE INDEX item_sources_feed ON item_sources(feed);",
    /* 2: an item's story (the key of the item that opened it, 0: none)
     * and topics (pos: the order they were given in; sort_date: the
     * item's, for walking a topic newest first); first_seen indexed for
     * the recent-items walk and purge. */
    "ALTER TABLE items ADD COLUMN story INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX items_first_seen ON items(first_seen);"
    "CREATE TABLE item_topics ("
    "  topic TEXT NOT NULL,"
    "  item INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,"
    "  pos INTEGER NOT NULL,"
    "  sort_date INTEGER NOT NULL,"
    "  PRIMARY KEY (topic, item)"
    ") WITHOUT ROWID;"
    "CREATE INDEX item_topics_item ON item_topics(item);"
    "CREATE INDEX item_topics_date ON item_topics(topic, sort_date DESC);",
    /* 3: the reports of a story, for showing them under its lead. */
    "CREATE INDEX items_story ON items(story) WHERE story <> 0;",
    /* 4: small facts about the state itself (e.g. which topic rules the
     * stored topics were decided with). */
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;",
    /* 5: the date index without the entry id: ties of a second are rare
     * and sorted in the walk, and the id made the index four times as
     * large (22 of 25 MiB at 300,000 items), with a random key, so that
     * every batch rewrote more of it. */
    "DROP INDEX items_date; CREATE INDEX items_sort_date ON items(sort_date DESC);",
    /* 6: identity and link hashes begin with their source's locality
     * (store_localize), so that one publisher's items share index pages.
     * Rows stored before keep their keys: meta's legacy_keys is the
     * highest item id they can have, and lookups try those keys too while
     * such an item is left. */
    "INSERT INTO meta(key, value) SELECT 'legacy_keys', CAST(id AS TEXT) FROM items ORDER BY id DESC LIMIT 1;",
    /* 7: an item's story in a narrow table of its own. In items, setting
     * it rewrote the whole row with its overflow pages (read back first):
     * a cold cycle at 2,000 bench feeds sets 14,000 stories, and writes
     * 570 MB where it wrote 604. items.story is retired, left as it was:
     * dropping a column rewrites the whole table. */
    "CREATE TABLE item_stories ("
    "  item INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
    "  story INTEGER NOT NULL" /* the key of the item that opened it */
    ");"
    "INSERT INTO item_stories(item, story) SELECT id, story FROM items WHERE story <> 0;"
    "DROP INDEX items_story;"
    "CREATE INDEX item_stories_story ON item_stories(story);",
};

/* Move the generation: one row of meta, in the committing transaction. */
#define STORE_GEN_BUMP_SQL                                                                                    \
	"INSERT INTO meta(key, value) VALUES ('generation', '1') "                                            \
	"ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"

/* The session's active feeds; see store_set_active_feeds. */
#define STORE_TEMP_SQL                                                                                        \
	"CREATE TEMP TABLE IF NOT EXISTS active_feeds (name TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID"

/* What every walk hands out (see store_walk_row_read), and its filter on
 * active feeds: ?3 is non-zero when the filter is on. */
#define STORE_ENTRY_COLS                                                                                      \
	"i.id, i.feed, i.entry_id, i.src_id, i.id_is_permalink, i.title, i.link, i.summary, "              \
	"i.content, i.author, i.categories, i.published, i.updated_src, i.date_flags, "                    \
	"i.first_seen, i.updated, f.title, f.link, f.feed_id, f.updated, coalesce(y.story, 0), i.sort_date"
/* The same columns, only those a walk that counts and dates entries reads
 * (see store_foreach_lead_head); NULL for the rest, whose text (with its
 * overflow pages) is then never read. */
#define STORE_HEAD_COLS                                                                                       \
	"i.id, i.feed, i.entry_id, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, i.published, i.updated_src, "     \
	"i.date_flags, i.first_seen, i.updated, NULL, NULL, NULL, 0, coalesce(y.story, 0), i.sort_date"
/* ...and those a story's report list reads: its title, link and source. */
#define STORE_BRIEF_COLS                                                                                      \
	"i.id, i.feed, i.entry_id, NULL, 0, i.title, i.link, NULL, NULL, NULL, NULL, i.published, i.updated_src, "  \
	"i.date_flags, i.first_seen, i.updated, f.title, NULL, NULL, 0, coalesce(y.story, 0), i.sort_date"
#define STORE_ACTIVE                                                                                          \
	"(?3 = 0 OR i.feed IN (SELECT name FROM temp.active_feeds) OR EXISTS (SELECT 1 FROM item_sources s " \
	"WHERE s.item = i.id AND s.feed IN (SELECT name FROM temp.active_feeds)))"

/* ?5 non-zero: a story's other reports are left out, its lead stands for
 * it (so a walk's limit counts what a list shows). */
#define STORE_LEADS "(?5 = 0 OR y.story IS NULL OR y.story = i.id)"

/* An item with its feed and its story (y.story: NULL when in none). */
#define STORE_FROM_ITEMS                                                                                      \
	" FROM items i JOIN feeds f ON f.name = i.feed LEFT JOIN item_stories y ON y.item = i.id"

/* The walks of a list (all items, or a topic's) and of a story, after
 * their columns. */
#define STORE_LIST_ALL                                                                                        \
	STORE_FROM_ITEMS " WHERE i.sort_date >= ?1 AND " STORE_ACTIVE " AND "                                   \
	STORE_LEADS " ORDER BY i.sort_date DESC, i.entry_id ASC LIMIT ?2"
#define STORE_LIST_TOPIC                                                                                      \
	" FROM item_topics t JOIN items i ON i.id = t.item JOIN feeds f ON f.name = i.feed "                    \
	"LEFT JOIN item_stories y ON y.item = i.id "                                                           \
	"WHERE t.topic = ?4 AND t.sort_date >= ?1 AND " STORE_ACTIVE " AND " STORE_LEADS " "                    \
	"ORDER BY t.sort_date DESC, i.entry_id ASC LIMIT ?2"
#define STORE_STORY                                                                                           \
	" FROM item_stories y JOIN items i ON i.id = y.item JOIN feeds f ON f.name = i.feed "                   \
	"WHERE y.story = ?4 AND " STORE_ACTIVE                                                                \
	" ORDER BY i.first_seen, i.id"

#define STORE_ROW_COLS                                                                                       \
	"i.id, i.feed, i.content_hash, i.title, i.link_hash, i.published, i.updated_src, i.date_flags, "     \
	"i.updated"

/* Every statement, prepared once at open. Insert and update share
 * parameter numbers for the item's fields (see store_bind_fields). */
static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT offer",
    [ST_RELEASE] = "RELEASE offer",
    [ST_ROLLBACK_TO] = "ROLLBACK TO offer",
    [ST_FEED_ENSURE] = "INSERT INTO feeds(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
    [ST_FEED_GET_VALIDATORS] = "SELECT etag, last_modified, url FROM feeds WHERE name = ?1",
    [ST_FEED_SET_VALIDATORS] = "INSERT INTO feeds(name, url, etag, last_modified) VALUES (?1, ?2, ?3, ?4) "
                               "ON CONFLICT(name) DO UPDATE SET url = coalesce(excluded.url, url), "
                               "etag = excluded.etag, last_modified = excluded.last_modified",
    [ST_FEED_SET_META] = "INSERT INTO feeds(name, title, link, feed_id, updated) VALUES (?1, ?2, ?3, ?4, ?5) "
                         "ON CONFLICT(name) DO UPDATE SET title = excluded.title, link = excluded.link, "
                         "feed_id = excluded.feed_id, updated = excluded.updated "
                         /* unchanged: no row changed, so no generation moved */
                         "WHERE title IS NOT excluded.title OR link IS NOT excluded.link OR "
                         "feed_id IS NOT excluded.feed_id OR updated IS NOT excluded.updated",
    [ST_FIND_IDENTITY] = "SELECT " STORE_ROW_COLS " FROM items i WHERE i.identity = ?1",
    [ST_FIND_ALIAS] = "SELECT " STORE_ROW_COLS " FROM item_sources s JOIN items i ON i.id = s.item "
                      "WHERE s.identity = ?1 ORDER BY s.item LIMIT 1",
    /* ?3: the link's key as stored before schema 6 (else ?1 again). */
    [ST_FIND_LINK] = "SELECT " STORE_ROW_COLS " FROM items i WHERE i.link_hash IN (?1, ?3) AND i.feed <> ?2 "
                     "AND NOT EXISTS (SELECT 1 FROM items j WHERE j.link_hash IN (?1, ?3) AND j.feed = ?2) "
                     "AND NOT EXISTS (SELECT 1 FROM items j CROSS JOIN item_sources s "
                     "WHERE j.link_hash IN (?1, ?3) AND s.item = j.id AND s.feed = ?2) "
                     "ORDER BY i.id LIMIT 1",
    [ST_ENTRY_ID_TAKEN] = "SELECT 1 FROM items WHERE entry_id = ?1",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_MAX_ITEM] = "SELECT coalesce(max(id), 0) FROM items",
    /* Each read from an index of its own (covering), not the table. */
    [ST_SEEN_IDENTITIES] = "SELECT identity FROM items",
    [ST_SEEN_ALIASES] = "SELECT identity FROM item_sources",
    [ST_SEEN_LINKS] = "SELECT link_hash FROM items WHERE link_hash IS NOT NULL",
    [ST_SEEN_ENTRY_IDS] = "SELECT entry_id FROM items",
    [ST_ITEM_INSERT] =
        "INSERT INTO items(identity, link_hash, content_hash, feed, entry_id, src_id, "
        "id_is_permalink, title, link, summary, content, author, categories, published, "
        "updated_src, date_flags, first_seen, updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [ST_ITEM_UPDATE] = "UPDATE items SET link_hash = ?2, content_hash = ?3, title = ?8, link = ?9, "
                       "summary = ?10, content = ?11, author = ?12, categories = ?13, published = ?14, "
                       "updated_src = ?15, date_flags = ?16, updated = ?18 WHERE id = ?1",
    [ST_ENC_DELETE] = "DELETE FROM enclosures WHERE item = ?1",
    [ST_ENC_INSERT] = "INSERT INTO enclosures(item, pos, url, type, length) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ENC_SELECT] = "SELECT url, type, length FROM enclosures WHERE item = ?1 ORDER BY pos",
    [ST_SOURCE_ADD] = "INSERT INTO item_sources(item, feed, identity, first_seen) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT(item, feed) DO NOTHING",
    [ST_FOREACH] = "SELECT " STORE_ENTRY_COLS STORE_LIST_ALL,
    [ST_FOREACH_TOPIC] = "SELECT " STORE_ENTRY_COLS STORE_LIST_TOPIC,
    [ST_FOREACH_HEAD] = "SELECT " STORE_HEAD_COLS STORE_LIST_ALL,
    [ST_FOREACH_TOPIC_HEAD] = "SELECT " STORE_HEAD_COLS STORE_LIST_TOPIC,
    [ST_FOREACH_STORY] = "SELECT " STORE_ENTRY_COLS STORE_STORY,
    [ST_FOREACH_STORY_BRIEF] = "SELECT " STORE_BRIEF_COLS STORE_STORY,
    /* Resume after (?5, ?6): the rest of first seen ?5, then later ones;
     * two index ranges, merged. */
    [ST_RECENT] = "SELECT " STORE_ENTRY_COLS STORE_FROM_ITEMS " "
                  "WHERE i.first_seen = ?5 AND i.id > ?6 AND " STORE_ACTIVE " "
                  "UNION ALL SELECT " STORE_ENTRY_COLS STORE_FROM_ITEMS " "
                  "WHERE i.first_seen > ?5 AND " STORE_ACTIVE " ORDER BY 15, 1 LIMIT ?2",
    [ST_ITEM_SORT_DATE] = "SELECT sort_date FROM items WHERE id = ?1",
    /* Only when it changes (a story's lead is marked at every join), and
     * only for an item that is there. */
    [ST_ITEM_SET_STORY] = "INSERT INTO item_stories(item, story) SELECT ?1, ?2 "
                          "WHERE EXISTS (SELECT 1 FROM items WHERE id = ?1) "
                          "ON CONFLICT(item) DO UPDATE SET story = excluded.story WHERE story <> excluded.story",
    [ST_ITEM_CLEAR_STORY] = "DELETE FROM item_stories WHERE item = ?1",
    [ST_ITEM_EXISTS] = "SELECT 1 FROM items WHERE id = ?1",
    [ST_ITEM_ENTRY] = "SELECT " STORE_ENTRY_COLS STORE_FROM_ITEMS " WHERE i.id = ?1",
    [ST_TOPIC_DELETE] = "DELETE FROM item_topics WHERE item = ?1",
    [ST_TOPIC_INSERT] = "INSERT INTO item_topics(topic, item, pos, sort_date) VALUES (?1, ?2, ?3, ?4) "
                        "ON CONFLICT(topic, item) DO NOTHING",
    [ST_TOPIC_SELECT] = "SELECT topic FROM item_topics WHERE item = ?1 ORDER BY pos",
    [ST_TOPIC_REDATE] = "UPDATE item_topics SET sort_date = (SELECT sort_date FROM items WHERE id = ?1) "
                        "WHERE item = ?1",
    [ST_ACTIVE_CLEAR] = "DELETE FROM temp.active_feeds",
    [ST_ACTIVE_ADD] = "INSERT INTO temp.active_feeds(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
    [ST_PURGE_ITEMS] = "DELETE FROM items WHERE sort_date < ?1 AND first_seen < ?1",
    [ST_PURGE_FEEDS] = "DELETE FROM feeds WHERE ?1 <> 0 AND name NOT IN (SELECT name FROM temp.active_feeds) "
                       "AND NOT EXISTS (SELECT 1 FROM items i WHERE i.feed = feeds.name) "
                       "AND NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.feed = feeds.name)",
    [ST_FEED_SAVE_HEALTH] =
        "INSERT INTO feeds(name, last_attempt, last_success, next_due, last_status, last_error, failures, "
        "bytes, items, n304) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT(name) DO UPDATE SET last_attempt = excluded.last_attempt, "
        "last_success = excluded.last_success, next_due = excluded.next_due, "
        "last_status = excluded.last_status, last_error = excluded.last_error, "
        "failures = excluded.failures, bytes = excluded.bytes, items = excluded.items, n304 = excluded.n304",
    [ST_FEED_LOAD_HEALTH] = "SELECT last_attempt, last_success, next_due, last_status, last_error, failures, "
                            "bytes, items, n304 FROM feeds WHERE name = ?1",
    [ST_GEN_BUMP] = STORE_GEN_BUMP_SQL,
    [ST_GEN_GET] = "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0)",
};

/* Run fixed SQL during open; on failure set *err naming the step. */
static int
store_exec(sqlite3 *db, const char *sql, const char *path, const char *what, char **err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	*err = xasprintf("state database %s: %s: %s", path, what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* One integer from a pragma or query run during open. */
static int
store_pragma_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		*out = sqlite3_column_int(stmt, 0);
		ret = 0;
	}
	sqlite3_finalize(stmt);
	return ret;
}

/* What identifies the file's exact state: device, inode, size and
 * modification time; NULL when there is a write-ahead log with frames in
 * it (then the file alone is not the state). */
static char *
store_stamp(const char *path)
{
	char *wal = xasprintf("%s-wal", path);
	struct stat sb;
	char *stamp = NULL;

	if (stat(wal, &sb) == 0 && sb.st_size > 0)
		goto done;
	if (stat(path, &sb) != 0)
		goto done;
	stamp = xasprintf("feedmux clean close %llu %llu %lld %lld.%09ld\n", (unsigned long long)sb.st_dev,
	                  (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
	                  sb.st_mtim.tv_nsec);
done:
	free(wal);
	return stamp;
}

/* After a clean close, PATH.clean records the file's stamp. File times
 * come from a coarse clock, so a write right after this one could leave
 * the same modification time: the file's is first set 1 ns back, which
 * no later write (dated by a clock that never goes back) can produce. */
static void
store_mark_clean(const char *path)
{
	char *mark = xasprintf("%s.clean", path), *stamp = NULL;
	struct timespec times[2] = {{0, UTIME_OMIT}, {0, 0}};
	struct stat sb;
	FILE *f;

	if (stat(path, &sb) != 0)
		goto done;
	times[1] = sb.st_mtim;
	if (times[1].tv_nsec > 0) {
		times[1].tv_nsec--;
	} else {
		times[1].tv_sec--;
		times[1].tv_nsec = 999999999;
	}
	if (utimensat(AT_FDCWD, path, times, 0) != 0)
		goto done;
	stamp = store_stamp(path);

	if (stamp != NULL && (f = fopen(mark, "we")) != NULL) {
		if (fputs(stamp, f) < 0 || fclose(f) != 0)
			unlink(mark);
	}
done:
	free(stamp);
	free(mark);
}

/* Whether the file is exactly as the last clean close left it. The mark
 * is used once: it is removed before anything can write. */
static int
store_was_clean(const char *path)
{
	char *mark = xasprintf("%s.clean", path), *stamp = store_stamp(path);
	char line[160];
	FILE *f = fopen(mark, "re");
	int clean = 0;

	if (f != NULL) {
		clean = stamp != NULL && fgets(line, sizeof line, f) != NULL && strcmp(line, stamp) == 0;
		fclose(f);
		unlink(mark);
	}
	free(stamp);
	free(mark);
	return clean;
}

/* PRAGMA quick_check before anything writes: a damaged file is refused,
 * never repaired or recreated, and left exactly as it was. */
static int
store_check(sqlite3 *db, const char *path, char **err)
{
	sqlite3_stmt *stmt = NULL;
	const char *res;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		*err = xasprintf(
		    "state database %s is damaged or not an SQLite database (%s); refusing to start: "
		    "restore it from a backup or move it aside (feedmux never recreates it)",
		    path, sqlite3_errmsg(db));
		goto done;
	}
	res = (const char *)sqlite3_column_text(stmt, 0);
	if (res == NULL || strcmp(res, "ok") != 0) {
		*err = xasprintf("state database %s failed PRAGMA quick_check (%s); refusing to start: "
		                 "restore it from a backup or move it aside (feedmux never recreates it)",
		                 path, res ? res : "no result");
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(stmt);
	return ret;
}

/* Apply the schema steps the file has not seen, each in its own
 * transaction together with the new user_version. */
static int
store_migrate(sqlite3 *db, const char *path, char **err)
{
	const int latest = (int)(sizeof store_migrations / sizeof store_migrations[0]);
	sqlite3_stmt *stmt = NULL;
	int version, from = -1, ret = -1, in_tx = 0;
	char *sql = NULL;

	for (;;) {
		if (store_exec(db, "BEGIN IMMEDIATE", path, "cannot start the schema migration", err) != 0)
			goto done;
		in_tx = 1;
		if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
		    sqlite3_step(stmt) != SQLITE_ROW) {
			*err = xasprintf("state database %s: cannot read its schema version: %s", path,
			                 sqlite3_errmsg(db));
			goto done;
		}
		version = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
		stmt = NULL;
		if (from < 0)
			from = version;
		if (version > latest) {
			*err = xasprintf(
			    "state database %s has schema version %d, newer than this feedmux knows (%d); "
			    "refusing to use it",
			    path, version, latest);
			goto done;
		}
		if (version == latest)
			break;
		if (store_exec(db, store_migrations[version], path, "schema migration failed", err) != 0)
			goto done;
		sql = xasprintf("PRAGMA user_version = %d", version + 1);
		if (store_exec(db, sql, path, "cannot set the schema version", err) != 0)
			goto done;
		free(sql);
		sql = NULL;
		if (store_exec(db, "COMMIT", path, "cannot commit the schema migration", err) != 0)
			goto done;
		in_tx = 0;
		if (from == 0)
			log_debug("store: %s: schema version %d created", path, version + 1);
		else
			log_info("store: %s: schema migrated from version %d to %d", path, version, version + 1);
	}
	/* A new schema may render differently: what was rendered is stale. */
	if (from != latest && store_exec(db, STORE_GEN_BUMP_SQL, path, "cannot move the generation", err) != 0)
		goto done;
	if (store_exec(db, "COMMIT", path, "cannot end the schema check", err) != 0)
		goto done;
	in_tx = 0;
	ret = 0;
done:
	sqlite3_finalize(stmt);
	free(sql);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

/* Open the database, check it, migrate it and prepare the statements. */
struct store *
store_open(const char *path, char **err)
{
	struct store *st = NULL;
	sqlite3 *db = NULL;
	int memory, pages = -1, vacuum = 0;

	*err = NULL;
	if (path == NULL || *path == '\0') {
		*err = xstrdup("no state database path given");
		goto fail;
	}
	memory = strcmp(path, ":memory:") == 0;
	/* One thread (the event loop) uses a store: no mutex per call, and no
	 * global allocation statistics (a lock around every SQLite malloc).
	 * The config call only takes before SQLite is first initialized; later
	 * it fails harmlessly. Together these were 2.5 % of a cold cycle. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		*err = xasprintf("cannot open state database %s: %s", path,
		                 db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	if (store_exec(db, "PRAGMA busy_timeout = " STORE_BUSY_MS, path, "cannot set busy_timeout", err) != 0)
		goto fail;
	/* quick_check reads the whole file: skip it when the file is exactly
	 * as a clean close left it (see store_mark_clean). */
	if ((memory || !store_was_clean(path)) && store_check(db, path, err) != 0)
		goto fail;
	if (!memory) {
		sqlite3_stmt *stmt = NULL;
		const char *mode = NULL;

		/* Only a file without pages can still choose (WAL writes one). */
		if (store_pragma_int(db, "PRAGMA page_count", &pages) == 0 && pages == 0 &&
		    store_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", path, "cannot set auto_vacuum", err) != 0)
			goto fail;
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW)
			mode = (const char *)sqlite3_column_text(stmt, 0);
		if (mode == NULL) {
			*err = xasprintf("state database %s: cannot set journal_mode=WAL: %s", path,
			                 sqlite3_errmsg(db));
			sqlite3_finalize(stmt);
			goto fail;
		}
		if (strcmp(mode, "wal") != 0)
			log_warn("store: %s: journal_mode is %s, not wal", path, mode);
		sqlite3_finalize(stmt);
	}
	if (store_exec(db, "PRAGMA synchronous = NORMAL", path, "cannot set synchronous", err) != 0 ||
	    store_exec(db, "PRAGMA foreign_keys = ON", path, "cannot enable foreign keys", err) != 0)
		goto fail;
	if (store_migrate(db, path, err) != 0)
		goto fail;
	/* 3 MiB of page cache (SQLite's default is 2): the indexes' upper
	 * levels stay in memory. At 10,000 feeds the random-key indexes are
	 * 60 MiB, far past any cache the 64 MiB target allows: 8 MiB was no
	 * faster (cold --once at 2,000 feeds 5.9 s against 5.7 s, at 10,000
	 * 28.6 s against 29.7 s with 4 MiB) and 4 MB more of the peak; 3 MiB
	 * leaves a margin under the target for the Bloom filter below. */
	if (store_exec(db, "PRAGMA cache_size = -3072", path, "cannot set cache_size", err) != 0 ||
	    store_exec(db, "PRAGMA temp_store = MEMORY", path, "cannot set temp_store", err) != 0 ||
	    store_exec(db, STORE_TEMP_SQL, path, "cannot create the session's tables", err) != 0)
		goto fail;
	if (store_pragma_int(db, "PRAGMA auto_vacuum", &vacuum) != 0)
		vacuum = 0;

	st = xcalloc(1, sizeof *st);
	st->db = db;
	st->path = xstrdup(path);
	st->incremental = vacuum == 2;
	/* Checkpoints off the event loop: in a cold cycle they were an eighth
	 * of its time, and its waits for fsync. */
	if (!memory) {
		char *cerr = NULL;

		if ((st->ckpt = checkpointer_start(path, db, STORE_CHECKPOINT_PAGES, &cerr)) == NULL) {
			log_warn("store: %s; checkpoints stay on the main thread", cerr);
			free(cerr);
		}
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			*err = xasprintf("state database %s: cannot prepare statement %d: %s", path, i,
			                 sqlite3_errmsg(db));
			goto fail;
		}
	}
	if (store_legacy_check(st, err) != 0)
		goto fail;
	return st;
fail:
	if (st != NULL) {
		store_close(st);
	} else if (db != NULL) {
		sqlite3_close(db);
	}
	return NULL;
}

/* Whether items keyed before schema 6 remain (meta's legacy_keys is the
 * highest id one can have): until retention purged the last of them,
 * lookups try their form of the keys too. 0, or -1 with *err set. */
static int
store_legacy_check(struct store *st, char **err)
{
	sqlite3_stmt *stmt = NULL;
	int ret = -1;

	if (sqlite3_prepare_v2(st->db,
	                       "SELECT EXISTS (SELECT 1 FROM items WHERE id <= "
	                       "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'legacy_keys'))",
	                       -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		*err = xasprintf("state database %s: cannot read its items: %s", st->path, sqlite3_errmsg(st->db));
		goto done;
	}
	st->legacy_keys = sqlite3_column_int(stmt, 0);
	ret = 0;
done:
	sqlite3_finalize(stmt);
	return ret;
}

/* Finalize every statement, let SQLite refresh its planner statistics,
 * and close the connection. */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL) {
		st->in_unit = 0;
		store_flush(st);
	}
	checkpointer_stop(st->ckpt);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL)
		sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, NULL);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_err("store: %s: close: %s", st->path, sqlite3_errmsg(st->db));
	else if (st->db != NULL && strcmp(st->path, ":memory:") != 0)
		store_mark_clean(st->path);
	strlist_free(&st->unit_names);
	bloom_free(st->seen);
	free(st->path);
	free(st);
}

/* Reset a statement after use so it holds no read lock or bindings. */
static void
store_done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* Step once: SQLITE_ROW or SQLITE_DONE, or -1 with the error logged. */
static int
store_step(struct store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_DONE && !st->touched && store_renders(st, stmt) && sqlite3_changes64(st->db) > 0) {
		st->touched = 1;
		/* A statement that was its own transaction has committed. */
		if (sqlite3_get_autocommit(st->db) && store_gen_bump(st) < 0)
			return -1;
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	log_err("store: %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Whether stmt is one of store_rendered. */
static int
store_renders(const struct store *st, const sqlite3_stmt *stmt)
{
	for (size_t i = 0; i < sizeof store_rendered / sizeof store_rendered[0]; i++)
		if (st->stmt[store_rendered[i]] == stmt)
			return 1;
	return 0;
}

/* Move the generation now; the open transaction, if any, carries it. */
static int
store_gen_bump(struct store *st)
{
	sqlite3_stmt *stmt = st->stmt[ST_GEN_BUMP];
	int rc = sqlite3_step(stmt);

	store_done(stmt);
	if (rc != SQLITE_DONE) {
		log_err("store: move the generation: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	st->touched = 0;
	return 0;
}

/* Run a statement without parameters or rows. A commit, or the release
 * of a savepoint (which commits when it began the transaction), first
 * moves the generation if the transaction changed what renders. */
static int
store_run(struct store *st, enum store_stmt s, const char *what)
{
	sqlite3_stmt *stmt = st->stmt[s];
	int rc;

	if ((s == ST_COMMIT || s == ST_RELEASE) && st->touched && store_gen_bump(st) < 0)
		return -1;
	if (s == ST_ROLLBACK)
		st->touched = 0;
	rc = store_step(st, stmt, what);
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Bind a string, or NULL. */
static void
store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, idx);
}

/* Bind a string, or NULL, without a copy: s must stay as it is until
 * the statement is reset (store_done). For the large fields of items. */
static void
store_bind_text_static(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, idx);
}

/* Bind a hash as a 16-byte blob, or NULL. */
static void
store_bind_hash(sqlite3_stmt *stmt, int idx, const struct item_hash *h)
{
	if (h != NULL)
		sqlite3_bind_blob(stmt, idx, h->b, sizeof h->b, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, idx);
}

/* A copy of a text column, or NULL for SQL NULL. */
static char *
store_col_strdup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

/* Read a hash column; 0 when it is NULL or not 16 bytes. */
static int
store_col_hash(sqlite3_stmt *stmt, int col, struct item_hash *h)
{
	const void *p = sqlite3_column_blob(stmt, col);

	if (p == NULL || sqlite3_column_bytes(stmt, col) != (int)sizeof h->b)
		return 0;
	memcpy(h->b, p, sizeof h->b);
	return 1;
}

/* Whether two texts are equal after normalization (NULL equals ""). */
static int
store_text_eq(const char *a, const char *b)
{
	size_t la, lb, i = 0, j = 0;

	a = item_trim(a, &la);
	b = item_trim(b, &lb);
	while (i < la && j < lb) {
		if (item_is_space(a[i]) && item_is_space(b[j])) {
			while (i < la && item_is_space(a[i]))
				i++;
			while (j < lb && item_is_space(b[j]))
				j++;
			continue;
		}
		if (a[i] != b[j])
			return 0;
		i++;
		j++;
	}
	return i == la && j == lb;
}

/* An item's own timestamp for update/stale: its updated, else published;
 * 0 when the parser had to make the date up (ITEM_DATE_MISSING). */
static time_t
store_timestamp(time_t updated_src, time_t published, int date_flags)
{
	if (date_flags & ITEM_DATE_MISSING)
		return 0;
	if (updated_src > 0)
		return updated_src;
	return published > 0 ? published : 0;
}

/* Hash of the canonical link (the same bytes as a link identity), and
 * the link's locality; 0 when there is no usable http(s) link. */
static int
store_link_hash(const char *link, struct item_hash *out, uint32_t *locality)
{
	XXH128_canonical_t c;
	struct buf b;
	char *canon;

	if (link == NULL || (canon = url_canonical(link)) == NULL)
		return 0;
	buf_init(&b);
	buf_puts(&b, "link:");
	buf_append(&b, canon, strlen(canon) + 1);
	XXH128_canonicalFromHash(&c, XXH3_128bits(b.data, b.len));
	memcpy(out->b, c.digest, sizeof out->b);
	*locality = item_locality(canon, strlen(canon));
	buf_free(&b);
	free(canon);
	return 1;
}

/* A key as stored since schema 6: the hash with its first four bytes
 * replaced by the locality, big-endian, so that an index over the keys
 * orders them by source first. Each poll stores a feed's items together,
 * and their keys now share a few index pages instead of landing on as many
 * random ones: with SQLite's cache a small part of the indexes, each such
 * page was read back and written out again per item (7.3 GB written for
 * a 0.93 GB database in a cold cycle of the 10,000-feed bench, 4.6 GB
 * with these keys). The other 96 bits keep keys apart. */
static void
store_localize(struct item_hash *h, uint32_t locality)
{
	h->b[0] = (uint8_t)(locality >> 24);
	h->b[1] = (uint8_t)(locality >> 16);
	h->b[2] = (uint8_t)(locality >> 8);
	h->b[3] = (uint8_t)locality;
}

/* The second identity of an item whose guid its feed reused: the first
 * identity with the canonical link, or the normalized title without one. */
static void
store_reuse_identity(const struct item_hash *ident, const struct item *it, const struct item_hash *link_hash,
                     struct item_hash *out)
{
	XXH128_canonical_t c;
	struct buf b;
	const char *t;
	size_t tlen;

	buf_init(&b);
	buf_puts(&b, "reuse:");
	buf_append(&b, (const char *)ident->b, sizeof ident->b);
	if (link_hash != NULL) {
		buf_puts(&b, "link:");
		buf_append(&b, (const char *)link_hash->b, sizeof link_hash->b);
	} else {
		t = item_trim(it->title, &tlen);
		buf_puts(&b, "title:");
		buf_append(&b, t, tlen);
	}
	XXH128_canonicalFromHash(&c, XXH3_128bits(b.data, b.len));
	memcpy(out->b, c.digest, sizeof out->b);
	buf_free(&b);
}

/* Whether an item found by its id is really a different item under a
 * reused guid: title AND link both differ from the stored one. A missing
 * link on either side counts as differing only against a present one. */
static int
store_is_reuse(const struct store_row *row, const struct item *it, const struct item_hash *link_hash,
               const struct item_hash *link_legacy)
{
	int link_differs;

	if (store_text_eq(row->title, it->title))
		return 0;
	if (link_hash == NULL && !row->has_link_hash)
		link_differs = 0;
	else if (link_hash == NULL || !row->has_link_hash)
		link_differs = 1;
	else
		link_differs = memcmp(link_hash->b, row->link_hash.b, sizeof link_hash->b) != 0 &&
		               memcmp(link_legacy->b, row->link_hash.b, sizeof link_legacy->b) != 0;
	return link_differs;
}

/* Free what a row owns. */
static void
store_row_clear(struct store_row *row)
{
	free(row->feed);
	free(row->title);
	memset(row, 0, sizeof *row);
}

/* Look up one row with a find statement: 1 found, 0 not, -1 error. */
static int
store_find(struct store *st, enum store_stmt s, const struct item_hash *h, const char *feed,
           struct store_row *row)
{
	sqlite3_stmt *stmt = st->stmt[s];
	int rc;

	store_bind_hash(stmt, 1, h);
	if (feed != NULL)
		store_bind_text(stmt, 2, feed);
	rc = store_step(st, stmt, "find item");
	if (rc == SQLITE_ROW) {
		store_row_clear(row);
		row->id = sqlite3_column_int64(stmt, 0);
		row->feed = store_col_strdup(stmt, 1);
		store_col_hash(stmt, 2, &row->content);
		row->title = store_col_strdup(stmt, 3);
		row->has_link_hash = store_col_hash(stmt, 4, &row->link_hash);
		row->published = (time_t)sqlite3_column_int64(stmt, 5);
		row->updated_src = (time_t)sqlite3_column_int64(stmt, 6);
		row->date_flags = sqlite3_column_int(stmt, 7);
		row->updated = (time_t)sqlite3_column_int64(stmt, 8);
		if (row->feed == NULL)
			row->feed = xstrdup("");
	}
	store_done(stmt);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* Find by identity: an item's own key, else another source's alias; then,
 * while rows from before schema 6 remain, their form of the key (legacy). */
static int
store_find_identity(struct store *st, const struct item_hash *ident, const struct item_hash *legacy,
                    struct store_row *row)
{
	int found;

	/* Both forms have the same seen-filter key (store_seen_hash_key). */
	if (!store_seen_maybe(st, store_seen_hash_key(ident, STORE_SEEN_IDENTITY)))
		return 0;
	found = store_find(st, ST_FIND_IDENTITY, ident, NULL, row);
	if (found == 0)
		found = store_find(st, ST_FIND_ALIAS, ident, NULL, row);
	if (found == 0 && st->legacy_keys)
		found = store_find(st, ST_FIND_IDENTITY, legacy, NULL, row);
	if (found == 0 && st->legacy_keys)
		found = store_find(st, ST_FIND_ALIAS, legacy, NULL, row);
	return found;
}

/* The key of a hash. */
static uint64_t
store_seen_hash_key(const struct item_hash *h, uint64_t domain)
{
	uint64_t k;

	/* The second half: the first starts with the locality (store_localize),
	 * shared by a source's keys, and differs between a key's two forms. */
	memcpy(&k, h->b + 8, sizeof k);
	return k ^ domain;
}

/* The key of an entry id. */
static uint64_t
store_seen_text_key(const char *s, size_t len)
{
	return XXH3_64bits(s, len) ^ STORE_SEEN_ENTRY;
}

/* Add the keys of the column statement s reads (entry id text, else
 * hashes). 0, or -1 on an error (logged). */
static int
store_seen_scan(struct store *st, struct bloom *b, enum store_stmt s)
{
	sqlite3_stmt *stmt = st->stmt[s];
	uint64_t domain = s == ST_SEEN_LINKS ? STORE_SEEN_LINK : STORE_SEEN_IDENTITY;
	int rc;

	while ((rc = store_step(st, stmt, "read the keys of the items")) == SQLITE_ROW) {
		if (s == ST_SEEN_ENTRY_IDS) {
			const char *t = (const char *)sqlite3_column_text(stmt, 0);

			if (t != NULL)
				bloom_add(b, store_seen_text_key(t, (size_t)sqlite3_column_bytes(stmt, 0)));
		} else {
			struct item_hash h;

			if (store_col_hash(stmt, 0, &h))
				bloom_add(b, store_seen_hash_key(&h, domain));
		}
	}
	store_done(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* (Re)build the filter from the database, for at least capacity keys
 * and a quarter more than the items (three keys each) may need. On an
 * error the filter is given up: every lookup is made from then on. */
static void
store_seen_build(struct store *st, size_t capacity)
{
	struct bloom *b;
	int64_t maxid = 0;
	size_t want;

	bloom_free(st->seen);
	st->seen = NULL;
	if (store_step(st, st->stmt[ST_MAX_ITEM], "read the last item id") == SQLITE_ROW)
		maxid = sqlite3_column_int64(st->stmt[ST_MAX_ITEM], 0);
	else
		maxid = -1;
	store_done(st->stmt[ST_MAX_ITEM]);
	if (maxid < 0)
		goto fail;
	want = (size_t)maxid * 3 + (size_t)maxid * 3 / 4;
	if (want < capacity)
		want = capacity;
	if (want < STORE_SEEN_MIN)
		want = STORE_SEEN_MIN;
	b = bloom_new(want);
	if (store_seen_scan(st, b, ST_SEEN_IDENTITIES) != 0 || store_seen_scan(st, b, ST_SEEN_ALIASES) != 0 ||
	    store_seen_scan(st, b, ST_SEEN_LINKS) != 0 || store_seen_scan(st, b, ST_SEEN_ENTRY_IDS) != 0) {
		bloom_free(b);
		goto fail;
	}
	st->seen = b;
	return;
fail:
	store_seen_give_up(st);
}

/* After an error (logged where it happened): no filter from now on. */
static void
store_seen_give_up(struct store *st)
{
	bloom_free(st->seen);
	st->seen = NULL;
	st->seen_off = 1;
	log_warn("store: %s: every item is looked up in the indexes from now on", st->path);
}

/* Build the filter if there is none, or again if another connection has
 * committed since (PRAGMA data_version). Called where the transaction
 * already holds the write lock, so no other commit can come between
 * this and the lookups it guards. */
static void
store_seen_sync(struct store *st)
{
	sqlite3_stmt *stmt = st->stmt[ST_DATA_VERSION];
	int64_t v;

	if (st->seen_off)
		return;
	if (store_step(st, stmt, "read data_version") != SQLITE_ROW) {
		store_done(stmt);
		store_seen_give_up(st);
		return;
	}
	v = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	if (st->seen != NULL && v == st->seen_version)
		return;
	st->seen_version = v;
	store_seen_build(st, 0);
}

/* 0 when key is certainly in no row, 1 when it may be (or no filter). */
static int
store_seen_maybe(const struct store *st, uint64_t key)
{
	return st->seen == NULL || bloom_maybe(st->seen, key);
}

/* Record a key written; a full filter is built again, larger. */
static void
store_seen_add(struct store *st, uint64_t key)
{
	if (st->seen == NULL)
		return;
	bloom_add(st->seen, key);
	if (bloom_count(st->seen) > bloom_capacity(st->seen))
		store_seen_build(st, bloom_count(st->seen) + bloom_count(st->seen) / 4);
}

/* Categories joined by newlines (a newline inside a term becomes a
 * space); NULL when there are none. */
static char *
store_categories(const struct item *it)
{
	struct buf b;

	if (it->ncategories == 0)
		return NULL;
	buf_init(&b);
	for (size_t i = 0; i < it->ncategories; i++) {
		size_t start;

		if (i > 0)
			buf_puts(&b, "\n");
		start = b.len;
		buf_puts(&b, it->categories[i] ? it->categories[i] : "");
		for (size_t j = start; j < b.len; j++)
			if (b.data[j] == '\n' || b.data[j] == '\r')
				b.data[j] = ' ';
	}
	return buf_steal(&b);
}

/* Bind the fields insert and update share: ?2 link hash, ?3 content hash,
 * ?8..?13 text, ?14 published, ?15 source updated, ?16 flags, ?18 updated. */
static void
store_bind_fields(sqlite3_stmt *stmt, const struct item *it, const struct item_hash *link_hash,
                  const struct item_hash *content, time_t published, int date_flags, time_t updated)
{
	char *cats = store_categories(it);

	store_bind_hash(stmt, 2, link_hash);
	store_bind_hash(stmt, 3, content);
	/* The item outlives the statement's step; cats does not. */
	store_bind_text_static(stmt, 8, it->title);
	store_bind_text_static(stmt, 9, it->link);
	store_bind_text_static(stmt, 10, it->summary);
	store_bind_text_static(stmt, 11, it->content);
	store_bind_text_static(stmt, 12, it->author);
	store_bind_text(stmt, 13, cats);
	sqlite3_bind_int64(stmt, 14, (sqlite3_int64)published);
	sqlite3_bind_int64(stmt, 15, (sqlite3_int64)it->updated);
	sqlite3_bind_int(stmt, 16, date_flags);
	sqlite3_bind_int64(stmt, 18, (sqlite3_int64)updated);
	free(cats);
}

/* Write an item's enclosures, first deleting the old ones if replace. */
static int
store_enclosures_write(struct store *st, sqlite3_int64 id, const struct item *it, int replace)
{
	sqlite3_stmt *stmt = st->stmt[ST_ENC_DELETE];
	int rc;

	if (replace) {
		sqlite3_bind_int64(stmt, 1, id);
		rc = store_step(st, stmt, "delete enclosures");
		store_done(stmt);
		if (rc < 0)
			return -1;
	}
	stmt = st->stmt[ST_ENC_INSERT];
	for (size_t i = 0; i < it->nenclosures; i++) {
		const struct enclosure *e = &it->enclosures[i];
		if (e->url == NULL)
			continue;
		sqlite3_bind_int64(stmt, 1, id);
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)i);
		store_bind_text(stmt, 3, e->url);
		store_bind_text(stmt, 4, e->type);
		sqlite3_bind_int64(stmt, 5, e->length);
		rc = store_step(st, stmt, "insert enclosure");
		store_done(stmt);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Insert a new item. Its entry id is the source's id when that is a URI
 * no other entry has taken, else urn:feedmux:<identity hash>. updated
 * starts at the source's own date (updated, else published) so a backlog
 * imported today does not all look changed today; first_seen without one. */
static int
store_insert(struct store *st, const char *feed, const struct item *it, const struct item_hash *ident,
             const struct item_hash *link_hash, const struct item_hash *content, time_t now)
{
	sqlite3_stmt *stmt = NULL;
	char *entry_id = NULL, *src_id = NULL;
	const char *id;
	size_t idlen;
	time_t ts;
	int rc, ret = -1;

	id = item_trim(it->id, &idlen);
	if (idlen > 0)
		src_id = xstrndup(id, idlen);
	if (src_id != NULL && item_id_is_uri(src_id, idlen)) {
		rc = SQLITE_DONE; /* not taken, unless a row may have it */
		if (store_seen_maybe(st, store_seen_text_key(src_id, idlen))) {
			stmt = st->stmt[ST_ENTRY_ID_TAKEN];
			store_bind_text(stmt, 1, src_id);
			rc = store_step(st, stmt, "check entry id");
			store_done(stmt);
			if (rc < 0)
				goto done;
		}
		if (rc == SQLITE_DONE)
			entry_id = xstrdup(src_id);
	}
	if (entry_id == NULL) {
		char hex[33];
		item_hash_hex(ident, hex);
		entry_id = xasprintf("urn:feedmux:%s", hex);
	}
	ts = store_timestamp(it->updated, it->published, it->date_flags);
	stmt = st->stmt[ST_ITEM_INSERT];
	store_bind_hash(stmt, 1, ident);
	store_bind_text(stmt, 4, feed);
	store_bind_text(stmt, 5, entry_id);
	store_bind_text(stmt, 6, src_id);
	sqlite3_bind_int(stmt, 7, it->id_is_permalink ? 1 : 0);
	store_bind_fields(stmt, it, link_hash, content, it->published, it->date_flags, ts > 0 ? ts : now);
	sqlite3_bind_int64(stmt, 17, (sqlite3_int64)now);
	rc = store_step(st, stmt, "insert item");
	store_done(stmt);
	if (rc < 0)
		goto done;
	store_seen_add(st, store_seen_hash_key(ident, STORE_SEEN_IDENTITY));
	if (link_hash != NULL)
		store_seen_add(st, store_seen_hash_key(link_hash, STORE_SEEN_LINK));
	store_seen_add(st, store_seen_text_key(entry_id, strlen(entry_id)));
	if (store_enclosures_write(st, sqlite3_last_insert_rowid(st->db), it, 0) != 0)
		goto done;
	ret = 0;
done:
	free(entry_id);
	free(src_id);
	return ret;
}

/* Replace a stored item's fields with the offered ones. updated moves to
 * the offered timestamp when that is later than the stored updated, else
 * to now, and always forward. A made-up date (missing) does not replace a
 * stored published date. The first source and entry id never change. */
static int
store_update(struct store *st, const struct store_row *row, const struct item *it,
             const struct item_hash *link_hash, const struct item_hash *content, time_t now)
{
	sqlite3_stmt *stmt = st->stmt[ST_ITEM_UPDATE];
	time_t ts = store_timestamp(it->updated, it->published, it->date_flags);
	time_t published = it->published, updated;
	int flags = it->date_flags, rc;

	if ((it->date_flags & ITEM_DATE_MISSING) && row->published > 0) {
		published = row->published;
		flags = row->date_flags;
	}
	updated = ts > row->updated ? ts : now;
	if (updated <= row->updated)
		updated = row->updated + 1;
	sqlite3_bind_int64(stmt, 1, row->id);
	store_bind_fields(stmt, it, link_hash, content, published, flags, updated);
	rc = store_step(st, stmt, "update item");
	store_done(stmt);
	if (rc < 0)
		return -1;
	if (link_hash != NULL)
		store_seen_add(st, store_seen_hash_key(link_hash, STORE_SEEN_LINK));
	/* The topics' copy of the sort date follows a new published date
	 * (the sort date is published, or first seen, which stays). */
	if (published == row->published)
		return store_enclosures_write(st, row->id, it, 1);
	stmt = st->stmt[ST_TOPIC_REDATE];
	sqlite3_bind_int64(stmt, 1, row->id);
	rc = store_step(st, stmt, "re-date topics");
	store_done(stmt);
	if (rc < 0)
		return -1;
	return store_enclosures_write(st, row->id, it, 1);
}

/* Record that feed also carries item id, under that feed's identity. */
static int
store_source_add(struct store *st, sqlite3_int64 id, const char *feed, const struct item_hash *ident,
                 time_t now)
{
	sqlite3_stmt *stmt = st->stmt[ST_SOURCE_ADD];
	int rc;

	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, feed);
	store_bind_hash(stmt, 3, ident);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now);
	rc = store_step(st, stmt, "add item source");
	store_done(stmt);
	if (rc < 0)
		return -1;
	store_seen_add(st, store_seen_hash_key(ident, STORE_SEEN_IDENTITY));
	return 0;
}

/* Same identity, different content: update or stale.
 *  - both timestamps known: strictly newer is an update; older is stale,
 *    and so is equal: a source that edits without moving its date does
 *    not announce a change, and two feeds carrying different renditions
 *    under one date would otherwise overwrite each other on every poll;
 *  - only the offered one known: update (the source dates it now);
 *  - only the stored one known: stale;
 *  - neither known: an update when offered by the item's first feed,
 *    whose content is then the only signal of change; stale from any
 *    other feed, for the same flip-flop reason. */
static enum store_outcome
store_decide(const struct store_row *row, const char *feed, const struct item *it)
{
	time_t mine = store_timestamp(row->updated_src, row->published, row->date_flags);
	time_t theirs = store_timestamp(it->updated, it->published, it->date_flags);

	if (mine > 0 && theirs > 0)
		return theirs > mine ? STORE_UPDATE : STORE_STALE;
	if (theirs > 0)
		return STORE_UPDATE;
	if (mine > 0)
		return STORE_STALE;
	return strcmp(row->feed, feed) == 0 ? STORE_UPDATE : STORE_STALE;
}

/* The keys of an item. */
void
store_item_keys(const struct item *it, const char *feed, struct store_keys *k)
{
	uint32_t link_loc = 0;

	item_identity_hash(it, feed, &k->ident_legacy, &k->locality);
	k->ident = k->ident_legacy;
	store_localize(&k->ident, k->locality);
	item_content_hash(it, &k->content);
	k->has_link = store_link_hash(it->link, &k->link_legacy, &link_loc);
	k->link = k->link_legacy;
	if (k->has_link)
		store_localize(&k->link, link_loc);
}

/* Make what follows atomic: outside a transaction, a savepoint of its
 * own (*own set). Inside one (a unit of work) nothing: a failure makes
 * the caller roll the unit back, so a savepoint per item would only cost:
 * SQLite copies each page a savepoint changes first into its sub-journal,
 * and at 10,000 feeds that was 5 % of a cold cycle's CPU. */
static int
store_atomic_begin(struct store *st, int *own)
{
	*own = 0;
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	if (store_run(st, ST_SAVEPOINT, "savepoint") != 0)
		return -1;
	*own = 1;
	return 0;
}

/* End what store_atomic_begin started: kept when ok, else undone. */
static int
store_atomic_end(struct store *st, int *own, int ok)
{
	if (!*own)
		return 0;
	*own = 0;
	if (ok && store_run(st, ST_RELEASE, "release savepoint") == 0)
		return 0;
	store_run(st, ST_ROLLBACK_TO, "roll back");
	store_run(st, ST_RELEASE, "release savepoint");
	return -1;
}

/* Offer one item; see the top of the file for the decision. */
int
store_offer(struct store *st, const char *feed, const struct item *it, const struct store_keys *keys,
            time_t now, enum store_outcome *out)
{
	struct store_keys made;
	struct item_hash ident, legacy;
	const struct item_hash *content, *lh, *lh_legacy;
	struct store_row row;
	enum store_outcome o = STORE_NEW;
	size_t idlen;
	int found, ret = -1, in_savepoint = 0, feed_row = 0;

	memset(&row, 0, sizeof row);
	st->last_item = 0;
	st->fresh_item = 0;
	if (keys == NULL) {
		store_item_keys(it, feed, &made);
		keys = &made;
	}
	ident = keys->ident;
	legacy = keys->ident_legacy;
	content = &keys->content;
	lh = keys->has_link ? &keys->link : NULL;
	lh_legacy = keys->has_link ? &keys->link_legacy : NULL;

	if (store_atomic_begin(st, &in_savepoint) != 0)
		goto done;
	/* The feeds row, once per unit of the feed's own items. */
	feed_row = st->in_unit && st->unit_name != NULL && strcmp(st->unit_name, feed) == 0;
	if (!feed_row || !st->unit_feed_row) {
		store_bind_text(st->stmt[ST_FEED_ENSURE], 1, feed);
		if (store_run(st, ST_FEED_ENSURE, "add feed") != 0)
			goto done;
	}
	/* The feeds row above was a write: the lock is held. */
	store_seen_sync(st);

	if ((found = store_find_identity(st, &ident, &legacy, &row)) < 0)
		goto done;
	item_trim(it->id, &idlen);
	if (found && idlen > 0 && store_is_reuse(&row, it, lh, lh_legacy)) {
		/* From the keys' first form, as before schema 6; then localized
		 * like the first identity. */
		store_reuse_identity(&legacy, it, lh_legacy, &legacy);
		ident = legacy;
		store_localize(&ident, keys->locality);
		store_row_clear(&row);
		if ((found = store_find_identity(st, &ident, &legacy, &row)) < 0)
			goto done;
	}
	if (!found && lh != NULL && store_seen_maybe(st, store_seen_hash_key(lh, STORE_SEEN_LINK))) {
		store_bind_hash(st->stmt[ST_FIND_LINK], 3, st->legacy_keys ? lh_legacy : lh);
		if ((found = store_find(st, ST_FIND_LINK, lh, feed, &row)) < 0)
			goto done;
	}

	if (!found) {
		if (store_insert(st, feed, it, &ident, lh, content, now) != 0)
			goto done;
		row.id = sqlite3_last_insert_rowid(st->db);
		o = STORE_NEW;
	} else {
		if (strcmp(row.feed, feed) != 0 && store_source_add(st, row.id, feed, &ident, now) != 0)
			goto done;
		if (memcmp(row.content.b, content->b, sizeof content->b) == 0)
			o = STORE_DUPLICATE;
		else
			o = store_decide(&row, feed, it);
		if (o == STORE_UPDATE && store_update(st, &row, it, lh, content, now) != 0)
			goto done;
	}
	if (store_atomic_end(st, &in_savepoint, 1) != 0)
		goto done;
	if (feed_row)
		st->unit_feed_row = 1;
	st->counts[o]++;
	st->last_item = row.id;
	if (o == STORE_NEW) {
		/* the sort_date column's own rule; first_seen is now */
		st->fresh_item = row.id;
		st->fresh_sort_date = it->published > 0 ? (sqlite3_int64)it->published : (sqlite3_int64)now;
	}
	*out = o;
	ret = 0;
done:
	if (ret != 0) {
		store_atomic_end(st, &in_savepoint, 0);
		log_err("store: feed %s: item not stored", feed);
	}
	store_row_clear(&row);
	return ret;
}

/* Decisions counted since open. */
uint64_t
store_count(const struct store *st, enum store_outcome o)
{
	if ((int)o < 0 || o >= STORE_OUTCOMES)
		return 0;
	return st->counts[o];
}

/* Batching (the daemon's mode): the units of work (one fetched feed
 * each) join one transaction that stays open until store_flush, so a
 * burst of polls costs one commit instead of one per feed. What a crash
 * loses is the open batch whole, validators included, so those feeds are
 * fetched again in full: the state is as if their polls had not happened.
 * A unit that fails takes the batch with it in the same way (lost_fn
 * names the units it held). Units are not savepoints: SQLite copies every
 * page a savepoint first changes into an in-memory sub-journal, and at
 * 10,000 feeds, with indexes far larger than the page cache, that copying
 * was a fifth of a cold cycle's CPU. */
void
store_set_batching(struct store *st)
{
	st->batching = 1;
}

/* Forget the units of the batch that just ended. */
static void
store_batch_reset(struct store *st)
{
	st->units = 0;
	strlist_free(&st->unit_names);
}

/* Who hears of named units lost with their batch. */
void
store_set_lost_fn(struct store *st, void (*fn)(void *arg, const char *name), void *arg)
{
	st->lost_fn = fn;
	st->lost_arg = arg;
}

/* Open the batch if there is none; in batching mode only. */
static int
store_batch_join(struct store *st)
{
	if (!st->batching || !sqlite3_get_autocommit(st->db))
		return 0;
	store_batch_reset(st);
	return store_run(st, ST_BEGIN, "begin");
}

/* The open batch was rolled back: say so, and name its units. */
static void
store_batch_lost(struct store *st)
{
	if (st->units > 0)
		log_err("store: %s: the polls of %zu feed(s) were rolled back; they are fetched again in full",
		        st->path, st->units);
	st->fresh_item = 0;
	for (size_t i = 0; i < st->unit_names.n; i++)
		if (st->lost_fn != NULL)
			st->lost_fn(st->lost_arg, st->unit_names.v[i]);
	store_batch_reset(st);
}

/* Whether a batch holds work not yet committed. */
int
store_pending(const struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

/* Commit the open batch, if any. On failure it is rolled back (every
 * unit in it is lost, and said so) and -1 returned. */
int
store_flush(struct store *st)
{
	if (st->in_unit || st->alone || sqlite3_get_autocommit(st->db))
		return 0;
	if (store_run(st, ST_COMMIT, "commit") == 0) {
		store_batch_reset(st);
		return 0;
	}
	if (!sqlite3_get_autocommit(st->db))
		store_run(st, ST_ROLLBACK, "rollback");
	store_batch_lost(st);
	return -1;
}

/* Start the unit of work for one fetched feed: a transaction of its own,
 * or in batching mode a part of the batch. name (kept until the unit
 * ends) is what lost_fn hears if the batch is lost; NULL: nothing. */
int
store_begin_named(struct store *st, const char *name)
{
	st->fresh_item = 0;
	if (!st->batching)
		return store_run(st, ST_BEGIN, "begin");
	if (store_batch_join(st) < 0)
		return -1;
	st->in_unit = 1;
	st->unit_name = name;
	st->unit_feed_row = 0;
	return 0;
}

/* An unnamed unit. */
int
store_begin(struct store *st)
{
	return store_begin_named(st, NULL);
}

/* A unit that may touch much of the file (a replay over every recent
 * item): in batching mode the open batch is committed first and the unit
 * is a transaction of its own. A savepoint would make SQLite copy every
 * page it first changes into an in-memory sub-journal, which for a replay
 * at 10,000 feeds was 80 MB. */
int
store_begin_alone(struct store *st)
{
	st->fresh_item = 0;
	if (st->batching && store_flush(st) < 0)
		return -1;
	if (store_run(st, ST_BEGIN, "begin") < 0)
		return -1;
	st->alone = st->batching;
	return 0;
}

/* End the unit; on failure it is rolled back, so the connection is never
 * left inside it. */
int
store_commit(struct store *st)
{
	st->fresh_item = 0;
	if (!st->batching || st->alone) {
		if (store_run(st, ST_COMMIT, "commit") == 0) {
			st->alone = 0;
			return 0;
		}
		store_rollback(st);
		return -1;
	}
	if (!st->in_unit)
		return -1;
	st->in_unit = 0;
	st->unit_feed_row = 0;
	st->units++;
	if (st->unit_name != NULL)
		strlist_add(&st->unit_names, st->unit_name);
	st->unit_name = NULL;
	return 0;
}

/* Roll back the open unit, if any; in batching mode with the whole batch
 * (see store_set_batching). */
void
store_rollback(struct store *st)
{
	st->fresh_item = 0;
	if (!st->batching || st->alone) {
		if (!sqlite3_get_autocommit(st->db))
			store_run(st, ST_ROLLBACK, "rollback");
		st->alone = 0;
		return;
	}
	if (!st->in_unit)
		return;
	st->in_unit = 0;
	st->unit_name = NULL;
	st->unit_feed_row = 0;
	if (!sqlite3_get_autocommit(st->db))
		store_run(st, ST_ROLLBACK, "rollback");
	store_batch_lost(st);
}

/* The validators saved for feed; both NULL when none (caller frees). */
int
store_feed_get_validators(struct store *st, const char *feed, char **etag, char **last_modified)
{
	return store_feed_get_validators_for(st, feed, NULL, etag, last_modified);
}

/* The validators saved for feed if they belong to url (NULL: any URL);
 * validators saved without a URL belong to none. */
int
store_feed_get_validators_for(struct store *st, const char *feed, const char *url, char **etag,
                              char **last_modified)
{
	sqlite3_stmt *stmt = st->stmt[ST_FEED_GET_VALIDATORS];
	const unsigned char *saved_for;
	int rc;

	*etag = NULL;
	*last_modified = NULL;
	store_bind_text(stmt, 1, feed);
	rc = store_step(st, stmt, "get validators");
	if (rc == SQLITE_ROW) {
		saved_for = sqlite3_column_text(stmt, 2);
		if (url == NULL || (saved_for != NULL && strcmp((const char *)saved_for, url) == 0)) {
			*etag = store_col_strdup(stmt, 0);
			*last_modified = store_col_strdup(stmt, 1);
		}
	}
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Persist a feed's health. */
int
store_feed_save_health(struct store *st, const char *feed, const struct store_health *h)
{
	sqlite3_stmt *stmt = st->stmt[ST_FEED_SAVE_HEALTH];
	int rc;

	if (store_batch_join(st) < 0)
		return -1;
	store_bind_text(stmt, 1, feed);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)h->last_attempt);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)h->last_success);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)h->next_due);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)h->last_status);
	store_bind_text(stmt, 6, h->last_error);
	sqlite3_bind_int(stmt, 7, h->failures);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)h->bytes);
	sqlite3_bind_int64(stmt, 9, (sqlite3_int64)h->items);
	sqlite3_bind_int64(stmt, 10, (sqlite3_int64)h->n304);
	rc = store_step(st, stmt, "save feed health");
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Load a feed's health; the error text goes to the caller. */
int
store_feed_load_health(struct store *st, const char *feed, struct store_health *h, char **error_out)
{
	sqlite3_stmt *stmt = st->stmt[ST_FEED_LOAD_HEALTH];
	int rc;

	memset(h, 0, sizeof *h);
	*error_out = NULL;
	store_bind_text(stmt, 1, feed);
	rc = store_step(st, stmt, "load feed health");
	if (rc == SQLITE_ROW) {
		h->last_attempt = (time_t)sqlite3_column_int64(stmt, 0);
		h->last_success = (time_t)sqlite3_column_int64(stmt, 1);
		h->next_due = (time_t)sqlite3_column_int64(stmt, 2);
		h->last_status = (long)sqlite3_column_int64(stmt, 3);
		*error_out = store_col_strdup(stmt, 4);
		h->last_error = *error_out;
		h->failures = sqlite3_column_int(stmt, 5);
		h->bytes = sqlite3_column_int64(stmt, 6);
		h->items = sqlite3_column_int64(stmt, 7);
		h->n304 = sqlite3_column_int64(stmt, 8);
	}
	store_done(stmt);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* Save the validators of feed's last 200 response (NULL clears one); a
 * NULL url keeps the stored one. */
int
store_feed_set_validators(struct store *st, const char *feed, const char *url, const char *etag,
                          const char *last_modified)
{
	sqlite3_stmt *stmt = st->stmt[ST_FEED_SET_VALIDATORS];
	int rc;

	store_bind_text(stmt, 1, feed);
	store_bind_text(stmt, 2, url);
	store_bind_text(stmt, 3, etag);
	store_bind_text(stmt, 4, last_modified);
	rc = store_step(st, stmt, "set validators");
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Save feed-level metadata for atom:source. */
int
store_feed_set_meta(struct store *st, const char *feed, const struct feed_meta *m)
{
	sqlite3_stmt *stmt = st->stmt[ST_FEED_SET_META];
	int rc;

	store_bind_text(stmt, 1, feed);
	store_bind_text(stmt, 2, m ? m->title : NULL);
	store_bind_text(stmt, 3, m ? m->link : NULL);
	store_bind_text(stmt, 4, m ? m->id : NULL);
	sqlite3_bind_int64(stmt, 5, m ? (sqlite3_int64)m->updated : 0);
	rc = store_step(st, stmt, "set feed metadata");
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Load an item's enclosures in order. */
static int
store_enclosures_read(struct store *st, sqlite3_int64 id, struct item *it)
{
	sqlite3_stmt *stmt = st->stmt[ST_ENC_SELECT];
	int rc;

	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = store_step(st, stmt, "read enclosures")) == SQLITE_ROW)
		item_add_enclosure(it, (const char *)sqlite3_column_text(stmt, 0),
		                   (const char *)sqlite3_column_text(stmt, 1), sqlite3_column_int64(stmt, 2));
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Split newline-joined categories into the item. */
static void
store_categories_split(struct item *it, const char *s)
{
	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, "\n");
		char *term = xstrndup(s, len);
		item_add_category(it, term);
		free(term);
		s += len;
		if (*s == '\n')
			s++;
	}
}

/* The sort date of an item: 1 and *sort_date set, 0 no such item, -1. */
static int
store_item_sort_date(struct store *st, sqlite3_int64 id, sqlite3_int64 *sort_date)
{
	sqlite3_stmt *stmt = st->stmt[ST_ITEM_SORT_DATE];
	int rc;

	sqlite3_bind_int64(stmt, 1, id);
	rc = store_step(st, stmt, "find item");
	if (rc == SQLITE_ROW)
		*sort_date = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* The item the last offer decided about. */
int64_t
store_last_item(const struct store *st)
{
	return st->last_item;
}

/* Replace an item's topics, keeping the given order; NULL names are
 * skipped, repeats kept once at their first place. */
int
store_item_set_topics(struct store *st, int64_t item, const char *const *names, size_t n)
{
	sqlite3_stmt *stmt;
	sqlite3_int64 sort_date = 0;
	int found, rc, own = 0;

	if (store_atomic_begin(st, &own) != 0)
		return -1;
	if (item != 0 && item == st->fresh_item) {
		/* just inserted: no topics yet, and no need to read its date */
		sort_date = st->fresh_sort_date;
		st->fresh_item = 0;
		goto insert;
	}
	st->fresh_item = 0;
	if ((found = store_item_sort_date(st, item, &sort_date)) <= 0) {
		if (found == 0)
			log_err("store: set topics: no item %lld", (long long)item);
		goto fail;
	}
	stmt = st->stmt[ST_TOPIC_DELETE];
	sqlite3_bind_int64(stmt, 1, item);
	rc = store_step(st, stmt, "delete topics");
	store_done(stmt);
	if (rc < 0)
		goto fail;
insert:
	stmt = st->stmt[ST_TOPIC_INSERT];
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		store_bind_text(stmt, 1, names[i]);
		sqlite3_bind_int64(stmt, 2, item);
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)i);
		sqlite3_bind_int64(stmt, 4, sort_date);
		rc = store_step(st, stmt, "insert topic");
		store_done(stmt);
		if (rc < 0)
			goto fail;
	}
	return store_atomic_end(st, &own, 1);
fail:
	store_atomic_end(st, &own, 0);
	return -1;
}

/* Set an item's story where it differs: 1 when a row changed, 0 when
 * none did (the same story, or no such item), -1 on an error. */
static int
store_story_write(struct store *st, int64_t item, int64_t story)
{
	sqlite3_stmt *stmt = st->stmt[story != 0 ? ST_ITEM_SET_STORY : ST_ITEM_CLEAR_STORY];
	int rc;

	sqlite3_bind_int64(stmt, 1, item);
	if (story != 0)
		sqlite3_bind_int64(stmt, 2, story);
	rc = store_step(st, stmt, "set story");
	store_done(stmt);
	if (rc < 0)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

/* Record the story an item belongs to. */
int
store_item_set_story(struct store *st, int64_t item, int64_t story)
{
	sqlite3_stmt *stmt;
	int rc = store_story_write(st, item, story);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* Nothing changed: the mark was there already, or there is no item. */
	stmt = st->stmt[ST_ITEM_EXISTS];
	sqlite3_bind_int64(stmt, 1, item);
	rc = store_step(st, stmt, "look up item");
	store_done(stmt);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		log_err("store: set story: no item %lld", (long long)item);
	return -1;
}

/* Mark a story's lead; see store.h. */
int
store_item_mark_lead(struct store *st, int64_t item)
{
	return store_story_write(st, item, item) < 0 ? -1 : 0;
}

/* Replace the active feeds (NULL or none: every feed is active). */
int
store_set_active_feeds(struct store *st, const char *const *names, size_t n)
{
	sqlite3_stmt *stmt;
	int rc;

	if (store_run(st, ST_SAVEPOINT, "savepoint") != 0)
		return -1;
	if (store_run(st, ST_ACTIVE_CLEAR, "clear active feeds") != 0)
		goto fail;
	stmt = st->stmt[ST_ACTIVE_ADD];
	for (size_t i = 0; names != NULL && i < n; i++) {
		if (names[i] == NULL)
			continue;
		store_bind_text(stmt, 1, names[i]);
		rc = store_step(st, stmt, "add active feed");
		store_done(stmt);
		if (rc < 0)
			goto fail;
	}
	if (store_run(st, ST_RELEASE, "release savepoint") != 0)
		goto fail;
	st->active = names != NULL && n > 0;
	return 0;
fail:
	store_run(st, ST_ROLLBACK_TO, "roll back active feeds");
	store_run(st, ST_RELEASE, "release savepoint");
	return -1;
}

/* Delete what is older than before in one transaction, then give the
 * freed pages back when the file can. */
int
store_purge(struct store *st, time_t before, size_t *purged)
{
	sqlite3_stmt *stmt;
	sqlite3_int64 n;
	int rc;

	if (purged != NULL)
		*purged = 0;
	if (!sqlite3_get_autocommit(st->db)) {
		log_err("store: purge inside a transaction");
		return -1;
	}
	if (store_begin(st) != 0)
		return -1;
	stmt = st->stmt[ST_PURGE_ITEMS];
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)before);
	rc = store_step(st, stmt, "purge items");
	store_done(stmt);
	if (rc < 0)
		goto fail;
	n = sqlite3_changes64(st->db);
	stmt = st->stmt[ST_PURGE_FEEDS];
	sqlite3_bind_int(stmt, 1, st->active);
	rc = store_step(st, stmt, "purge feeds");
	store_done(stmt);
	if (rc < 0)
		goto fail;
	if (st->incremental && n > 0 && sqlite3_exec(st->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("store: incremental_vacuum: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	if (store_commit(st) != 0)
		return -1;
	if (purged != NULL)
		*purged = (size_t)n;
	if (n > 0)
		log_debug("store: purged %lld item(s) older than %lld", (long long)n, (long long)before);
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* An item's topic names, in order, into the row. */
static int
store_topics_read(struct store *st, struct store_walk_row *r)
{
	sqlite3_stmt *stmt = st->stmt[ST_TOPIC_SELECT];
	size_t cap = 0;
	int rc;

	sqlite3_bind_int64(stmt, 1, r->id);
	while ((rc = store_step(st, stmt, "read topics")) == SQLITE_ROW) {
		if (r->ntopics == cap) {
			cap = cap ? cap * 2 : 4;
			r->topics = xreallocarray(r->topics, cap, sizeof *r->topics);
		}
		r->topics[r->ntopics++] = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	}
	store_done(stmt);
	return rc < 0 ? -1 : 0;
}

/* Copy the current row of a walk statement (STORE_ENTRY_COLS), with its
 * enclosures and topics. On failure the row holds what was read. */
static int
store_walk_row_read(struct store *st, sqlite3_stmt *stmt, int head, struct store_walk_row *r)
{
	struct item *it;
	char *cats;

	memset(r, 0, sizeof *r);
	r->it = it = item_new();
	r->id = sqlite3_column_int64(stmt, 0);
	r->feed = store_col_strdup(stmt, 1);
	r->entry_id = store_col_strdup(stmt, 2);
	it->id = store_col_strdup(stmt, 3);
	it->id_is_permalink = sqlite3_column_int(stmt, 4);
	it->title = store_col_strdup(stmt, 5);
	it->link = store_col_strdup(stmt, 6);
	it->summary = store_col_strdup(stmt, 7);
	it->content = store_col_strdup(stmt, 8);
	it->author = store_col_strdup(stmt, 9);
	cats = store_col_strdup(stmt, 10);
	store_categories_split(it, cats);
	free(cats);
	it->published = (time_t)sqlite3_column_int64(stmt, 11);
	it->updated = (time_t)sqlite3_column_int64(stmt, 12);
	it->date_flags = sqlite3_column_int(stmt, 13);
	r->first_seen = (time_t)sqlite3_column_int64(stmt, 14);
	r->updated = (time_t)sqlite3_column_int64(stmt, 15);
	r->meta.title = store_col_strdup(stmt, 16);
	r->meta.link = store_col_strdup(stmt, 17);
	r->meta.id = store_col_strdup(stmt, 18);
	r->meta.updated = (time_t)sqlite3_column_int64(stmt, 19);
	r->story = sqlite3_column_int64(stmt, 20);
	r->sort_date = (time_t)sqlite3_column_int64(stmt, 21);
	if (!head && (store_enclosures_read(st, r->id, it) != 0 || store_topics_read(st, r) != 0))
		return -1;
	return 0;
}

/* Free what a walked row owns. */
static void
store_walk_row_clear(struct store_walk_row *r)
{
	item_free(r->it);
	feed_meta_clear(&r->meta);
	free(r->feed);
	free(r->entry_id);
	for (size_t i = 0; i < r->ntopics; i++)
		free(r->topics[i]);
	free(r->topics);
	memset(r, 0, sizeof *r);
}

/* The entry a walked row hands out. */
static void
store_walk_row_entry(const struct store_walk_row *r, struct store_entry *e)
{
	memset(e, 0, sizeof *e);
	e->item = r->it;
	e->feed_name = r->feed;
	e->entry_id = r->entry_id;
	e->first_seen = r->first_seen;
	e->updated = r->updated;
	e->source = &r->meta;
	e->item_id = r->id;
	e->story = r->story;
	e->sort_date = r->sort_date;
	e->topics = (const char *const *)r->topics;
	e->ntopics = r->ntopics;
}

/* Step a bound walk statement, calling fn for each row, and reset it. */
static int
store_walk(struct store *st, sqlite3_stmt *stmt, int head, store_entry_fn fn, void *arg)
{
	struct store_walk_row r;
	struct store_entry e;
	int rc, ret = -1;

	memset(&r, 0, sizeof r);
	while ((rc = store_step(st, stmt, "walk entries")) == SQLITE_ROW) {
		int stop;

		if (store_walk_row_read(st, stmt, head, &r) != 0)
			goto done;
		store_walk_row_entry(&r, &e);
		stop = fn(arg, &e);
		store_walk_row_clear(&r);
		if (stop)
			break;
	}
	if (rc < 0)
		goto done;
	ret = 0;
done:
	store_done(stmt);
	store_walk_row_clear(&r);
	return ret;
}

/* Walk entries newest first. limit 0 walks none. fn must not change the
 * store or walk it again (a nested walk fails). */
int
store_foreach_entry(struct store *st, time_t since, size_t limit, store_entry_fn fn, void *arg)
{
	return store_foreach_entry_topic(st, NULL, since, limit, fn, arg);
}

/* Walk a topic's entries (NULL: all) newest first. */
int
store_foreach_entry_topic(struct store *st, const char *topic, time_t since, size_t limit, store_entry_fn fn,
                          void *arg)
{
	return store_walk_list(st, topic, 0, 0, since, limit, fn, arg);
}

/* The same, a story's lead standing for its other reports. */
int
store_foreach_lead_topic(struct store *st, const char *topic, time_t since, size_t limit, store_entry_fn fn,
                         void *arg)
{
	return store_walk_list(st, topic, 1, 0, since, limit, fn, arg);
}

/* The same, each entry with its key, feed, dates and story only. */
int
store_foreach_lead_head(struct store *st, const char *topic, time_t since, size_t limit, store_entry_fn fn,
                        void *arg)
{
	return store_walk_list(st, topic, 1, 1, since, limit, fn, arg);
}

/* A list's walk: everything, or one topic; leads only when leads. */
static int
store_walk_list(struct store *st, const char *topic, int leads, int head, time_t since, size_t limit,
                store_entry_fn fn, void *arg)
{
	sqlite3_stmt *stmt = st->stmt[topic != NULL ? (head ? ST_FOREACH_TOPIC_HEAD : ST_FOREACH_TOPIC)
	                                            : (head ? ST_FOREACH_HEAD : ST_FOREACH)];
	int ret;

	if (st->walking) {
		log_err("store: nested store_foreach_entry");
		return -1;
	}
	if (limit == 0)
		return 0;
	st->walking = 1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(stmt, 2, limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	sqlite3_bind_int(stmt, 3, st->active);
	if (topic != NULL)
		store_bind_text(stmt, 4, topic);
	sqlite3_bind_int(stmt, 5, leads);
	ret = store_walk(st, stmt, head, fn, arg);
	st->walking = 0;
	return ret;
}

/* Walk the reports of a story (its lead among them), oldest first. */
int
store_foreach_story(struct store *st, int64_t story, store_entry_fn fn, void *arg)
{
	return store_walk_story(st, story, 0, fn, arg);
}

/* The same, each report with its key, feed, entry id, title, link, dates,
 * story and source title only. */
int
store_foreach_story_brief(struct store *st, int64_t story, store_entry_fn fn, void *arg)
{
	return store_walk_story(st, story, 1, fn, arg);
}

/* A story's walk, brief or not. */
static int
store_walk_story(struct store *st, int64_t story, int brief, store_entry_fn fn, void *arg)
{
	sqlite3_stmt *stmt = st->stmt[brief ? ST_FOREACH_STORY_BRIEF : ST_FOREACH_STORY];
	int ret;

	if (st->walking) {
		log_err("store: nested store_foreach_story");
		return -1;
	}
	st->walking = 1;
	sqlite3_bind_int(stmt, 3, st->active);
	sqlite3_bind_int64(stmt, 4, story);
	ret = store_walk(st, stmt, brief, fn, arg);
	st->walking = 0;
	return ret;
}

/* Hand out the entries of ids, in that order. */
int
store_foreach_item(struct store *st, const int64_t *ids, size_t n, store_entry_fn fn, void *arg)
{
	sqlite3_stmt *stmt = st->stmt[ST_ITEM_ENTRY];
	struct store_walk_row r;
	struct store_entry e;
	int ret = -1;

	if (st->walking) {
		log_err("store: nested store_foreach_item");
		return -1;
	}
	st->walking = 1;
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < n; i++) {
		int rc, stop;

		sqlite3_bind_int64(stmt, 1, ids[i]);
		rc = store_step(st, stmt, "read an entry");
		if (rc == SQLITE_ROW && store_walk_row_read(st, stmt, 0, &r) != 0)
			rc = -1;
		store_done(stmt);
		if (rc < 0)
			goto done;
		if (rc != SQLITE_ROW)
			continue;
		store_walk_row_entry(&r, &e);
		stop = fn(arg, &e);
		store_walk_row_clear(&r);
		if (stop)
			break;
	}
	ret = 0;
done:
	store_walk_row_clear(&r);
	st->walking = 0;
	return ret;
}

/* Walk items first seen at or after since, oldest first, a batch at a
 * time: the statement is reset before fn sees a batch, so fn may write. */
int
store_foreach_recent(struct store *st, time_t since, store_entry_fn fn, void *arg)
{
	sqlite3_stmt *stmt = st->stmt[ST_RECENT];
	struct store_walk_row *batch = NULL;
	struct store_entry e;
	sqlite3_int64 after_seen = (sqlite3_int64)since, after_id = 0;
	size_t n = 0;
	int rc = SQLITE_DONE, stop = 0, ret = -1;

	if (st->walking) {
		log_err("store: nested store_foreach_recent");
		return -1;
	}
	st->walking = 1;
	batch = xcalloc(STORE_RECENT_BATCH, sizeof *batch);
	while (!stop) {
		sqlite3_bind_int64(stmt, 2, STORE_RECENT_BATCH);
		sqlite3_bind_int(stmt, 3, st->active);
		sqlite3_bind_int64(stmt, 5, after_seen);
		sqlite3_bind_int64(stmt, 6, after_id);
		while (n < STORE_RECENT_BATCH && (rc = store_step(st, stmt, "walk recent items")) == SQLITE_ROW) {
			if (store_walk_row_read(st, stmt, 0, &batch[n++]) != 0) {
				store_done(stmt);
				goto done;
			}
		}
		store_done(stmt);
		if (rc < 0)
			goto done;
		if (n == 0)
			break;
		after_seen = (sqlite3_int64)batch[n - 1].first_seen;
		after_id = batch[n - 1].id;
		stop = n < STORE_RECENT_BATCH;
		for (size_t i = 0; i < n; i++) {
			store_walk_row_entry(&batch[i], &e);
			if (fn(arg, &e) != 0) {
				stop = 1;
				break;
			}
		}
		for (size_t i = 0; i < n; i++)
			store_walk_row_clear(&batch[i]);
		n = 0;
	}
	ret = 0;
done:
	for (size_t i = 0; i < n; i++)
		store_walk_row_clear(&batch[i]);
	free(batch);
	st->walking = 0;
	return ret;
}

/* Items per day for the status page: one grouped pass over the date
 * index (items by first source, or item_topics by topic). Prepared per
 * call: it runs once per page view, not per item. */
int
store_daily_counts(struct store *st, int by_topic, time_t now, int days, store_daily_fn fn, void *arg)
{
	static const char *const sql[2] = {
	    "SELECT feed, (?1 - sort_date) / 86400, count(*) FROM items "
	    "WHERE sort_date > ?1 - ?2 * 86400 AND sort_date <= ?1 GROUP BY 1, 2",
	    "SELECT topic, (?1 - sort_date) / 86400, count(*) FROM item_topics "
	    "WHERE sort_date > ?1 - ?2 * 86400 AND sort_date <= ?1 GROUP BY 1, 2",
	};
	sqlite3_stmt *stmt = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(st->db, sql[by_topic ? 1 : 0], -1, &stmt, NULL) != SQLITE_OK) {
		log_err("store: daily counts: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
	sqlite3_bind_int(stmt, 2, days);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(stmt, 0), sqlite3_column_int(stmt, 1),
		   (unsigned)sqlite3_column_int64(stmt, 2));
	if (rc != SQLITE_DONE)
		log_err("store: daily counts: %s", sqlite3_errmsg(st->db));
	else
		ret = 0;
	sqlite3_finalize(stmt);
	return ret;
}

/* The generation: it moves with every commit that changed what a
 * rendered document can show. -1 on error. */
int64_t
store_generation(struct store *st)
{
	sqlite3_stmt *stmt = st->stmt[ST_GEN_GET];
	int64_t gen = -1;

	if (store_step(st, stmt, "read the generation") == SQLITE_ROW)
		gen = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	return gen;
}

/* A value from the meta table; NULL when unset (caller frees). */
char *
store_meta_get(struct store *st, const char *key)
{
	sqlite3_stmt *stmt = NULL;
	char *value = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &stmt, NULL) != SQLITE_OK) {
		log_err("store: meta: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return value;
}

/* Set a value in the meta table. Returns 0 or -1. */
int
store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	                       -1, &stmt, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_DONE)
		rc = 0;
done:
	if (rc < 0)
		log_err("store: meta %s: %s", key, sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc;
}
