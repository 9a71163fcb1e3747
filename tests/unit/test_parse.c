/* test_parse.c: the streaming parser against real corpus feeds (their
 * expected fields in data/corpus/expected.tsv), hand-written feeds for each
 * precedence rule, hostile documents, every cap, and chunking: every file
 * under data/ gives the same result pushed whole, a byte at a time and in
 * random pieces. Data is found through TESTS_SRCDIR (the source tree's
 * tests/ directory, set by make check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "date.h"
#include "item.h"
#include "parse.h"
#include "xalloc.h"

/* Push everything at once, or in random pieces. */
#define CHUNK_WHOLE 0
#define CHUNK_RANDOM ((size_t)-1)
/* Files above this size are not also pushed one byte at a time. */
#define ONE_BYTE_MAX (256 * 1024)

/* What one parse produced. */
struct got {
	struct item **v;
	size_t n;
	size_t cap;
	int rc;
	char *err;
	char *warning; /* parser_warning() */
	enum feed_format format;
	struct feed_meta meta;
};

static const char *tests_srcdir;

static void got_collect(void *arg, struct item *it);
static void got_free(struct got *g);
static char *data_path(const char *rel);
static char *slurp(const char *path, size_t *len);
static void parse_doc(const char *doc, size_t len, const char *base, const char *charset, size_t chunk,
                      struct got *g);
static void parse_file(const char *rel, const char *base, const char *charset, struct got *g);
static void parse_str(const char *doc, struct got *g);
static void dump_got(const struct got *g, struct buf *b);
static void dump_str(struct buf *b, const char *name, const char *v);
static void dump_time(struct buf *b, const char *name, time_t t);
static char *unescape(const char *s);
static const char *got_field(const struct got *g, const char *item, const char *field, char *tmp,
                             size_t tmplen);
static int contains(const struct got *g, const char *needle);
static void walk(const char *dir, struct buf *list);
static double now(void);
static struct parser *push_start(struct got *g);
static void push_str(struct parser *p, const char *s);
static void push_finish(struct parser *p, struct got *g);

/* Callback: keep every item. */
static void
got_collect(void *arg, struct item *it)
{
	struct got *g = arg;

	if (g->n == g->cap) {
		g->cap = g->cap == 0 ? 16 : g->cap * 2;
		g->v = xreallocarray(g->v, g->cap, sizeof *g->v);
	}
	g->v[g->n++] = it;
}

/* Free what a parse produced. */
static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		item_free(g->v[i]);
	free(g->v);
	free(g->err);
	free(g->warning);
	feed_meta_clear(&g->meta);
	memset(g, 0, sizeof *g);
}

/* The absolute path of a file under tests/data. */
static char *
data_path(const char *rel)
{
	return xasprintf("%s/data/%s", tests_srcdir, rel);
}

/* Read a whole file (NUL-terminated). */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_steal(&b);
}

/* Parse doc, pushed in chunks of the given size (or whole, or random). */
static void
parse_doc(const char *doc, size_t len, const char *base, const char *charset, size_t chunk, struct got *g)
{
	struct parser *p;
	uint64_t rng = 0x9E3779B97F4A7C15ULL ^ len;
	size_t off = 0;
	const struct feed_meta *m;

	memset(g, 0, sizeof *g);
	p = parser_new(base, charset, got_collect, g);
	while (off < len) {
		size_t n = len - off;
		if (chunk == CHUNK_RANDOM) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			/* Mostly tiny pieces, sometimes large ones. */
			n = (rng & 3) == 0 ? 1 + (size_t)(rng >> 8) % 8192 : 1 + (size_t)(rng >> 8) % 17;
		} else if (chunk != CHUNK_WHOLE) {
			n = chunk;
		}
		if (n > len - off)
			n = len - off;
		if (parser_push(p, doc + off, n) < 0)
			break;
		off += n;
	}
	g->rc = parser_finish(p, &g->err);
	g->format = parser_format(p);
	if (parser_warning(p) != NULL)
		g->warning = xstrdup(parser_warning(p));
	assert_int_equal(parser_item_count(p), g->n);
	m = parser_meta(p);
	g->meta.title = m->title != NULL ? xstrdup(m->title) : NULL;
	g->meta.link = m->link != NULL ? xstrdup(m->link) : NULL;
	g->meta.id = m->id != NULL ? xstrdup(m->id) : NULL;
	g->meta.updated = m->updated;
	g->meta.ttl = m->ttl;
	parser_free(p);
}

/* Parse a file under tests/data in one push. */
static void
parse_file(const char *rel, const char *base, const char *charset, struct got *g)
{
	char *path = data_path(rel);
	size_t len;
	char *doc = slurp(path, &len);

	parse_doc(doc, len, base, charset, CHUNK_WHOLE, g);
	free(doc);
	free(path);
}

/* Parse a string in one push, with a fixed feed URL. */
static void
parse_str(const char *doc, struct got *g)
{
	parse_doc(doc, strlen(doc), "http://example.com/feed.xml", NULL, CHUNK_WHOLE, g);
}

/* One named string of a dump. */
static void
dump_str(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, "%s=%s\n", name, v != NULL ? v : "(null)");
}

/* One named time of a dump. */
static void
dump_time(struct buf *b, const char *name, time_t t)
{
	buf_printf(b, "%s=%lld\n", name, (long long)t);
}

/* Everything a parse produced, as text, to compare two parses. */
static void
dump_got(const struct got *g, struct buf *b)
{
	buf_printf(b, "rc=%d format=%d items=%zu\n", g->rc, (int)g->format, g->n);
	dump_str(b, "err", g->err);
	dump_str(b, "warning", g->warning);
	dump_str(b, "feed.title", g->meta.title);
	dump_str(b, "feed.link", g->meta.link);
	dump_str(b, "feed.id", g->meta.id);
	dump_time(b, "feed.updated", g->meta.updated);
	buf_printf(b, "feed.ttl=%ld\n", g->meta.ttl);
	for (size_t i = 0; i < g->n; i++) {
		const struct item *it = g->v[i];
		buf_printf(b, "-- item %zu permalink=%d flags=%d\n", i, it->id_is_permalink, it->date_flags);
		dump_str(b, "id", it->id);
		dump_str(b, "link", it->link);
		dump_str(b, "title", it->title);
		dump_str(b, "summary", it->summary);
		dump_str(b, "content", it->content);
		dump_str(b, "author", it->author);
		dump_time(b, "published", it->published);
		dump_time(b, "updated", it->updated);
		for (size_t j = 0; j < it->ncategories; j++)
			dump_str(b, "category", it->categories[j]);
		for (size_t j = 0; j < it->nenclosures; j++) {
			dump_str(b, "enclosure", it->enclosures[j].url);
			dump_str(b, "enclosure.type", it->enclosures[j].type);
			buf_printf(b, "enclosure.length=%lld\n", it->enclosures[j].length);
		}
	}
}

/* Undo EXPECTED.tsv's escapes (\\, \t, \n, \r). */
static char *
unescape(const char *s)
{
	struct buf b;

	buf_init(&b);
	for (; *s; s++) {
		char c = *s;
		if (c == '\\' && s[1] != '\0') {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
		}
		buf_append(&b, &c, 1);
	}
	return buf_steal(&b);
}

/* A field of a parse, by expected.tsv's names; NULL when absent. */
static const char *
got_field(const struct got *g, const char *item, const char *field, char *tmp, size_t tmplen)
{
	const struct item *it;
	char *end;
	unsigned long i;

	if (strcmp(item, "feed") == 0) {
		if (strcmp(field, "title") == 0)
			return g->meta.title;
		if (strcmp(field, "link") == 0)
			return g->meta.link;
		if (strcmp(field, "id") == 0)
			return g->meta.id;
		if (strcmp(field, "items") == 0) {
			snprintf(tmp, tmplen, "%zu", g->n);
			return tmp;
		}
		if (strcmp(field, "updated") == 0 && g->meta.updated != 0) {
			date_format_rfc3339(g->meta.updated, tmp, tmplen);
			return tmp;
		}
		return NULL;
	}
	i = strtoul(item, &end, 10);
	if (*end != '\0' || i >= g->n)
		return NULL;
	it = g->v[i];
	if (strcmp(field, "title") == 0)
		return it->title;
	if (strcmp(field, "link") == 0)
		return it->link;
	if (strcmp(field, "id") == 0)
		return it->id;
	if (strcmp(field, "author") == 0)
		return it->author;
	if ((strcmp(field, "published") == 0 && it->published != 0) ||
	    (strcmp(field, "updated") == 0 && it->updated != 0)) {
		date_format_rfc3339(field[0] == 'p' ? it->published : it->updated, tmp, tmplen);
		return tmp;
	}
	return NULL;
}

/* Whether any text the parse produced contains needle. */
static int
contains(const struct got *g, const char *needle)
{
	struct buf b;
	int found;

	buf_init(&b);
	dump_got(g, &b);
	found = strstr(b.data, needle) != NULL;
	buf_free(&b);
	return found;
}

/* Collect the files under dir (relative to tests/data), one per line. */
static void
walk(const char *dir, struct buf *list)
{
	char *path = data_path(dir);
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		fail_msg("cannot open %s", path);
	while ((e = readdir(d)) != NULL) {
		char *rel, *full;
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		rel = xasprintf("%s/%s", dir, e->d_name);
		full = data_path(rel);
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
			walk(rel, list);
		else if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && strstr(rel, ".md") == NULL &&
		         strcmp(e->d_name, "expected.tsv") != 0)
			buf_printf(list, "%s\n", rel);
		free(rel);
		free(full);
	}
	closedir(d);
	free(path);
}

/* Seconds on a monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start a parser whose items go to g. */
static struct parser *
push_start(struct got *g)
{
	memset(g, 0, sizeof *g);
	return parser_new("http://example.com/feed.xml", NULL, got_collect, g);
}

/* Push a string. */
static void
push_str(struct parser *p, const char *s)
{
	parser_push(p, s, strlen(s));
}

/* Finish and free a parser started by push_start(). */
static void
push_finish(struct parser *p, struct got *g)
{
	g->rc = parser_finish(p, &g->err);
	g->format = parser_format(p);
	if (parser_warning(p) != NULL)
		g->warning = xstrdup(parser_warning(p));
	parser_free(p);
}

/* Every expectation of data/corpus/expected.tsv (from the corpus's
 * EXPECTED.tsv) holds. */
static void
test_corpus_expected(void **state)
{
	char *path = data_path("corpus/expected.tsv");
	size_t len;
	char *tsv = slurp(path, &len), *line, *save = NULL;
	char *last = NULL;
	struct got g;
	int checked = 0, failures = 0;

	memset(&g, 0, sizeof g);
	line = strtok_r(tsv, "\n", &save); /* header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *cols[6] = {NULL};
		char *p = line, tmp[64], *want;
		const char *have;
		for (int i = 0; i < 6; i++) {
			cols[i] = p;
			p = strchr(p, '\t');
			if (p == NULL)
				break;
			*p++ = '\0';
		}
		assert_non_null(cols[5]);
		if (last == NULL || strcmp(last, cols[0]) != 0) {
			char *rel = xasprintf("corpus/%s", cols[0]);
			got_free(&g);
			parse_file(rel, NULL, *cols[4] != '\0' ? cols[4] : NULL, &g);
			free(rel);
			free(last);
			last = xstrdup(cols[0]);
		}
		want = unescape(cols[3]);
		have = got_field(&g, cols[1], cols[2], tmp, sizeof tmp);
		if (have == NULL || strcmp(have, want) != 0) {
			print_error("%s item %s %s: got \"%s\", want \"%s\" (%s)\n", cols[0], cols[1],
			            cols[2], have != NULL ? have : "(none)", want, cols[5]);
			failures++;
		}
		free(want);
		checked++;
	}
	got_free(&g);
	free(last);
	free(tsv);
	free(path);
	assert_true(checked > 700);
	assert_int_equal(failures, 0);
}

/* One real feed per format: the format, the counts and item 0's fields. */
static void
test_formats(void **state)
{
	struct got g;
	char d[32];

	parse_file("corpus/rss2/miniflux_large_rss.xml", "https://dustri.org/b/feed.xml", NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_RSS);
	assert_int_equal(g.n, 25);
	assert_string_equal(g.meta.title, "Artificial truth");
	assert_string_equal(g.meta.link, "https://dustri.org/b/");
	assert_string_equal(g.v[0]->title, "Using vale with vim");
	assert_string_equal(g.v[0]->link, "https://dustri.org/b/using-vale-with-vim.html");
	assert_string_equal(g.v[0]->id, "tag:dustri.org,2024-03-10:/b/using-vale-with-vim.html");
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2024-03-10T16:15:00Z");
	got_free(&g);

	/* The same blog as Atom: the same item. */
	parse_file("corpus/atom/miniflux_large_atom.xml", "https://dustri.org/b/feed.atom", NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_ATOM);
	assert_int_equal(g.n, 25);
	assert_string_equal(g.meta.id, "https://dustri.org/b/");
	assert_string_equal(g.v[0]->title, "Using vale with vim");
	assert_string_equal(g.v[0]->link, "https://dustri.org/b/using-vale-with-vim.html");
	assert_string_equal(g.v[0]->id, "tag:dustri.org,2024-03-10:/b/using-vale-with-vim.html");
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2024-03-10T16:15:00Z");
	assert_non_null(g.v[0]->content);
	got_free(&g);

	/* RSS 1.0 (RDF): items are siblings of the channel. */
	parse_file("corpus/rss1/rss-parser_craigslist.rss", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_RDF);
	assert_int_equal(g.n, 25);
	assert_string_equal(g.meta.link, "https://sfbay.craigslist.org/search/apa");
	assert_string_equal(g.v[0]->link, "http://sfbay.craigslist.org/eby/apa/6186664607.html");
	assert_string_equal(
	    g.v[0]->title,
	    "Bright, Spacious Beautiful Victorian (oakland north / temescal) $4300 3bd 1930ft2");
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2017-06-21T17:33:10Z");
	got_free(&g);

	/* RSS 0.90 (the Netscape RDF namespace). */
	parse_file("corpus/rss1/feedparser_rdf_rss090_channel_title.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_RDF);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0]->title, "Item title");
	got_free(&g);

	/* RSS 0.91 with its DOCTYPE (never loaded). */
	parse_file("corpus/rss2/rome_rss_0.91N.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_RSS);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.meta.title, "rss_0.91N.channel.title");
	got_free(&g);

	/* Atom 0.3: issued, modified, escaped mode, inline xml content. */
	parse_file("parse/atom03.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_ATOM);
	assert_string_equal(g.meta.link, "http://example.org/");
	date_format_rfc3339(g.meta.updated, d, sizeof d);
	assert_string_equal(d, "2004-01-01T19:48:21Z");
	assert_string_equal(g.v[0]->title, "Escaped title");
	assert_string_equal(g.v[0]->content, "Inline <i>xml</i>");
	assert_string_equal(g.v[0]->summary, "Hello"); /* base64 text, decoded */
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2003-12-31T10:14:55Z");
	date_format_rfc3339(g.v[0]->updated, d, sizeof d);
	assert_string_equal(d, "2004-01-01T19:48:21Z");
	got_free(&g);

	/* Base64 Atom text is decoded when it is UTF-8 text, never when it
	 * is binary (a PNG's header holds NULs). */
	parse_str("<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>urn:b</id>"
	          "<title type='application/octet-stream'>PHA+VGl0bGU8L3A+</title>"
	          "<content type='application/octet-stream'>RW50cnkg\nQ29udGVudA==</content>"
	          "<summary type='image/png'>iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk</summary>"
	          "</entry></feed>",
	          &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.v[0]->title, "<p>Title</p>");
	assert_string_equal(g.v[0]->content, "Entry Content");
	assert_null(g.v[0]->summary);
	got_free(&g);
	parse_str("<feed version='0.3' xmlns='http://purl.org/atom/ns#'><entry>"
	          "<content type='text/html' mode='base64'>PHA+SGk8L3A+</content>"
	          "<summary type='text/plain' mode='base64'>YSA8IGI=</summary></entry></feed>",
	          &g);
	assert_string_equal(g.v[0]->content, "<p>Hi</p>");
	assert_string_equal(g.v[0]->summary, "a &lt; b");
	got_free(&g);

	/* An Atom entry document is a feed of one. */
	parse_str("<entry xmlns='http://www.w3.org/2005/Atom'><id>urn:x</id><title>One</title></entry>", &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.v[0]->id, "urn:x");
	got_free(&g);

	/* The 30 RFC 822 variants of feedvalidator's datetime case. */
	parse_file("corpus/dates/feedvalidator_rss20_data-types-datetime_everything.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 30);
	for (size_t i = 0; i < g.n; i++)
		assert_true(g.v[i]->published != 0);
	got_free(&g);
}

/* Every feed file under data/ (corpus, hostile, parse) parses without
 * crashing, and gives the same result whole, one byte at a time and in
 * random pieces. */
static void
test_chunking(void **state)
{
	struct buf list;
	char *line, *save = NULL;
	int files = 0, failures = 0;

	buf_init(&list);
	walk("corpus", &list);
	walk("hostile", &list);
	walk("parse", &list);
	for (line = strtok_r(list.data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *path = data_path(line);
		size_t len;
		char *doc = slurp(path, &len);
		struct got whole, part;
		struct buf a, b;

		buf_init(&a);
		parse_doc(doc, len, "http://example.com/dir/feed.xml", NULL, CHUNK_WHOLE, &whole);
		dump_got(&whole, &a);
		for (int pass = 0; pass < 2; pass++) {
			size_t chunk = pass == 0 ? 1 : CHUNK_RANDOM;
			if (chunk == 1 && len > ONE_BYTE_MAX)
				continue;
			buf_init(&b);
			parse_doc(doc, len, "http://example.com/dir/feed.xml", NULL, chunk, &part);
			dump_got(&part, &b);
			if (strcmp(a.data, b.data) != 0) {
				print_error("%s: %s pushes differ from one push\n", line,
				            chunk == 1 ? "1-byte" : "random");
				failures++;
			}
			got_free(&part);
			buf_free(&b);
		}
		got_free(&whole);
		buf_free(&a);
		free(doc);
		free(path);
		files++;
	}
	buf_free(&list);
	assert_true(files > 500);
	assert_int_equal(failures, 0);
}

/* xml:base on feed, entry and link, nested and relative, over the feed
 * URL; relative links with no xml:base resolve against the feed URL. */
static void
test_xml_base(void **state)
{
	struct got g;

	parse_file("parse/xml_base.xml", "http://example.com/feeds/main.xml", NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.meta.link, "http://example.com/blog/index.html");
	assert_string_equal(g.v[0]->link, "http://example.com/blog/posts/1.html");
	assert_string_equal(g.v[1]->link, "http://example.com/blog/2025/post-2.html");
	assert_int_equal(g.v[1]->nenclosures, 1);
	assert_string_equal(g.v[1]->enclosures[0].url, "http://example.com/blog/media/2.mp3");
	assert_string_equal(g.v[1]->enclosures[0].type, "audio/mpeg");
	assert_int_equal(g.v[1]->enclosures[0].length, 42);
	assert_string_equal(g.v[2]->link, "http://other.example/x/y/z.html");
	assert_string_equal(g.v[3]->link, "https://elsewhere.example/4");
	got_free(&g);

	/* gulp's GitHub releases feed has relative entry links, no xml:base. */
	parse_file("corpus/atom/rss-parser_gulp-atom.atom", "https://github.com/gulpjs/gulp/releases.atom",
	           NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_true(g.n > 0);
	assert_string_equal(g.v[0]->link, "https://github.com/gulpjs/gulp/releases/tag/v3.9.0");
	for (size_t i = 0; i < g.n; i++)
		assert_true(strncmp(g.v[i]->link, "https://github.com/gulpjs/gulp/releases/tag/", 44) == 0);
	got_free(&g);

	/* Without a feed URL a relative link stays as written. */
	parse_str("<rss><channel><item><link>/a</link></item></channel></rss>", &g);
	assert_string_equal(g.v[0]->link, "http://example.com/a");
	got_free(&g);
	{
		static const char rel[] = "<rss><channel><item><link>/a</link></item></channel></rss>";
		parse_doc(rel, sizeof rel - 1, NULL, NULL, CHUNK_WHOLE, &g);
	}
	assert_string_equal(g.v[0]->link, "/a");
	got_free(&g);
}

/* Undeclared HTML entities become their characters, in text and in
 * attributes; RSS titles are decoded to text. */
static void
test_html_entities(void **state)
{
	struct got g;

	parse_file("parse/entities_html.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9 & Bar\xc2\xa0News");
	assert_string_equal(g.v[0]->title, "Caf\xc3\xa9 opens \xe2\x80\x94 \xe2\x80\x9c"
	                                   "finally\xe2\x80\x9d\xe2\x80\xa6");
	assert_string_equal(g.v[0]->summary, "<p>Price:\xc2\xa0"
	                                     "5\xe2\x82\xac \xc2\xa9 2025</p>");
	assert_string_equal(g.v[0]->link, "http://example.com/a?x=1&y=%c3%a9");
	assert_string_equal(g.v[1]->title, "AT&T & Q&A");
	assert_string_equal(g.v[1]->categories[0], "Caf\xc3\xa9");
	assert_string_equal(g.v[1]->enclosures[0].url, "http://example.com/m&m.mp3?t=caf%c3%a9");
	assert_int_equal(g.v[1]->enclosures[0].length, 12345);
	got_free(&g);

	/* Every entry of the corpus's entity cases. */
	parse_file("corpus/broken/feedparser_entities_nbsp.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "testing \xc2\xa0 entity");
	got_free(&g);

	/* An unknown entity is an error, as XML says; the recovering pass
	 * keeps it as text. */
	parse_str("<rss><channel><title>&bogus; x</title></channel></rss>", &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "&bogus; x");
	assert_non_null(g.warning);
	assert_non_null(strstr(g.warning, "parsed with errors: not well-formed (line 1): "));
	assert_non_null(strstr(g.warning, "bogus"));
	got_free(&g);
}

/* Entity and attribute-list declarations stop the parse at once; nothing
 * external is ever read. */
static void
test_declarations_refused(void **state)
{
	static const char *const files[] = {
	    "hostile/billion_laughs.xml", "hostile/quadratic_blowup.xml", "hostile/xxe_file.xml",
	    "hostile/xxe_parameter.xml",  "hostile/xxe_http.xml",
	};
	char tmpl[] = "/tmp/feedmux-test-XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	char *secret_path, *doc;
	struct got g;
	int fd;
	FILE *f;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		double t0 = now();
		parse_file(files[i], NULL, NULL, &g);
		assert_int_equal(g.rc, -1);
		assert_non_null(strstr(g.err, "entity declarations are not allowed"));
		assert_int_equal(g.n, 0);
		assert_false(contains(&g, "root:"));
		assert_true(now() - t0 < 5.0);
		got_free(&g);
	}
	parse_file("hostile/attlist_default.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, -1);
	assert_non_null(strstr(g.err, "attribute-list declarations are not allowed"));
	got_free(&g);

	/* A local file with a secret: neither an entity nor an external DTD
	 * subset brings it in. */
	if (tmpdir != NULL && *tmpdir != '\0')
		secret_path = xasprintf("%s/feedmux-test-XXXXXX", tmpdir);
	else
		secret_path = xstrdup(tmpl);
	fd = mkstemp(secret_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("<!ENTITY secret \"FEEDMUX-SECRET-7f3a\">FEEDMUX-SECRET-7f3a\n", f);
	fclose(f);

	doc = xasprintf("<!DOCTYPE rss [<!ENTITY x SYSTEM \"file://%s\">]>"
	                "<rss><channel><item><title>&x;</title></item></channel></rss>",
	                secret_path);
	parse_str(doc, &g);
	assert_int_equal(g.rc, -1);
	assert_false(contains(&g, "FEEDMUX-SECRET"));
	got_free(&g);
	free(doc);

	doc = xasprintf("<!DOCTYPE rss SYSTEM \"file://%s\">"
	                "<rss><channel><item><title>a &secret; b</title></item></channel></rss>",
	                secret_path);
	parse_str(doc, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 1);
	assert_false(contains(&g, "FEEDMUX-SECRET"));
	got_free(&g);
	free(doc);

	parse_file("hostile/external_dtd.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 1);
	assert_false(contains(&g, "root:"));
	got_free(&g);

	unlink(secret_path);
	free(secret_path);
}

/* Not feeds: an HTML page, nothing, white space, text, JSON, an unknown
 * namespace. */
static void
test_not_a_feed(void **state)
{
	struct got g;

	parse_file("hostile/html_page.html", NULL, NULL, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (root element <html>)");
	got_free(&g);

	parse_file("corpus/broken/rss-parser_unrecognized.rss", NULL, NULL, &g);
	assert_int_equal(g.rc, -1);
	assert_true(strncmp(g.err, "not a feed (root element <", 26) == 0);
	got_free(&g);

	parse_doc("", 0, NULL, NULL, CHUNK_WHOLE, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (empty document)");
	got_free(&g);

	parse_str(" \r\n\t \n", &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (empty document)");
	got_free(&g);

	parse_str("Service Unavailable", &g);
	assert_int_equal(g.rc, -1);
	assert_true(strncmp(g.err, "not a feed (not XML: ", 21) == 0);
	got_free(&g);

	parse_str("  {\"rss\": {\"channel\": {\"title\": \"RSS in JSON\"}}}", &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (JSON, but not a JSON Feed)");
	got_free(&g);

	parse_str("<feed xmlns='http://example.com/not-atom'><entry/></feed>", &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (root element <feed>)");
	assert_int_equal(g.format, FEED_FORMAT_UNKNOWN);
	got_free(&g);

	/* Pushing after the end, or after a failure, is refused. */
	{
		struct parser *p = push_start(&g);
		assert_int_equal(parser_push(p, "<html>", 6), -1);
		assert_int_equal(parser_push(p, "<rss>", 5), -1);
		push_finish(p, &g);
		assert_int_equal(g.rc, -1);
		got_free(&g);
	}
}

/* Broken XML: the items complete before the error are kept, and the error
 * names the line. */
static void
test_broken(void **state)
{
	struct got g, full;
	char *path = data_path("corpus/rss2/miniflux_large_rss.xml");
	size_t len;
	char *doc = slurp(path, &len);

	/* Cut inside an item: the complete items, the error as a warning. */
	parse_file("hostile/truncated.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_null(g.err);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[1]->title, "Two");
	assert_true(strncmp(g.warning, "parsed with errors: not well-formed (line 9): ", 46) == 0);
	got_free(&g);

	/* A tag mismatch inside an item: the strict pass keeps the first
	 * item, the recovering pass hands out the broken one (once). */
	parse_file("hostile/tag_mismatch.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0]->title, "Kept");
	assert_string_equal(g.v[1]->title, "Broken");
	assert_string_equal(g.warning, "parsed with errors: not well-formed (line 7): Opening and ending tag "
	                               "mismatch: div line 7 and p");
	got_free(&g);

	/* A real feed cut in half: the first items, identical to a full parse. */
	parse_doc(doc, len, NULL, NULL, CHUNK_WHOLE, &full);
	parse_doc(doc, len / 2, NULL, NULL, CHUNK_RANDOM, &g);
	assert_int_equal(g.rc, 0);
	assert_true(strncmp(g.warning, "parsed with errors: not well-formed (line ", 42) == 0);
	assert_true(g.n > 0 && g.n < full.n);
	for (size_t i = 0; i < g.n; i++) {
		struct got one = {.v = &g.v[i], .n = 1}, fone = {.v = &full.v[i], .n = 1};
		struct buf a, b;
		buf_init(&a);
		buf_init(&b);
		dump_got(&one, &a);
		dump_got(&fone, &b);
		assert_string_equal(a.data, b.data);
		buf_free(&a);
		buf_free(&b);
	}
	got_free(&g);
	got_free(&full);
	free(doc);
	free(path);
}

/* Every cap stops the parse with an error naming it, quickly, keeping the
 * items already complete. */
static void
test_caps(void **state)
{
	struct parser *p;
	struct got g;
	struct buf b;
	char *mib = xmalloc(1024 * 1024 + 1);
	double t0;

	memset(mib, 'a', 1024 * 1024);
	mib[1024 * 1024] = '\0';

	/* Nesting: 10,000 levels stop at 256. */
	t0 = now();
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>one</title></item><item><title>two</title></item><x>");
	for (int i = 0; i < 10000; i++)
		push_str(p, "<a>");
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "elements nested deeper than 256 (cap)");
	assert_int_equal(g.n, 2);
	assert_true(now() - t0 < 5.0);
	got_free(&g);

	/* One field over 1 MiB. */
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>ok</title></item><item><title>");
	push_str(p, mib);
	push_str(p, mib);
	push_str(p, "</title></item></channel></rss>");
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "a field is longer than 1048576 bytes (cap)");
	assert_int_equal(g.n, 1);
	got_free(&g);

	/* One item over 8 MiB in fields that are each under 1 MiB. */
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>ok</title></item><item>");
	for (int i = 0; i < 9; i++) {
		push_str(p, "<category>");
		parser_push(p, mib, 1000 * 1000);
		push_str(p, "</category>");
	}
	push_str(p, "</item></channel></rss>");
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "an item is longer than 8388608 bytes (cap)");
	assert_int_equal(g.n, 1);
	got_free(&g);

	/* More than 100,000 items (a million tiny items stop here). */
	t0 = now();
	p = push_start(&g);
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "<item/>");
	push_str(p, "<rss><channel>");
	for (int i = 0; i < 1000 && parser_push(p, b.data, b.len) == 0; i++)
		;
	buf_free(&b);
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "more than 100000 items (cap)");
	assert_int_equal(g.n, 100000);
	assert_true(now() - t0 < 30.0);
	got_free(&g);

	/* Elements inside one item. */
	p = push_start(&g);
	buf_init(&b);
	for (int i = 0; i < 70000; i++)
		buf_puts(&b, "<b/>");
	push_str(p, "<rss><channel><item><x>");
	parser_push(p, b.data, b.len);
	buf_free(&b);
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "more than 65536 elements in one item (cap)");
	got_free(&g);

	/* Text in the feed as a whole, 1 MiB at a time, in an element no
	 * field reads: nothing of it is kept, and it still stops. */
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>ok</title></item><x>");
	for (int i = 0; i < 70 && parser_push(p, mib, 1024 * 1024) == 0; i++)
		;
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "more than 67108864 bytes of text (cap)");
	assert_int_equal(g.n, 1);
	got_free(&g);

	free(mib);
}

/* The precedence table, one rule per item (data/parse/precedence_*.xml). */
static void
test_precedence(void **state)
{
	struct got g;
	char d[32];

	parse_file("parse/precedence_rss.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 6);
	assert_int_equal(g.meta.ttl, 60);
	date_format_rfc3339(g.meta.updated, d, sizeof d);
	assert_string_equal(d, "2025-06-01T12:00:00Z"); /* lastBuildDate over pubDate */
	/* content:encoded is content, description is summary */
	assert_string_equal(g.v[0]->content, "<p>Full <b>text</b></p>");
	assert_string_equal(g.v[0]->summary, "Short <i>summary</i>");
	/* pubDate over an earlier dc:date */
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2025-01-01T00:00:00Z");
	assert_string_equal(g.v[0]->id, "item-1");
	assert_int_equal(g.v[0]->id_is_permalink, 0);
	assert_string_equal(g.v[0]->link, "http://example.com/1");
	assert_string_equal(g.v[0]->author, "DC Creator");
	/* a permalink guid is the link */
	assert_string_equal(g.v[1]->id, "http://example.com/2");
	assert_int_equal(g.v[1]->id_is_permalink, 1);
	assert_string_equal(g.v[1]->link, "http://example.com/2");
	date_format_rfc3339(g.v[1]->published, d, sizeof d);
	assert_string_equal(d, "2025-01-02T02:04:05Z");
	/* isPermaLink="false" never is; atom:link alternate is */
	assert_int_equal(g.v[2]->id_is_permalink, 0);
	assert_string_equal(g.v[2]->link, "http://example.com/3-alternate");
	/* an unparseable pubDate does not block dc:date */
	date_format_rfc3339(g.v[3]->published, d, sizeof d);
	assert_string_equal(d, "2025-01-04T00:00:00Z");
	/* itunes fills the gaps; duplicates are dropped */
	assert_string_equal(g.v[4]->summary, "Plain &lt;text&gt; summary");
	assert_string_equal(g.v[4]->author, "iTunes Author");
	assert_int_equal(g.v[4]->ncategories, 2);
	assert_string_equal(g.v[4]->categories[0], "News");
	assert_string_equal(g.v[4]->categories[1], "World");
	assert_int_equal(g.v[4]->nenclosures, 2);
	assert_string_equal(g.v[4]->enclosures[0].url, "http://example.com/5.mp3");
	assert_int_equal(g.v[4]->enclosures[0].length, 100);
	assert_string_equal(g.v[4]->enclosures[1].url, "http://example.com/5.jpg");
	assert_string_equal(g.v[4]->enclosures[1].type, "image/jpeg");
	/* the channel's author is inherited */
	assert_string_equal(g.v[5]->author, "Channel Author");
	assert_null(g.v[5]->id);
	assert_int_equal(g.v[5]->published, 0);
	got_free(&g);

	parse_file("parse/precedence_atom.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.meta.title, "Atom precedence");
	assert_string_equal(g.meta.link, "http://example.com/");
	assert_string_equal(g.meta.id, "urn:test:atom");
	/* html title to text; first alternate link; published over updated */
	assert_string_equal(g.v[0]->title, "A bold & html title");
	assert_string_equal(g.v[0]->link, "http://example.com/e1");
	date_format_rfc3339(g.v[0]->published, d, sizeof d);
	assert_string_equal(d, "2025-01-01T00:00:00Z");
	date_format_rfc3339(g.v[0]->updated, d, sizeof d);
	assert_string_equal(d, "2025-02-02T00:00:00Z");
	/* text summary escaped to HTML; xhtml content without its div */
	assert_string_equal(g.v[0]->summary, "Text summary with &lt;angle&gt; &amp; ampersand");
	assert_string_equal(g.v[0]->content,
	                    "<p>Hello <a href=\"/x\" title=\"a &amp; b\">world</a><br />&lt;escaped&gt;</p>");
	assert_string_equal(g.v[0]->author, "Entry Author");
	assert_int_equal(g.v[0]->ncategories, 2);
	assert_string_equal(g.v[0]->categories[1], "beta");
	assert_int_equal(g.v[0]->nenclosures, 1);
	assert_string_equal(g.v[0]->enclosures[0].url, "http://example.com/e1.mp3");
	/* xhtml title to text; html content as is; email when no name */
	assert_string_equal(g.v[1]->title, "An xhtml title");
	assert_string_equal(g.v[1]->content, "<p>Escaped <b>html</b></p>");
	assert_string_equal(g.v[1]->author, "only-email@example.com");
	/* the feed author is inherited; updated stands in for published;
	 * out-of-line content is no content */
	assert_string_equal(g.v[2]->author, "Feed Author");
	assert_int_equal(g.v[2]->published, g.v[2]->updated);
	assert_true(g.v[2]->published != 0);
	assert_null(g.v[2]->content);
	assert_string_equal(g.v[2]->summary, "spaced");
	got_free(&g);
}

/* Text is UTF-8 without control characters, whatever the references say. */
static void
test_text_clean(void **state)
{
	struct got g;

	/* RSS titles are HTML-decoded; a C0 reference inside is dropped, a
	 * Windows-1252 one is read as browsers read it. */
	parse_str("<rss><channel><item><title>a&amp;#1;b &amp;#150; c&amp;#x80;</title>"
	          "<description>x&amp;#0;y</description></item></channel></rss>",
	          &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.v[0]->title, "ab \xe2\x80\x93 c\xe2\x82\xac");
	got_free(&g);

	/* A title that is not HTML keeps its angle brackets. */
	parse_str("<rss><channel><item><title>1 &lt; 2 &gt; 0</title></item></channel></rss>", &g);
	assert_string_equal(g.v[0]->title, "1 < 2 > 0");
	got_free(&g);

	/* Titles collapse white space. */
	parse_str("<rss><channel><item><title>\n  two\t\twords \n</title></item></channel></rss>", &g);
	assert_string_equal(g.v[0]->title, "two words");
	got_free(&g);

	/* libxml2 refuses a reference to a control character as XML 1.0
	 * says; the recovering pass drops it. */
	parse_str("<rss><channel><item><title>a&#1;b</title></item></channel></rss>", &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.v[0]->title, "ab");
	assert_non_null(strstr(g.warning, "parsed with errors: not well-formed (line 1): "));
	got_free(&g);

	/* Raw control characters are dropped while decoding: no error. */
	parse_str("<rss><channel><item><title>a\x01"
	          "b\x0b\x1f c</title></item></channel></rss>", &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.v[0]->title, "ab c");
	assert_string_equal(g.warning, "parsed with errors: 3 character(s) XML forbids, dropped");
	got_free(&g);
}

/* The HTTP charset applies when the document declares none; a BOM and a
 * declaration win; UTF-16 without either is recognised. */
static void
test_encodings(void **state)
{
	static const char latin1[] = "<rss><channel><title>Caf\xe9</title></channel></rss>";
	static const char declared[] =
	    "<?xml version=\"1.0\" "
	    "encoding=\"iso-8859-1\"?><rss><channel><title>Caf\xe9</title></channel></rss>";
	static const char undeclared[] =
	    "<?xml version=\"1.0\"?><rss><channel><title>Caf\xe9</title></channel></rss>";
	static const char cp1252[] = "<rss><channel><title>\x93quoted\x94</title></channel></rss>";
	static const char bom[] =
	    "\xef\xbb\xbf \n <?xml version=\"1.0\"?><rss><channel><title>Caf\xc3\xa9</title>"
	    "</channel></rss>";
	static const char spaces[] =
	    "\n\n  <?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>ok</title>"
	    "</channel></rss>";
	struct got g;

	parse_doc(latin1, sizeof latin1 - 1, NULL, "ISO-8859-1", CHUNK_WHOLE, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9");
	got_free(&g);

	/* Not UTF-8 and nothing says what it is: windows-1252, repaired. */
	parse_doc(latin1, sizeof latin1 - 1, NULL, NULL, CHUNK_WHOLE, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9");
	assert_string_equal(g.warning, "parsed with errors: 1 byte(s) not valid UTF-8, read as windows-1252");
	got_free(&g);

	parse_doc(declared, sizeof declared - 1, NULL, "utf-8", 1, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9");
	got_free(&g);

	parse_doc(undeclared, sizeof undeclared - 1, NULL, "iso-8859-1", 1, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9");
	got_free(&g);

	parse_doc(cp1252, sizeof cp1252 - 1, NULL, "windows-1252", 1, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xe2\x80\x9cquoted\xe2\x80\x9d");
	got_free(&g);

	parse_doc(bom, sizeof bom - 1, NULL, "iso-8859-1", 1, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9");
	got_free(&g);

	parse_doc(spaces, sizeof spaces - 1, NULL, NULL, CHUNK_WHOLE, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "ok");
	got_free(&g);

	parse_file("corpus/encodings/simplepie_feed-utf16be.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_true(g.n > 0);
	assert_string_equal(g.v[0]->title, "Test feed title 1");
	got_free(&g);
}

/* The recovering pass: what it repairs, each item once and in order, and
 * what it never does (our own stops, documents over its copy's cap). */
static void
test_recovery(void **state)
{
	static const char *const titles[] = {"One", "AT&T & friends", "ABC \xf0\x9f\x98\x80", "x &bogus; y \xc3\xa9",
	                                     "1 < 2", "Six"};
	struct parser *p;
	struct got g;
	struct buf b;
	char *big;

	parse_file("parse/recover_broken.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_null(g.err);
	assert_string_equal(g.warning, "parsed with errors: not well-formed (line 10): EntityRef: expecting ';'");
	assert_string_equal(g.meta.title, "Recovery");
	assert_int_equal(g.n, 6);
	for (size_t i = 0; i < g.n; i++)
		assert_string_equal(g.v[i]->title, titles[i]);
	assert_string_equal(g.v[1]->link, "http://example.com/2?a=1&b=2");
	assert_string_equal(g.v[1]->enclosures[0].url, "http://example.com/2.mp3?x=1&y=2");
	/* CDATA is left alone. */
	assert_string_equal(g.v[5]->summary, "a & b <!-- & -->");
	got_free(&g);

	/* A cap inside the recovering pass ends it like the strict one. */
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>one</title></item><item><title>a & b</title></item><x>");
	for (int i = 0; i < 300; i++)
		push_str(p, "<a>");
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "elements nested deeper than 256 (cap)");
	got_free(&g);

	/* Entity declarations are never recovered from. */
	parse_str("<!DOCTYPE rss [<!ENTITY a \"b\">]><rss><channel><item><title>&a; & x</title></item>"
	          "</channel></rss>",
	          &g);
	assert_int_equal(g.rc, -1);
	assert_non_null(strstr(g.err, "entity declarations are not allowed"));
	assert_int_equal(g.n, 0);
	got_free(&g);

	/* Not a feed stays not a feed. */
	parse_str("<html><body>a & b</body></html>", &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (root element <html>)");
	got_free(&g);

	/* An error before the root: recovered all the same. */
	parse_str("<?xml version='1.0'?><!-- a -- b --><rss><channel><item><title>t</title></item>"
	          "</channel></rss>",
	          &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 1);
	assert_true(strncmp(g.warning, "parsed with errors: not XML: ", 29) == 0);
	got_free(&g);

	/* Over 16 MiB the document is not kept: the strict result stands.
	 * (libxml2 parses a reference only once a ';' follows it.) */
	big = xmalloc(512 * 1024 + 1);
	memset(big, 'a', 512 * 1024);
	big[512 * 1024] = '\0';
	buf_init(&b);
	p = push_start(&g);
	push_str(p, "<rss><channel><item><title>one</title></item><item><title>a & b</title></item>");
	for (int i = 0; i < 34; i++) {
		buf_reset(&b);
		buf_printf(&b, "<item><title>%d &amp;</title><description>%s</description></item>", i, big);
		push_str(p, b.data);
	}
	push_str(p, "</channel></rss>");
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not well-formed (line 1): xmlParseEntityRef: no name");
	assert_int_equal(g.n, 1);
	got_free(&g);
	buf_free(&b);
	free(big);
}

/* Encodings repaired rather than refused: a document that says latin-1 and
 * holds UTF-8, windows-1252 bytes in UTF-8 and in latin-1, an unknown
 * name, UTF-32, iconv's encodings and the bytes they cannot read. */
static void
test_encoding_repair(void **state)
{
	struct got g;

	parse_file("parse/enc_latin1_holds_utf8.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x94 ok");
	assert_string_equal(g.v[0]->title, "na\xc3\xafve \xf0\x9f\x98\x80");
	assert_string_equal(g.warning, "parsed with errors: declared ISO-8859-1 but holds UTF-8, read as UTF-8");
	got_free(&g);

	parse_file("parse/enc_utf8_smart_quotes.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xe2\x80\x9csmart\xe2\x80\x9d caf\xc3\xa9 na\xc3\xafve \xe2\x80\xa6");
	assert_string_equal(g.v[0]->title, "\xe2\x82\xac 5");
	assert_string_equal(g.warning, "parsed with errors: 5 byte(s) not valid UTF-8, read as windows-1252");
	got_free(&g);

	parse_file("parse/enc_latin1_smart_quotes.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xe2\x80\x9c"
	                                  "Caf\xc3\xa9\xe2\x80\x9d \xe2\x80\x93 \xc2\xa3");
	assert_null(g.warning);
	got_free(&g);

	/* The same bytes with the HTTP charset and no declaration. */
	{
		static const char doc[] = "<rss><channel><title>\x93"
		                          "Caf\xe9\x94</title></channel></rss>";
		parse_doc(doc, sizeof doc - 1, NULL, "ISO-8859-1", 1, &g);
		assert_int_equal(g.rc, 0);
		assert_string_equal(g.meta.title, "\xe2\x80\x9c"
		                                  "Caf\xc3\xa9\xe2\x80\x9d");
		got_free(&g);
	}

	parse_file("parse/enc_unknown.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Gr\xc3\xbc\xc3\x9f"
	                                  "e");
	assert_string_equal(g.warning, "parsed with errors: unknown encoding \"x-made-up\", read as UTF-8");
	got_free(&g);

	parse_file("parse/enc_utf32le.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xc3\x9cn\xc3\xaf"
	                                  "c\xc3\xb6"
	                                  "d\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e");
	assert_int_equal(g.n, 1);
	got_free(&g);

	parse_file("parse/enc_koi8r.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80");
	assert_null(g.warning);
	got_free(&g);

	parse_file("parse/enc_eucjp_invalid.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "\xe6\x97\xa5\xe6\x9c\xac\xef\xbf\xbd ok");
	assert_string_equal(g.warning, "parsed with errors: 1 byte(s) not valid EUC-JP, replaced");
	got_free(&g);

	/* The corpus's cases. */
	parse_file("corpus/encodings/miniflux_encoding-windows-1252-incorrect-prolog.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "Euro \xe2\x82\xac");
	assert_string_equal(g.warning, "parsed with errors: declared windows-1252 but holds UTF-8, read as UTF-8");
	got_free(&g);

	parse_file("corpus/encodings/miniflux_encoding-koi8r.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.v[0]->title, "\xd0\x9f\xd0\xb5\xd1\x80\xd0\xb2\xd0\xb0\xd1\x8f \xd0\xbd\xd0\xbe\xd0\xb2"
	                                   "\xd0\xbe\xd1\x81\xd1\x82\xd1\x8c");
	got_free(&g);

	parse_file("corpus/encodings/feedparser_encoding_bozo_bogus_encoding.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.warning, "parsed with errors: unknown encoding \"bogus\", read as UTF-8");
	got_free(&g);

	parse_file("corpus/encodings/feedvalidator_xml_must_xml_declares_unknown_encoding.xml", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_RSS);
	got_free(&g);

	{
		static const char *const wide[] = {
		    "corpus/encodings/feedparser_encoding_utf-32be-bom.xml",
		    "corpus/encodings/feedparser_encoding_utf-32le-bom.xml",
		    "corpus/encodings/feedparser_encoding_utf-32be-autodetect.xml",
		    "corpus/encodings/feedparser_encoding_utf-32le-autodetect.xml",
		    "corpus/encodings/feedparser_encoding_utf-32be.xml",
		    "corpus/encodings/feedparser_encoding_utf_32.xml",
		    "corpus/encodings/feedparser_encoding_utf-16le-bom.xml",
		    "corpus/encodings/feedparser_encoding_utf-16be-autodetect.xml",
		};
		for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
			parse_file(wide[i], NULL, NULL, &g);
			if (g.rc != 0)
				fail_msg("%s: %s", wide[i], g.err);
			assert_null(g.warning);
			got_free(&g);
		}
	}

	/* Leading white space and a BOM in UTF-16 are dropped. */
	{
		static const char doc[] = "\xff\xfe \0\n\0<\0r\0s\0s\0>\0<\0/\0r\0s\0s\0>\0";
		parse_doc(doc, sizeof doc - 1, NULL, NULL, 1, &g);
		assert_int_equal(g.rc, 0);
		assert_int_equal(g.format, FEED_FORMAT_RSS);
		got_free(&g);
	}
}

/* JSON Feed 1.0 and 1.1 through the same table: the same posts as the
 * site's RSS, authors (1.1) over author (1.0), the feed's authors
 * inherited, text escaped to HTML, tags and attachments, errors, caps. */
static void
test_json_feed(void **state)
{
	static const char doc[] =
	    "\xef\xbb\xbf {\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"J\","
	    " \"home_page_url\": \"/home\", \"items\": [{\"id\": 42, \"external_url\": \"ext\","
	    " \"url\": \"/p/42\", \"title\": \" Two  words \", \"content_text\": \"a < b\","
	    " \"summary\": \"s & t\", \"date_modified\": \"2025-01-02T00:00:00Z\","
	    " \"tags\": [\"x\", \"x\", \"y\", 3], \"attachments\": [{\"url\": \"a.mp3\","
	    " \"mime_type\": \"audio/mpeg\", \"size_in_bytes\": 99}, {\"mime_type\": \"none\"}]},"
	    " \"not an item\", {\"content_html\": \"<p>x</p>\", \"content_text\": \"x\"}]} \n";
	struct got g, rss;
	struct parser *p;
	char *mib;

	parse_file("corpus/jsonfeed/netnewswire_allthis.json", NULL, NULL, &g);
	parse_file("corpus/rss2/netnewswire_allthis.atom", NULL, NULL, &rss);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.format, FEED_FORMAT_JSON);
	assert_int_equal(g.n, 12);
	assert_int_equal(rss.n, 12);
	assert_string_equal(g.meta.title, "And now it\xe2\x80\x99s all this");
	for (size_t i = 0; i < g.n; i++) {
		assert_string_equal(g.v[i]->title, rss.v[i]->title);
		assert_string_equal(g.v[i]->link, rss.v[i]->link);
		assert_string_equal(g.v[i]->id, rss.v[i]->id);
		assert_int_equal(g.v[i]->published, rss.v[i]->published);
		assert_string_equal(g.v[i]->author, "Dr. Drang");
		assert_non_null(g.v[i]->content);
	}
	got_free(&g);
	got_free(&rss);

	parse_file("corpus/jsonfeed/netnewswire_authors.json", NULL, NULL, &g);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.v[0]->author, "Root Author 1");
	assert_string_equal(g.v[1]->author, "Legacy Item Author");
	assert_string_equal(g.v[2]->author, "Item Author 1");
	assert_string_equal(g.v[3]->author, "Item Author 1");
	got_free(&g);

	parse_doc(doc, sizeof doc - 1, "http://example.com/feed.json", NULL, 1, &g);
	assert_int_equal(g.rc, 0);
	assert_string_equal(g.meta.title, "J");
	assert_string_equal(g.meta.link, "http://example.com/home");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0]->id, "42");
	assert_string_equal(g.v[0]->link, "http://example.com/p/42");
	assert_string_equal(g.v[0]->title, "Two words");
	assert_string_equal(g.v[0]->content, "a &lt; b");
	assert_string_equal(g.v[0]->summary, "s &amp; t");
	assert_int_equal(g.v[0]->published, 1735776000);
	assert_int_equal(g.v[0]->updated, 1735776000);
	assert_int_equal(g.v[0]->ncategories, 3);
	assert_string_equal(g.v[0]->categories[2], "3");
	assert_int_equal(g.v[0]->nenclosures, 1);
	assert_string_equal(g.v[0]->enclosures[0].url, "http://example.com/a.mp3");
	assert_int_equal(g.v[0]->enclosures[0].length, 99);
	assert_string_equal(g.v[1]->content, "<p>x</p>");
	got_free(&g);

	/* JSON strings are UTF-8 as XML allows it (fuzz_parse found the
	 * bytes json-c passes through): not UTF-8 is read as windows-1252,
	 * forbidden characters are dropped. */
	{
		static const char bad[] = "{\"version\": \"https://jsonfeed.org/version/1\", \"title\": \"a\x93"
		                          "b\\u0001c\\ufffe\xed\xa0\x80\", \"items\": [{\"id\": \"\xff\"}]}";
		parse_doc(bad, sizeof bad - 1, NULL, NULL, CHUNK_WHOLE, &g);
		assert_int_equal(g.rc, 0);
		assert_string_equal(g.meta.title, "a\xe2\x80\x9c"
		                                  "bc\xc3\xad\xc2\xa0\xe2\x82\xac");
		assert_string_equal(g.v[0]->id, "\xc3\xbf");
		got_free(&g);
	}

	parse_file("corpus/broken/gofeed_json-invalid_invalid.json", NULL, NULL, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (JSON: unexpected end of data)");
	got_free(&g);

	parse_str("{\"version\": \"https://jsonfeed.org/version/1\", \"items\": []} {", &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "not a feed (JSON: data after the document)");
	got_free(&g);

	parse_str(
	    "{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	    &g);
	assert_int_equal(g.rc, -1);
	assert_true(strncmp(g.err, "not a feed (JSON: ", 18) == 0);
	got_free(&g);

	/* A JSON Feed is held whole, so it has its own cap. */
	mib = xmalloc(1024 * 1024);
	memset(mib, 'a', 1024 * 1024);
	p = push_start(&g);
	push_str(p, "{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [{\"title\": \"");
	for (int i = 0; i < 20 && parser_push(p, mib, 1024 * 1024) == 0; i++)
		;
	push_finish(p, &g);
	assert_int_equal(g.rc, -1);
	assert_string_equal(g.err, "more than 16777216 bytes of JSON (cap)");
	got_free(&g);
	free(mib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus_expected),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_chunking),
	    cmocka_unit_test(test_xml_base),
	    cmocka_unit_test(test_html_entities),
	    cmocka_unit_test(test_declarations_refused),
	    cmocka_unit_test(test_not_a_feed),
	    cmocka_unit_test(test_broken),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_text_clean),
	    cmocka_unit_test(test_encodings),
	    cmocka_unit_test(test_recovery),
	    cmocka_unit_test(test_encoding_repair),
	    cmocka_unit_test(test_json_feed),
	};

	tests_srcdir = getenv("TESTS_SRCDIR");
	if (tests_srcdir == NULL || *tests_srcdir == '\0') {
		fprintf(stderr,
		        "test_parse: TESTS_SRCDIR is not set; run it through make check, or set it to the "
		        "source tree's tests/ directory\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
