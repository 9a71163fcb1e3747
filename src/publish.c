/* publish.c: the documents are listed from the configuration: the merged
 * feed (/feed.atom and /feed.json), the subscriptions (/feeds.opml), and
 * per topic /topics/NAME.atom and /topics/NAME.json. A rendering reads an
 * entry list twice (the Atom <updated> is the newest entry's and precedes
 * the entries): pass 1 walks the list's keys and dates and chooses the
 * entries (date window, max_entries, max_per_feed), pass 2 reads those by
 * key and writes the Atom and the JSON Feed together. Every document is re-read before it replaces the
 * previous one (XML well-formed, JSON parseable); a rendering whose bytes
 * equal the current document's (at the first render: output_dir's file,
 * see document_from_files) is dropped, so ETag and Last-Modified move
 * only when the content does. Files are written to a temporary name,
 * fsynced, renamed over the old one, and the directory fsynced, so a crash
 * leaves either the old or the new file, never a mix. */
#include "publish.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "atom.h"
#include "buf.h"
#include "config.h"
#include "date.h"
#include "jsonfeed.h"
#include "log.h"
#include "metrics.h"
#include "opml.h"
#include "store.h"
#include "version.h"
#include "xalloc.h"

#define PUBLISH_DEBOUNCE_MS 500
/* ...and at least this many times the last render's duration, up to MAX. */
#define PUBLISH_RENDER_SHARE 10
#define PUBLISH_DEBOUNCE_MAX_MS 10000
/* How often files that failed to write (full disk, read-only or vanished
 * directory) or were deleted are written again. */
#define PUBLISH_RETRY_S 5
/* With max_per_feed, how many entries the walk may look at per entry
 * published, at most, before it gives up filling the list. */
#define PUBLISH_SCAN_FACTOR 16
/* A story's entry links to at most this many of its other reports, the
 * first ones seen: a story that grew to hundreds of reports (related
 * headlines chained together) stays an entry a reader can take in. */
#define PUBLISH_RELATED_MAX 20

#define TYPE_ATOM "application/atom+xml; charset=utf-8"
#define TYPE_JSON "application/feed+json; charset=utf-8"
#define TYPE_OPML "text/x-opml; charset=utf-8"

struct publisher {
	struct event_base *base;
	const struct config *cfg;
	struct store *st;
	struct metrics *metrics;
	struct event *debounce;
	struct event *retry;
	char *write_error;   /* the last failure writing output_dir, until all is written */
	struct document **docs;
	size_t ndocs;
	double last_render;  /* seconds the last render took */
	char *saved;         /* the render record last stored (publisher_save) */
};

/* Per-feed counts for max_per_feed: open addressing on the name's hash. */
struct feed_counts {
	uint64_t *keys;
	unsigned *counts;
	size_t cap;
};

/* One walk over the entries of a list (all, or one topic). */
/* A story's other reports, gathered between the two passes. */
struct story_group {
	int64_t lead;
	time_t updated;          /* the newest report's first sighting */
	struct atom_related *rel;
	size_t nrel;
};

struct selection {
	const struct config *cfg;
	struct feed_counts fc;
	size_t taken;
	time_t newest;
	struct story_group *groups; /* leads of the list, in walk order */
	size_t ngroups;
	size_t groups_cap;
	struct story_group *current; /* while gathering one group */
	int64_t *ids;                /* the entries pass 1 chose, in order */
	size_t nids;
	struct atom_writer *atom;
	struct jsonfeed_writer *json;
	int failed;
	time_t oldest;               /* the oldest sort date walked, 0: none */
};

static void publisher_debounce_cb(evutil_socket_t fd, short what, void *arg);
static void publisher_retry_cb(evutil_socket_t fd, short what, void *arg);
static void publisher_write_pending(struct publisher *pub);
static int select_entry(struct selection *sel, const struct store_entry *e);
static int pass_newest_cb(void *arg, const struct store_entry *e);
static int pass_write_cb(void *arg, const struct store_entry *e);
static int gather_member_cb(void *arg, const struct store_entry *e);
static int gather_stories(struct publisher *pub, struct selection *sel);
static struct story_group *find_group(struct selection *sel, int64_t lead);
static void free_groups(struct selection *sel);
static int publish_walk(struct publisher *pub, const struct config_topic *topic, time_t now, store_entry_fn fn,
                        void *arg);
static int render_list(struct publisher *pub, const struct config_topic *topic, time_t now, struct buf *atom,
                       struct buf *json, time_t *oldest);
static size_t publisher_ndocs(const struct config *cfg);
static char *publisher_doc_path(const struct config *cfg, size_t i, const char **type);
static char *publisher_fingerprint(const struct publisher *pub, int64_t gen);
static int publisher_reuse(struct publisher *pub, int64_t gen, time_t now);
static void publisher_save(struct publisher *pub, int64_t gen, time_t until);
static struct document *document_wrap(const char *path, const char *type, struct buf *body, time_t mtime);
static struct document *document_new(const char *path, const char *type, struct buf *body, time_t now);
static struct document *document_from_files(const struct publisher *pub, const char *path, const char *type,
                                            struct buf *body);
static unsigned char *read_file(const char *name, size_t min, size_t max, size_t *len, time_t *mtime);
static int gzip_matches(const unsigned char *gz, size_t gzlen, const unsigned char *want, size_t len);
static int gzip_bytes(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen);
static int check_xml(const struct buf *b, char **why);
static int check_json(const struct buf *b, char **why);
static int write_file_atomic(const char *dir, const char *name, const unsigned char *data, size_t len,
                             char **why);
static int publisher_write_files(struct publisher *pub, const struct document *doc);
static void publisher_offer(struct publisher *pub, struct document **next, size_t *nnext, const char *path,
                            const char *type, struct buf *body, time_t now, int (*check)(const struct buf *, char **));
static void feed_counts_free(struct feed_counts *fc);
static const char *topic_label(void *arg, const char *name);

/* Create the publisher; nothing is rendered until asked. */
struct publisher *
publisher_new(struct event_base *base, const struct config *cfg, struct store *st, struct metrics *m)
{
	struct publisher *pub = xcalloc(1, sizeof *pub);

	pub->metrics = m;
	pub->base = base;
	pub->cfg = cfg;
	pub->st = st;
	if (base != NULL) {
		pub->debounce = evtimer_new(base, publisher_debounce_cb, pub);
		struct timeval tv = {PUBLISH_RETRY_S, 0};

		/* Every few seconds: files deleted or not written get rewritten. */
		pub->retry = event_new(base, -1, EV_PERSIST, publisher_retry_cb, pub);
		event_add(pub->retry, &tv);
	}
	return pub;
}

/* Free the publisher; documents in flight keep their own references. */
void
publisher_free(struct publisher *pub)
{
	if (pub == NULL)
		return;
	if (pub->debounce != NULL)
		event_free(pub->debounce);
	if (pub->retry != NULL)
		event_free(pub->retry);
	free(pub->write_error);
	free(pub->saved);
	for (size_t i = 0; i < pub->ndocs; i++)
		document_unref(pub->docs[i]);
	free(pub->docs);
	free(pub);
}

/* Switch to a new configuration. */
void
publisher_set_config(struct publisher *pub, const struct config *cfg)
{
	pub->cfg = cfg;
	publisher_mark_dirty(pub);
}

/* Schedule a rendering, once per burst of changes. */
void
publisher_mark_dirty(struct publisher *pub)
{
	/* A render that took long is not repeated at once: polling gets at
	 * least 90 % of the loop while a burst of changes lasts. */
	long ms = (long)(pub->last_render * 1000 * PUBLISH_RENDER_SHARE);
	struct timeval tv;

	if (ms < PUBLISH_DEBOUNCE_MS)
		ms = PUBLISH_DEBOUNCE_MS;
	if (ms > PUBLISH_DEBOUNCE_MAX_MS)
		ms = PUBLISH_DEBOUNCE_MAX_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (pub->debounce == NULL || evtimer_pending(pub->debounce, NULL))
		return;
	evtimer_add(pub->debounce, &tv);
}

/* Write the documents whose files are missing or failed to write. */
static void
publisher_write_pending(struct publisher *pub)
{
	int pending = 0;

	for (size_t i = 0; i < pub->ndocs; i++) {
		struct document *doc = pub->docs[i];

		/* A file deleted behind our back (or its directory) is rewritten. */
		if (doc->written && pub->cfg->output_dir != NULL) {
			char *path = xasprintf("%s%s", pub->cfg->output_dir, doc->path);
			struct stat sb;

			if (stat(path, &sb) < 0 && errno == ENOENT)
				doc->written = 0;
			free(path);
		}
		if (!doc->written && publisher_write_files(pub, doc) == 0) {
			doc->written = 1;
			log_info("publish: %s written to output_dir again", doc->path);
		}
		pending |= !doc->written;
	}
	if (!pending && pub->write_error != NULL) {
		free(pub->write_error);
		pub->write_error = NULL;
	}
}

/* Why output_dir is not up to date, or NULL. */
const char *
publisher_write_error(const struct publisher *pub)
{
	return pub->write_error;
}

/* The retry timer fired. */
static void
publisher_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	publisher_write_pending(arg);
}

/* The debounce timer fired. */
static void
publisher_debounce_cb(evutil_socket_t fd, short what, void *arg)
{
	publisher_render(arg, time(NULL));
}

/* Release the per-feed counts. */
static void
feed_counts_free(struct feed_counts *fc)
{
	free(fc->keys);
	free(fc->counts);
	memset(fc, 0, sizeof *fc);
}

/* Bump feed's count; returns the count after the bump. */
static unsigned
feed_counts_bump(struct feed_counts *fc, const char *feed)
{
	uint64_t key = XXH3_64bits(feed, strlen(feed)) | 1;
	size_t i;

	if (fc->cap == 0) {
		fc->cap = 256;
		fc->keys = xcalloc(fc->cap, sizeof *fc->keys);
		fc->counts = xcalloc(fc->cap, sizeof *fc->counts);
	}
	for (i = key & (fc->cap - 1); fc->keys[i] != 0 && fc->keys[i] != key; i = (i + 1) & (fc->cap - 1))
		;
	if (fc->keys[i] == 0) {
		size_t used = 0;
		for (size_t j = 0; j < fc->cap; j++)
			used += fc->keys[j] != 0;
		if (2 * (used + 1) > fc->cap) {
			struct feed_counts big = {NULL, NULL, fc->cap * 2};
			big.keys = xcalloc(big.cap, sizeof *big.keys);
			big.counts = xcalloc(big.cap, sizeof *big.counts);
			for (size_t j = 0; j < fc->cap; j++) {
				size_t k;
				if (fc->keys[j] == 0)
					continue;
				for (k = fc->keys[j] & (big.cap - 1); big.keys[k] != 0; k = (k + 1) & (big.cap - 1))
					;
				big.keys[k] = fc->keys[j];
				big.counts[k] = fc->counts[j];
			}
			feed_counts_free(fc);
			*fc = big;
			return feed_counts_bump(fc, feed);
		}
		fc->keys[i] = key;
	}
	return ++fc->counts[i];
}

/* Whether e belongs in the list: 1 take, 0 skip, -1 the list is full.
 * A story is one entry, its lead's: the walk leaves the other reports out
 * (store_foreach_lead_head), and they are shown as related links. */
static int
select_entry(struct selection *sel, const struct store_entry *e)
{
	if (sel->taken >= (size_t)sel->cfg->max_entries)
		return -1;
	if (sel->cfg->max_per_feed > 0 && feed_counts_bump(&sel->fc, e->feed_name) > (unsigned)sel->cfg->max_per_feed)
		return 0;
	sel->taken++;
	return 1;
}

/* Pass 1: the newest <updated> among the selected entries. */
static int
pass_newest_cb(void *arg, const struct store_entry *e)
{
	struct selection *sel = arg;
	int take = select_entry(sel, e);

	if (sel->oldest == 0 || e->sort_date < sel->oldest)
		sel->oldest = e->sort_date;
	if (take < 0)
		return 1;
	if (take && e->updated > sel->newest)
		sel->newest = e->updated;
	if (take) {
		sel->ids = xreallocarray(sel->ids, sel->nids + 1, sizeof *sel->ids);
		sel->ids[sel->nids++] = e->item_id;
	}
	if (take && e->story == e->item_id) {
		struct story_group *g;

		if (sel->ngroups == sel->groups_cap) {
			sel->groups_cap = sel->groups_cap ? sel->groups_cap * 2 : 16;
			sel->groups = xreallocarray(sel->groups, sel->groups_cap, sizeof *sel->groups);
		}
		g = &sel->groups[sel->ngroups++];
		memset(g, 0, sizeof *g);
		g->lead = e->item_id;
	}
	return 0;
}

/* One report of a story being gathered. */
static int
gather_member_cb(void *arg, const struct store_entry *e)
{
	struct selection *sel = arg;
	struct story_group *g = sel->current;
	struct atom_related *r;

	if (e->item_id == g->lead)
		return 0;
	if (e->first_seen > g->updated)
		g->updated = e->first_seen;
	if (g->nrel == PUBLISH_RELATED_MAX)
		return 0;
	g->rel = xreallocarray(g->rel, g->nrel + 1, sizeof *g->rel);
	r = &g->rel[g->nrel++];
	r->href = e->item->link ? xstrdup(e->item->link) : NULL;
	r->title = e->item->title ? xstrdup(e->item->title) : NULL;
	r->publisher = xstrdup(e->source && e->source->title ? e->source->title : e->feed_name);
	return 0;
}

/* Between the passes: the other reports of every story in the list. A
 * report joining moves the story's <updated>, so pass 1's newest too. */
static int
gather_stories(struct publisher *pub, struct selection *sel)
{
	for (size_t i = 0; i < sel->ngroups; i++) {
		sel->current = &sel->groups[i];
		if (store_foreach_story_brief(pub->st, sel->groups[i].lead, gather_member_cb, sel) < 0)
			return -1;
		if (sel->groups[i].updated > sel->newest)
			sel->newest = sel->groups[i].updated;
	}
	sel->current = NULL;
	return 0;
}

/* The gathered group of a lead, or NULL. */
static struct story_group *
find_group(struct selection *sel, int64_t lead)
{
	for (size_t i = 0; i < sel->ngroups; i++)
		if (sel->groups[i].lead == lead)
			return &sel->groups[i];
	return NULL;
}

/* Release the gathered groups. */
static void
free_groups(struct selection *sel)
{
	for (size_t i = 0; i < sel->ngroups; i++) {
		for (size_t j = 0; j < sel->groups[i].nrel; j++) {
			free((char *)(uintptr_t)sel->groups[i].rel[j].href);
			free((char *)(uintptr_t)sel->groups[i].rel[j].title);
			free((char *)(uintptr_t)sel->groups[i].rel[j].publisher);
		}
		free(sel->groups[i].rel);
	}
	free(sel->groups);
	sel->groups = NULL;
	sel->ngroups = sel->groups_cap = 0;
}

/* Pass 2: write the entries pass 1 chose. */
static int
pass_write_cb(void *arg, const struct store_entry *e)
{
	struct selection *sel = arg;
	struct story_group *g = NULL;

	if (e->story == e->item_id)
		g = find_group(sel, e->item_id);
	if ((g != NULL ? atom_writer_story(sel->atom, e, g->rel, g->nrel, g->updated)
	               : atom_writer_entry(sel->atom, e)) < 0 ||
	    jsonfeed_writer_entry(sel->json, e) < 0) {
		sel->failed = 1;
		return 1;
	}
	return 0;
}

/* Walk the entries of a list, newest first, within max_age, each with
 * what pass 1 reads (keys, feeds, dates, stories). */
static int
publish_walk(struct publisher *pub, const struct config_topic *topic, time_t now, store_entry_fn fn, void *arg)
{
	const struct config *cfg = pub->cfg;
	time_t since = cfg->max_age > 0 ? now - cfg->max_age : 0;
	size_t limit = (size_t)cfg->max_entries;

	if (cfg->max_per_feed > 0)
		limit *= PUBLISH_SCAN_FACTOR;
	return store_foreach_lead_head(pub->st, topic ? topic->name : NULL, since, limit, fn, arg);
}

/* The title of a configured topic, for category labels. */
static const char *
topic_label(void *arg, const char *name)
{
	const struct config_topic *t = config_find_topic(arg, name);

	return t ? (t->title ? t->title : t->name) : NULL;
}

/* Render one list (everything, or a topic) as Atom and JSON Feed. */
static int
render_list(struct publisher *pub, const struct config_topic *topic, time_t now, struct buf *atom, struct buf *json,
            time_t *oldest)
{
	const struct config *cfg = pub->cfg;
	struct selection sel;
	struct atom_head head;
	struct jsonfeed_head jhead;
	char *title = NULL, *self = NULL, *jself = NULL, *id = NULL, *scheme = NULL;
	int rc = -1;

	memset(&sel, 0, sizeof sel);
	sel.cfg = cfg;
	if (publish_walk(pub, topic, now, pass_newest_cb, &sel) < 0 || gather_stories(pub, &sel) < 0)
		goto done;
	if (sel.oldest != 0 && (*oldest == 0 || sel.oldest < *oldest))
		*oldest = sel.oldest;
	feed_counts_free(&sel.fc);
	if (topic != NULL) {
		title = xasprintf("%s: %s", cfg->title, topic->title ? topic->title : topic->name);
		self = xasprintf("%stopics/%s.atom", cfg->base_url, topic->name);
		jself = xasprintf("%stopics/%s.json", cfg->base_url, topic->name);
		id = xstrdup(self);
	} else {
		title = xstrdup(cfg->title);
		self = xasprintf("%sfeed.atom", cfg->base_url);
		jself = xasprintf("%sfeed.json", cfg->base_url);
		id = cfg->id ? xstrdup(cfg->id) : xstrdup(self);
	}
	memset(&head, 0, sizeof head);
	head.id = id;
	head.title = title;
	head.subtitle = cfg->subtitle;
	head.self = self;
	head.alternate = cfg->link;
	head.author = cfg->author;
	/* With no entries the list has never changed: the epoch keeps the
	 * document identical across restarts. */
	head.updated = sel.newest;
	scheme = xasprintf("%stopics/", cfg->base_url);
	head.topic_scheme = scheme;
	head.topic_label = topic_label;
	head.topic_arg = (void *)(uintptr_t)cfg;
	memset(&jhead, 0, sizeof jhead);
	jhead.title = title;
	jhead.home_page_url = cfg->link;
	jhead.feed_url = jself;
	jhead.description = cfg->subtitle;
	jhead.author = cfg->author;
	sel.atom = atom_writer_new(&head);
	sel.json = jsonfeed_writer_new(&jhead);
	if (sel.atom == NULL || sel.json == NULL)
		goto done;
	/* The chosen entries by key: no second ordered scan of the list. */
	if (store_foreach_item(pub->st, sel.ids, sel.nids, pass_write_cb, &sel) < 0 || sel.failed)
		goto done;
	if (atom_writer_finish(sel.atom, atom) < 0 || jsonfeed_writer_finish(sel.json, json) < 0)
		goto done;
	rc = 0;
done:
	atom_writer_free(sel.atom);
	jsonfeed_writer_free(sel.json);
	feed_counts_free(&sel.fc);
	free_groups(&sel);
	free(sel.ids);
	free(title);
	free(self);
	free(jself);
	free(id);
	free(scheme);
	return rc;
}

/* A document of the bytes in body (taken), changed last at mtime, with no
 * gzip copy yet. */
static struct document *
document_wrap(const char *path, const char *type, struct buf *body, time_t mtime)
{
	struct document *doc = xcalloc(1, sizeof *doc);
	XXH128_hash_t h;

	doc->path = xstrdup(path);
	doc->content_type = type;
	doc->len = body->len;
	doc->body = (unsigned char *)buf_steal(body);
	h = XXH3_128bits(doc->body, doc->len);
	snprintf(doc->etag, sizeof doc->etag, "\"%016llx%016llx\"", (unsigned long long)h.high64,
	         (unsigned long long)h.low64);
	doc->mtime = mtime;
	date_format_http(mtime, doc->lastmod, sizeof doc->lastmod);
	doc->refs = 1;
	return doc;
}

/* Wrap rendered bytes (taken from body) into a document. */
static struct document *
document_new(const char *path, const char *type, struct buf *body, time_t now)
{
	struct document *doc = document_wrap(path, type, body, now);

	if (gzip_bytes(doc->body, doc->len, &doc->gz, &doc->gzlen) < 0) {
		document_unref(doc);
		return NULL;
	}
	return doc;
}

/* The whole regular file name if it holds min to max bytes, with its
 * mtime (mtime may be NULL); NULL otherwise. */
static unsigned char *
read_file(const char *name, size_t min, size_t max, size_t *len, time_t *mtime)
{
	struct stat sb;
	unsigned char *data = NULL;
	size_t got = 0;
	int fd = open(name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size < min || (size_t)sb.st_size > max)
		goto fail;
	data = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, data + got, (size_t)sb.st_size - got);

		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	if (mtime != NULL)
		*mtime = sb.st_mtime;
	return data;
fail:
	free(data);
	close(fd);
	return NULL;
}

/* Whether gz is a gzip file of want[0..len): its header, and its trailer's
 * CRC-32 and length (what gzip -t checks at the end), without inflating
 * it. The files are replaced atomically, so a torn one does not occur; a
 * copy someone else wrote that passes is the same bytes to any client
 * that checks. */
static int
gzip_matches(const unsigned char *gz, size_t gzlen, const unsigned char *want, size_t len)
{
	const unsigned char *t = gz + gzlen - 8;
	uLong crc = crc32(0L, Z_NULL, 0);

	if (gzlen < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8)
		return 0;
	for (size_t at = 0; at < len;) {
		size_t n = len - at > 1u << 30 ? 1u << 30 : len - at;

		crc = crc32(crc, want + at, (uInt)n);
		at += n;
	}
	return ((uLong)t[0] | (uLong)t[1] << 8 | (uLong)t[2] << 16 | (uLong)t[3] << 24) == (crc & 0xffffffffUL) &&
	       ((uLong)t[4] | (uLong)t[5] << 8 | (uLong)t[6] << 16 | (uLong)t[7] << 24) == (len & 0xffffffffUL);
}

/* A rendering that output_dir already holds, byte for byte, with a gzip
 * copy of it (gzip_matches): adopted as it is (body taken), its time the
 * file's. Gzipping and writing it again would change nothing but the
 * files' times: a restart or a --once run where nothing changed keeps
 * the files, and their Last-Modified, as they were. NULL otherwise. */
static struct document *
document_from_files(const struct publisher *pub, const char *path, const char *type, struct buf *body)
{
	struct document *doc = NULL;
	unsigned char *plain = NULL, *gz = NULL;
	size_t plen = 0, gzlen = 0;
	time_t mtime = 0;
	char *name = NULL, *gzname = NULL;

	if (pub->cfg->output_dir == NULL)
		return NULL;
	name = xasprintf("%s%s", pub->cfg->output_dir, path);
	gzname = xasprintf("%s.gz", name);
	/* A gzip copy is at most a little larger than its input (stored
	 * blocks: 5 bytes per 16 KiB, and 18 of header and trailer). */
	if ((plain = read_file(name, body->len, body->len, &plen, &mtime)) == NULL ||
	    memcmp(plain, body->data, plen) != 0 ||
	    (gz = read_file(gzname, 18, plen + plen / 1024 + 1024, &gzlen, NULL)) == NULL ||
	    !gzip_matches(gz, gzlen, plain, plen))
		goto done;
	doc = document_wrap(path, type, body, mtime);
	doc->gz = gz;
	doc->gzlen = gzlen;
	gz = NULL;
	doc->written = 1;
done:
	free(plain);
	free(gz);
	free(name);
	free(gzname);
	return doc;
}

/* Drop a reference. */
void
document_unref(struct document *doc)
{
	if (doc == NULL || --doc->refs > 0)
		return;
	/* Replies still being sent hold their own references. */
	for (int i = 0; i < 2; i++)
		if (doc->serve[i] != NULL)
			evbuffer_file_segment_free(doc->serve[i]);
	free(doc->path);
	free(doc->body);
	free(doc->gz);
	free(doc);
}

/* zlib's level for the documents: on 200-entry feeds, level 4 took half
 * level 6's time for output 3 % larger (level 1: a quarter, 17 % larger). */
#define PUBLISH_GZIP_LEVEL 4

/* gzip in one go; the header carries no name and no time, so the same
 * input always gives the same bytes. */
static int
gzip_bytes(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream zs;
	unsigned char *dst = NULL;
	uLong bound;
	int rc = -1;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, PUBLISH_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&zs, (uLong)len) + 32;
	dst = xmalloc(bound);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = dst;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto done;
	*out = dst;
	*outlen = zs.total_out;
	dst = NULL;
	rc = 0;
done:
	deflateEnd(&zs);
	free(dst);
	return rc;
}

/* An XML document about to be published must be well-formed UTF-8. Read
 * as a stream: the check holds no tree (feeds.opml of 10,000 feeds would
 * otherwise be a 12 MB DOM for a moment at every render). */
static int
check_xml(const struct buf *b, char **why)
{
	xmlTextReaderPtr r;
	int rc;

	r = xmlReaderForMemory(b->data, (int)b->len, NULL, "utf-8",
	                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (r == NULL) {
		*why = xstrdup("cannot create an XML reader");
		return -1;
	}
	xmlResetLastError();
	while ((rc = xmlTextReaderRead(r)) == 1)
		;
	if (rc < 0) {
		const xmlError *e = xmlGetLastError();
		*why = xstrdup(e && e->message ? e->message : "not well-formed");
	}
	xmlFreeTextReader(r);
	return rc < 0 ? -1 : 0;
}

/* A JSON document about to be published must parse. */
static int
check_json(const struct buf *b, char **why)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	int rc = 0;

	if (tok == NULL) {
		*why = xstrdup("out of memory");
		return -1;
	}
	o = json_tokener_parse_ex(tok, b->data, (int)b->len);
	if (o == NULL) {
		*why = xstrdup(json_tokener_error_desc(json_tokener_get_error(tok)));
		rc = -1;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* Write data to dir/name atomically. */
static int
write_file_atomic(const char *dir, const char *name, const unsigned char *data, size_t len, char **why)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	int fd = -1, dfd = -1, rc = -1;
	size_t off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		*why = xasprintf("cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*why = xasprintf("cannot write %s: %s", tmp, strerror(errno));
			goto done;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		*why = xasprintf("cannot fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		*why = xasprintf("cannot close %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst) < 0) {
		*why = xasprintf("cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		goto done;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dst);
	return rc;
}

/* Write a document and its .gz twin into output_dir (topics/ for topics). */
static int
publisher_write_files(struct publisher *pub, const struct document *doc)
{
	const char *out = pub->cfg->output_dir;
	const char *slash = strrchr(doc->path, '/');
	char *dir = NULL, *gzname = NULL, *why = NULL;
	int rc = -1;

	if (out == NULL)
		return 0;
	dir = xasprintf("%s%.*s", out, (int)(slash - doc->path), doc->path);
	if ((mkdir(out, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		why = xasprintf("cannot create %s: %s", dir, strerror(errno));
		goto done;
	}
	gzname = xasprintf("%s.gz", slash + 1);
	if (write_file_atomic(dir, slash + 1, doc->body, doc->len, &why) < 0)
		goto done;
	if (write_file_atomic(dir, gzname, doc->gz, doc->gzlen, &why) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0) {
		/* Said once per distinct problem; /status and /metrics keep it. */
		if (pub->write_error == NULL || strcmp(pub->write_error, why) != 0)
			log_err("publish: %s", why);
		free(pub->write_error);
		pub->write_error = why;
		if (pub->metrics != NULL)
			pub->metrics->write_failures++;
	}
	free(dir);
	free(gzname);
	return rc;
}

/* Offer a rendering for path: keep the current document when the bytes
 * are the same, refuse bytes that do not re-read, else make a new one.
 * The chosen document is appended to next. */
static void
publisher_offer(struct publisher *pub, struct document **next, size_t *nnext, const char *path, const char *type,
                struct buf *body, time_t now, int (*check)(const struct buf *, char **))
{
	struct document *old = publisher_get(pub, path), *doc = NULL;
	char *why = NULL;

	if (body->data == NULL) {
		log_err("publish: cannot render %s; the previous version stays published", path);
		goto keep;
	}
	/* Bytes already published were re-read when they were first made. */
	if (old != NULL && old->len == body->len && memcmp(old->body, body->data, body->len) == 0)
		goto keep;
	if (old == NULL && (doc = document_from_files(pub, path, type, body)) != NULL) {
		next[(*nnext)++] = doc;
		log_debug("publish: %s is unchanged in output_dir", path);
		return;
	}
	if (check(body, &why) < 0) {
		log_err("publish: rendered %s does not re-read (%s); the previous version stays published", path, why);
		free(why);
		goto keep;
	}
	doc = document_new(path, type, body, now);
	if (doc == NULL)
		goto keep;
	doc->written = publisher_write_files(pub, doc) == 0;
	if (!doc->written)
		log_debug("publish: %s is served but not yet in output_dir; retrying every %d s", path,
		          PUBLISH_RETRY_S);
	document_unref(old);
	next[(*nnext)++] = doc;
	log_debug("publish: rendered %s", path);
	return;
keep:
	if (old != NULL)
		next[(*nnext)++] = old; /* our reference moves to next */
}

/* How many documents the configuration publishes. */
static size_t
publisher_ndocs(const struct config *cfg)
{
	return 3 + 2 * cfg->ntopics;
}

/* The path of document i (caller frees) and its type, in render order:
 * per list (everything, then each topic) its Atom and its JSON Feed, then
 * the subscriptions. */
static char *
publisher_doc_path(const struct config *cfg, size_t i, const char **type)
{
	size_t list = i / 2;

	if (i == publisher_ndocs(cfg) - 1) {
		*type = TYPE_OPML;
		return xstrdup("/feeds.opml");
	}
	*type = i % 2 ? TYPE_JSON : TYPE_ATOM;
	if (list == 0)
		return xstrdup(i % 2 ? "/feed.json" : "/feed.atom");
	return xasprintf("/topics/%s.%s", cfg->topics[list - 1].name, i % 2 ? "json" : "atom");
}

/* Render reuse. A render that wrote every document is recorded in the
 * store's meta table as "UNTIL FINGERPRINT": the fingerprint names what
 * the documents were made from (this feedmux, the store's generation,
 * the configuration's digest) and the files they were written to (size,
 * modification time and inode of each document and its .gz copy), and
 * UNTIL is when the first entry shown leaves the max_age window (0:
 * never). The first render of a process (a start, or --once) whose
 * fingerprint is the recorded one, before UNTIL, adopts output_dir's files
 * as they are instead of rendering: an unchanged cycle reads no entries.
 * Anything else renders as before. A file edited or replaced by hand
 * fails the check through its size, time or inode. */
#define PUBLISH_RECORD_KEY "render"

/* The fingerprint for the documents of generation gen, from output_dir's
 * files as they are now; NULL when one is missing or there is no
 * output_dir (caller frees). */
static char *
publisher_fingerprint(const struct publisher *pub, int64_t gen)
{
	const struct config *cfg = pub->cfg;
	struct buf fp;

	if (cfg->output_dir == NULL || gen < 0)
		return NULL;
	buf_init(&fp);
	buf_printf(&fp, "feedmux %s generation %lld config %016llx", FEEDMUX_VERSION, (long long)gen,
	           (unsigned long long)cfg->digest);
	for (size_t i = 0; i < publisher_ndocs(cfg); i++) {
		const char *type;
		char *path = publisher_doc_path(cfg, i, &type);

		for (int gz = 0; gz < 2; gz++) {
			char *name = xasprintf("%s%s%s", cfg->output_dir, path, gz ? ".gz" : "");
			struct stat sb;
			int ok = stat(name, &sb) == 0 && S_ISREG(sb.st_mode);

			if (ok)
				buf_printf(&fp, " %s%s %lld %lld.%09ld %llu", path, gz ? ".gz" : "", (long long)sb.st_size,
				           (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec,
				           (unsigned long long)sb.st_ino);
			free(name);
			if (!ok) {
				free(path);
				buf_free(&fp);
				return NULL;
			}
		}
		free(path);
	}
	return buf_steal(&fp);
}

/* The first render of a process: adopt output_dir's documents when the
 * recorded render is still what rendering now would give. 0 adopted,
 * -1 render. */
static int
publisher_reuse(struct publisher *pub, int64_t gen, time_t now)
{
	const struct config *cfg = pub->cfg;
	size_t n = publisher_ndocs(cfg), nadopted = 0;
	struct document **docs = NULL;
	char *record = NULL, *want = NULL, *rest;
	long long until;
	int rc = -1;

	if (cfg->output_dir == NULL || (record = store_meta_get(pub->st, PUBLISH_RECORD_KEY)) == NULL)
		goto done;
	until = strtoll(record, &rest, 10);
	if (rest == record || *rest != ' ' || (until != 0 && (long long)now > until))
		goto done;
	if ((want = publisher_fingerprint(pub, gen)) == NULL || strcmp(rest + 1, want) != 0)
		goto done;
	docs = xcalloc(n, sizeof *docs);
	for (; nadopted < n; nadopted++) {
		const char *type;
		char *path = publisher_doc_path(cfg, nadopted, &type);
		char *name = xasprintf("%s%s", cfg->output_dir, path), *gzname = xasprintf("%s.gz", name);
		struct buf body = {NULL, 0, 0};
		unsigned char *gz = NULL;
		size_t gzlen = 0;
		time_t mtime = 0;

		body.data = (char *)read_file(name, 0, SIZE_MAX - 1, &body.len, &mtime);
		if (body.data != NULL)
			gz = read_file(gzname, 18, SIZE_MAX - 1, &gzlen, NULL);
		free(name);
		free(gzname);
		if (gz == NULL) {
			free(body.data);
			free(path);
			goto done;
		}
		body.data[body.len] = '\0';
		body.cap = body.len + 1;
		docs[nadopted] = document_wrap(path, type, &body, mtime);
		docs[nadopted]->gz = gz;
		docs[nadopted]->gzlen = gzlen;
		docs[nadopted]->written = 1;
		free(path);
	}
	pub->docs = docs;
	pub->ndocs = n;
	docs = NULL;
	free(pub->saved);
	pub->saved = record;
	record = NULL;
	log_debug("publish: output_dir holds the documents of generation %lld; adopted without rendering",
	          (long long)gen);
	rc = 0;
done:
	for (size_t i = 0; docs != NULL && i < nadopted; i++)
		document_unref(docs[i]);
	free(docs);
	free(record);
	free(want);
	return rc;
}

/* Record a render of generation gen that wrote every document, valid
 * until the time given (0: no end); see publisher_reuse. */
static void
publisher_save(struct publisher *pub, int64_t gen, time_t until)
{
	char *want = publisher_fingerprint(pub, gen), *record;

	if (want == NULL)
		return;
	record = xasprintf("%lld %s", (long long)until, want);
	free(want);
	if (pub->saved != NULL && strcmp(pub->saved, record) == 0) {
		free(record);
		return;
	}
	if (store_meta_set(pub->st, PUBLISH_RECORD_KEY, record) < 0) {
		free(record);
		return;
	}
	free(pub->saved);
	pub->saved = record;
}

/* Render every output now. */
int
publisher_render(struct publisher *pub, time_t now)
{
	const struct config *cfg = pub->cfg;
	size_t max = publisher_ndocs(cfg), nnext = 0;
	struct document **next = NULL;
	struct buf atom, json, opml;
	struct timespec t0, t1;
	time_t oldest = 0;
	int64_t gen;
	int rc = 0, pending = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* What is published must be stored for good first. */
	store_flush(pub->st);
	gen = store_generation(pub->st);
	if (pub->ndocs == 0 && publisher_reuse(pub, gen, now) == 0) {
		if (pub->metrics != NULL)
			pub->metrics->render_reuses++;
		return 0;
	}
	next = xcalloc(max, sizeof *next);
	buf_init(&atom);
	buf_init(&json);
	buf_init(&opml);
	for (size_t t = 0; t <= cfg->ntopics; t++) {
		const struct config_topic *topic = t == 0 ? NULL : &cfg->topics[t - 1];
		const char *atype, *jtype;
		char *apath = publisher_doc_path(cfg, 2 * t, &atype);
		char *jpath = publisher_doc_path(cfg, 2 * t + 1, &jtype);

		buf_reset(&atom);
		buf_reset(&json);
		if (render_list(pub, topic, now, &atom, &json, &oldest) < 0) {
			buf_free(&atom);
			buf_free(&json);
			rc = -1;
		}
		publisher_offer(pub, next, &nnext, apath, atype, &atom, now, check_xml);
		publisher_offer(pub, next, &nnext, jpath, jtype, &json, now, check_json);
		free(apath);
		free(jpath);
	}
	if (opml_write(cfg, NULL, NULL, NULL, &opml) < 0) {
		buf_free(&opml);
		rc = -1;
	}
	{
		const char *otype;
		char *opath = publisher_doc_path(cfg, max - 1, &otype);

		publisher_offer(pub, next, &nnext, opath, otype, &opml, now, check_xml);
		free(opath);
	}
	/* Documents no longer configured (a removed topic) go away now. */
	for (size_t i = 0; i < pub->ndocs; i++)
		document_unref(pub->docs[i]);
	free(pub->docs);
	pub->docs = next;
	pub->ndocs = nnext;
	publisher_write_pending(pub);
	for (size_t i = 0; i < pub->ndocs; i++)
		pending |= !pub->docs[i]->written;
	/* Only a whole render, all of it in output_dir, is recorded. */
	if (rc == 0 && !pending && pub->ndocs == max)
		publisher_save(pub, gen, oldest != 0 && cfg->max_age > 0 ? oldest + cfg->max_age : 0);
	buf_free(&atom);
	buf_free(&json);
	buf_free(&opml);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pub->last_render = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (pub->metrics != NULL) {
		pub->metrics->renders++;
		pub->metrics->render_failures += rc < 0;
		pub->metrics->render_seconds += pub->last_render;
	}
	return rc;
}

/* Look up a document and take a reference. */
struct document *
publisher_get(struct publisher *pub, const char *path)
{
	for (size_t i = 0; i < pub->ndocs; i++) {
		struct document *doc = pub->docs[i];
		if (strcmp(doc->path, path) == 0) {
			doc->refs++;
			return doc;
		}
	}
	return NULL;
}
