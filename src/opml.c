/* opml.c: writing is xmlTextWriter into an xmlBuffer, as in atom.c.
 * Importing reads the whole file (bounded) into memory, so libxml2 never
 * opens it itself (it would inflate gzip transparently, past the bound),
 * and parses it into a tree with no network, no DTD loading and no entity
 * substitution; a SAX hook stops the parse at the first entity
 * declaration, since OPML has no use for one and they are the usual way
 * to attack a parser. Outlines with an xmlUrl are feeds; outlines without
 * one that have children are folders. Folders and categories become
 * topics. Names are slugs made unique in order of appearance, and the
 * same xmlUrl twice is one feed with the topics of both. Every value
 * written is one that config.c accepts: inih would cut a title at " ;"
 * (an inline comment), so such titles are adjusted. */
#include "opml.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "strlist.h"
#include "url.h"
#include "xalloc.h"

#define OPML_MAX_FILE (16L * 1024 * 1024)
#define OPML_NAME_MAX 64 /* config.c's limit on feed and topic names */
#define OPML_FOLDER_NAME "folder"
#define OPML_FEED_NAME "feed"

struct opml_topic {
	char *name;
	char *title; /* the folder or category as written */
	char *key;   /* its slug; or, when it has none, its title */
	int by_title;
};

struct opml_feed {
	char *name;
	char *url;
	char *title; /* NULL when the outline had none */
	struct strlist topics;
};

struct opml_import {
	const char *path;
	struct opml_topic *topics;
	size_t ntopics, topics_cap;
	struct opml_feed *feeds;
	size_t nfeeds, feeds_cap;
	struct strlist folders; /* topic names of the enclosing folders */
	struct strlist skipped; /* "TITLE <URL>" of feeds we cannot poll */
	size_t merged;          /* outlines repeating an earlier xmlUrl */
	char *entity;           /* the first entity the document declares */
	int entity_line;
	char *xml_error; /* libxml2's first error */
	int xml_error_line;
};

/* One entry of the transliteration table: code points first..last become
 * ascii ("" drops them). */
struct opml_translit {
	unsigned first, last;
	const char *ascii;
};

/* clang-format off */
static const struct opml_translit opml_translits[] = {
    /* Combining marks (decomposed accents): dropped. */
    {0x300, 0x36f, ""},
    /* Latin-1 Supplement. */
    {0xc0, 0xc5, "a"}, {0xc6, 0xc6, "ae"}, {0xc7, 0xc7, "c"}, {0xc8, 0xcb, "e"}, {0xcc, 0xcf, "i"},
    {0xd0, 0xd0, "d"}, {0xd1, 0xd1, "n"}, {0xd2, 0xd6, "o"}, {0xd8, 0xd8, "o"}, {0xd9, 0xdc, "u"},
    {0xdd, 0xdd, "y"}, {0xde, 0xde, "th"}, {0xdf, 0xdf, "ss"}, {0xe0, 0xe5, "a"}, {0xe6, 0xe6, "ae"},
    {0xe7, 0xe7, "c"}, {0xe8, 0xeb, "e"}, {0xec, 0xef, "i"}, {0xf0, 0xf0, "d"}, {0xf1, 0xf1, "n"},
    {0xf2, 0xf6, "o"}, {0xf8, 0xf8, "o"}, {0xf9, 0xfc, "u"}, {0xfd, 0xfd, "y"}, {0xfe, 0xfe, "th"},
    {0xff, 0xff, "y"},
    /* Latin Extended-A. */
    {0x100, 0x105, "a"}, {0x106, 0x10d, "c"}, {0x10e, 0x111, "d"}, {0x112, 0x11b, "e"}, {0x11c, 0x123, "g"},
    {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"}, {0x134, 0x135, "j"}, {0x136, 0x138, "k"},
    {0x139, 0x142, "l"}, {0x143, 0x14b, "n"}, {0x14c, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"},
    {0x15a, 0x161, "s"}, {0x162, 0x167, "t"}, {0x168, 0x173, "u"}, {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17e, "z"}, {0x17f, 0x17f, "s"},
    /* Modifier apostrophe: part of the word. */
    {0x2bc, 0x2bc, ""},
    /* Greek (ELOT 743, simplified). */
    {0x386, 0x386, "a"}, {0x388, 0x388, "e"}, {0x389, 0x38a, "i"}, {0x38c, 0x38c, "o"}, {0x38e, 0x38e, "y"},
    {0x38f, 0x38f, "o"}, {0x391, 0x391, "a"}, {0x392, 0x392, "v"}, {0x393, 0x393, "g"}, {0x394, 0x394, "d"},
    {0x395, 0x395, "e"}, {0x396, 0x396, "z"}, {0x397, 0x397, "i"}, {0x398, 0x398, "th"}, {0x399, 0x399, "i"},
    {0x39a, 0x39a, "k"}, {0x39b, 0x39b, "l"}, {0x39c, 0x39c, "m"}, {0x39d, 0x39d, "n"}, {0x39e, 0x39e, "x"},
    {0x39f, 0x39f, "o"}, {0x3a0, 0x3a0, "p"}, {0x3a1, 0x3a1, "r"}, {0x3a3, 0x3a3, "s"}, {0x3a4, 0x3a4, "t"},
    {0x3a5, 0x3a5, "y"}, {0x3a6, 0x3a6, "f"}, {0x3a7, 0x3a7, "ch"}, {0x3a8, 0x3a8, "ps"}, {0x3a9, 0x3a9, "o"},
    {0x3aa, 0x3aa, "i"}, {0x3ab, 0x3ab, "y"}, {0x3ac, 0x3ac, "a"}, {0x3ad, 0x3ad, "e"}, {0x3ae, 0x3af, "i"},
    {0x3b1, 0x3b1, "a"}, {0x3b2, 0x3b2, "v"}, {0x3b3, 0x3b3, "g"}, {0x3b4, 0x3b4, "d"}, {0x3b5, 0x3b5, "e"},
    {0x3b6, 0x3b6, "z"}, {0x3b7, 0x3b7, "i"}, {0x3b8, 0x3b8, "th"}, {0x3b9, 0x3b9, "i"}, {0x3ba, 0x3ba, "k"},
    {0x3bb, 0x3bb, "l"}, {0x3bc, 0x3bc, "m"}, {0x3bd, 0x3bd, "n"}, {0x3be, 0x3be, "x"}, {0x3bf, 0x3bf, "o"},
    {0x3c0, 0x3c0, "p"}, {0x3c1, 0x3c1, "r"}, {0x3c2, 0x3c3, "s"}, {0x3c4, 0x3c4, "t"}, {0x3c5, 0x3c5, "y"},
    {0x3c6, 0x3c6, "f"}, {0x3c7, 0x3c7, "ch"}, {0x3c8, 0x3c8, "ps"}, {0x3c9, 0x3c9, "o"}, {0x3ca, 0x3ca, "i"},
    {0x3cb, 0x3cb, "y"}, {0x3cc, 0x3cc, "o"}, {0x3cd, 0x3cd, "y"}, {0x3ce, 0x3ce, "o"},
    /* Cyrillic: Russian, Ukrainian, Belarusian (simplified BGN/PCGN). */
    {0x401, 0x401, "e"}, {0x404, 0x404, "ye"}, {0x406, 0x406, "i"}, {0x407, 0x407, "yi"}, {0x40e, 0x40e, "u"},
    {0x410, 0x410, "a"}, {0x411, 0x411, "b"}, {0x412, 0x412, "v"}, {0x413, 0x413, "g"}, {0x414, 0x414, "d"},
    {0x415, 0x415, "e"}, {0x416, 0x416, "zh"}, {0x417, 0x417, "z"}, {0x418, 0x418, "i"}, {0x419, 0x419, "y"},
    {0x41a, 0x41a, "k"}, {0x41b, 0x41b, "l"}, {0x41c, 0x41c, "m"}, {0x41d, 0x41d, "n"}, {0x41e, 0x41e, "o"},
    {0x41f, 0x41f, "p"}, {0x420, 0x420, "r"}, {0x421, 0x421, "s"}, {0x422, 0x422, "t"}, {0x423, 0x423, "u"},
    {0x424, 0x424, "f"}, {0x425, 0x425, "kh"}, {0x426, 0x426, "ts"}, {0x427, 0x427, "ch"}, {0x428, 0x428, "sh"},
    {0x429, 0x429, "shch"}, {0x42a, 0x42a, ""}, {0x42b, 0x42b, "y"}, {0x42c, 0x42c, ""}, {0x42d, 0x42d, "e"},
    {0x42e, 0x42e, "yu"}, {0x42f, 0x42f, "ya"}, {0x430, 0x430, "a"}, {0x431, 0x431, "b"}, {0x432, 0x432, "v"},
    {0x433, 0x433, "g"}, {0x434, 0x434, "d"}, {0x435, 0x435, "e"}, {0x436, 0x436, "zh"}, {0x437, 0x437, "z"},
    {0x438, 0x438, "i"}, {0x439, 0x439, "y"}, {0x43a, 0x43a, "k"}, {0x43b, 0x43b, "l"}, {0x43c, 0x43c, "m"},
    {0x43d, 0x43d, "n"}, {0x43e, 0x43e, "o"}, {0x43f, 0x43f, "p"}, {0x440, 0x440, "r"}, {0x441, 0x441, "s"},
    {0x442, 0x442, "t"}, {0x443, 0x443, "u"}, {0x444, 0x444, "f"}, {0x445, 0x445, "kh"}, {0x446, 0x446, "ts"},
    {0x447, 0x447, "ch"}, {0x448, 0x448, "sh"}, {0x449, 0x449, "shch"}, {0x44a, 0x44a, ""}, {0x44b, 0x44b, "y"},
    {0x44c, 0x44c, ""}, {0x44d, 0x44d, "e"}, {0x44e, 0x44e, "yu"}, {0x44f, 0x44f, "ya"}, {0x451, 0x451, "e"},
    {0x454, 0x454, "ye"}, {0x456, 0x456, "i"}, {0x457, 0x457, "yi"}, {0x45e, 0x45e, "u"}, {0x490, 0x491, "g"},
    /* Typographic apostrophes: part of the word ("Don’t" is "dont"). */
    {0x2018, 0x2019, ""},
};
/* clang-format on */

static void opml_check(int *failed, int rc);
static void opml_attr_write(xmlTextWriterPtr w, int *failed, const char *name, const char *value);
static const char *opml_translit_of(unsigned cp);
static char *opml_slug(const char *s);
static char *opml_clean(const char *s);
static char *opml_conf_value(const char *s);
static char *opml_attr(xmlNodePtr n, const char *name);
static char *opml_feed_url(const char *raw);
static char *opml_host_slug(const char *url);
static int opml_feed_name_taken(const struct opml_import *im, const char *name);
static int opml_topic_name_taken(const struct opml_import *im, const char *name);
static char *opml_unique(const struct opml_import *im, const char *base,
                         int (*taken)(const struct opml_import *, const char *));
static const char *opml_topic_for(struct opml_import *im, const char *title);
static void opml_add_categories(struct opml_import *im, struct strlist *topics, const char *category);
static void opml_add_feed(struct opml_import *im, xmlNodePtr n, const char *raw_url);
static void opml_walk(struct opml_import *im, xmlNodePtr parent);
static int opml_read_file(const char *path, struct buf *data, char **err);
static void opml_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                                 const xmlChar *system_id, xmlChar *content);
static void opml_sax_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                          const xmlChar *system_id, const xmlChar *notation);
static xmlParserInputPtr opml_sax_resolve_entity(void *ctx, const xmlChar *public_id,
                                                 const xmlChar *system_id);
static void opml_sax_error(void *ctx, xmlErrorPtr err);
static void opml_generic_error(void *ctx, const char *fmt, ...);
static xmlDocPtr opml_parse(struct opml_import *im, const struct buf *data);
static int opml_is_html(const struct buf *data);
static void opml_emit(const struct opml_import *im, struct buf *out);
static void opml_import_free(struct opml_import *im);
static char *opml_error(const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Remember a libxml2 failure. */
static void
opml_check(int *failed, int rc)
{
	if (rc < 0)
		*failed = 1;
}

/* name="value" when value is set and not empty. */
static void
opml_attr_write(xmlTextWriterPtr w, int *failed, const char *name, const char *value)
{
	if (*failed || value == NULL || *value == '\0')
		return;
	opml_check(failed, xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value));
}

/* Write the subscriptions as OPML 2.0. */
int
opml_write(const struct config *cfg, const char *title, opml_meta_fn meta, void *arg, struct buf *out)
{
	xmlBufferPtr xbuf = NULL;
	xmlTextWriterPtr w = NULL;
	struct buf cats;
	int failed = 0, rc = -1;

	buf_init(&cats);
	xbuf = xmlBufferCreate();
	if (xbuf == NULL)
		goto done;
	w = xmlNewTextWriterMemory(xbuf, 0);
	if (w == NULL)
		goto done;
	opml_check(&failed, xmlTextWriterSetIndent(w, 1));
	opml_check(&failed, xmlTextWriterSetIndentString(w, BAD_CAST "  "));
	opml_check(&failed, xmlTextWriterStartDocument(w, "1.0", "utf-8", NULL));
	opml_check(&failed, xmlTextWriterStartElement(w, BAD_CAST "opml"));
	opml_attr_write(w, &failed, "version", "2.0");
	opml_check(&failed, xmlTextWriterStartElement(w, BAD_CAST "head"));
	opml_check(&failed, xmlTextWriterWriteElement(w, BAD_CAST "title",
	                                              BAD_CAST(title != NULL ? title : cfg->title)));
	if (cfg->author != NULL)
		opml_check(&failed, xmlTextWriterWriteElement(w, BAD_CAST "ownerName", BAD_CAST cfg->author));
	opml_check(&failed,
	           xmlTextWriterWriteElement(w, BAD_CAST "docs", BAD_CAST "http://opml.org/spec2.opml"));
	opml_check(&failed, xmlTextWriterEndElement(w));
	opml_check(&failed, xmlTextWriterStartElement(w, BAD_CAST "body"));
	for (size_t i = 0; i < cfg->nfeeds && !failed; i++) {
		const struct config_feed *f = &cfg->feeds[i];
		const struct feed_meta *m = meta != NULL ? meta(arg, f) : NULL;
		const char *text = f->name;

		if (f->title != NULL)
			text = f->title;
		else if (m != NULL && m->title != NULL && *m->title != '\0')
			text = m->title;
		buf_reset(&cats);
		for (size_t j = 0; j < f->topics.n; j++)
			buf_printf(&cats, "%s/%s", j > 0 ? "," : "", f->topics.v[j]);
		opml_check(&failed, xmlTextWriterStartElement(w, BAD_CAST "outline"));
		opml_attr_write(w, &failed, "type", "rss");
		opml_attr_write(w, &failed, "text", text);
		opml_attr_write(w, &failed, "title", text);
		opml_attr_write(w, &failed, "xmlUrl", f->url);
		opml_attr_write(w, &failed, "htmlUrl", m != NULL ? m->link : NULL);
		opml_attr_write(w, &failed, "category", cats.data);
		opml_check(&failed, xmlTextWriterEndElement(w));
	}
	opml_check(&failed, xmlTextWriterEndDocument(w));
	opml_check(&failed, xmlTextWriterFlush(w));
	if (failed)
		goto done;
	buf_append(out, (const char *)xmlBufferContent(xbuf), (size_t)xmlBufferLength(xbuf));
	rc = 0;
done:
	if (rc != 0)
		log_err("opml: cannot write the subscription list");
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (xbuf != NULL)
		xmlBufferFree(xbuf);
	buf_free(&cats);
	return rc;
}

/* What code point cp becomes in a name: ASCII, "" (dropped), or NULL (a
 * word break). */
static const char *
opml_translit_of(unsigned cp)
{
	for (size_t i = 0; i < sizeof opml_translits / sizeof opml_translits[0]; i++)
		if (cp >= opml_translits[i].first && cp <= opml_translits[i].last)
			return opml_translits[i].ascii;
	return NULL;
}

/* A name from s: lower-case ASCII letters and digits, words joined by
 * '-', at most OPML_NAME_MAX bytes, cut at a word break when one is near.
 * "" when s has no usable letter or digit. */
static char *
opml_slug(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct buf b;
	int brk = 0;

	buf_init(&b);
	while (*p != '\0' && b.len <= OPML_NAME_MAX) {
		const char *ascii;
		char one[2] = {0, 0};
		int len = 4;

		if (*p < 0x80) {
			if (isalnum(*p)) {
				one[0] = (char)tolower(*p);
				ascii = one;
			} else {
				ascii = *p == '\'' ? "" : NULL;
			}
			p++;
		} else {
			int cp;

			for (len = 1; len < 4 && p[len] != '\0'; len++)
				;
			cp = xmlGetUTF8Char(p, &len);
			if (cp < 0) {
				p++;
				brk = 1;
				continue;
			}
			p += len;
			ascii = opml_translit_of((unsigned)cp);
		}
		if (ascii == NULL) {
			brk = 1;
			continue;
		}
		if (*ascii == '\0')
			continue;
		if (brk && b.len > 0)
			buf_puts(&b, "-");
		brk = 0;
		buf_puts(&b, ascii);
	}
	if (b.len > OPML_NAME_MAX) {
		/* Cut at the last word break when it keeps at least half. */
		char *dash = memrchr(b.data, '-', OPML_NAME_MAX + 1);
		size_t cut = dash != NULL && dash - b.data >= OPML_NAME_MAX / 2 ? (size_t)(dash - b.data)
		                                                                : OPML_NAME_MAX;

		b.len = cut;
		b.data[cut] = '\0';
	}
	while (b.len > 0 && b.data[b.len - 1] == '-')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

/* s with runs of white space and control characters made one space and
 * the ends trimmed; NULL when nothing is left. */
static char *
opml_clean(const char *s)
{
	struct buf b;
	int space = 0;

	if (s == NULL)
		return NULL;
	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_puts(&b, " ");
		space = 0;
		buf_append(&b, (const char *)p, 1);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* A cleaned title as a feedmux.conf value: inih takes a ';' after white
 * space, or at the start of the value, as the start of a comment, so the
 * white space before a ';' goes, and leading ';' go. NULL when empty. */
static char *
opml_conf_value(const char *s)
{
	struct buf b;

	buf_init(&b);
	while (*s == ';' || *s == ' ')
		s++;
	for (; *s != '\0'; s++) {
		if (*s == ';')
			while (b.len > 0 && b.data[b.len - 1] == ' ')
				b.data[--b.len] = '\0';
		buf_append(&b, s, 1);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* The cleaned value of n's attribute name, matched without regard to case
 * (exporters write xmlUrl, xmlurl, XMLURL) and only without a namespace
 * (Thunderbird adds fz: attributes). NULL when absent or empty. */
static char *
opml_attr(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		xmlChar *v;
		char *clean;

		if (a->ns != NULL || strcasecmp((const char *)a->name, name) != 0)
			continue;
		v = xmlNodeListGetString(n->doc, a->children, 1);
		clean = opml_clean((const char *)v);
		xmlFree(v);
		return clean;
	}
	return NULL;
}

/* The URL feedmux.conf should poll for an xmlUrl, or NULL when it is not
 * one config.c accepts (an absolute http(s) URL with a host). The feed:
 * pseudo-scheme of old exporters is mapped to http(s). */
static char *
opml_feed_url(const char *raw)
{
	CURLU *u = NULL;
	char *host = NULL, *url = NULL;

	if (strncasecmp(raw, "feed://", 7) == 0)
		url = xasprintf("http://%s", raw + 7);
	else if (strncasecmp(raw, "feed:", 5) == 0)
		url = xstrdup(raw + 5);
	else
		url = xstrdup(raw);
	if (!url_is_http(url) || strpbrk(url, " \t") != NULL)
		goto bad;
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || *host == '\0' ||
	    url[strcspn(url, ":") + 3] == '/')
		goto bad;
	curl_free(host);
	curl_url_cleanup(u);
	return url;
bad:
	curl_free(host);
	curl_url_cleanup(u);
	free(url);
	return NULL;
}

/* A name from url's host, without a leading "www."; "" when none. */
static char *
opml_host_slug(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *slug;
	const char *h;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return xstrdup("");
	}
	h = host;
	if (strncasecmp(h, "www.", 4) == 0 && h[4] != '\0')
		h += 4;
	slug = opml_slug(h);
	curl_free(host);
	curl_url_cleanup(u);
	return slug;
}

/* Whether a feed is already called name. */
static int
opml_feed_name_taken(const struct opml_import *im, const char *name)
{
	for (size_t i = 0; i < im->nfeeds; i++)
		if (strcmp(im->feeds[i].name, name) == 0)
			return 1;
	return 0;
}

/* Whether a topic is already called name. */
static int
opml_topic_name_taken(const struct opml_import *im, const char *name)
{
	for (size_t i = 0; i < im->ntopics; i++)
		if (strcmp(im->topics[i].name, name) == 0)
			return 1;
	return 0;
}

/* base, or base-2, base-3... (shortened to fit) when taken. */
static char *
opml_unique(const struct opml_import *im, const char *base,
            int (*taken)(const struct opml_import *, const char *))
{
	char *name;

	if (!taken(im, base))
		return xstrdup(base);
	for (unsigned n = 2;; n++) {
		char suffix[16];
		size_t keep;

		snprintf(suffix, sizeof suffix, "-%u", n);
		keep = strlen(base);
		if (keep + strlen(suffix) > OPML_NAME_MAX) {
			/* Shorten at a word break when one keeps at least half. */
			size_t max = OPML_NAME_MAX - strlen(suffix), cut = max;

			while (cut > max / 2 && base[cut] != '-')
				cut--;
			keep = base[cut] == '-' ? cut : max;
		}
		while (keep > 0 && base[keep - 1] == '-')
			keep--;
		name = xasprintf("%.*s%s", (int)keep, base, suffix);
		if (!taken(im, name))
			return name;
		free(name);
	}
}

/* The name of the topic for a folder or category called title, created
 * on first use. Titles with the same slug share a topic. */
static const char *
opml_topic_for(struct opml_import *im, const char *title)
{
	char *slug = opml_slug(title);
	int by_title = *slug == '\0';
	const char *key = by_title ? title : slug;
	struct opml_topic *t;

	for (size_t i = 0; i < im->ntopics; i++) {
		if (im->topics[i].by_title == by_title && strcmp(im->topics[i].key, key) == 0) {
			free(slug);
			return im->topics[i].name;
		}
	}
	if (im->ntopics == im->topics_cap) {
		im->topics_cap = im->topics_cap ? im->topics_cap * 2 : 8;
		im->topics = xreallocarray(im->topics, im->topics_cap, sizeof *im->topics);
	}
	t = &im->topics[im->ntopics];
	t->name = opml_unique(im, by_title ? OPML_FOLDER_NAME : slug, opml_topic_name_taken);
	t->title = xstrdup(title);
	t->key = xstrdup(key);
	t->by_title = by_title;
	im->ntopics++;
	free(slug);
	return t->name;
}

/* Add the topics of an OPML 2.0 category attribute ("/a/b,/c,tag") to
 * topics: every part of every path. */
static void
opml_add_categories(struct opml_import *im, struct strlist *topics, const char *category)
{
	char *copy = xstrdup(category), *save = NULL;

	for (char *cat = strtok_r(copy, ",", &save); cat != NULL; cat = strtok_r(NULL, ",", &save)) {
		char *save2 = NULL;

		for (char *part = strtok_r(cat, "/", &save2); part != NULL;
		     part = strtok_r(NULL, "/", &save2)) {
			char *clean = opml_clean(part);
			const char *name;

			if (clean == NULL)
				continue;
			name = opml_topic_for(im, clean);
			if (!strlist_contains(topics, name))
				strlist_add(topics, name);
			free(clean);
		}
	}
	free(copy);
}

/* One outline with an xmlUrl. */
static void
opml_add_feed(struct opml_import *im, xmlNodePtr n, const char *raw_url)
{
	char *url = opml_feed_url(raw_url), *title = NULL, *category = NULL, *base = NULL;
	struct opml_feed *f = NULL;
	struct strlist topics;

	strlist_init(&topics);
	title = opml_attr(n, "text");
	if (title == NULL)
		title = opml_attr(n, "title");
	if (url == NULL) {
		strlist_addf(&im->skipped, "%s%s<%s>", title != NULL ? title : "", title != NULL ? " " : "",
		             raw_url);
		goto done;
	}
	for (size_t i = 0; i < im->folders.n; i++)
		if (!strlist_contains(&topics, im->folders.v[i]))
			strlist_add(&topics, im->folders.v[i]);
	category = opml_attr(n, "category");
	if (category != NULL)
		opml_add_categories(im, &topics, category);

	for (size_t i = 0; i < im->nfeeds; i++) {
		if (strcmp(im->feeds[i].url, url) == 0) {
			/* The same feed in another folder: one feed, both topics. */
			for (size_t j = 0; j < topics.n; j++)
				if (!strlist_contains(&im->feeds[i].topics, topics.v[j]))
					strlist_add(&im->feeds[i].topics, topics.v[j]);
			im->merged++;
			goto done;
		}
	}
	if (im->nfeeds == im->feeds_cap) {
		im->feeds_cap = im->feeds_cap ? im->feeds_cap * 2 : 16;
		im->feeds = xreallocarray(im->feeds, im->feeds_cap, sizeof *im->feeds);
	}
	f = &im->feeds[im->nfeeds];
	base = title != NULL ? opml_slug(title) : xstrdup("");
	if (*base == '\0') {
		free(base);
		base = opml_host_slug(url);
	}
	if (*base == '\0') {
		free(base);
		base = xstrdup(OPML_FEED_NAME);
	}
	f->name = opml_unique(im, base, opml_feed_name_taken);
	f->url = url;
	f->title = title != NULL ? opml_conf_value(title) : NULL;
	f->topics = topics;
	im->nfeeds++;
	url = NULL;
	strlist_init(&topics);
done:
	strlist_free(&topics);
	free(base);
	free(category);
	free(title);
	free(url);
}

/* The outlines under parent, folders first-to-last, depth first. libxml2
 * bounds the depth of the tree (256 without XML_PARSE_HUGE). */
static void
opml_walk(struct opml_import *im, xmlNodePtr parent)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
		char *url, *name;
		int has_children = 0;

		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "outline") != 0)
			continue;
		for (xmlNodePtr c = n->children; c != NULL && !has_children; c = c->next)
			has_children = c->type == XML_ELEMENT_NODE;
		url = opml_attr(n, "xmlUrl");
		if (url != NULL) {
			opml_add_feed(im, n, url);
			free(url);
			if (has_children)
				opml_walk(im, n);
			continue;
		}
		if (!has_children)
			continue;
		name = opml_attr(n, "text");
		if (name == NULL)
			name = opml_attr(n, "title");
		if (name == NULL) {
			/* A folder without a name groups nothing. */
			opml_walk(im, n);
			continue;
		}
		strlist_add(&im->folders, opml_topic_for(im, name));
		opml_walk(im, n);
		free(im->folders.v[--im->folders.n]);
		free(name);
	}
}

/* "PATH: message" or "PATH:LINE: message". */
static char *
opml_error(const char *path, int line, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *msg;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc(len > 0 ? (size_t)len + 1 : 1);
	va_start(ap, fmt);
	vsnprintf(msg, len > 0 ? (size_t)len + 1 : 1, fmt, ap);
	va_end(ap);
	buf_init(&b);
	if (line > 0)
		buf_printf(&b, "%s:%d: %s", path, line, msg);
	else
		buf_printf(&b, "%s: %s", path, msg);
	free(msg);
	return buf_steal(&b);
}

/* Read path ("-": standard input) into data, refusing more than
 * OPML_MAX_FILE bytes. Returns 0, or -1 with *err set. */
static int
opml_read_file(const char *path, struct buf *data, char **err)
{
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct stat st;
	char chunk[65536];
	int fd = -1, rc = -1;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = opml_error(name, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		*err = opml_error(name, 0, "cannot read: %s", strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		*err = opml_error(name, 0, "cannot read: %s", strerror(EISDIR));
		goto done;
	}
	if (S_ISREG(st.st_mode) && st.st_size > OPML_MAX_FILE) {
		*err =
		    opml_error(name, 0, "too large (%lld bytes; the limit is 16 MiB)", (long long)st.st_size);
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = opml_error(name, 0, "cannot read: %s", strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (data->len + (size_t)n > OPML_MAX_FILE) {
			*err = opml_error(name, 0, "too large (more than 16 MiB)");
			goto done;
		}
		buf_append(data, chunk, (size_t)n);
	}
	rc = 0;
done:
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}

/* SAX entityDecl: OPML needs no entities; stop at the first. */
static void
opml_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                     const xmlChar *system_id, xmlChar *content)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct opml_import *im = ctxt->_private;

	if (im->entity == NULL) {
		im->entity = xstrdup(name != NULL ? (const char *)name : "");
		im->entity_line = ctxt->input != NULL ? ctxt->input->line : 0;
	}
	xmlStopParser(ctxt);
}

/* SAX unparsedEntityDecl: likewise. */
static void
opml_sax_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                              const xmlChar *system_id, const xmlChar *notation)
{
	opml_sax_entity_decl(ctx, name, 0, public_id, system_id, NULL);
}

/* SAX resolveEntity: nothing external is ever loaded. */
static xmlParserInputPtr
opml_sax_resolve_entity(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	return NULL;
}

/* SAX serror: keep libxml2's first error for the message. */
static void
opml_sax_error(void *ctx, xmlErrorPtr err)
{
	struct opml_import *im = ctx != NULL ? ((xmlParserCtxtPtr)ctx)->_private : NULL;
	char *msg;

	if (im == NULL || err == NULL || err->level < XML_ERR_ERROR || im->xml_error != NULL)
		return;
	msg = opml_clean(err->message != NULL ? err->message : "unknown error");
	im->xml_error = msg != NULL ? msg : xstrdup("unknown error");
	im->xml_error_line = err->line;
}

/* libxml2's unstructured messages repeat a structured one; dropped. */
static void
opml_generic_error(void *ctx, const char *fmt, ...)
{
}

/* Parse data into a tree; NULL when it is not well-formed or declares
 * entities (im says which). Errors raised without a parser context (the
 * encoding converters') would go to libxml2's thread-wide handlers and on
 * to stderr, so those point here during the call only. */
static xmlDocPtr
opml_parse(struct opml_import *im, const struct buf *data)
{
	xmlStructuredErrorFunc saved = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc saved_generic = xmlGenericError;
	void *saved_generic_ctx = xmlGenericErrorContext;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		im->xml_error = xstrdup("cannot create an XML parser");
		return NULL;
	}
	ctxt->_private = im;
	ctxt->sax->entityDecl = opml_sax_entity_decl;
	ctxt->sax->unparsedEntityDecl = opml_sax_unparsed_entity_decl;
	ctxt->sax->resolveEntity = opml_sax_resolve_entity;
	ctxt->sax->serror = opml_sax_error;
	xmlSetStructuredErrorFunc(ctxt, opml_sax_error);
	xmlSetGenericErrorFunc(NULL, opml_generic_error);
	/* No XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE. */
	doc = xmlCtxtReadMemory(ctxt, data->data, (int)data->len, NULL, NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetGenericErrorFunc(saved_generic_ctx, saved_generic);
	xmlSetStructuredErrorFunc(saved_ctx, saved);
	/* Belt and braces: the hook should have seen every declaration. */
	if (doc != NULL && im->entity == NULL && doc->intSubset != NULL &&
	    (doc->intSubset->entities != NULL || doc->intSubset->pentities != NULL))
		im->entity = xstrdup("");
	if (doc != NULL && (im->entity != NULL || !ctxt->wellFormed)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc == NULL && im->entity == NULL && im->xml_error == NULL)
		im->xml_error = xstrdup("not well-formed");
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Whether data starts like an HTML page (a sign-in or error page saved
 * in place of the export): "<!DOCTYPE html" or "<html", after a BOM and
 * white space. */
static int
opml_is_html(const struct buf *data)
{
	const char *p = data->data;

	if (data->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return strncasecmp(p, "<!doctype html", 14) == 0 || strncasecmp(p, "<html", 5) == 0;
}

/* The feedmux.conf text: a header, the topics, the feeds. */
static void
opml_emit(const struct opml_import *im, struct buf *out)
{
	const char *base = strrchr(im->path, '/');

	base = base != NULL ? base + 1 : im->path;
	if (strcmp(im->path, "-") == 0)
		base = "stdin";
	buf_printf(out, "# From %s by feedmux --import-opml: %zu feed%s", base, im->nfeeds,
	           im->nfeeds == 1 ? "" : "s");
	if (im->ntopics > 0)
		buf_printf(out, ", %zu topic%s", im->ntopics, im->ntopics == 1 ? "" : "s");
	buf_puts(out, ".\n");
	buf_puts(out, "# Append to feedmux.conf and check with feedmux -t.\n");
	if (im->ntopics > 0)
		buf_puts(out, "# Topics are the reader's folders and categories; delete any\n"
		              "# [topic NAME] here that feedmux.conf already has.\n");
	if (im->merged > 0)
		buf_printf(
		    out,
		    "# %zu outline%s repeated a feed listed earlier: merged, with %s folders as topics.\n",
		    im->merged, im->merged == 1 ? "" : "s", im->merged == 1 ? "its" : "their");
	for (size_t i = 0; i < im->skipped.n; i++)
		buf_printf(out, "# Skipped, not an http(s) URL: %s\n", im->skipped.v[i]);
	for (size_t i = 0; i < im->ntopics; i++) {
		const struct opml_topic *t = &im->topics[i];
		char *title = opml_conf_value(t->title);

		buf_printf(out, "\n[topic %s]\n", t->name);
		if (title != NULL && strcmp(title, t->name) != 0)
			buf_printf(out, "title = %s\n", title);
		free(title);
	}
	for (size_t i = 0; i < im->nfeeds; i++) {
		const struct opml_feed *f = &im->feeds[i];

		buf_printf(out, "\n[feed %s]\n", f->name);
		buf_printf(out, "url = %s\n", f->url);
		if (f->title != NULL && strcmp(f->title, f->name) != 0)
			buf_printf(out, "title = %s\n", f->title);
		for (size_t j = 0; j < f->topics.n; j++)
			buf_printf(out, "%s%s", j == 0 ? "topics = " : ", ", f->topics.v[j]);
		if (f->topics.n > 0)
			buf_puts(out, "\n");
	}
}

/* Free what an import collected. */
static void
opml_import_free(struct opml_import *im)
{
	for (size_t i = 0; i < im->ntopics; i++) {
		free(im->topics[i].name);
		free(im->topics[i].title);
		free(im->topics[i].key);
	}
	free(im->topics);
	for (size_t i = 0; i < im->nfeeds; i++) {
		free(im->feeds[i].name);
		free(im->feeds[i].url);
		free(im->feeds[i].title);
		strlist_free(&im->feeds[i].topics);
	}
	free(im->feeds);
	strlist_free(&im->folders);
	strlist_free(&im->skipped);
	free(im->xml_error);
	free(im->entity);
}

/* Turn a reader's OPML export into feedmux.conf sections. */
int
opml_import(const char *path, struct buf *out, char **err)
{
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct opml_import im;
	struct buf data;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, body = NULL;
	int rc = -1;

	*err = NULL;
	memset(&im, 0, sizeof im);
	im.path = path;
	strlist_init(&im.folders);
	strlist_init(&im.skipped);
	buf_init(&data);
	if (opml_read_file(path, &data, err) < 0)
		goto done;
	if (data.len == 0) {
		*err = opml_error(name, 0, "empty file, not OPML");
		goto done;
	}
	doc = opml_parse(&im, &data);
	if (im.entity != NULL) {
		*err = opml_error(
		    name, im.entity_line,
		    "declares the XML entity '%s'; OPML has no use for entities, so the file is refused",
		    im.entity);
		goto done;
	}
	if (doc == NULL && opml_is_html(&data)) {
		*err = opml_error(name, 0, "an HTML page, not OPML");
		goto done;
	}
	if (doc == NULL) {
		*err = opml_error(name, im.xml_error_line, "not well-formed XML: %s", im.xml_error);
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, "opml") != 0) {
		*err = opml_error(name, 0, "not OPML (the root element is <%s>, not <opml>)",
		                  root != NULL ? (const char *)root->name : "");
		goto done;
	}
	for (xmlNodePtr n = root->children; n != NULL && body == NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "body") == 0)
			body = n;
	if (body == NULL) {
		*err = opml_error(name, 0, "not OPML (no <body> in <opml>)");
		goto done;
	}
	opml_walk(&im, body);
	if (im.nfeeds == 0) {
		if (im.skipped.n > 0)
			*err = opml_error(name, 0, "no feeds with an http or https xmlUrl (%zu skipped)",
			                  im.skipped.n);
		else
			*err = opml_error(name, 0, "no feeds (no <outline> has an xmlUrl)");
		goto done;
	}
	opml_emit(&im, out);
	rc = 0;
done:
	if (doc != NULL)
		xmlFreeDoc(doc);
	buf_free(&data);
	opml_import_free(&im);
	return rc;
}
