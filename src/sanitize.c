/* sanitize.c: HTML from feeds is parsed with libxml2's HTML parser into a
 * tree, and the tree is walked (without recursion) to write a new document
 * of allowed parts only: the output never carries a name or a byte of markup
 * from the input, only names from the tables below and escaped text.
 * Well-formed markup of common elements skips the parser: sanitize_fast
 * writes what the walk would (see there).
 *
 * Input: at most SANITIZE_MAX_INPUT bytes, cut at a character boundary;
 * invalid UTF-8 becomes U+FFFD, characters XML 1.0 forbids (C0 controls but
 * tab/LF/CR, U+FFFE, U+FFFF) are dropped, CR and CRLF become LF. The fragment
 * is parsed behind "<html><body>" so it lands in a body (no implied <p>), as
 * UTF-8 whatever a <meta charset> inside says (HTML_PARSE_IGNORE_ENC), with
 * no network. libxml2's diagnostics are silenced for the call (its
 * thread-local structured handler is swapped and restored), so a sanitize
 * call inside a feed parse does not report into that parse's log.
 *
 * libxml2 2.9 checks a start tag's attributes for duplicates pairwise, so
 * one tag with 60,000 attributes costs seconds. A guard pass simulates the
 * parser's start-tag reading (htmlParseStartTag) from every "<letter" in the
 * input at once, as a small automaton whose runs merge state by state
 * (keeping the larger count), and writes a '>' in front of the attribute
 * that would be SANITIZE_MAX_ATTRS + 1 in any run. Runs that libxml2 does
 * not take (inside comments, scripts, attribute values) only make the guard
 * stricter; an extra '>' there is one more character of dropped or escaped
 * text. Nesting: libxml2 stops building the tree at depth 256; elements
 * deeper than SANITIZE_MAX_DEPTH are unwrapped.
 *
 * Elements kept (with the attributes each may keep; every kept element may
 * also keep dir, lang and title):
 *   a (href), abbr, audio (src; controls forced), b, bdi, bdo, blockquote
 *   (cite), br, caption, cite, code, col (span), colgroup (span), dd, del
 *   (cite datetime), details (open), dfn, div, dl, dt, em, figcaption,
 *   figure, h1-h6, hr, i, img (src srcset sizes alt width height; dropped
 *   without src or srcset), ins (cite datetime), kbd, li (value), mark, ol
 *   (start reversed), p, picture, pre, q (cite), rp, rt, ruby, s, samp,
 *   small, source (src srcset sizes type media), span, strong, sub, summary,
 *   sup, table, tbody, td (colspan rowspan), tfoot, th (colspan rowspan
 *   scope), thead, time (datetime), tr, u, ul, var, video (src poster width
 *   height; controls forced), wbr.
 * Dropped with their content: applet, button, form, frameset, iframe,
 *   math, noembed, noframes, noscript, object, plaintext, script, select,
 *   style, svg, template, textarea, title, xmp; and the void base, embed,
 *   frame, input, link, meta, param (what libxml2 nests in them is kept).
 * Any other element (font, center, html, body, custom elements...) is
 *   unwrapped: its tags go, its content stays. Comments, processing
 *   instructions and doctypes go; HTML has no CDATA sections, so
 *   "<![CDATA[" stays as (escaped) text, as a browser would show it.
 * Attributes: only those listed; class, style, id, on*, target, rel and
 *   everything else go. Numbers must be numbers, dir ltr/rtl/auto, lang a
 *   language tag; a failing value drops the attribute.
 * URLs (href, src, srcset, poster, cite): entities are decoded by the
 *   parser; leading and trailing spaces and controls are trimmed and tab, LF
 *   and CR removed anywhere (as browsers do) before the scheme is read, and
 *   any other control character drops the URL. Allowed schemes: http,
 *   https, mailto; in img src also data:image/{png,gif,jpeg,webp};base64.
 *   Relative URLs are resolved against the base (url_resolve) and kept only
 *   if the result is http(s); without a base they are kept as written.
 *   "#frag" keeps the base's path and query (url_resolve drops the last
 *   path segment there).
 *   srcset is split into candidates, each checked alone.
 * Links get no rel: target is never kept, so no window.opener to protect.
 * Output is HTML that is also well-formed XML: attributes double-quoted,
 * void elements written "<br />", & < > (and " in attributes) escaped,
 * everything else as UTF-8. A browser re-parsing it may move elements
 * (misplaced table content) but cannot turn text into markup: no element
 * is kept whose content a browser reads as raw text or as foreign (svg,
 * math) content. */
#include "sanitize.h"

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "url.h"
#include "xalloc.h"

/* libxml2's HTML_PARSER_BUFFER_SIZE: names longer than this are split. */
#define SANITIZE_HTML_NAME_MAX 100

enum sanitize_kind {
	SK_KEEP,
	SK_DROP,
};

#define SF_VOID 0x01     /* no end tag; children (see below) are walked */
#define SF_BLOCK 0x02    /* a word break in text */
#define SF_NOTEXT 0x04   /* content is never text (script, style) */
#define SF_NEEDSRC 0x08  /* dropped without src or srcset */
#define SF_CONTROLS 0x10 /* controls="" forced */
#define SF_DATAIMG 0x20  /* src may be a data: image */
#define SF_FAST 0x40     /* libxml2 parses it as written: sanitize_fast may */

struct sanitize_elem {
	const char *name;
	enum sanitize_kind kind;
	unsigned flags;
	const char *attrs; /* allowed besides the global ones, space-separated */
};

enum sanitize_atype {
	SA_TEXT,
	SA_URL,
	SA_SRCSET,
	SA_NUM,
	SA_DIR,
	SA_LANG,
	SA_BOOL,
	SA_SCOPE,
};

struct sanitize_attr {
	const char *name;
	enum sanitize_atype type;
};

/* Modes of sanitize_put(). */
enum sanitize_put_mode {
	SP_RAW,  /* clean only */
	SP_TEXT, /* clean, escape & < > */
	SP_ATTR, /* clean, escape & < > " */
};

/* States of one simulated start-tag reading (see the top comment). */
enum sanitize_gstate {
	GS_LT,           /* after '<' */
	GS_TAGNAME,      /* in the element name */
	GS_BEFORE_ATTR,  /* where an attribute may start */
	GS_ATTRNAME,     /* in an attribute name */
	GS_AFTER_NAME,   /* blanks after an attribute name */
	GS_BEFORE_VALUE, /* after '=' */
	GS_DQ,           /* in a "value" */
	GS_SQ,           /* in a 'value' */
	GS_UNQ,          /* in an unquoted value */
	GS_BOGUS,        /* skipping a bad attribute up to a blank */
	GS_SLASH,        /* after a '/' that ends the tag if '>' follows */
	GS_N,
};

/* The guard's runs after some byte: at most one per state, since runs in
 * the same state merge. */
struct sanitize_runs {
	unsigned live;          /* bit s set: a run is in state s */
	unsigned count[GS_N];   /* attributes started in that run's tag */
	unsigned namelen[GS_N]; /* characters of its current name */
};

struct sanitize_out {
	struct buf b;
	const char *base; /* NULL: relative URLs stay as written */
};

/* The fast path (see sanitize_fast): open elements and where output goes. */
#define SANITIZE_FAST_DEPTH 64
#define SANITIZE_FAST_ATTRS 16
struct sanitize_fast {
	const char *s;
	size_t n;
	struct sanitize_out *o; /* HTML mode, or */
	struct buf *raw;        /* text mode */
	struct buf run;         /* a text run with references, decoded */
	const struct sanitize_elem *open[SANITIZE_FAST_DEPTH];
	int depth;
};

/* Sorted by name (strcmp), for the binary search in sanitize_elem_find(). */
static const struct sanitize_elem sanitize_elems[] = {
    {"a", SK_KEEP, SF_FAST, "href"},
    {"abbr", SK_KEEP, SF_FAST, ""},
    {"applet", SK_DROP, 0, NULL},
    {"audio", SK_KEEP, SF_BLOCK | SF_CONTROLS, "src"},
    {"b", SK_KEEP, SF_FAST, ""},
    {"base", SK_DROP, SF_VOID, NULL},
    {"bdi", SK_KEEP, 0, ""},
    {"bdo", SK_KEEP, SF_FAST, ""},
    {"blockquote", SK_KEEP, SF_BLOCK | SF_FAST, "cite"},
    {"br", SK_KEEP, SF_VOID | SF_BLOCK | SF_FAST, ""},
    {"button", SK_DROP, 0, NULL},
    {"caption", SK_KEEP, SF_BLOCK, ""},
    {"cite", SK_KEEP, SF_FAST, ""},
    {"code", SK_KEEP, SF_FAST, ""},
    {"col", SK_KEEP, SF_VOID, "span"},
    {"colgroup", SK_KEEP, 0, "span"},
    {"dd", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"del", SK_KEEP, SF_FAST, "cite datetime"},
    {"details", SK_KEEP, SF_BLOCK, "open"},
    {"dfn", SK_KEEP, SF_FAST, ""},
    {"div", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"dl", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"dt", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"em", SK_KEEP, SF_FAST, ""},
    {"embed", SK_DROP, SF_VOID, NULL},
    {"figcaption", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"figure", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"form", SK_DROP, 0, NULL},
    {"frame", SK_DROP, SF_VOID, NULL},
    {"frameset", SK_DROP, 0, NULL},
    {"h1", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"h2", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"h3", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"h4", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"h5", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"h6", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"hr", SK_KEEP, SF_VOID | SF_BLOCK | SF_FAST, ""},
    {"i", SK_KEEP, SF_FAST, ""},
    {"iframe", SK_DROP, 0, NULL},
    {"img", SK_KEEP, SF_VOID | SF_NEEDSRC | SF_DATAIMG | SF_FAST, "src srcset sizes alt width height"},
    {"input", SK_DROP, SF_VOID, NULL},
    {"ins", SK_KEEP, SF_FAST, "cite datetime"},
    {"kbd", SK_KEEP, SF_FAST, ""},
    {"li", SK_KEEP, SF_BLOCK | SF_FAST, "value"},
    {"link", SK_DROP, SF_VOID, NULL},
    {"mark", SK_KEEP, SF_FAST, ""},
    {"math", SK_DROP, 0, NULL},
    {"meta", SK_DROP, SF_VOID, NULL},
    {"noembed", SK_DROP, 0, NULL},
    {"noframes", SK_DROP, 0, NULL},
    {"noscript", SK_DROP, 0, NULL},
    {"object", SK_DROP, 0, NULL},
    {"ol", SK_KEEP, SF_BLOCK | SF_FAST, "start reversed"},
    {"p", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"param", SK_DROP, SF_VOID, NULL},
    {"picture", SK_KEEP, 0, ""},
    {"plaintext", SK_DROP, 0, NULL},
    {"pre", SK_KEEP, SF_BLOCK, ""},
    {"q", SK_KEEP, SF_FAST, "cite"},
    {"rp", SK_KEEP, 0, ""},
    {"rt", SK_KEEP, 0, ""},
    {"ruby", SK_KEEP, 0, ""},
    {"s", SK_KEEP, SF_FAST, ""},
    {"samp", SK_KEEP, SF_FAST, ""},
    {"script", SK_DROP, SF_NOTEXT, NULL},
    {"select", SK_DROP, 0, NULL},
    {"small", SK_KEEP, SF_FAST, ""},
    {"source", SK_KEEP, SF_VOID, "src srcset sizes type media"},
    {"span", SK_KEEP, SF_FAST, ""},
    {"strong", SK_KEEP, SF_FAST, ""},
    {"style", SK_DROP, SF_NOTEXT, NULL},
    {"sub", SK_KEEP, SF_FAST, ""},
    {"summary", SK_KEEP, SF_BLOCK, ""},
    {"sup", SK_KEEP, SF_FAST, ""},
    {"svg", SK_DROP, 0, NULL},
    {"table", SK_KEEP, SF_BLOCK, ""},
    {"tbody", SK_KEEP, 0, ""},
    {"td", SK_KEEP, SF_BLOCK, "colspan rowspan"},
    {"template", SK_DROP, 0, NULL},
    {"textarea", SK_DROP, 0, NULL},
    {"tfoot", SK_KEEP, 0, ""},
    {"th", SK_KEEP, SF_BLOCK, "colspan rowspan scope"},
    {"thead", SK_KEEP, 0, ""},
    {"time", SK_KEEP, SF_FAST, "datetime"},
    {"title", SK_DROP, SF_BLOCK, NULL},
    {"tr", SK_KEEP, SF_BLOCK, ""},
    {"u", SK_KEEP, SF_FAST, ""},
    {"ul", SK_KEEP, SF_BLOCK | SF_FAST, ""},
    {"var", SK_KEEP, SF_FAST, ""},
    {"video", SK_KEEP, SF_BLOCK | SF_CONTROLS, "src poster width height"},
    {"wbr", SK_KEEP, SF_VOID, ""},
    {"xmp", SK_DROP, 0, NULL},
};

/* Sorted by name (strcmp), for the binary search in sanitize_attr_find(). */
static const struct sanitize_attr sanitize_attrs[] = {
    {"alt", SA_TEXT},    {"cite", SA_URL},      {"colspan", SA_NUM}, {"datetime", SA_TEXT},
    {"dir", SA_DIR},     {"height", SA_NUM},    {"href", SA_URL},    {"lang", SA_LANG},
    {"media", SA_TEXT},  {"open", SA_BOOL},     {"poster", SA_URL},  {"reversed", SA_BOOL},
    {"rowspan", SA_NUM}, {"scope", SA_SCOPE},   {"sizes", SA_TEXT},  {"span", SA_NUM},
    {"src", SA_URL},     {"srcset", SA_SRCSET}, {"start", SA_NUM},   {"title", SA_TEXT},
    {"type", SA_TEXT},   {"value", SA_NUM},     {"width", SA_NUM},
};

/* Attributes every kept element may have. */
static const char sanitize_global_attrs[] = "dir lang title";

static size_t sanitize_utf8_next(const unsigned char *s, size_t n, long *cp);
static int sanitize_plain8(const unsigned char *s, enum sanitize_put_mode mode);
static void sanitize_put(struct buf *b, const char *s, size_t n, enum sanitize_put_mode mode);
static int sanitize_is_blank(unsigned char c);
static int sanitize_is_namechar(unsigned char c);
static int sanitize_is_namestart(unsigned char c);
static void sanitize_guard_put(struct sanitize_runs *next, enum sanitize_gstate s, unsigned count,
                               unsigned namelen);
static int sanitize_guard_step(const struct sanitize_runs *cur, struct sanitize_runs *next, unsigned char c);
static size_t sanitize_guard_skip(const struct sanitize_runs *cur, const char *s, size_t i, size_t n);
static void sanitize_guard(struct buf *out, const char *s, size_t n);
static void sanitize_xml_error(void *ctx, xmlErrorPtr err);
static size_t sanitize_input_len(const char *html);
static int sanitize_is_plain(const char *html, size_t n);
static xmlDocPtr sanitize_parse(const char *html, size_t n);
static int sanitize_fold(const xmlChar *name, char *folded, size_t size);
static const struct sanitize_elem *sanitize_elem_find(const xmlChar *name);
static int sanitize_in_list(const char *list, const char *name);
static const struct sanitize_attr *sanitize_attr_find(const struct sanitize_elem *el, const xmlChar *name);
static char *sanitize_url_strip(const char *value);
static size_t sanitize_url_scheme(const char *u);
static int sanitize_is_data_image(const char *u);
static char *sanitize_url(const char *value, const char *base, int data_image);
static int sanitize_srcset_descriptor(const char *d, size_t n);
static char *sanitize_srcset(const char *value, const char *base);
static char *sanitize_num(const char *value);
static char *sanitize_word(const char *value, const char *const *words);
static char *sanitize_lang(const char *value);
static char *sanitize_attr_value(const struct sanitize_out *o, const struct sanitize_elem *el,
                                 const struct sanitize_attr *at, const char *value);
static void sanitize_attr_put(const struct sanitize_out *o, const struct sanitize_elem *el,
                              const struct sanitize_attr *at, const char *raw, struct buf *attrs, int *has_src);
static void sanitize_start_tag_end(struct sanitize_out *o, const struct sanitize_elem *el, struct buf *attrs,
                                   int has_src);
static void sanitize_start_tag(struct sanitize_out *o, const struct sanitize_elem *el, xmlNodePtr n);
static int sanitize_fast_elem(const struct sanitize_elem *el);
static size_t sanitize_fast_ref(const char *s, size_t n, size_t i, char *out, size_t *outlen);
static size_t sanitize_fast_tag(struct sanitize_fast *f, size_t i);
static size_t sanitize_fast_end_tag(struct sanitize_fast *f, size_t i);
static void sanitize_fast_text(struct sanitize_fast *f, const char *p, size_t n);
static int sanitize_fast(const char *s, size_t n, struct sanitize_out *o, struct buf *raw);
static void sanitize_walk(xmlNodePtr first, int (*enter)(void *, xmlNodePtr, int),
                          void (*leave)(void *, xmlNodePtr, int), void *arg);
static int sanitize_html_enter(void *arg, xmlNodePtr n, int depth);
static void sanitize_html_leave(void *arg, xmlNodePtr n, int depth);
static int sanitize_text_enter(void *arg, xmlNodePtr n, int depth);
static void sanitize_text_leave(void *arg, xmlNodePtr n, int depth);
static char *sanitize_trim(const char *s, size_t len);

/* Bytes of the character at s (at least 1), its code point in *cp, or -1
 * there when they are not valid UTF-8 (then the bytes are the maximal
 * invalid subpart, replaced by one U+FFFD). */
static size_t
sanitize_utf8_next(const unsigned char *s, size_t n, long *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;
	long v;

	*cp = -1;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 1;
	}
	for (i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return i;
		v = (v << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return len;
}

/* Whether the 8 bytes at s are all from ' ' to 0x7F and none is one that
 * mode escapes: then sanitize_put() leaves them as they are. Each test
 * sets a byte's high bit where it fails (a borrow may set more above it,
 * never one when nothing fails), so only the answer is exact. */
static int
sanitize_plain8(const unsigned char *s, enum sanitize_put_mode mode)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t w, bad;

	memcpy(&w, s, sizeof w);
	bad = w | ((w - 0x20 * ones) & ~w); /* >= 0x80, or < ' ' */
	if (mode != SP_RAW) {
		uint64_t amp = w ^ ('&' * ones), lt = w ^ ('<' * ones), gt = w ^ ('>' * ones);

		/* A byte equal to c is a zero byte of w ^ c. */
		bad |= ((amp - ones) & ~amp) | ((lt - ones) & ~lt) | ((gt - ones) & ~gt);
		if (mode == SP_ATTR) {
			uint64_t quot = w ^ ('"' * ones);

			bad |= (quot - ones) & ~quot;
		}
	}
	return (bad & high) == 0;
}

/* Append n bytes of s as valid UTF-8 without XML-forbidden characters, CR
 * and CRLF as LF, escaped as mode says. */
static void
sanitize_put(struct buf *b, const char *s, size_t n, enum sanitize_put_mode mode)
{
	/* Bytes below 0x40 that stand for themselves in each mode (bit c):
	 * tab, LF and ' ' to '?' but those the mode escapes. Every byte from
	 * 0x40 to 0x7F stands for itself too. Runs of such bytes, most of any
	 * input, are only stepped over (eight at a time where they can be)
	 * and copied whole; characters are decoded from the first other byte. */
	static const uint64_t plain[] = {
	    [SP_RAW] = 0xFFFFFFFF00000600ULL,
	    [SP_TEXT] = 0xFFFFFFFF00000600ULL & ~(1ULL << '&' | 1ULL << '<' | 1ULL << '>'),
	    [SP_ATTR] = 0xFFFFFFFF00000600ULL & ~(1ULL << '&' | 1ULL << '<' | 1ULL << '>' | 1ULL << '"'),
	};
	const uint64_t mask = plain[mode];
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, len;
	const char *rep;
	long cp;

	while (i < n) {
		if (n - i >= 8 && sanitize_plain8(u + i, mode)) {
			i += 8;
			continue;
		}
		if (u[i] < 0x40 ? (mask >> u[i]) & 1 : u[i] < 0x80) {
			i++;
			continue;
		}
		len = sanitize_utf8_next(u + i, n - i, &cp);
		rep = NULL;
		if (cp < 0)
			rep = "\xEF\xBF\xBD";
		else if (cp == '\r')
			rep = (i + 1 < n && u[i + 1] == '\n') ? "" : "\n";
		else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE || cp == 0xFFFF)
			rep = "";
		else if (mode != SP_RAW && cp == '&')
			rep = "&amp;";
		else if (mode != SP_RAW && cp == '<')
			rep = "&lt;";
		else if (mode != SP_RAW && cp == '>')
			rep = "&gt;";
		else if (mode == SP_ATTR && cp == '"')
			rep = "&quot;";
		if (rep != NULL) {
			buf_append(b, s + run, i - run);
			buf_puts(b, rep);
			run = i + len;
		}
		i += len;
	}
	buf_append(b, s + run, n - run);
}

/* Whether libxml2's HTML parser takes c as a blank (IS_BLANK_CH). */
static int
sanitize_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether c may continue an HTML name (htmlParseHTMLName). */
static int
sanitize_is_namechar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
	       c == '-' || c == '_' || c == '.';
}

/* Whether c may start an HTML name (htmlParseHTMLName). */
static int
sanitize_is_namestart(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ':' || c == '_' || c == '.';
}

/* Merge a run into state s of next, keeping the larger counts. */
static void
sanitize_guard_put(struct sanitize_runs *next, enum sanitize_gstate s, unsigned count, unsigned namelen)
{
	if (!(next->live & 1U << s)) {
		next->live |= 1U << s;
		next->count[s] = count;
		next->namelen[s] = namelen;
		return;
	}
	if (next->count[s] < count)
		next->count[s] = count;
	if (next->namelen[s] < namelen)
		next->namelen[s] = namelen;
}

/* Move every run over byte c, as htmlParseStartTag would; -1 when one would
 * start an attribute past SANITIZE_MAX_ATTRS (next is then not usable).
 * Only the live states are visited: in a tag there are one or two. */
static int
sanitize_guard_step(const struct sanitize_runs *cur, struct sanitize_runs *next, unsigned char c)
{
	next->live = 0;
	for (unsigned live = cur->live; live != 0; live &= live - 1) {
		int s = __builtin_ctz(live);
		unsigned cnt = cur->count[s], nl = cur->namelen[s];

		switch ((enum sanitize_gstate)s) {
		case GS_LT:
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
				sanitize_guard_put(next, GS_TAGNAME, 0, 1);
			continue;
		case GS_TAGNAME:
			if (sanitize_is_namechar(c) && nl < SANITIZE_HTML_NAME_MAX) {
				sanitize_guard_put(next, GS_TAGNAME, cnt, nl + 1);
				continue;
			}
			break;
		case GS_ATTRNAME:
			if (sanitize_is_namechar(c) && nl < SANITIZE_HTML_NAME_MAX) {
				sanitize_guard_put(next, GS_ATTRNAME, cnt, nl + 1);
				continue;
			}
			if (sanitize_is_blank(c)) {
				sanitize_guard_put(next, GS_AFTER_NAME, cnt, 0);
				continue;
			}
			if (c == '=') {
				sanitize_guard_put(next, GS_BEFORE_VALUE, cnt, 0);
				continue;
			}
			break;
		case GS_AFTER_NAME:
			if (sanitize_is_blank(c)) {
				sanitize_guard_put(next, GS_AFTER_NAME, cnt, 0);
				continue;
			}
			if (c == '=') {
				sanitize_guard_put(next, GS_BEFORE_VALUE, cnt, 0);
				continue;
			}
			break;
		case GS_BEFORE_VALUE:
			if (sanitize_is_blank(c))
				sanitize_guard_put(next, GS_BEFORE_VALUE, cnt, 0);
			else if (c == '"')
				sanitize_guard_put(next, GS_DQ, cnt, 0);
			else if (c == '\'')
				sanitize_guard_put(next, GS_SQ, cnt, 0);
			else if (c != '>')
				sanitize_guard_put(next, GS_UNQ, cnt, 0);
			continue;
		case GS_DQ:
		case GS_SQ:
			if (c == (s == GS_DQ ? '"' : '\''))
				sanitize_guard_put(next, GS_BEFORE_ATTR, cnt, 0);
			else
				sanitize_guard_put(next, (enum sanitize_gstate)s, cnt, 0);
			continue;
		case GS_UNQ:
		case GS_BOGUS:
		case GS_SLASH:
			if (sanitize_is_blank(c))
				sanitize_guard_put(next, GS_BEFORE_ATTR, cnt, 0);
			else if (c == '/' && s != GS_UNQ)
				sanitize_guard_put(next, GS_SLASH, cnt, 0);
			else if (c != '>')
				sanitize_guard_put(next, s == GS_UNQ ? GS_UNQ : GS_BOGUS, cnt, 0);
			continue;
		case GS_BEFORE_ATTR:
		case GS_N:
			break;
		}
		/* The top of the attribute loop, with c not yet taken. */
		if (sanitize_is_blank(c))
			sanitize_guard_put(next, GS_BEFORE_ATTR, cnt, 0);
		else if (c == '/')
			sanitize_guard_put(next, GS_SLASH, cnt, 0);
		else if (sanitize_is_namestart(c)) {
			if (cnt >= SANITIZE_MAX_ATTRS)
				return -1;
			sanitize_guard_put(next, GS_ATTRNAME, cnt + 1, 1);
		} else if (c != '>')
			sanitize_guard_put(next, GS_BOGUS, cnt, 0);
	}
	if (c == '<')
		sanitize_guard_put(next, GS_LT, 0, 0);
	return 0;
}

/* The first index from i on (n when none) whose byte may change the runs
 * of cur; sanitize_guard_step() over any byte before it would give cur
 * again. With no run live that is the next '<' (a run starts only there),
 * most of the text in practice; with only a quoted value live, the next
 * '<' or closing quote (the value's run stays as it is over any other
 * byte: count kept, namelen 0, which it already is). */
static size_t
sanitize_guard_skip(const struct sanitize_runs *cur, const char *s, size_t i, size_t n)
{
	const char *lt;
	char q;

	if (cur->live == 0) {
		lt = memchr(s + i, '<', n - i);
		return lt != NULL ? (size_t)(lt - s) : n;
	}
	if (cur->live == 1U << GS_DQ)
		q = '"';
	else if (cur->live == 1U << GS_SQ)
		q = '\'';
	else
		return i;
	while (i < n && s[i] != q && s[i] != '<')
		i++;
	return i;
}

/* Append s to out with a '>' before any attribute past the cap.
 *
 * Inputs of at most SANITIZE_MAX_ATTRS + 2 bytes are copied as they are,
 * as the automaton would: a run's count grows by at most one per byte it
 * takes, and not on its '<' nor on the first letter of its name; a merged
 * run keeps counts that some run reached at that byte. A run that would
 * start attribute SANITIZE_MAX_ATTRS + 1 thus has taken at least
 * SANITIZE_MAX_ATTRS + 2 bytes before the one it is at. */
static void
sanitize_guard(struct buf *out, const char *s, size_t n)
{
	struct sanitize_runs a, b, *cur = &a, *next = &b, *t;
	size_t run = 0;

	if (n <= SANITIZE_MAX_ATTRS + 2) {
		buf_append(out, s, n);
		return;
	}
	a.live = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c;

		if ((i = sanitize_guard_skip(cur, s, i, n)) == n)
			break;
		c = (unsigned char)s[i];
		if (sanitize_guard_step(cur, next, c) < 0) {
			/* '>' ends that run; after it no run can count on c. */
			buf_append(out, s + run, i - run);
			buf_append(out, ">", 1);
			run = i;
			sanitize_guard_step(cur, next, '>');
			t = cur;
			cur = next;
			next = t;
			sanitize_guard_step(cur, next, c);
		}
		t = cur;
		cur = next;
		next = t;
	}
	buf_append(out, s + run, n - run);
}

/* Swallow libxml2's diagnostics: broken markup is the normal case here. */
static void
sanitize_xml_error(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

/* The bytes of html looked at: all of it, or SANITIZE_MAX_INPUT cut
 * before the character that straddles the limit. */
static size_t
sanitize_input_len(const char *html)
{
	size_t n = strnlen(html, SANITIZE_MAX_INPUT + 1);

	if (n > SANITIZE_MAX_INPUT) {
		n = SANITIZE_MAX_INPUT;
		for (int k = 0; k < 3 && n > 0 && ((unsigned char)html[n] & 0xC0) == 0x80; k++)
			n--;
	}
	return n;
}

/* Whether n bytes of html are plain text: without '<' and '&' there is no
 * markup, no reference and no comment, and libxml2 would hand the cleaned
 * bytes over unchanged as the body's one text node (or none, when they are
 * all blanks, which trimming removes as well). Most titles are. */
static int
sanitize_is_plain(const char *html, size_t n)
{
	return memchr(html, '<', n) == NULL && memchr(html, '&', n) == NULL;
}

/* Parse the first n bytes of a fragment (sanitize_input_len) as the
 * content of a body; NULL when libxml2 fails. */
static xmlDocPtr
sanitize_parse(const char *html, size_t n)
{
	const int options = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                    HTML_PARSE_IGNORE_ENC | HTML_PARSE_NODEFDTD;
	xmlStructuredErrorFunc saved = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;
	htmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct buf clean, in;

	buf_init(&clean);
	buf_init(&in);
	/* Sized once: cleaning seldom grows the text (U+FFFD for a lone byte). */
	buf_reserve(&clean, n);
	buf_reserve(&in, n + 16);
	sanitize_put(&clean, html, n, SP_RAW);
	buf_puts(&in, "<html><body>");
	sanitize_guard(&in, clean.data ? clean.data : "", clean.len);

	if ((ctxt = htmlNewParserCtxt()) == NULL)
		goto done;
	xmlSetStructuredErrorFunc(NULL, sanitize_xml_error);
	doc = htmlCtxtReadMemory(ctxt, in.data, (int)in.len, NULL, "UTF-8", options);
	xmlSetStructuredErrorFunc(saved_ctx, saved);
done:
	if (ctxt != NULL)
		htmlFreeParserCtxt(ctxt);
	buf_free(&clean);
	buf_free(&in);
	return doc;
}

/* name in ASCII lower case into folded (size bytes with the NUL); 0 when
 * it does not fit, and then it is no name of the tables (all lower case
 * and shorter than the 16 bytes the callers give). A binary search on the
 * folded name finds what strcasecmp() over the table did in the C locale
 * feedmux runs in (it never calls setlocale): only A-Z fold there, so
 * names equal but for case have equal lengths. */
static int
sanitize_fold(const xmlChar *name, char *folded, size_t size)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 >= size)
			return 0;
		folded[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + ('a' - 'A') : name[i]);
	}
	folded[i] = '\0';
	return 1;
}

/* The table entry for an element name, or NULL (unwrap). */
static const struct sanitize_elem *
sanitize_elem_find(const xmlChar *name)
{
	size_t lo = 0, hi = sizeof sanitize_elems / sizeof sanitize_elems[0];
	char key[16];

	if (name == NULL || !sanitize_fold(name, key, sizeof key))
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(key, sanitize_elems[mid].name);

		if (d == 0)
			return &sanitize_elems[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Whether name is a word of the space-separated list. */
static int
sanitize_in_list(const char *list, const char *name)
{
	size_t len = strlen(name);

	while (*list != '\0') {
		size_t w = strcspn(list, " ");

		if (w == len && strncmp(list, name, len) == 0)
			return 1;
		list += w;
		while (*list == ' ')
			list++;
	}
	return 0;
}

/* The attribute's table entry when el may keep it, or NULL. */
static const struct sanitize_attr *
sanitize_attr_find(const struct sanitize_elem *el, const xmlChar *name)
{
	size_t lo = 0, hi = sizeof sanitize_attrs / sizeof sanitize_attrs[0];
	char key[16];

	if (!sanitize_fold(name, key, sizeof key))
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *an = sanitize_attrs[mid].name;
		int d = strcmp(key, an);

		if (d < 0) {
			hi = mid;
		} else if (d > 0) {
			lo = mid + 1;
		} else {
			if (sanitize_in_list(sanitize_global_attrs, an) || sanitize_in_list(el->attrs, an))
				return &sanitize_attrs[mid];
			return NULL;
		}
	}
	return NULL;
}

/* A URL as a browser reads it: spaces and controls trimmed, tab/LF/CR
 * removed; NULL when empty or another control character is left. */
static char *
sanitize_url_strip(const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t start = 0, end = strlen(value), o = 0;
	char *out;

	while (start < end && s[start] <= 0x20)
		start++;
	while (end > start && s[end - 1] <= 0x20)
		end--;
	if (start == end)
		return NULL;
	out = xmalloc(end - start + 1);
	for (size_t i = start; i < end; i++) {
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] < 0x20 || s[i] == 0x7F) {
			free(out);
			return NULL;
		}
		out[o++] = (char)s[i];
	}
	out[o] = '\0';
	return out;
}

/* Length of u's scheme (RFC 3986: ALPHA *(ALPHA / DIGIT / + - .) ":"), 0
 * when u is relative. */
static size_t
sanitize_url_scheme(const char *u)
{
	size_t i = 0;

	if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
		return 0;
	while ((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') || (u[i] >= '0' && u[i] <= '9') ||
	       u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return u[i] == ':' ? i : 0;
}

/* Whether u is a base64 data: URL of a PNG, GIF, JPEG or WebP image. */
static int
sanitize_is_data_image(const char *u)
{
	static const char *const types[] = {"png", "gif", "jpeg", "webp"};
	const char *p;
	size_t k = 0;

	if (strncasecmp(u, "data:image/", 11) != 0)
		return 0;
	p = u + 11;
	for (k = 0; k < sizeof types / sizeof types[0]; k++) {
		size_t tl = strlen(types[k]);

		if (strncasecmp(p, types[k], tl) == 0 && strncasecmp(p + tl, ";base64,", 8) == 0) {
			p += tl + 8;
			break;
		}
	}
	if (k == sizeof types / sizeof types[0] || *p == '\0')
		return 0;
	return p[strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")] == '\0';
}

/* The URL an attribute may carry (absolute when there is a base), or NULL
 * to drop the attribute. */
static char *
sanitize_url(const char *value, const char *base, int data_image)
{
	char *u = sanitize_url_strip(value), *r;
	size_t sl;

	if (u == NULL)
		return NULL;
	if ((sl = sanitize_url_scheme(u)) > 0) {
		if ((sl == 4 && strncasecmp(u, "http", 4) == 0) ||
		    (sl == 5 && strncasecmp(u, "https", 5) == 0) ||
		    (sl == 6 && strncasecmp(u, "mailto", 6) == 0) ||
		    (data_image && sanitize_is_data_image(u)))
			return u;
		free(u);
		return NULL;
	}
	if (base == NULL)
		return u;
	if (u[0] == '#') {
		/* RFC 3986 5.2.2: the base (without its fragment) keeps its path
		 * and query; url_resolve() loses the last segment here. */
		if ((r = url_resolve(base, "")) != NULL) {
			r[strcspn(r, "#")] = '\0';
			r = xrealloc(r, strlen(r) + strlen(u) + 1);
			strcat(r, u);
		}
	} else {
		r = url_resolve(base, u);
	}
	free(u);
	if (r != NULL && !url_is_http(r)) {
		free(r);
		r = NULL;
	}
	return r;
}

/* Whether n bytes at d are an empty or a width/density descriptor. */
static int
sanitize_srcset_descriptor(const char *d, size_t n)
{
	size_t digits = 0;

	if (n == 0)
		return 1;
	while (digits < n - 1 && ((d[digits] >= '0' && d[digits] <= '9') || d[digits] == '.'))
		digits++;
	return digits > 0 && digits == n - 1 && (d[n - 1] == 'w' || d[n - 1] == 'x');
}

/* srcset with each candidate's URL checked (and resolved) alone; NULL when
 * no candidate is left. */
static char *
sanitize_srcset(const char *value, const char *base)
{
	struct buf b;
	const char *p = value;

	buf_init(&b);
	for (;;) {
		const char *u, *d, *dend;
		size_t ulen;
		int ended = 0;
		char *raw, *url;

		while (*p == ',' || sanitize_is_blank((unsigned char)*p) || *p == '\f')
			p++;
		if (*p == '\0')
			break;
		u = p;
		while (*p != '\0' && !sanitize_is_blank((unsigned char)*p) && *p != '\f')
			p++;
		ulen = (size_t)(p - u);
		while (ulen > 0 && u[ulen - 1] == ',') {
			ulen--;
			ended = 1;
		}
		d = dend = p;
		if (!ended) {
			while (*p != '\0' && *p != ',')
				p++;
			dend = p;
			while (d < dend && (sanitize_is_blank((unsigned char)*d) || *d == '\f'))
				d++;
			while (dend > d && (sanitize_is_blank((unsigned char)dend[-1]) || dend[-1] == '\f'))
				dend--;
		}
		if (ulen == 0 || !sanitize_srcset_descriptor(d, (size_t)(dend - d)))
			continue;
		raw = xstrndup(u, ulen);
		url = sanitize_url(raw, base, 0);
		free(raw);
		if (url != NULL && *url != '\0' && url[strlen(url) - 1] != ',' &&
		    strpbrk(url, " \t\n\r\f") == NULL) {
			if (b.len > 0)
				buf_puts(&b, ", ");
			buf_puts(&b, url);
			if (dend > d) {
				buf_puts(&b, " ");
				buf_append(&b, d, (size_t)(dend - d));
			}
		}
		free(url);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* An integer (optionally negative, at most 9 digits), trimmed; or NULL. */
static char *
sanitize_num(const char *value)
{
	const char *s = value, *e;
	size_t digits;

	while (sanitize_is_blank((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && sanitize_is_blank((unsigned char)e[-1]))
		e--;
	digits = (size_t)(e - s) - (*s == '-');
	if (digits == 0 || digits > 9 || (size_t)(e - s) > 10)
		return NULL;
	for (const char *p = s + (*s == '-'); p < e; p++)
		if (*p < '0' || *p > '9')
			return NULL;
	return xstrndup(s, (size_t)(e - s));
}

/* The word of words that value is (case-insensitive), or NULL. */
static char *
sanitize_word(const char *value, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcasecmp(value, *words) == 0)
			return xstrdup(*words);
	return NULL;
}

/* A language tag: 1 to 35 letters, digits and hyphens; or NULL. */
static char *
sanitize_lang(const char *value)
{
	size_t n = strlen(value);

	if (n == 0 || n > 35 ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return NULL;
	return xstrdup(value);
}

/* The value an allowed attribute keeps, or NULL to drop it. */
static char *
sanitize_attr_value(const struct sanitize_out *o, const struct sanitize_elem *el,
                    const struct sanitize_attr *at, const char *value)
{
	static const char *const dirs[] = {"ltr", "rtl", "auto", NULL};
	static const char *const scopes[] = {"row", "col", "rowgroup", "colgroup", NULL};

	switch (at->type) {
	case SA_TEXT:
		return xstrdup(value);
	case SA_URL:
		return sanitize_url(value, o->base, (el->flags & SF_DATAIMG) && strcmp(at->name, "src") == 0);
	case SA_SRCSET:
		return sanitize_srcset(value, o->base);
	case SA_NUM:
		return sanitize_num(value);
	case SA_DIR:
		return sanitize_word(value, dirs);
	case SA_LANG:
		return sanitize_lang(value);
	case SA_BOOL:
		return xstrdup("");
	case SA_SCOPE:
		return sanitize_word(value, scopes);
	}
	return NULL;
}

/* One attribute for a start tag: at (NULL: not allowed on el) with its
 * decoded value; appended to attrs, and *has_src set for a source URL. */
static void
sanitize_attr_put(const struct sanitize_out *o, const struct sanitize_elem *el, const struct sanitize_attr *at,
                  const char *raw, struct buf *attrs, int *has_src)
{
	char *value;

	if (at == NULL || (value = sanitize_attr_value(o, el, at, raw)) == NULL)
		return;
	if (at->type == SA_SRCSET || strcmp(at->name, "src") == 0)
		*has_src = 1;
	buf_puts(attrs, " ");
	buf_puts(attrs, at->name);
	buf_puts(attrs, "=\"");
	sanitize_put(attrs, value, strlen(value), SP_ATTR);
	buf_puts(attrs, "\"");
	free(value);
}

/* Write el's start tag with the attributes gathered (freed here); nothing
 * when el cannot stand without one it lost. */
static void
sanitize_start_tag_end(struct sanitize_out *o, const struct sanitize_elem *el, struct buf *attrs, int has_src)
{
	if (!((el->flags & SF_NEEDSRC) && !has_src)) {
		if (el->flags & SF_CONTROLS)
			buf_puts(attrs, " controls=\"\"");
		buf_puts(&o->b, "<");
		buf_puts(&o->b, el->name);
		if (attrs->len > 0)
			buf_append(&o->b, attrs->data, attrs->len);
		buf_puts(&o->b, (el->flags & SF_VOID) ? " />" : ">");
	}
	buf_free(attrs);
}

/* Write el's start tag with the attributes of n it may keep. */
static void
sanitize_start_tag(struct sanitize_out *o, const struct sanitize_elem *el, xmlNodePtr n)
{
	struct buf attrs;
	int has_src = 0;

	buf_init(&attrs);
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		const struct sanitize_attr *at = sanitize_attr_find(el, a->name);
		xmlChar *raw;

		if (at == NULL)
			continue;
		raw = xmlNodeGetContent((xmlNodePtr)a);
		sanitize_attr_put(o, el, at, raw != NULL ? (const char *)raw : "", &attrs, &has_src);
		xmlFree(raw);
	}
	sanitize_start_tag_end(o, el, &attrs, has_src);
}

/* Visit the nodes from first on in document order without recursion:
 * enter() says whether to go into a node's children, leave() runs after
 * them (for every node entered). depth counts the ancestors below first's
 * parent. */
static void
sanitize_walk(xmlNodePtr first, int (*enter)(void *, xmlNodePtr, int), void (*leave)(void *, xmlNodePtr, int),
              void *arg)
{
	xmlNodePtr n = first;
	int depth = 0;

	while (n != NULL) {
		if (enter(arg, n, depth)) {
			if (n->children != NULL) {
				n = n->children;
				depth++;
				continue;
			}
			leave(arg, n, depth);
		}
		while (n->next == NULL) {
			n = n->parent;
			if (--depth < 0)
				return;
			leave(arg, n, depth);
		}
		n = n->next;
	}
}

/* HTML mode: text escaped, allowed elements written, dropped ones skipped,
 * unknown ones (and those too deep) entered without tags. Void elements
 * are entered too: libxml2 2.9 does not know embed, source, wbr... as void
 * and makes what follows them their children. */
static int
sanitize_html_enter(void *arg, xmlNodePtr n, int depth)
{
	struct sanitize_out *o = arg;
	const struct sanitize_elem *el;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			sanitize_put(&o->b, (const char *)n->content, strlen((const char *)n->content),
			             SP_TEXT);
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	if ((el = sanitize_elem_find(n->name)) == NULL)
		return 1;
	if (el->kind == SK_DROP)
		return (el->flags & SF_VOID) != 0;
	if (depth >= SANITIZE_MAX_DEPTH)
		return 1;
	sanitize_start_tag(o, el, n);
	return 1;
}

/* HTML mode: the end tag of an element whose start tag was written. */
static void
sanitize_html_leave(void *arg, xmlNodePtr n, int depth)
{
	struct sanitize_out *o = arg;
	const struct sanitize_elem *el = sanitize_elem_find(n->name);

	if (el == NULL || el->kind != SK_KEEP || (el->flags & SF_VOID) || depth >= SANITIZE_MAX_DEPTH)
		return;
	buf_puts(&o->b, "</");
	buf_puts(&o->b, el->name);
	buf_puts(&o->b, ">");
}

/* Text mode: text kept, script and style skipped, a space around blocks. */
static int
sanitize_text_enter(void *arg, xmlNodePtr n, int depth)
{
	struct buf *b = arg;
	const struct sanitize_elem *el;

	(void)depth;
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			sanitize_put(b, (const char *)n->content, strlen((const char *)n->content), SP_RAW);
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	el = sanitize_elem_find(n->name);
	if (el != NULL && (el->flags & SF_NOTEXT))
		return 0;
	if (el != NULL && (el->flags & SF_BLOCK))
		buf_puts(b, " ");
	return 1;
}

/* Text mode: a space after a block. */
static void
sanitize_text_leave(void *arg, xmlNodePtr n, int depth)
{
	struct buf *b = arg;
	const struct sanitize_elem *el;

	(void)depth;
	if (n->type == XML_ELEMENT_NODE && (el = sanitize_elem_find(n->name)) != NULL &&
	    (el->flags & SF_BLOCK))
		buf_puts(b, " ");
}

/* A copy of len bytes of s without leading and trailing ASCII blanks. */
static char *
sanitize_trim(const char *s, size_t len)
{
	size_t start = 0;

	while (start < len && (sanitize_is_blank((unsigned char)s[start]) || s[start] == '\f'))
		start++;
	while (len > start && (sanitize_is_blank((unsigned char)s[len - 1]) || s[len - 1] == '\f'))
		len--;
	return xstrndup(s + start, len - start);
}

/* The fast path. Most fields in feeds are well-formed HTML of a few common
 * elements: for those, libxml2's tree is exactly the markup as written,
 * and reading it directly gives the same output at a fraction of the cost
 * (libxml2's HTML parser reads character by character and builds a tree
 * that is walked once). sanitize_fast takes a field only when every rule
 * of libxml2 2.9's HTML parser that could make its tree differ from the
 * markup stays out of play, and otherwise declines, leaving it to the
 * parser:
 *   - elements: those the table marks SF_FAST, in lower case, each
 *     closed by its own end tag in order (void ones by none, or "/>"), and
 *     none opened where libxml2 would close the element open before it
 *     (htmlAutoCloseTag, libxml2's own table) or inside one of its own
 *     name; nothing left open at the end; at most SANITIZE_FAST_DEPTH deep
 *     (far from SANITIZE_MAX_DEPTH);
 *   - attributes: lower-case names, at most SANITIZE_FAST_ATTRS, no
 *     duplicates, each with a quoted value of printable ASCII and
 *     references, separated by blanks;
 *   - references (text and values): a name libxml2's table knows
 *     (htmlEntityLookup) or a decimal or hex character reference to a
 *     character from U+0020 that is not a C1 control, with the ';';
 *   - no comments, doctypes, processing instructions, CDATA or '<' that
 *     does not start a tag.
 * Text between tags needs no such care: libxml2 keeps it as written, after
 * the same cleaning sanitize_put applies (the plain-text path rests on the
 * same fact). tests/unit/test_sanitize.c compares both paths on generated
 * and corpus HTML. */

/* Whether the fast path may open el: kept elements libxml2 parses as
 * written (SF_FAST: not pre, whose first newline it drops; not tables'
 * implied parts; void only where libxml2 knows them as empty). */
static int
sanitize_fast_elem(const struct sanitize_elem *el)
{
	return el != NULL && el->kind == SK_KEEP && (el->flags & SF_FAST);
}

/* A reference at s[i] ('&'): its UTF-8 into out (at least 4 bytes) and
 * *outlen; returns the bytes it takes, 0 to decline. */
static size_t
sanitize_fast_ref(const char *s, size_t n, size_t i, char *out, size_t *outlen)
{
	size_t j = i + 1;
	unsigned long cp = 0;

	if (j < n && s[j] == '#') {
		int hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
		size_t digits = 0;

		j += hex ? 2 : 1;
		for (; j < n && s[j] != ';'; j++, digits++) {
			int d;

			if (s[j] >= '0' && s[j] <= '9')
				d = s[j] - '0';
			else if (hex && s[j] >= 'a' && s[j] <= 'f')
				d = s[j] - 'a' + 10;
			else if (hex && s[j] >= 'A' && s[j] <= 'F')
				d = s[j] - 'A' + 10;
			else
				return 0;
			if (digits >= 7)
				return 0;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (j >= n || digits == 0)
			return 0;
	} else {
		char name[32];
		size_t len = 0;
		const htmlEntityDesc *ent;

		for (; j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
		                 (len > 0 && s[j] >= '0' && s[j] <= '9'));
		     j++) {
			if (len + 1 >= sizeof name)
				return 0;
			name[len++] = s[j];
		}
		if (len == 0 || j >= n || s[j] != ';')
			return 0;
		name[len] = '\0';
		if ((ent = htmlEntityLookup((const xmlChar *)name)) == NULL)
			return 0;
		cp = ent->value;
	}
	/* IS_CHAR, and not a C0 or C1 control (libxml2 keeps them; the
	 * cleaning around the parser would not see them). */
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
	    cp == 0xFFFF || cp > 0x10FFFF)
		return 0;
	*outlen = (size_t)xmlCopyCharMultiByte((xmlChar *)out, (int)cp);
	return j + 1 - i;
}

/* Text as libxml2 would have it in a text node, written as the walker
 * writes text nodes. */
static void
sanitize_fast_text(struct sanitize_fast *f, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (f->o != NULL)
		sanitize_put(&f->o->b, p, n, SP_TEXT);
	else
		sanitize_put(f->raw, p, n, SP_RAW);
}

/* A start tag at s[i] ('<' and a letter): written, and opened unless
 * void. Returns the bytes it takes, 0 to decline. */
static size_t
sanitize_fast_tag(struct sanitize_fast *f, size_t i)
{
	const char *s = f->s;
	size_t n = f->n, j = i + 1, namelen;
	char name[16], values[SANITIZE_FAST_ATTRS][256];
	const char *anames[SANITIZE_FAST_ATTRS];
	size_t alens[SANITIZE_FAST_ATTRS];
	const struct sanitize_elem *el;
	xmlNode probe;
	int nattrs = 0;

	while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9')))
		j++;
	namelen = j - i - 1;
	if (namelen == 0 || namelen >= sizeof name || j >= n)
		return 0;
	memcpy(name, s + i + 1, namelen);
	name[namelen] = '\0';
	if (!sanitize_fast_elem(el = sanitize_elem_find((const xmlChar *)name)))
		return 0;
	/* libxml2 would close the open element first (or nest it oddly). */
	memset(&probe, 0, sizeof probe);
	probe.type = XML_ELEMENT_NODE;
	probe.name = (const xmlChar *)el->name;
	if (f->depth > 0 && (f->open[f->depth - 1] == el ||
	                     htmlAutoCloseTag(NULL, (const xmlChar *)f->open[f->depth - 1]->name, &probe)))
		return 0;
	if (f->depth == 0 && htmlAutoCloseTag(NULL, (const xmlChar *)"body", &probe))
		return 0;
	for (;;) {
		size_t start = j, alen, vlen = 0;
		char quote;

		while (j < n && sanitize_is_blank((unsigned char)s[j]))
			j++;
		if (j >= n)
			return 0;
		if (s[j] == '>') {
			j++;
			break;
		}
		if (s[j] == '/') {
			if (j + 1 >= n || s[j + 1] != '>' || !(el->flags & SF_VOID))
				return 0;
			j += 2;
			break;
		}
		/* An attribute, after at least one blank. */
		if (j == start || nattrs == SANITIZE_FAST_ATTRS || s[j] < 'a' || s[j] > 'z')
			return 0;
		anames[nattrs] = s + j;
		while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9') || s[j] == '-'))
			j++;
		alen = (size_t)(s + j - anames[nattrs]);
		if (alen >= 16)
			return 0;
		for (int k = 0; k < nattrs; k++)
			if (alens[k] == alen && memcmp(anames[k], anames[nattrs], alen) == 0)
				return 0;
		while (j < n && sanitize_is_blank((unsigned char)s[j]))
			j++;
		if (j >= n || s[j] != '=')
			return 0;
		j++;
		while (j < n && sanitize_is_blank((unsigned char)s[j]))
			j++;
		if (j >= n || (s[j] != '"' && s[j] != '\''))
			return 0;
		quote = s[j++];
		while (j < n && s[j] != quote) {
			char ref[4];
			size_t reflen = 1, take = 1;
			unsigned char c = (unsigned char)s[j];

			if (c == '&') {
				if ((take = sanitize_fast_ref(s, n, j, ref, &reflen)) == 0)
					return 0;
			} else if (c < 0x20 || c > 0x7E || c == '<') {
				return 0;
			} else {
				ref[0] = (char)c;
			}
			if (vlen + reflen >= sizeof values[0])
				return 0;
			memcpy(values[nattrs] + vlen, ref, reflen);
			vlen += reflen;
			j += take;
		}
		if (j >= n)
			return 0;
		j++;
		values[nattrs][vlen] = '\0';
		alens[nattrs] = alen;
		nattrs++;
	}
	if (!(el->flags & SF_VOID) && f->depth == SANITIZE_FAST_DEPTH)
		return 0;
	if (f->o != NULL) {
		struct buf attrs;
		int has_src = 0;

		buf_init(&attrs);
		for (int k = 0; k < nattrs; k++) {
			char an[16];

			memcpy(an, anames[k], alens[k]);
			an[alens[k]] = '\0';
			sanitize_attr_put(f->o, el, sanitize_attr_find(el, (const xmlChar *)an), values[k], &attrs,
			                  &has_src);
		}
		sanitize_start_tag_end(f->o, el, &attrs, has_src);
	} else if (el->flags & SF_BLOCK) {
		buf_puts(f->raw, " ");
	}
	if (!(el->flags & SF_VOID))
		f->open[f->depth++] = el;
	else if (f->raw != NULL && (el->flags & SF_BLOCK))
		buf_puts(f->raw, " "); /* the walk's leave() of a void block */
	return j - i;
}

/* An end tag at s[i] ("</"): it must close the element open last.
 * Returns the bytes it takes, 0 to decline. */
static size_t
sanitize_fast_end_tag(struct sanitize_fast *f, size_t i)
{
	const char *s = f->s;
	size_t n = f->n, j = i + 2, len;
	const struct sanitize_elem *el;

	if (f->depth == 0)
		return 0;
	el = f->open[f->depth - 1];
	len = strlen(el->name);
	if (n - j < len || memcmp(s + j, el->name, len) != 0)
		return 0;
	j += len;
	while (j < n && sanitize_is_blank((unsigned char)s[j]))
		j++;
	if (j >= n || s[j] != '>')
		return 0;
	f->depth--;
	if (f->o != NULL) {
		buf_puts(&f->o->b, "</");
		buf_puts(&f->o->b, el->name);
		buf_puts(&f->o->b, ">");
	} else if (el->flags & SF_BLOCK) {
		buf_puts(f->raw, " ");
	}
	return j + 1 - i;
}

/* Write s[0..n) as the walker would write libxml2's tree of it, into o
 * (HTML mode) or raw (text mode). 1 when done; 0 when declined, having
 * written anything (the caller drops it). */
static int
sanitize_fast(const char *s, size_t n, struct sanitize_out *o, struct buf *raw)
{
	struct sanitize_fast f;
	size_t i = 0, run = 0;
	int ok = 0, refs = 0;

	f.s = s;
	f.n = n;
	f.o = o;
	f.raw = raw;
	f.depth = 0;
	buf_init(&f.run);
	while (i < n) {
		size_t take;
		char c = s[i];

		if (c != '<' && c != '&') {
			i++;
			continue;
		}
		if (c == '&') {
			char ref[4];
			size_t reflen;

			if ((take = sanitize_fast_ref(s, n, i, ref, &reflen)) == 0)
				goto done;
			buf_append(&f.run, s + run, i - run);
			buf_append(&f.run, ref, reflen);
			refs = 1;
			i += take;
			run = i;
			continue;
		}
		/* A tag ends the text run: one text node in libxml2's tree. */
		if (refs) {
			buf_append(&f.run, s + run, i - run);
			sanitize_fast_text(&f, f.run.data, f.run.len);
			buf_reset(&f.run);
			refs = 0;
		} else {
			sanitize_fast_text(&f, s + run, i - run);
		}
		if (i + 1 < n && s[i + 1] == '/')
			take = sanitize_fast_end_tag(&f, i);
		else if (i + 1 < n && s[i + 1] >= 'a' && s[i + 1] <= 'z')
			take = sanitize_fast_tag(&f, i);
		else
			take = 0;
		if (take == 0)
			goto done;
		i += take;
		run = i;
	}
	if (f.depth != 0)
		goto done;
	if (refs) {
		buf_append(&f.run, s + run, i - run);
		sanitize_fast_text(&f, f.run.data, f.run.len);
	} else {
		sanitize_fast_text(&f, s + run, i - run);
	}
	ok = 1;
done:
	buf_free(&f.run);
	return ok;
}

/* Clean an HTML fragment to the allowlist. */
char *
sanitize_html(const char *html, const char *base_url)
{
	return sanitize_html_via(html, base_url, 1);
}

/* The same, through libxml2's parser unless fast allows the fast path. */
char *
sanitize_html_via(const char *html, const char *base_url, int fast)
{
	struct sanitize_out o;
	xmlDocPtr doc = NULL;
	char *out = NULL;
	size_t n;

	buf_init(&o.b);
	o.base = url_is_http(base_url) ? base_url : NULL;
	if (html == NULL || *html == '\0')
		goto done;
	n = sanitize_input_len(html);
	if (sanitize_is_plain(html, n)) {
		sanitize_put(&o.b, html, n, SP_TEXT);
		goto done;
	}
	/* The output is about as long as the input: one allocation. */
	buf_reserve(&o.b, n);
	if (fast && sanitize_fast(html, n, &o, NULL))
		goto done;
	buf_reset(&o.b);
	if ((doc = sanitize_parse(html, n)) == NULL)
		goto done;
	sanitize_walk(doc->children, sanitize_html_enter, sanitize_html_leave, &o);
done:
	out = sanitize_trim(o.b.data ? o.b.data : "", o.b.len);
	buf_free(&o.b);
	if (doc != NULL)
		xmlFreeDoc(doc);
	return out;
}

/* Whether sanitize_fast takes the fragment. */
int
sanitize_fast_takes(const char *html)
{
	struct buf raw;
	size_t n;
	int ok;

	if (html == NULL || *html == '\0')
		return 0;
	n = sanitize_input_len(html);
	buf_init(&raw);
	ok = !sanitize_is_plain(html, n) && sanitize_fast(html, n, NULL, &raw);
	buf_free(&raw);
	return ok;
}

/* Reduce HTML to one line of text. */
char *
sanitize_text(const char *html)
{
	return sanitize_text_via(html, 1);
}

/* The same, through libxml2's parser unless fast allows the fast path. */
char *
sanitize_text_via(const char *html, int fast)
{
	struct buf raw, b;
	xmlDocPtr doc = NULL;
	int space = 0;
	size_t n;
	char *out;

	buf_init(&raw);
	buf_init(&b);
	if (html == NULL || *html == '\0')
		goto done;
	n = sanitize_input_len(html);
	if (sanitize_is_plain(html, n)) {
		sanitize_put(&raw, html, n, SP_RAW);
	} else if (!fast || !sanitize_fast(html, n, NULL, &raw)) {
		buf_reset(&raw);
		if ((doc = sanitize_parse(html, n)) == NULL)
			goto done;
		sanitize_walk(doc->children, sanitize_text_enter, sanitize_text_leave, &raw);
	}
	for (size_t i = 0; i < raw.len;) {
		unsigned char c = (unsigned char)raw.data[i];
		size_t word = i;

		if (sanitize_is_blank(c) || c == '\f') {
			space = 1;
			i++;
			continue;
		}
		if (c == 0xC2 && i + 1 < raw.len && (unsigned char)raw.data[i + 1] == 0xA0) {
			space = 1;
			i += 2;
			continue;
		}
		/* A word goes in whole, up to the next blank or no-break space. */
		while (i < raw.len) {
			c = (unsigned char)raw.data[i];
			if (sanitize_is_blank(c) || c == '\f' ||
			    (c == 0xC2 && i + 1 < raw.len && (unsigned char)raw.data[i + 1] == 0xA0))
				break;
			i++;
		}
		if (space && b.len > 0)
			buf_append(&b, " ", 1);
		space = 0;
		buf_append(&b, raw.data + word, i - word);
	}
done:
	out = buf_steal(&b);
	buf_free(&b);
	buf_free(&raw);
	if (doc != NULL)
		xmlFreeDoc(doc);
	return out;
}
