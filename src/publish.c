/* publish.c: rendering walks the store twice (the feed's <updated> is the
 * newest entry's, and it precedes the entries), then checks the bytes are
 * well-formed XML before anything is replaced. A rendering whose bytes
 * equal the current document's is dropped, so ETag and Last-Modified move
 * only when the content does. Files are written to a temporary name,
 * fsynced, renamed over the old one, and the directory fsynced, so a crash
 * leaves either the old or the new file, never a mix. */
#include "publish.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "atom.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#define PUBLISH_DEBOUNCE_MS 500
#define PUBLISH_MAX_DOCS 1

enum { DOC_FEED_ATOM = 0 };

struct publisher {
	struct event_base *base;
	const struct config *cfg;
	struct store *st;
	struct event *debounce;
	struct document *docs[PUBLISH_MAX_DOCS];
};

struct render_pass {
	struct atom_writer *w;
	time_t newest;
	int failed;
};

static void publisher_debounce_cb(evutil_socket_t fd, short what, void *arg);
static int render_newest_cb(void *arg, const struct store_entry *e);
static int render_entry_cb(void *arg, const struct store_entry *e);
static int render_feed(struct publisher *pub, time_t now, struct buf *out);
static struct document *document_new(const char *path, const char *type, struct buf *body, time_t now);
static int gzip_bytes(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen);
static int xml_well_formed(const unsigned char *data, size_t len, char **why);
static int write_file_atomic(const char *dir, const char *name, const unsigned char *data, size_t len);
static int publisher_write_files(struct publisher *pub, const struct document *doc);

/* Create the publisher; nothing is rendered until asked. */
struct publisher *
publisher_new(struct event_base *base, const struct config *cfg, struct store *st)
{
	struct publisher *pub = xcalloc(1, sizeof *pub);

	pub->base = base;
	pub->cfg = cfg;
	pub->st = st;
	if (base != NULL)
		pub->debounce = evtimer_new(base, publisher_debounce_cb, pub);
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
	for (size_t i = 0; i < PUBLISH_MAX_DOCS; i++)
		if (pub->docs[i] != NULL)
			document_unref(pub->docs[i]);
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
	struct timeval tv = {PUBLISH_DEBOUNCE_MS / 1000, (PUBLISH_DEBOUNCE_MS % 1000) * 1000};

	if (pub->debounce == NULL || evtimer_pending(pub->debounce, NULL))
		return;
	evtimer_add(pub->debounce, &tv);
}

/* The debounce timer fired. */
static void
publisher_debounce_cb(evutil_socket_t fd, short what, void *arg)
{
	struct publisher *pub = arg;

	publisher_render(pub, time(NULL));
}

/* Pass 1: the newest <updated> among the entries. */
static int
render_newest_cb(void *arg, const struct store_entry *e)
{
	struct render_pass *rp = arg;

	if (e->updated > rp->newest)
		rp->newest = e->updated;
	return 0;
}

/* Pass 2: write one entry. */
static int
render_entry_cb(void *arg, const struct store_entry *e)
{
	struct render_pass *rp = arg;

	if (atom_writer_entry(rp->w, e) < 0) {
		rp->failed = 1;
		return 1;
	}
	return 0;
}

/* Render the merged feed into out. */
static int
render_feed(struct publisher *pub, time_t now, struct buf *out)
{
	const struct config *cfg = pub->cfg;
	struct render_pass rp = {NULL, 0, 0};
	struct atom_head head;
	char *self = NULL, *id = NULL;
	time_t since = cfg->max_age > 0 ? now - cfg->max_age : 0;
	int rc = -1;

	if (store_foreach_entry(pub->st, since, (size_t)cfg->max_entries, render_newest_cb, &rp) < 0)
		goto done;
	self = xasprintf("%sfeed.atom", cfg->base_url);
	id = cfg->id ? xstrdup(cfg->id) : xstrdup(self);
	memset(&head, 0, sizeof head);
	head.id = id;
	head.title = cfg->title;
	head.subtitle = cfg->subtitle;
	head.self = self;
	head.alternate = cfg->link;
	head.author = cfg->author;
	/* With no entries the feed has never changed: the epoch keeps the
	 * document identical across restarts. */
	head.updated = rp.newest;
	rp.w = atom_writer_new(&head);
	if (rp.w == NULL)
		goto done;
	if (store_foreach_entry(pub->st, since, (size_t)cfg->max_entries, render_entry_cb, &rp) < 0 || rp.failed)
		goto done;
	rc = atom_writer_finish(rp.w, out);
done:
	atom_writer_free(rp.w);
	free(self);
	free(id);
	return rc;
}

/* Wrap rendered bytes (taken from body) into a document. */
static struct document *
document_new(const char *path, const char *type, struct buf *body, time_t now)
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
	doc->mtime = now;
	doc->refs = 1;
	if (gzip_bytes(doc->body, doc->len, &doc->gz, &doc->gzlen) < 0) {
		document_unref(doc);
		return NULL;
	}
	return doc;
}

/* Drop a reference. */
void
document_unref(struct document *doc)
{
	if (doc == NULL || --doc->refs > 0)
		return;
	free(doc->path);
	free(doc->body);
	free(doc->gz);
	free(doc);
}

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
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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

/* Re-read what we are about to publish: it must be well-formed XML. */
static int
xml_well_formed(const unsigned char *data, size_t len, char **why)
{
	xmlDocPtr doc;

	doc = xmlReadMemory((const char *)data, (int)len, NULL, "utf-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
	                    XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = xmlGetLastError();
		*why = xstrdup(e && e->message ? e->message : "not well-formed");
		return -1;
	}
	xmlFreeDoc(doc);
	return 0;
}

/* Write data to dir/name atomically. */
static int
write_file_atomic(const char *dir, const char *name, const unsigned char *data, size_t len)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	int fd = -1, dfd = -1, rc = -1;
	size_t off = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("publish: cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("publish: cannot write %s: %s", tmp, strerror(errno));
			goto done;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		log_err("publish: cannot fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		log_err("publish: cannot close %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst) < 0) {
		log_err("publish: cannot rename %s to %s: %s", tmp, dst, strerror(errno));
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

/* Write a document and its .gz twin into output_dir. */
static int
publisher_write_files(struct publisher *pub, const struct document *doc)
{
	const char *dir = pub->cfg->output_dir;
	const char *name = doc->path + 1;
	char *gzname = NULL;
	int rc = -1;

	if (dir == NULL)
		return 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_err("publish: cannot create output_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	gzname = xasprintf("%s.gz", name);
	if (write_file_atomic(dir, name, doc->body, doc->len) < 0)
		goto done;
	if (write_file_atomic(dir, gzname, doc->gz, doc->gzlen) < 0)
		goto done;
	rc = 0;
done:
	free(gzname);
	return rc;
}

/* Render every output now. */
int
publisher_render(struct publisher *pub, time_t now)
{
	struct buf out;
	struct document *doc = NULL, *old = pub->docs[DOC_FEED_ATOM];
	char *why = NULL;
	int rc = -1;

	buf_init(&out);
	if (render_feed(pub, now, &out) < 0) {
		log_err("publish: cannot render /feed.atom; the previous version stays published");
		goto done;
	}
	if (xml_well_formed((const unsigned char *)out.data, out.len, &why) < 0) {
		log_err("publish: rendered /feed.atom is not well-formed (%s); the previous version stays published",
		        why);
		goto done;
	}
	if (old != NULL && old->len == out.len && memcmp(old->body, out.data, out.len) == 0) {
		rc = 0;
		goto done;
	}
	doc = document_new("/feed.atom", "application/atom+xml; charset=utf-8", &out, now);
	if (doc == NULL)
		goto done;
	if (publisher_write_files(pub, doc) < 0)
		log_warn("publish: /feed.atom is served but could not be written to output_dir");
	pub->docs[DOC_FEED_ATOM] = doc;
	doc = NULL;
	if (old != NULL)
		document_unref(old);
	log_debug("publish: rendered /feed.atom");
	rc = 0;
done:
	buf_free(&out);
	free(why);
	document_unref(doc);
	return rc;
}

/* Look up a document and take a reference. */
struct document *
publisher_get(struct publisher *pub, const char *path)
{
	for (size_t i = 0; i < PUBLISH_MAX_DOCS; i++) {
		struct document *doc = pub->docs[i];
		if (doc != NULL && strcmp(doc->path, path) == 0) {
			doc->refs++;
			return doc;
		}
	}
	return NULL;
}
