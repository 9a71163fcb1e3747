/* parse.c: a libxml2 SAX2 push parser with a small element stack. Each
 * stack frame knows its namespace, its xml:base and what its children are
 * (feed-level fields, item fields, or nothing of interest). When an element
 * is a source for a field (see parse_sources, the one precedence table) its
 * text is captured into one buffer until its end tag, then offered to the
 * field; a source replaces the current value only if it comes earlier in
 * the table. An item is handed out when its end tag is seen, so memory is
 * bounded by the largest item (and by the caps below).
 *
 * Safety: options are XML_PARSE_NONET only (never NOENT, DTDLOAD, HUGE or
 * XINCLUDE). Every SAX callback we do not set is NULL, so nothing builds a
 * tree or loads a DTD; resolveEntity refuses every load, and any entity or
 * attribute-list declaration stops the parse before it can be used (an
 * RSS 0.91 DOCTYPE without an internal subset still parses). In libxml2 2.9
 * every external load starts from such a declaration or from the external
 * subset (not loaded: no DTDLOAD, no externalSubset callback), so no global
 * entity loader is installed here. Undeclared HTML entities (&nbsp;) come
 * from the getEntity callback as predefined-like entities cached per
 * parser; inside attribute values libxml2 would copy only the first byte of
 * a predefined entity, so there they are returned as general entities,
 * which leaves "&name;" in the value for parse_attr_decode().
 *
 * Encoding: the first bytes are held back until the XML declaration is
 * complete; then a BOM, else UTF-16/UTF-32 recognised by their zero bytes,
 * else the declared encoding, else the HTTP charset given to parser_new(),
 * else UTF-8 decides how bytes are read. libxml2 only ever sees UTF-8
 * (XML_PARSE_IGNORE_ENC): we decode first. UTF-8 and the 8-bit encodings
 * documents misdeclare (ISO-8859-1, windows-1252, US-ASCII) go through one
 * decoder: a valid UTF-8 sequence is read as UTF-8, any other byte as
 * windows-1252 (so a "latin-1" document that holds UTF-8, and smart quotes
 * in a "UTF-8" one, both come out right). Other encodings go through iconv
 * (a byte it cannot read becomes U+FFFD); an unknown name is read as
 * UTF-8. Characters XML forbids are dropped, and leading white space
 * before the declaration too. What was repaired is reported by
 * parser_warning().
 *
 * JSON Feed (a '{' first): json-c's incremental tokener takes the chunks,
 * but json-c builds a tree, so a JSON Feed is held whole (its own, smaller
 * cap) and its items are handed out when the document is complete. Its
 * keys are rows of the same precedence table (namespace NS_JSON).
 *
 * Broken XML: the first pass is strict. The decoded document is also kept
 * (up to PARSE_MAX_RECOVER bytes; a larger one is not recovered). On a
 * well-formedness error the strict pass stops handing out items, the rest
 * of the input is only kept, and at the end the copy is parsed again with
 * XML_PARSE_RECOVER (still NONET, never NOENT or DTDLOAD), after a repair
 * of what breaks feeds most (a bare '&', an undefined entity, "&#X41;", a
 * reference to a forbidden character, a stray '<'). That pass skips the
 * items the strict pass handed out and hands out the rest; the result is a
 * success with parser_warning() "parsed with errors: <first error>". Our
 * own stops (caps, declarations, not a feed) are never recovered. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <json-c/json.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "date.h"
#include "url.h"
#include "xalloc.h"

/* Caps. Exceeding one stops the parse with an error naming it; items
 * already handed out are kept. libxml2 2.9 does not limit what a SAX client
 * receives, so they are checked here, in the callbacks. */
#define PARSE_MAX_FIELD (1024 * 1024)         /* bytes of one field (title, content, ...) */
#define PARSE_MAX_TEXT (64 * 1024 * 1024)     /* bytes of character data in one feed */
#define PARSE_MAX_ITEM_TEXT (8 * 1024 * 1024) /* bytes kept for one item, all fields */
#define PARSE_MAX_ITEMS 100000                /* items in one feed */
#define PARSE_MAX_DEPTH 256                   /* element nesting */
#define PARSE_MAX_ITEM_ELEMENTS 65536         /* elements inside one item */
#define PARSE_MAX_JSON (16 * 1024 * 1024)     /* bytes of a JSON Feed, held whole */
#define PARSE_JSON_DEPTH 32                   /* JSON nesting */
/* Not errors: extra categories or enclosures of an item are dropped, and an
 * xml:base or URL longer than PARSE_MAX_URL is ignored. */
#define PARSE_MAX_LIST 256
#define PARSE_MAX_URL 8192
/* Bytes held back to read the XML declaration before choosing an encoding. */
#define PARSE_SNIFF_MAX 1024
/* Bytes handed to libxml2 per call: small, because every feed being
 * fetched holds a parser whose buffers grow to this size. */
#define PARSE_CHUNK (16 * 1024)
/* The decoded document is kept for a recovering pass up to this size;
 * a larger document that is not well-formed is not recovered. */
#define PARSE_MAX_RECOVER (16 * 1024 * 1024)
/* Longest encoding name looked up. */
#define PARSE_MAX_ENCNAME 40

/* How bytes become UTF-8. */
enum parse_dec {
	DEC_UTF8,  /* UTF-8; bytes that are not UTF-8 read as windows-1252 */
	DEC_ICONV, /* any other encoding, through iconv */
};

/* Namespaces we know, as small tokens. NS_RSS is also the null namespace
 * outside Atom documents without a namespace. */
enum parse_ns {
	NS_OTHER,
	NS_RSS,
	NS_ATOM,
	NS_RDF,
	NS_CONTENT,
	NS_DC,
	NS_DCTERMS,
	NS_MEDIA,
	NS_ITUNES,
	NS_XHTML,
	NS_JSON, /* JSON Feed keys; never an XML namespace */
};

/* What the children of an element are. */
enum parse_ctx {
	CTX_NONE,
	CTX_ROOT, /* rss, rdf:RDF: holds channel (and items in RSS 1.0) */
	CTX_FEED, /* channel, atom:feed: feed-level fields and items */
	CTX_ITEM, /* item, atom:entry (and media:group inside one) */
};

enum parse_field {
	F_ID,
	F_LINK,
	F_TITLE,
	F_SUMMARY,
	F_CONTENT,
	F_AUTHOR,
	F_PUBLISHED,
	F_UPDATED,
	F_CATEGORY,
	F_ENCLOSURE,
	F_TTL,
	F_MAX,
};

/* How a source gives its value. */
enum parse_kind {
	K_TEXT,      /* trimmed text */
	K_URL,       /* text, resolved against xml:base and the feed URL */
	K_DATE,      /* text, through date_parse() */
	K_INT,       /* text, a number */
	K_TITLE,     /* text construct, to plain text */
	K_HTML,      /* text construct, to HTML */
	K_GUID,      /* RSS guid text; sets id_is_permalink */
	K_PERMALINK, /* RSS guid as link: isPermaLink not false, an http(s) URL */
	K_PERSON,    /* Atom person: name, else email */
	K_ATOMLINK,  /* atom:link attributes: rel alternate to link, enclosure to enclosures */
	K_ENCLOSURE, /* RSS enclosure attributes url, type, length */
	K_MEDIA,     /* media:content attributes url, type, fileSize */
	K_TERM,      /* atom:category term attribute */
	K_ABOUT,     /* rdf:about attribute of the RSS 1.0 item element itself */
	K_JTEXT,     /* JSON: plain text, to HTML */
	K_JPERSON,   /* JSON: author object or authors array: the first name */
	K_JTAGS,     /* JSON: array of strings */
	K_JATTACH,   /* JSON: attachments array: url, mime_type, size_in_bytes */
};

struct parse_source {
	unsigned char where; /* CTX_ITEM or CTX_FEED: the parent's kind */
	unsigned char ns;
	const char *name;
	unsigned char field;
	unsigned char kind;
};

/* THE precedence table. For each field, its sources in priority order: a
 * value from an earlier row replaces one from a later row, never the
 * reverse; between two values from the same row the first wins. Empty or
 * unparseable values do not count. Categories and enclosures take every
 * source (duplicates dropped). An item without an author inherits the
 * feed's (Atom 4.2.1). Atom 0.3 shares NS_ATOM (issued, modified, created
 * are its names). */
static const struct parse_source parse_sources[] = {
    /* item id */
    {CTX_ITEM, NS_ATOM, "id", F_ID, K_TEXT},
    {CTX_ITEM, NS_RSS, "guid", F_ID, K_GUID},
    {CTX_ITEM, NS_RDF, "about", F_ID, K_ABOUT},
    {CTX_ITEM, NS_JSON, "id", F_ID, K_TEXT},
    /* item link */
    {CTX_ITEM, NS_RSS, "link", F_LINK, K_URL},
    {CTX_ITEM, NS_ATOM, "link", F_LINK, K_ATOMLINK},
    {CTX_ITEM, NS_RSS, "guid", F_LINK, K_PERMALINK},
    {CTX_ITEM, NS_JSON, "url", F_LINK, K_URL},
    {CTX_ITEM, NS_JSON, "external_url", F_LINK, K_URL},
    /* item title */
    {CTX_ITEM, NS_ATOM, "title", F_TITLE, K_TITLE},
    {CTX_ITEM, NS_RSS, "title", F_TITLE, K_TITLE},
    {CTX_ITEM, NS_DC, "title", F_TITLE, K_TITLE},
    {CTX_ITEM, NS_MEDIA, "title", F_TITLE, K_TITLE},
    {CTX_ITEM, NS_JSON, "title", F_TITLE, K_TEXT},
    /* item summary */
    {CTX_ITEM, NS_ATOM, "summary", F_SUMMARY, K_HTML},
    {CTX_ITEM, NS_RSS, "description", F_SUMMARY, K_HTML},
    {CTX_ITEM, NS_DC, "description", F_SUMMARY, K_HTML},
    {CTX_ITEM, NS_ITUNES, "summary", F_SUMMARY, K_HTML},
    {CTX_ITEM, NS_MEDIA, "description", F_SUMMARY, K_HTML},
    {CTX_ITEM, NS_JSON, "summary", F_SUMMARY, K_JTEXT},
    /* item content */
    {CTX_ITEM, NS_ATOM, "content", F_CONTENT, K_HTML},
    {CTX_ITEM, NS_CONTENT, "encoded", F_CONTENT, K_HTML},
    {CTX_ITEM, NS_XHTML, "body", F_CONTENT, K_HTML},
    {CTX_ITEM, NS_JSON, "content_html", F_CONTENT, K_HTML},
    {CTX_ITEM, NS_JSON, "content_text", F_CONTENT, K_JTEXT},
    /* item author */
    {CTX_ITEM, NS_ATOM, "author", F_AUTHOR, K_PERSON},
    {CTX_ITEM, NS_DC, "creator", F_AUTHOR, K_TEXT},
    {CTX_ITEM, NS_RSS, "author", F_AUTHOR, K_TEXT},
    {CTX_ITEM, NS_ITUNES, "author", F_AUTHOR, K_TEXT},
    {CTX_ITEM, NS_JSON, "authors", F_AUTHOR, K_JPERSON},
    {CTX_ITEM, NS_JSON, "author", F_AUTHOR, K_JPERSON},
    /* item published: first publication, else the last change */
    {CTX_ITEM, NS_ATOM, "published", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_RSS, "pubDate", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_DC, "date", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_DCTERMS, "issued", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_ATOM, "issued", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_DCTERMS, "created", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_ATOM, "created", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_ATOM, "updated", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_ATOM, "modified", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_DCTERMS, "modified", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_JSON, "date_published", F_PUBLISHED, K_DATE},
    {CTX_ITEM, NS_JSON, "date_modified", F_PUBLISHED, K_DATE},
    /* item updated: the last change only */
    {CTX_ITEM, NS_ATOM, "updated", F_UPDATED, K_DATE},
    {CTX_ITEM, NS_ATOM, "modified", F_UPDATED, K_DATE},
    {CTX_ITEM, NS_DCTERMS, "modified", F_UPDATED, K_DATE},
    {CTX_ITEM, NS_JSON, "date_modified", F_UPDATED, K_DATE},
    /* item categories (all) */
    {CTX_ITEM, NS_RSS, "category", F_CATEGORY, K_TEXT},
    {CTX_ITEM, NS_ATOM, "category", F_CATEGORY, K_TERM},
    {CTX_ITEM, NS_DC, "subject", F_CATEGORY, K_TEXT},
    {CTX_ITEM, NS_JSON, "tags", F_CATEGORY, K_JTAGS},
    /* item enclosures (all) */
    {CTX_ITEM, NS_RSS, "enclosure", F_ENCLOSURE, K_ENCLOSURE},
    {CTX_ITEM, NS_ATOM, "link", F_ENCLOSURE, K_ATOMLINK},
    {CTX_ITEM, NS_MEDIA, "content", F_ENCLOSURE, K_MEDIA},
    {CTX_ITEM, NS_JSON, "attachments", F_ENCLOSURE, K_JATTACH},

    /* feed title */
    {CTX_FEED, NS_ATOM, "title", F_TITLE, K_TITLE},
    {CTX_FEED, NS_RSS, "title", F_TITLE, K_TITLE},
    {CTX_FEED, NS_DC, "title", F_TITLE, K_TITLE},
    {CTX_FEED, NS_JSON, "title", F_TITLE, K_TEXT},
    /* feed link */
    {CTX_FEED, NS_RSS, "link", F_LINK, K_URL},
    {CTX_FEED, NS_ATOM, "link", F_LINK, K_ATOMLINK},
    {CTX_FEED, NS_JSON, "home_page_url", F_LINK, K_URL},
    /* feed id */
    {CTX_FEED, NS_ATOM, "id", F_ID, K_TEXT},
    /* feed updated */
    {CTX_FEED, NS_ATOM, "updated", F_UPDATED, K_DATE},
    {CTX_FEED, NS_ATOM, "modified", F_UPDATED, K_DATE},
    {CTX_FEED, NS_RSS, "lastBuildDate", F_UPDATED, K_DATE},
    {CTX_FEED, NS_DCTERMS, "modified", F_UPDATED, K_DATE},
    {CTX_FEED, NS_RSS, "pubDate", F_UPDATED, K_DATE},
    {CTX_FEED, NS_DC, "date", F_UPDATED, K_DATE},
    /* feed ttl */
    {CTX_FEED, NS_RSS, "ttl", F_TTL, K_INT},
    /* feed author: inherited by items without one */
    {CTX_FEED, NS_ATOM, "author", F_AUTHOR, K_PERSON},
    {CTX_FEED, NS_DC, "creator", F_AUTHOR, K_TEXT},
    {CTX_FEED, NS_ITUNES, "author", F_AUTHOR, K_TEXT},
    {CTX_FEED, NS_JSON, "authors", F_AUTHOR, K_JPERSON},
    {CTX_FEED, NS_JSON, "author", F_AUTHOR, K_JPERSON},
};
#define PARSE_NSOURCES (sizeof parse_sources / sizeof parse_sources[0])
/* Most rows one element can match (atom:updated, atom:link, rss guid). */
#define PARSE_MAX_ROWS 4

static const struct {
	const char *uri;
	enum parse_ns ns;
	int match; /* 0 exact, 1 as a prefix (Atom 0.3 drafts), 2 ignoring case */
} parse_namespaces[] = {
    {"http://www.w3.org/2005/Atom", NS_ATOM, 0},
    {"http://purl.org/atom/ns#", NS_ATOM, 1},
    {"http://purl.org/rss/1.0/", NS_RSS, 0},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS, 0},
    {"http://backend.userland.com/rss2", NS_RSS, 0},
    {"http://backend.userland.com/rss", NS_RSS, 0},
    {"http://blogs.law.harvard.edu/tech/rss", NS_RSS, 0},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF, 0},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT, 0},
    {"http://purl.org/dc/elements/1.1/", NS_DC, 0},
    {"http://purl.org/dc/terms/", NS_DCTERMS, 0},
    {"http://search.yahoo.com/mrss/", NS_MEDIA, 0},
    {"http://search.yahoo.com/mrss", NS_MEDIA, 0},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES, 2},
    {"http://www.w3.org/1999/xhtml", NS_XHTML, 0},
};

/* Prefixes feeds use without declaring them (a namespace error that
 * libxml2 reports but survives): read as the namespace they always mean. */
static const struct {
	const char *prefix;
	enum parse_ns ns;
} parse_prefixes[] = {
    {"atom", NS_ATOM},     {"content", NS_CONTENT}, {"dc", NS_DC},   {"dcterms", NS_DCTERMS},
    {"itunes", NS_ITUNES}, {"media", NS_MEDIA},     {"rdf", NS_RDF}, {"xhtml", NS_XHTML},
};

#define PARSE_XML_NS "http://www.w3.org/XML/1998/namespace"
#define PARSE_ATOM03_NS "http://purl.org/atom/ns#"

/* HTML 4 entities (latin1, symbol, special) and &apos;, sorted by strcmp. */
static const struct parse_entity {
	const char *name;
	unsigned cp;
} parse_entities[] = {
    {"AElig", 0xC6},     {"Aacute", 0xC1},   {"Acirc", 0xC2},    {"Agrave", 0xC0},   {"Alpha", 0x391},
    {"Aring", 0xC5},     {"Atilde", 0xC3},   {"Auml", 0xC4},     {"Beta", 0x392},    {"Ccedil", 0xC7},
    {"Chi", 0x3A7},      {"Dagger", 0x2021}, {"Delta", 0x394},   {"ETH", 0xD0},      {"Eacute", 0xC9},
    {"Ecirc", 0xCA},     {"Egrave", 0xC8},   {"Epsilon", 0x395}, {"Eta", 0x397},     {"Euml", 0xCB},
    {"Gamma", 0x393},    {"Iacute", 0xCD},   {"Icirc", 0xCE},    {"Igrave", 0xCC},   {"Iota", 0x399},
    {"Iuml", 0xCF},      {"Kappa", 0x39A},   {"Lambda", 0x39B},  {"Mu", 0x39C},      {"Ntilde", 0xD1},
    {"Nu", 0x39D},       {"OElig", 0x152},   {"Oacute", 0xD3},   {"Ocirc", 0xD4},    {"Ograve", 0xD2},
    {"Omega", 0x3A9},    {"Omicron", 0x39F}, {"Oslash", 0xD8},   {"Otilde", 0xD5},   {"Ouml", 0xD6},
    {"Phi", 0x3A6},      {"Pi", 0x3A0},      {"Prime", 0x2033},  {"Psi", 0x3A8},     {"Rho", 0x3A1},
    {"Scaron", 0x160},   {"Sigma", 0x3A3},   {"THORN", 0xDE},    {"Tau", 0x3A4},     {"Theta", 0x398},
    {"Uacute", 0xDA},    {"Ucirc", 0xDB},    {"Ugrave", 0xD9},   {"Upsilon", 0x3A5}, {"Uuml", 0xDC},
    {"Xi", 0x39E},       {"Yacute", 0xDD},   {"Yuml", 0x178},    {"Zeta", 0x396},    {"aacute", 0xE1},
    {"acirc", 0xE2},     {"acute", 0xB4},    {"aelig", 0xE6},    {"agrave", 0xE0},   {"alefsym", 0x2135},
    {"alpha", 0x3B1},    {"amp", 0x26},      {"and", 0x2227},    {"ang", 0x2220},    {"apos", 0x27},
    {"aring", 0xE5},     {"asymp", 0x2248},  {"atilde", 0xE3},   {"auml", 0xE4},     {"bdquo", 0x201E},
    {"beta", 0x3B2},     {"brvbar", 0xA6},   {"bull", 0x2022},   {"cap", 0x2229},    {"ccedil", 0xE7},
    {"cedil", 0xB8},     {"cent", 0xA2},     {"chi", 0x3C7},     {"circ", 0x2C6},    {"clubs", 0x2663},
    {"cong", 0x2245},    {"copy", 0xA9},     {"crarr", 0x21B5},  {"cup", 0x222A},    {"curren", 0xA4},
    {"dArr", 0x21D3},    {"dagger", 0x2020}, {"darr", 0x2193},   {"deg", 0xB0},      {"delta", 0x3B4},
    {"diams", 0x2666},   {"divide", 0xF7},   {"eacute", 0xE9},   {"ecirc", 0xEA},    {"egrave", 0xE8},
    {"empty", 0x2205},   {"emsp", 0x2003},   {"ensp", 0x2002},   {"epsilon", 0x3B5}, {"equiv", 0x2261},
    {"eta", 0x3B7},      {"eth", 0xF0},      {"euml", 0xEB},     {"euro", 0x20AC},   {"exist", 0x2203},
    {"fnof", 0x192},     {"forall", 0x2200}, {"frac12", 0xBD},   {"frac14", 0xBC},   {"frac34", 0xBE},
    {"frasl", 0x2044},   {"gamma", 0x3B3},   {"ge", 0x2265},     {"gt", 0x3E},       {"hArr", 0x21D4},
    {"harr", 0x2194},    {"hearts", 0x2665}, {"hellip", 0x2026}, {"iacute", 0xED},   {"icirc", 0xEE},
    {"iexcl", 0xA1},     {"igrave", 0xEC},   {"image", 0x2111},  {"infin", 0x221E},  {"int", 0x222B},
    {"iota", 0x3B9},     {"iquest", 0xBF},   {"isin", 0x2208},   {"iuml", 0xEF},     {"kappa", 0x3BA},
    {"lArr", 0x21D0},    {"lambda", 0x3BB},  {"lang", 0x2329},   {"laquo", 0xAB},    {"larr", 0x2190},
    {"lceil", 0x2308},   {"ldquo", 0x201C},  {"le", 0x2264},     {"lfloor", 0x230A}, {"lowast", 0x2217},
    {"loz", 0x25CA},     {"lrm", 0x200E},    {"lsaquo", 0x2039}, {"lsquo", 0x2018},  {"lt", 0x3C},
    {"macr", 0xAF},      {"mdash", 0x2014},  {"micro", 0xB5},    {"middot", 0xB7},   {"minus", 0x2212},
    {"mu", 0x3BC},       {"nabla", 0x2207},  {"nbsp", 0xA0},     {"ndash", 0x2013},  {"ne", 0x2260},
    {"ni", 0x220B},      {"not", 0xAC},      {"notin", 0x2209},  {"nsub", 0x2284},   {"ntilde", 0xF1},
    {"nu", 0x3BD},       {"oacute", 0xF3},   {"ocirc", 0xF4},    {"oelig", 0x153},   {"ograve", 0xF2},
    {"oline", 0x203E},   {"omega", 0x3C9},   {"omicron", 0x3BF}, {"oplus", 0x2295},  {"or", 0x2228},
    {"ordf", 0xAA},      {"ordm", 0xBA},     {"oslash", 0xF8},   {"otilde", 0xF5},   {"otimes", 0x2297},
    {"ouml", 0xF6},      {"para", 0xB6},     {"part", 0x2202},   {"permil", 0x2030}, {"perp", 0x22A5},
    {"phi", 0x3C6},      {"pi", 0x3C0},      {"piv", 0x3D6},     {"plusmn", 0xB1},   {"pound", 0xA3},
    {"prime", 0x2032},   {"prod", 0x220F},   {"prop", 0x221D},   {"psi", 0x3C8},     {"quot", 0x22},
    {"rArr", 0x21D2},    {"radic", 0x221A},  {"rang", 0x232A},   {"raquo", 0xBB},    {"rarr", 0x2192},
    {"rceil", 0x2309},   {"rdquo", 0x201D},  {"real", 0x211C},   {"reg", 0xAE},      {"rfloor", 0x230B},
    {"rho", 0x3C1},      {"rlm", 0x200F},    {"rsaquo", 0x203A}, {"rsquo", 0x2019},  {"sbquo", 0x201A},
    {"scaron", 0x161},   {"sdot", 0x22C5},   {"sect", 0xA7},     {"shy", 0xAD},      {"sigma", 0x3C3},
    {"sigmaf", 0x3C2},   {"sim", 0x223C},    {"spades", 0x2660}, {"sub", 0x2282},    {"sube", 0x2286},
    {"sum", 0x2211},     {"sup", 0x2283},    {"sup1", 0xB9},     {"sup2", 0xB2},     {"sup3", 0xB3},
    {"supe", 0x2287},    {"szlig", 0xDF},    {"tau", 0x3C4},     {"there4", 0x2234}, {"theta", 0x3B8},
    {"thetasym", 0x3D1}, {"thinsp", 0x2009}, {"thorn", 0xFE},    {"tilde", 0x2DC},   {"times", 0xD7},
    {"trade", 0x2122},   {"uArr", 0x21D1},   {"uacute", 0xFA},   {"uarr", 0x2191},   {"ucirc", 0xFB},
    {"ugrave", 0xF9},    {"uml", 0xA8},      {"upsih", 0x3D2},   {"upsilon", 0x3C5}, {"uuml", 0xFC},
    {"weierp", 0x2118},  {"xi", 0x3BE},      {"yacute", 0xFD},   {"yen", 0xA5},      {"yuml", 0xFF},
    {"zeta", 0x3B6},     {"zwj", 0x200D},    {"zwnj", 0x200C},
};
#define PARSE_NENTITIES (sizeof parse_entities / sizeof parse_entities[0])

/* Windows-1252's 0x80-0x9F (U+FFFD where it has no character). */
static const unsigned parse_cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* A cached entity for libxml2, with room for its UTF-8 bytes. */
struct parse_xent {
	xmlEntity ent;
	xmlChar utf8[8];
};

/* How captured text is collected. */
enum parse_cap {
	CAP_TEXT,   /* text only; child elements contribute their text */
	CAP_MARKUP, /* child elements are serialized as markup */
	CAP_PERSON, /* text of a child name (or email) */
	CAP_SKIP,   /* nothing (binary or out-of-line content) */
};

/* How a text construct is to be read. */
enum parse_tt {
	TT_TEXT,
	TT_HTML,
	TT_XHTML,
	TT_MAYBE_HTML, /* RSS titles: plain text unless it looks like HTML */
	TT_SKIP,
	TT_B64_TEXT, /* Atom base64 (another media type, or 0.3's mode): text once decoded */
	TT_B64_HTML, /* Atom 0.3 mode="base64" of HTML */
};

struct parse_frame {
	const xmlChar *name; /* libxml2 dictionary string */
	unsigned char ns;
	unsigned char ctx;    /* what the children are */
	unsigned char unwrap; /* captured markup: write no end tag (void element, Atom xhtml div) */
	char *base;           /* effective base URL, may be NULL */
	int base_owned;
};

struct parse_capture {
	int active;
	size_t depth;   /* stack depth of the capturing element */
	int where;      /* CTX_ITEM or CTX_FEED */
	int mode;       /* enum parse_cap */
	int tt;         /* enum parse_tt */
	int escape_top; /* MARKUP: escape text directly inside the element */
	int permalink;  /* RSS guid isPermaLink (default true) */
	const struct parse_source *rows[PARSE_MAX_ROWS];
	int nrows;
	struct buf text;
	struct buf aux; /* CAP_PERSON: email; K_URL: an href attribute */
};

struct parser {
	xmlParserCtxtPtr ctxt;
	char *base_url;
	char *charset;
	parse_item_fn fn;
	void *arg;

	enum feed_format format;
	int null_ns; /* token for elements without a namespace */
	int started; /* the libxml2 context exists */
	int finished;
	int failed;      /* stopped: p->error or an XML error */
	char *error;     /* our own stop reason */
	char *xml_error; /* first fatal libxml2 error */
	int xml_error_line;
	int xml_error_fatal;
	int seen_root;
	struct buf head; /* bytes held back before the encoding is chosen */

	struct parse_frame *stack;
	size_t depth;
	size_t stack_cap;

	struct parse_capture cap;
	size_t total_text;

	struct item *item;
	size_t item_depth;
	size_t item_text;
	size_t item_elements;
	int item_prio[F_MAX];

	struct feed_meta meta;
	int feed_prio[F_MAX];
	char *feed_author;
	size_t nitems;

	struct parse_xent *xents[PARSE_NENTITIES];

	int json; /* the document is JSON */
	struct json_tokener *jtok;
	struct json_object *jdoc;
	size_t json_bytes;

	/* Decoding to UTF-8 before libxml2 sees a byte. */
	int dec;             /* enum parse_dec */
	iconv_t cd;          /* DEC_ICONV */
	char *enc;           /* the encoding read (NULL: UTF-8 by default) */
	int lead;            /* nothing but white space decoded yet */
	struct buf pend;     /* undecoded bytes held over to the next push */
	struct buf out;      /* decoded bytes of one slice */
	size_t n_utf8_in_8bit; /* UTF-8 sequences in a document declared 8-bit */
	size_t n_cp1252;     /* bytes of a UTF-8 document read as windows-1252 */
	size_t n_invalid;    /* bytes the declared encoding could not read */
	size_t n_forbidden;  /* characters XML forbids, dropped */
	int enc_unknown;     /* the declared encoding is unknown: read as UTF-8 */

	/* Recovery: the decoded document, while it is within PARSE_MAX_RECOVER. */
	struct buf raw;
	int raw_dropped;
	int collecting; /* the strict pass stopped: later bytes are only kept */
	int recovering; /* the second, recovering pass is running */
	size_t skip;    /* items the strict pass handed out */
	size_t seen;    /* items complete in this pass */
	char *recovered_from; /* the strict pass's error, once recovered */
	char *warning;
};

static void parse_fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int parse_start_xml(struct parser *p);
static int parse_new_ctxt(struct parser *p, int recover);
static void parse_choose_encoding(struct parser *p, const unsigned char *u, size_t len, size_t *skip);
static char *parse_declared_encoding(const unsigned char *u, size_t len);
static int parse_is_8bit(const char *name);
static int parse_input(struct parser *p, const char *data, size_t len, int last);
static int parse_plain8(const unsigned char *s);
static void parse_decode_mixed(struct parser *p, const unsigned char *s, size_t len, int last, int trusted);
static void parse_decode_iconv(struct parser *p, const char *s, size_t len, int last);
static int parse_utf8_seq(const unsigned char *s, size_t len, unsigned *cp);
static void parse_emit(struct parser *p, unsigned cp);
static char *parse_utf8_clean(const char *s, size_t len);
static char *parse_base64_text(const char *s);
static int parse_xml_bytes(struct parser *p, const char *data, size_t len);
static int parse_recover(struct parser *p);
static void parse_reset(struct parser *p);
static void parse_repair(struct parser *p, const char *s, size_t len);
static size_t parse_repair_ref(const char *s, size_t len, struct buf *b);
static int parse_repair_flush(struct parser *p, struct buf *b, int force);
static void parse_warn(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void parse_make_warning(struct parser *p);
static int parse_sniff_ready(const struct buf *head);
static const unsigned char *parse_find(const void *hay, size_t len, const char *needle);
static void parse_chunk(struct parser *p, const char *data, size_t len, int terminate);
static int parse_check(struct parser *p);
static int parse_ns_token(const struct parser *p, const xmlChar *uri, const xmlChar *prefix);
static int parse_entity_find(const char *name, size_t len);
static size_t parse_utf8_put(unsigned cp, char *out);
static char *parse_attr(const xmlChar **attrs, int nattrs, const char *uri, const char *name);
static char *parse_attr_decode(const xmlChar *start, const xmlChar *end);
static void parse_html_escape(struct buf *b, const char *s, size_t len, int attr);
static char *parse_html_to_text(const char *s);
static int parse_looks_like_html(const char *s);
static void parse_clean(char *s);
static char *parse_collapse(char *s);
static char *parse_trim(char *s);
static char *parse_resolve(const char *base, const char *ref);
static int parse_text_type(const struct parse_frame *f, const xmlChar **attrs, int nattrs, int kind);
static void parse_root(struct parser *p, struct parse_frame *f, const xmlChar *localname, const xmlChar *uri,
                       const xmlChar **attrs, int nattrs);
static void parse_item_begin(struct parser *p, const xmlChar **attrs, int nattrs);
static void parse_item_end(struct parser *p);
static void parse_match(struct parser *p, int where, const struct parse_frame *f, const xmlChar **attrs,
                        int nattrs);
static void parse_capture_begin(struct parser *p, int where, const struct parse_source **rows, int nrows,
                                const struct parse_frame *f, const xmlChar **attrs, int nattrs);
static void parse_capture_end(struct parser *p);
static void parse_capture_add(struct parser *p, struct buf *b, const char *s, size_t len, int escape);
static void parse_markup_start(struct parser *p, struct parse_frame *f, const xmlChar **attrs, int nattrs);
static void parse_offer_string(struct parser *p, int where, const struct parse_source *row, char *value);
static void parse_offer_time(struct parser *p, int where, const struct parse_source *row, time_t t);
static int parse_take_prio(struct parser *p, int where, const struct parse_source *row);
static void parse_add_category(struct parser *p, const char *term);
static void parse_add_enclosure(struct parser *p, const char *base, const char *url, const char *type,
                                const char *length);
static void parse_atom_link(struct parser *p, int where, const struct parse_source *row,
                            const struct parse_frame *f, const xmlChar **attrs, int nattrs);
static void parse_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                            int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                            int nb_defaulted, const xmlChar **attributes);
static void parse_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri);
static void parse_sax_characters(void *ctx, const xmlChar *ch, int len);
static xmlEntityPtr parse_sax_get_entity(void *ctx, const xmlChar *name);
static void parse_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                                  const xmlChar *system_id, xmlChar *content);
static void parse_sax_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                           const xmlChar *system_id, const xmlChar *notation);
static void parse_sax_attribute_decl(void *ctx, const xmlChar *elem, const xmlChar *fullname, int type,
                                     int def, const xmlChar *default_value, xmlEnumerationPtr tree);
static xmlParserInputPtr parse_sax_resolve_entity(void *ctx, const xmlChar *public_id,
                                                  const xmlChar *system_id);
static void parse_sax_error(void *ctx, xmlErrorPtr err);
static int parse_json_bytes(struct parser *p, const char *data, size_t len);
static void parse_json_doc(struct parser *p);
static void parse_json_object(struct parser *p, int where, struct json_object *obj);
static char *parse_json_string(struct parser *p, struct json_object *v);
static void parse_json_field(struct parser *p, int where, const struct parse_source *row,
                             struct json_object *v);
static void parse_generic_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Create a parser for one document. */
struct parser *
parser_new(const char *base_url, const char *charset, parse_item_fn fn, void *arg)
{
	struct parser *p = xcalloc(1, sizeof *p);

	p->base_url = base_url != NULL && *base_url != '\0' ? xstrdup(base_url) : NULL;
	p->charset = charset != NULL && *charset != '\0' ? xstrdup(charset) : NULL;
	p->fn = fn;
	p->arg = arg;
	p->null_ns = NS_RSS;
	buf_init(&p->head);
	buf_init(&p->cap.text);
	buf_init(&p->cap.aux);
	buf_init(&p->pend);
	buf_init(&p->out);
	buf_init(&p->raw);
	p->cd = (iconv_t)-1;
	p->lead = 1;
	for (int i = 0; i < F_MAX; i++)
		p->feed_prio[i] = INT_MAX;
	return p;
}

/* Record why the parse stops (first reason wins) and stop libxml2. */
static void
parse_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->error = xstrdup(msg);
	p->failed = 1;
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* Push len bytes. */
int
parser_push(struct parser *p, const char *data, size_t len)
{
	if (p->failed || p->finished)
		return -1;
	if (len == 0)
		return 0;
	if (!p->started) {
		buf_append(&p->head, data, len);
		if (!parse_sniff_ready(&p->head))
			return 0;
		return parse_start_xml(p);
	}
	if (p->json)
		return parse_json_bytes(p, data, len);
	return parse_input(p, data, len, 0);
}

/* Whether enough of the document's start is held to choose its encoding. */
static int
parse_sniff_ready(const struct buf *head)
{
	const unsigned char *s = (const unsigned char *)head->data;
	size_t n = head->len, i = 0;

	if (n >= PARSE_SNIFF_MAX)
		return 1;
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		i = 3;
	else if ((n >= 2 && ((s[0] == 0xFE && s[1] == 0xFF) || (s[0] == 0xFF && s[1] == 0xFE))) ||
	         (n >= 1 && s[0] == 0) || (n >= 2 && s[1] == 0))
		/* UTF-16 or UTF-32: four bytes tell which. */
		return n >= 4;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (n - i < 5)
		return 0;
	if (memcmp(s + i, "<?xml", 5) != 0)
		return 1;
	/* Wait for the end of the declaration. */
	return parse_find(s + i, n - i, "?>") != NULL;
}

/* memmem() for a NUL-terminated needle, without _GNU_SOURCE. */
static const unsigned char *
parse_find(const void *hay, size_t len, const char *needle)
{
	const unsigned char *h = hay;
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (memcmp(h + i, needle, n) == 0)
			return h + i;
	return NULL;
}

/* The encoding named by an XML declaration at the start of u (after a
 * UTF-8 BOM and white space), or NULL. */
static char *
parse_declared_encoding(const unsigned char *u, size_t len)
{
	const unsigned char *end, *e;
	size_t i = 0, n = 0;
	unsigned char q;

	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		i = 3;
	while (i < len && (u[i] == ' ' || u[i] == '\t' || u[i] == '\r' || u[i] == '\n'))
		i++;
	if (len - i < 5 || memcmp(u + i, "<?xml", 5) != 0)
		return NULL;
	end = parse_find(u + i, len - i, "?>");
	if (end == NULL || (e = parse_find(u + i, (size_t)(end - (u + i)), "encoding")) == NULL)
		return NULL;
	e += 8;
	while (e < end && (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'))
		e++;
	if (e >= end || *e++ != '=')
		return NULL;
	while (e < end && (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n'))
		e++;
	if (e >= end || (*e != '"' && *e != '\''))
		return NULL;
	q = *e++;
	while (e + n < end && e[n] != q)
		n++;
	if (e + n >= end)
		return NULL;
	return parse_trim(xstrndup((const char *)e, n));
}

/* Whether an encoding name is UTF-8's or one of the 8-bit encodings that
 * documents declare when they hold windows-1252 or UTF-8 (1), or UTF-8
 * itself (2). */
static int
parse_is_8bit(const char *name)
{
	static const char *const eight[] = {
	    "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1",  "l1",
	    "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii", "ansi_x3.4-1968",
	};

	if (strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0)
		return 2;
	for (size_t i = 0; i < sizeof eight / sizeof eight[0]; i++)
		if (strcasecmp(name, eight[i]) == 0)
			return 1;
	return 0;
}

/* Choose how the document's bytes become UTF-8: a BOM, else UTF-16 or
 * UTF-32 recognised by their zero bytes, else the XML declaration, else
 * the HTTP charset, else UTF-8. UTF-8 and the 8-bit encodings documents
 * misdeclare go through our own decoder, anything else through iconv; an
 * unknown name is read as UTF-8. Sets how many leading bytes (a BOM) to
 * skip. */
static void
parse_choose_encoding(struct parser *p, const unsigned char *u, size_t len, size_t *skip)
{
	const char *wide = NULL;
	char *name = NULL;
	int kind;

	*skip = 0;
	p->dec = DEC_UTF8;
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		*skip = 3;
		return;
	}
	if (len >= 4 && u[0] == 0xFF && u[1] == 0xFE && u[2] == 0 && u[3] == 0)
		wide = "UTF-32LE", *skip = 4;
	else if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xFE && u[3] == 0xFF)
		wide = "UTF-32BE", *skip = 4;
	else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
		wide = "UTF-16BE", *skip = 2;
	else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
		wide = "UTF-16LE", *skip = 2;
	else if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0 && u[3] != 0)
		wide = "UTF-32BE";
	else if (len >= 4 && u[0] != 0 && u[1] == 0 && u[2] == 0 && u[3] == 0)
		wide = "UTF-32LE";
	else if (len >= 2 && u[0] == 0 && u[1] != 0)
		wide = "UTF-16BE";
	else if (len >= 2 && u[0] != 0 && u[1] == 0)
		wide = "UTF-16LE";
	if (wide != NULL) {
		name = xstrdup(wide);
	} else {
		name = parse_declared_encoding(u, len);
		/* A wide encoding declared in ASCII bytes is a wrong label. */
		if (name != NULL && (strncasecmp(name, "utf-16", 6) == 0 || strncasecmp(name, "utf-32", 6) == 0 ||
		                     strncasecmp(name, "ucs-", 4) == 0 || strncasecmp(name, "utf16", 5) == 0 ||
		                     strncasecmp(name, "utf32", 5) == 0 || *name == '\0')) {
			free(name);
			name = NULL;
		}
		if (name == NULL && p->charset != NULL && strncasecmp(p->charset, "utf-16", 6) != 0 &&
		    strncasecmp(p->charset, "utf-32", 6) != 0)
			name = xstrdup(p->charset);
	}
	if (name == NULL)
		return;
	p->enc = name;
	kind = parse_is_8bit(name);
	if (kind != 0)
		return;
	if (strlen(name) <= PARSE_MAX_ENCNAME && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                                      "0123456789._:-") == strlen(name)) {
		p->cd = iconv_open("UTF-8", name);
		if (p->cd != (iconv_t)-1) {
			p->dec = DEC_ICONV;
			return;
		}
	}
	p->enc_unknown = 1;
}

/* Create the libxml2 context (strict, or recovering for the second pass).
 * The input is always UTF-8 by then, so the document's own encoding
 * declaration is ignored. */
static int
parse_new_ctxt(struct parser *p, int recover)
{
	xmlSAXHandler sax;
	int options = XML_PARSE_NONET | XML_PARSE_IGNORE_ENC;

	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = parse_sax_start;
	sax.endElementNs = parse_sax_end;
	sax.characters = parse_sax_characters;
	sax.cdataBlock = parse_sax_characters;
	sax.ignorableWhitespace = parse_sax_characters;
	sax.getEntity = parse_sax_get_entity;
	sax.entityDecl = parse_sax_entity_decl;
	sax.unparsedEntityDecl = parse_sax_unparsed_entity_decl;
	sax.attributeDecl = parse_sax_attribute_decl;
	sax.resolveEntity = parse_sax_resolve_entity;
	sax.serror = parse_sax_error;
	p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL) {
		parse_fail(p, "cannot create an XML parser");
		return -1;
	}
	if (recover)
		options |= XML_PARSE_RECOVER;
	xmlCtxtUseOptions(p->ctxt, options);
	return 0;
}

/* Create the libxml2 context and feed it the held-back bytes. */
static int
parse_start_xml(struct parser *p)
{
	size_t skip = 0, first = 0;
	int rc;

	p->started = 1;
	if (p->head.len > 0) {
		const char *s = p->head.data;
		if (p->head.len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			first = 3;
		while (first < p->head.len && isspace((unsigned char)s[first]))
			first++;
		if (first < p->head.len && s[first] == '{') {
			p->json = 1;
			p->jtok = json_tokener_new_ex(PARSE_JSON_DEPTH);
			rc = parse_json_bytes(p, s + first, p->head.len - first);
			buf_free(&p->head);
			return rc;
		}
		if (first == p->head.len) {
			/* Nothing but white space so far: keep only a BOM
			 * and wait; at the end this is an empty document. */
			p->head.len = first >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
			p->head.data[p->head.len] = '\0';
			p->started = 0;
			return 0;
		}
	}
	parse_choose_encoding(p, (const unsigned char *)(p->head.data != NULL ? p->head.data : ""), p->head.len,
	                      &skip);
	if (parse_new_ctxt(p, 0) < 0)
		return -1;
	rc = 0;
	if (p->head.len > skip)
		rc = parse_input(p, p->head.data + skip, p->head.len - skip, 0);
	buf_free(&p->head);
	return rc;
}

/* Decode bytes to UTF-8 in bounded slices and hand them to libxml2; last:
 * the end of input (bytes held over are decoded as they are). */
static int
parse_input(struct parser *p, const char *data, size_t len, int last)
{
	do {
		size_t n = len < PARSE_CHUNK ? len : PARSE_CHUNK;
		const char *s = data;
		size_t slen = n;

		buf_reset(&p->out);
		if (p->pend.len > 0) {
			/* A character split between pushes: join the pieces. */
			buf_append(&p->pend, data, n);
			s = p->pend.data;
			slen = p->pend.len;
			p->pend.len = 0;
		}
		/* The decoders may refill pend from s; decode from a copy. */
		if (s == p->pend.data) {
			char *copy = xmalloc(slen);
			memcpy(copy, s, slen);
			if (p->dec == DEC_ICONV)
				parse_decode_iconv(p, copy, slen, last && n == len);
			else
				parse_decode_mixed(p, (const unsigned char *)copy, slen, last && n == len, 0);
			free(copy);
		} else if (p->dec == DEC_ICONV) {
			parse_decode_iconv(p, s, slen, last && n == len);
		} else {
			parse_decode_mixed(p, (const unsigned char *)s, slen, last && n == len, 0);
		}
		if (p->out.len > 0 && parse_xml_bytes(p, p->out.data, p->out.len) < 0)
			return -1;
		data += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/* Length of the valid UTF-8 sequence at s, with its code point; 0 when it
 * is not valid UTF-8, -1 when it is a valid start cut short by len. */
static int
parse_utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0], min;
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, c &= 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= len)
			return -1;
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
		/* Reject overlong forms and surrogates as early as possible. */
		if (i == 1 && ((n == 3 && c < 0x20) || (n == 3 && c >= 0x360 && c < 0x380) ||
		               (n == 4 && c < 0x10) || (n == 4 && c > 0x10F)))
			return 0;
	}
	if (c < min || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return n;
}

/* Append one decoded character to p->out, dropping what XML forbids and
 * the white space (and BOM) before the document's first character. */
static void
parse_emit(struct parser *p, unsigned cp)
{
	char u[4];
	size_t n;

	if (p->lead) {
		if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0xFEFF)
			return;
		p->lead = 0;
	}
	n = parse_utf8_put(cp, u);
	if (n == 0) {
		p->n_forbidden++;
		return;
	}
	buf_append(&p->out, u, n);
}

/* Whether the 8 bytes at s are all from ' ' to 0x7F. A byte's high bit
 * is set where it fails (a borrow may set more above one that fails,
 * never one when none does). */
static int
parse_plain8(const unsigned char *s)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return ((w | ((w - 0x20 * ones) & ~w)) & high) == 0;
}

/* UTF-8 with repairs, into p->out: valid sequences are kept (counted when
 * the document declared an 8-bit encoding), any other byte is read as
 * windows-1252 (which ISO-8859-1 documents really are). trusted: the
 * bytes are iconv's output, valid UTF-8, only filtered. A sequence cut by
 * the end of s waits in p->pend unless this is the last input. */
static void
parse_decode_mixed(struct parser *p, const unsigned char *s, size_t len, int last, int trusted)
{
	int eight = p->enc != NULL && parse_is_8bit(p->enc) == 1;
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		unsigned cp;
		int n;

		/* Plain ASCII is copied as it is. */
		if (!p->lead) {
			for (;;) {
				if (len - run >= 8 && parse_plain8(s + run))
					run += 8;
				else if (run < len && ((s[run] >= 0x20 && s[run] < 0x80) || s[run] == '\n' ||
				                       s[run] == '\t' || s[run] == '\r'))
					run++;
				else
					break;
			}
			if (run > i) {
				buf_append(&p->out, (const char *)s + i, run - i);
				i = run;
				continue;
			}
		}
		n = parse_utf8_seq(s + i, len - i, &cp);
		if (n < 0 && !last) {
			buf_append(&p->pend, (const char *)s + i, len - i);
			return;
		}
		if (n > 0) {
			if (n > 1 && eight && !trusted)
				p->n_utf8_in_8bit++;
			parse_emit(p, cp);
			i += (size_t)n;
			continue;
		}
		if (!eight && !trusted)
			p->n_cp1252++;
		parse_emit(p, s[i] >= 0xA0 ? s[i] : parse_cp1252[s[i] - 0x80]);
		i++;
	}
}

/* A copy of s as valid UTF-8 without characters XML forbids: bytes that
 * are not UTF-8 are read as windows-1252 (JSON strings, which json-c does
 * not check). */
static char *
parse_utf8_clean(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	struct buf b;
	char enc[4];

	buf_init(&b);
	for (size_t i = 0; i < len;) {
		unsigned cp;
		int n = parse_utf8_seq(u + i, len - i, &cp);
		if (n <= 0) {
			cp = u[i] >= 0xA0 ? u[i] : parse_cp1252[u[i] - 0x80];
			n = 1;
		}
		buf_append(&b, enc, parse_utf8_put(cp, enc));
		i += (size_t)n;
	}
	return buf_steal(&b);
}

/* Decode base64 (white space ignored); NULL unless it is valid and the
 * bytes are UTF-8 text without NULs. */
static char *
parse_base64_text(const char *s)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf b;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	buf_init(&b);
	for (; *s; s++) {
		const char *pos;
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		pos = strchr(alphabet, *s);
		if (pos == NULL || pad > 0)
			goto bad;
		acc = (acc << 6) | (unsigned)(pos - alphabet);
		bits += 6;
		if (bits >= 8) {
			char c = (char)((acc >> (bits - 8)) & 0xFF);
			bits -= 8;
			if (c == '\0')
				goto bad;
			buf_append(&b, &c, 1);
		}
	}
	if (pad > 2 || b.len == 0)
		goto bad;
	for (size_t i = 0; i < b.len;) {
		unsigned cp;
		int n = parse_utf8_seq((const unsigned char *)b.data + i, b.len - i, &cp);
		if (n <= 0)
			goto bad;
		i += (size_t)n;
	}
	return buf_steal(&b);
bad:
	buf_free(&b);
	return NULL;
}

/* Another encoding through iconv, into p->out (filtered like UTF-8). A
 * byte iconv cannot read becomes U+FFFD; a character cut by the end of s
 * waits in p->pend unless this is the last input. */
static void
parse_decode_iconv(struct parser *p, const char *s, size_t len, int last)
{
	char tmp[16384];
	char *in = (char *)s;
	size_t inleft = len;

	while (inleft > 0) {
		char *o = tmp;
		size_t oleft = sizeof tmp;
		size_t r = iconv(p->cd, &in, &inleft, &o, &oleft);
		int e = errno;

		parse_decode_mixed(p, (const unsigned char *)tmp, sizeof tmp - oleft, 1, 1);
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		if (e == EINVAL && !last) {
			buf_append(&p->pend, in, inleft);
			break;
		}
		/* EILSEQ, or a character cut by the end of input. */
		p->n_invalid++;
		parse_emit(p, 0xFFFD);
		in++;
		inleft--;
	}
	if (last)
		iconv(p->cd, NULL, NULL, NULL, NULL);
}

/* Decoded bytes: keep them for a recovering pass while they fit, and
 * hand them to libxml2. */
static int
parse_xml_bytes(struct parser *p, const char *data, size_t len)
{
	if (!p->raw_dropped && !p->recovering) {
		if (p->raw.len + len <= PARSE_MAX_RECOVER) {
			buf_append(&p->raw, data, len);
		} else {
			buf_free(&p->raw);
			p->raw_dropped = 1;
			if (p->collecting) {
				p->failed = 1;
				return -1;
			}
		}
	}
	if (p->collecting)
		return 0;
	parse_chunk(p, data, len, 0);
	return parse_check(p);
}

/* One xmlParseChunk() call. Errors raised without a parser context would
 * go to libxml2's thread-wide handler and on to stderr, so those handlers
 * point at this parser during the call only. */
static void
parse_chunk(struct parser *p, const char *data, size_t len, int terminate)
{
	xmlStructuredErrorFunc saved = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc saved_generic = xmlGenericError;
	void *saved_generic_ctx = xmlGenericErrorContext;

	xmlSetStructuredErrorFunc(p, parse_sax_error);
	xmlSetGenericErrorFunc(p, parse_generic_error);
	xmlParseChunk(p->ctxt, data, (int)len, terminate);
	xmlSetGenericErrorFunc(saved_generic_ctx, saved_generic);
	xmlSetStructuredErrorFunc(saved_ctx, saved);
}

/* Whether the parse is still going. */
static int
parse_check(struct parser *p)
{
	if (p->failed)
		return -1;
	if (p->ctxt != NULL && !p->ctxt->wellFormed && p->ctxt->disableSAX) {
		/* A well-formedness error: while the document fits in the
		 * copy, the rest is read for the recovering pass. */
		if (!p->recovering && !p->raw_dropped) {
			p->collecting = 1;
			return 0;
		}
		p->failed = 1;
		return -1;
	}
	return 0;
}

/* Forget what the strict pass built, for the recovering pass; the items it
 * handed out are counted to be skipped. */
static void
parse_reset(struct parser *p)
{
	if (p->ctxt->myDoc != NULL)
		xmlFreeDoc(p->ctxt->myDoc);
	xmlFreeParserCtxt(p->ctxt);
	p->ctxt = NULL;
	for (size_t i = 0; i < p->depth; i++)
		if (p->stack[i].base_owned)
			free(p->stack[i].base);
	p->depth = 0;
	p->cap.active = 0;
	item_free(p->item);
	p->item = NULL;
	feed_meta_clear(&p->meta);
	free(p->feed_author);
	p->feed_author = NULL;
	for (int i = 0; i < F_MAX; i++)
		p->feed_prio[i] = INT_MAX;
	p->format = FEED_FORMAT_UNKNOWN;
	p->null_ns = NS_RSS;
	p->seen_root = 0;
	p->total_text = 0;
	p->skip = p->nitems;
	p->seen = 0;
	p->failed = 0;
	p->collecting = 0;
}

/* The strict pass stopped at a well-formedness error: parse the kept copy
 * again, repaired and with libxml2's recovery, handing out only the items
 * after those already handed out. Returns 0 when that pass read a feed. */
static int
parse_recover(struct parser *p)
{
	char *from;
	int rc = -1, strict_root;

	if (p->raw_dropped || p->raw.len == 0 || p->error != NULL || p->ctxt == NULL)
		return -1;
	from = p->seen_root ? xasprintf("not well-formed (line %d): %s", p->xml_error_line,
	                                p->xml_error != NULL ? p->xml_error : "unknown error")
	                    : xasprintf("not XML: %s", p->xml_error != NULL ? p->xml_error : "no root element");
	strict_root = p->seen_root;
	parse_reset(p);
	p->recovering = 1;
	if (parse_new_ctxt(p, 1) == 0) {
		parse_repair(p, p->raw.data, p->raw.len);
		if (!p->failed)
			parse_chunk(p, NULL, 0, 1);
		/* Our own stops (caps) end the recovery like the strict pass. */
		if (p->error == NULL && p->seen_root)
			rc = 0;
	}
	buf_free(&p->raw);
	if (rc == 0) {
		p->recovered_from = from;
		p->failed = 0;
	} else {
		free(from);
		p->failed = 1;
		p->seen_root = p->seen_root || strict_root;
	}
	return rc;
}

/* Push the repaired copy to libxml2: outside comments, CDATA sections and
 * processing instructions, a bare '&' becomes "&amp;", an undefined entity
 * its text, "&#X41;" "&#x41;", a reference to a character XML forbids is
 * dropped, and a '<' that cannot start markup becomes "&lt;". Line
 * numbers do not change. */
static void
parse_repair(struct parser *p, const char *s, size_t len)
{
	struct buf b;
	size_t i = 0, run = 0;
	char quote = 0;
	int in_tag = 0;

	buf_init(&b);
	while (i < len && !p->failed) {
		const char *close = NULL;
		char c = s[i];

		if (c == '<' && !in_tag) {
			if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0)
				close = "-->";
			else if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0)
				close = "]]>";
			else if (len - i >= 2 && s[i + 1] == '?')
				close = "?>";
			if (close != NULL) {
				const unsigned char *e = parse_find(s + i, len - i, close);
				size_t n = e != NULL ? (size_t)((const char *)e - (s + i)) + strlen(close) : len - i;
				buf_append(&b, s + run, i + n - run);
				i += n;
				run = i;
				if (parse_repair_flush(p, &b, 0) < 0)
					break;
				continue;
			}
			if (i + 1 < len && (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '_' || s[i + 1] == ':' ||
			                    s[i + 1] == '/' || s[i + 1] == '!' || (unsigned char)s[i + 1] >= 0x80)) {
				in_tag = 1;
				i++;
				continue;
			}
			buf_append(&b, s + run, i - run);
			buf_puts(&b, "&lt;");
			run = ++i;
			continue;
		}
		if (in_tag) {
			if (quote != 0 && c == quote)
				quote = 0;
			else if (quote == 0 && (c == '"' || c == '\''))
				quote = c;
			else if (quote == 0 && c == '>')
				in_tag = 0;
			else if (quote != 0 && c == '<') {
				buf_append(&b, s + run, i - run);
				buf_puts(&b, "&lt;");
				run = ++i;
				continue;
			}
		}
		if (c == '&' && (!in_tag || quote != 0)) {
			size_t used;
			buf_append(&b, s + run, i - run);
			used = parse_repair_ref(s + i, len - i, &b);
			i += used;
			run = i;
			if (parse_repair_flush(p, &b, 0) < 0)
				break;
			continue;
		}
		i++;
		if (i - run >= PARSE_CHUNK) {
			buf_append(&b, s + run, i - run);
			run = i;
			if (parse_repair_flush(p, &b, 0) < 0)
				break;
		}
	}
	if (!p->failed && run < len) {
		buf_append(&b, s + run, len - run);
		parse_repair_flush(p, &b, 1);
	} else if (!p->failed) {
		parse_repair_flush(p, &b, 1);
	}
	buf_free(&b);
}

/* Repair the reference at s (which starts with '&') into b; returns how
 * many bytes of s it used. */
static size_t
parse_repair_ref(const char *s, size_t len, struct buf *b)
{
	static const char *const predefined[] = {"amp", "lt", "gt", "quot", "apos"};
	size_t j = 1;

	if (len > 2 && s[1] == '#') {
		int hex = s[2] == 'x' || s[2] == 'X';
		unsigned long cp = 0;
		char u[4];
		j = hex ? 3 : 2;
		while (j < len && j < 16 && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j]))) {
			cp = cp * (hex ? 16 : 10) +
			     (unsigned long)(isdigit((unsigned char)s[j]) ? s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10));
			j++;
		}
		if (j < len && s[j] == ';' && j > (size_t)(hex ? 3 : 2)) {
			/* A well-formed number: keep it if XML allows the character. */
			if (cp <= 0x10FFFF && parse_utf8_put((unsigned)cp, u) > 0)
				buf_printf(b, hex ? "&#x%lx;" : "&#%lu;", cp);
			return j + 1;
		}
		buf_puts(b, "&amp;");
		return 1;
	}
	while (j < len && j < 40 &&
	       (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.' || s[j] == ':'))
		j++;
	if (j > 1 && j < len && s[j] == ';' && isalpha((unsigned char)s[1])) {
		for (size_t k = 0; k < sizeof predefined / sizeof predefined[0]; k++) {
			if (strlen(predefined[k]) == j - 1 && memcmp(s + 1, predefined[k], j - 1) == 0) {
				buf_append(b, s, j + 1);
				return j + 1;
			}
		}
		if (parse_entity_find(s + 1, j - 1) >= 0) {
			buf_append(b, s, j + 1);
			return j + 1;
		}
	}
	buf_puts(b, "&amp;");
	return 1;
}

/* Hand the repaired bytes to libxml2 once there are enough (or force). */
static int
parse_repair_flush(struct parser *p, struct buf *b, int force)
{
	if (b->len == 0 || (!force && b->len < PARSE_CHUNK))
		return 0;
	parse_chunk(p, b->data, b->len, 0);
	buf_reset(b);
	return parse_check(p);
}

/* Append one phrase to a warning under construction. */
static void
parse_warn(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_puts(b, b->len == 0 ? "parsed with errors: " : "; ");
	buf_puts(b, msg);
}

/* What was repaired, for parser_warning(). */
static void
parse_make_warning(struct parser *p)
{
	struct buf b;

	buf_init(&b);
	if (p->recovered_from != NULL)
		parse_warn(&b, "%s", p->recovered_from);
	if (p->enc_unknown)
		parse_warn(&b, "unknown encoding \"%.64s\", read as UTF-8", p->enc);
	if (p->n_utf8_in_8bit > 0)
		parse_warn(&b, "declared %.64s but holds UTF-8, read as UTF-8", p->enc);
	if (p->n_cp1252 > 0)
		parse_warn(&b, "%zu byte(s) not valid UTF-8, read as windows-1252", p->n_cp1252);
	if (p->n_invalid > 0)
		parse_warn(&b, "%zu byte(s) not valid %.64s, replaced", p->n_invalid, p->enc);
	if (p->n_forbidden > 0)
		parse_warn(&b, "%zu character(s) XML forbids, dropped", p->n_forbidden);
	if (b.len > 0)
		p->warning = buf_steal(&b);
	buf_free(&b);
}

/* End of input. */
int
parser_finish(struct parser *p, char **err)
{
	char *msg = NULL;

	if (!p->finished) {
		p->finished = 1;
		if (!p->failed && !p->started && p->head.len > 0)
			parse_start_xml(p);
		if (!p->failed && p->ctxt != NULL && !p->json) {
			parse_input(p, "", 0, 1);
			if (!p->failed && !p->collecting) {
				parse_chunk(p, NULL, 0, 1);
				parse_check(p);
			}
			if (p->collecting)
				p->failed = 1;
		}
		if (p->failed && !p->json)
			parse_recover(p);
		buf_free(&p->raw);
		if (!p->failed && p->json && p->jdoc == NULL)
			parse_fail(p, "not a feed (JSON: %s)", "unexpected end of data");
		if (!p->failed && p->json)
			parse_json_doc(p);
		parse_make_warning(p);
	}
	if (p->error != NULL)
		msg = xstrdup(p->error);
	else if (!p->seen_root && p->ctxt == NULL)
		msg = xstrdup("not a feed (empty document)");
	else if (!p->seen_root)
		msg = xasprintf("not a feed (not XML: %s)",
		                p->xml_error != NULL ? p->xml_error : "no root element");
	else if (p->failed)
		msg = xasprintf("not well-formed (line %d): %s", p->xml_error_line,
		                p->xml_error != NULL ? p->xml_error : "unknown error");
	if (msg == NULL)
		return 0;
	if (err != NULL)
		*err = msg;
	else
		free(msg);
	return -1;
}

/* What was repaired to read the document, or NULL. */
const char *
parser_warning(const struct parser *p)
{
	return p->warning;
}

/* The feed-level metadata seen so far. */
const struct feed_meta *
parser_meta(const struct parser *p)
{
	return &p->meta;
}

/* The document's format, once its root element was seen. */
enum feed_format
parser_format(const struct parser *p)
{
	return p->format;
}

/* How many items were handed out. */
size_t
parser_item_count(const struct parser *p)
{
	return p->nitems;
}

/* Free the parser and whatever it still holds. */
void
parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	if (p->ctxt != NULL) {
		/* libxml2 builds a "SAX compatibility" document for an entity
		 * declaration even in SAX mode; it is ours to free. */
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		xmlFreeParserCtxt(p->ctxt);
	}
	for (size_t i = 0; i < p->depth; i++)
		if (p->stack[i].base_owned)
			free(p->stack[i].base);
	free(p->stack);
	for (size_t i = 0; i < PARSE_NENTITIES; i++)
		free(p->xents[i]);
	if (p->jtok != NULL)
		json_tokener_free(p->jtok);
	if (p->jdoc != NULL)
		json_object_put(p->jdoc);
	item_free(p->item);
	feed_meta_clear(&p->meta);
	buf_free(&p->head);
	buf_free(&p->cap.text);
	buf_free(&p->cap.aux);
	free(p->feed_author);
	free(p->base_url);
	free(p->charset);
	free(p->error);
	free(p->xml_error);
	if (p->cd != (iconv_t)-1)
		iconv_close(p->cd);
	free(p->enc);
	buf_free(&p->pend);
	buf_free(&p->out);
	buf_free(&p->raw);
	free(p->recovered_from);
	free(p->warning);
	free(p);
}

/* The token for an element's namespace URI (or undeclared prefix). */
static int
parse_ns_token(const struct parser *p, const xmlChar *uri, const xmlChar *prefix)
{
	const char *u = (const char *)uri;

	if ((u == NULL || *u == '\0') && prefix != NULL) {
		for (size_t i = 0; i < sizeof parse_prefixes / sizeof parse_prefixes[0]; i++)
			if (strcmp((const char *)prefix, parse_prefixes[i].prefix) == 0)
				return parse_prefixes[i].ns;
		return NS_OTHER;
	}
	if (u == NULL || *u == '\0')
		return p->null_ns;
	for (size_t i = 0; i < sizeof parse_namespaces / sizeof parse_namespaces[0]; i++) {
		const char *ns = parse_namespaces[i].uri;
		int m = parse_namespaces[i].match;
		if ((m == 0 && strcmp(u, ns) == 0) || (m == 1 && strncmp(u, ns, strlen(ns)) == 0) ||
		    (m == 2 && strcasecmp(u, ns) == 0))
			return parse_namespaces[i].ns;
	}
	return NS_OTHER;
}

/* Index of an HTML entity name (len bytes), or -1. */
static int
parse_entity_find(const char *name, size_t len)
{
	size_t lo = 0, hi = PARSE_NENTITIES;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(name, parse_entities[mid].name, len);
		if (c == 0 && parse_entities[mid].name[len] != '\0')
			c = -1;
		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Encode a code point as UTF-8 (at most 4 bytes); 0 for one we drop. */
static size_t
parse_utf8_put(unsigned cp, char *out)
{
	if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0xD800 && cp <= 0xDFFF) ||
	    cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF)
		return 0;
	return (size_t)xmlCopyCharMultiByte((xmlChar *)out, (int)cp);
}

/* A decoded copy of an attribute (uri NULL: no namespace), or NULL. */
static char *
parse_attr(const xmlChar **attrs, int nattrs, const char *uri, const char *name)
{
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + i * 5;
		const char *auri = (const char *)a[2];
		if (strcmp((const char *)a[0], name) != 0)
			continue;
		if ((uri == NULL) != (auri == NULL) || (uri != NULL && strcmp(uri, auri) != 0))
			continue;
		return parse_attr_decode(a[3], a[4]);
	}
	return NULL;
}

/* Copy an attribute value, undoing what libxml2 leaves in it without
 * NOENT: "&#38;" for '&', and "&name;" for our HTML entities. */
static char *
parse_attr_decode(const xmlChar *start, const xmlChar *end)
{
	size_t len = (size_t)(end - start);
	const char *s = (const char *)start;
	struct buf b;

	if (memchr(s, '&', len) == NULL) {
		char *v = xstrndup(s, len);
		parse_clean(v);
		return v;
	}
	buf_init(&b);
	for (size_t i = 0; i < len;) {
		if (s[i] == '&') {
			size_t j = i + 1;
			while (j < len && j - i < 12 && s[j] != ';')
				j++;
			if (j < len && s[j] == ';') {
				int e;
				char u[4];
				if (j - i == 4 && memcmp(s + i, "&#38", 4) == 0) {
					buf_append(&b, "&", 1);
					i = j + 1;
					continue;
				}
				e = parse_entity_find(s + i + 1, j - i - 1);
				if (e >= 0) {
					buf_append(&b, u, parse_utf8_put(parse_entities[e].cp, u));
					i = j + 1;
					continue;
				}
			}
		}
		buf_append(&b, s + i, 1);
		i++;
	}
	{
		char *v = buf_steal(&b);
		parse_clean(v);
		return v;
	}
}

/* Append s escaped for HTML text (attr: also quotes). */
static void
parse_html_escape(struct buf *b, const char *s, size_t len, int attr)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		default:
			break;
		}
		if (rep == NULL)
			continue;
		buf_append(b, s + run, i - run);
		buf_puts(b, rep);
		run = i + 1;
	}
	buf_append(b, s + run, len - run);
}

/* HTML to plain text: tags and comments dropped (block tags become a
 * space), character references decoded (0x80-0x9F as Windows-1252, as
 * browsers do). The result still needs parse_collapse(). */
static char *
parse_html_to_text(const char *s)
{
	static const unsigned cp1252[32] = {
	    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
	};
	static const char *const blocks[] = {"br", "p",  "div", "li", "tr", "td",  "th",
	                                     "h1", "h2", "h3",  "h4", "h5", "h6",  "blockquote",
	                                     "ul", "ol", "dd",  "dt", "hr", "pre", "table"};
	struct buf b;

	buf_init(&b);
	while (*s) {
		if (s[0] == '<' && strncmp(s, "<!--", 4) == 0) {
			const char *e = strstr(s + 4, "-->");
			s = e != NULL ? e + 3 : s + strlen(s);
			continue;
		}
		if (s[0] == '<' &&
		    (isalpha((unsigned char)s[1]) || s[1] == '/' || s[1] == '!' || s[1] == '?')) {
			const char *e = strchr(s, '>');
			const char *n = s + 1 + (s[1] == '/');
			size_t nlen = 0;
			if (e == NULL)
				break;
			while (isalnum((unsigned char)n[nlen]))
				nlen++;
			for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
				if (strlen(blocks[i]) == nlen && strncasecmp(n, blocks[i], nlen) == 0) {
					buf_append(&b, " ", 1);
					break;
				}
			}
			s = e + 1;
			continue;
		}
		if (s[0] == '&') {
			const char *semi = s + 1;
			char u[4];
			while (*semi && *semi != ';' && semi - s < 12)
				semi++;
			if (*semi == ';' && s[1] == '#') {
				unsigned long cp;
				char *endp;
				if (s[2] == 'x' || s[2] == 'X')
					cp = strtoul(s + 3, &endp, 16);
				else
					cp = strtoul(s + 2, &endp, 10);
				if (endp == semi && endp > s + 2) {
					if (cp >= 0x80 && cp <= 0x9F && cp1252[cp - 0x80] != 0)
						cp = cp1252[cp - 0x80];
					buf_append(&b, u,
					           parse_utf8_put(cp <= 0x10FFFF ? (unsigned)cp : 0xFFFD, u));
					s = semi + 1;
					continue;
				}
			} else if (*semi == ';') {
				int e = parse_entity_find(s + 1, (size_t)(semi - s - 1));
				if (e >= 0) {
					buf_append(&b, u, parse_utf8_put(parse_entities[e].cp, u));
					s = semi + 1;
					continue;
				}
			}
		}
		buf_append(&b, s, 1);
		s++;
	}
	return buf_steal(&b);
}

/* Whether an RSS title is HTML rather than text: it has a character
 * reference or a tag of a known HTML element. */
static int
parse_looks_like_html(const char *s)
{
	static const char *const tags[] = {
	    "a",     "abbr", "acronym", "b",      "big", "br",  "cite", "code", "del", "dfn", "div",
	    "em",    "font", "i",       "img",    "ins", "kbd", "mark", "p",    "q",   "s",   "samp",
	    "small", "span", "strike",  "strong", "sub", "sup", "time", "tt",   "u",   "var"};

	for (const char *c = s; *c; c++) {
		if (*c == '&') {
			const char *e = c + 1;
			if (*e == '#')
				e++;
			while (isalnum((unsigned char)*e))
				e++;
			if (*e == ';' && e > c + 1)
				return 1;
		} else if (*c == '<') {
			const char *n = c + 1 + (c[1] == '/');
			size_t len = 0;
			while (isalnum((unsigned char)n[len]))
				len++;
			if (len == 0 || (n[len] != '>' && n[len] != ' ' && n[len] != '/'))
				continue;
			for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
				if (strlen(tags[i]) == len && strncasecmp(n, tags[i], len) == 0)
					return 1;
		}
	}
	return 0;
}

/* Drop C0 control characters other than tab, LF and CR, in place. */
static void
parse_clean(char *s)
{
	size_t n = strlen(s), i = 0;
	char *w;

	/* Most fields have none: step over what is plain, eight at a time. */
	while (i < n) {
		if (n - i >= 8 && parse_plain8((const unsigned char *)s + i))
			i += 8;
		else if ((unsigned char)s[i] >= 0x20 || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			i++;
		else
			break;
	}
	s += i;
	w = s;
	for (; *s; s++)
		if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n' || *s == '\r')
			*w++ = *s;
	*w = '\0';
}

/* Collapse runs of white space to one space and trim, in place. */
static char *
parse_collapse(char *s)
{
	char *w = s;
	int space = 0;

	for (const char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r' || *r == '\f') {
			space = 1;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

/* Trim white space at both ends, in place. */
static char *
parse_trim(char *s)
{
	size_t len, start = 0;

	while (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' || s[start] == '\r')
		start++;
	len = strlen(s + start);
	while (len > 0 && (s[start + len - 1] == ' ' || s[start + len - 1] == '\t' ||
	                   s[start + len - 1] == '\n' || s[start + len - 1] == '\r'))
		len--;
	memmove(s, s + start, len);
	s[len] = '\0';
	return s;
}

/* Resolve ref against base; keep ref as given when it cannot be made
 * absolute (no base). An empty ref is the base itself (RFC 3986 5.2).
 * NULL when there is nothing, or the ref is oversized. */
static char *
parse_resolve(const char *base, const char *ref)
{
	char *r, *copy;

	if (ref == NULL)
		return NULL;
	copy = parse_trim(xstrdup(ref));
	if ((*copy == '\0' && base == NULL) || strlen(copy) > PARSE_MAX_URL) {
		free(copy);
		return NULL;
	}
	r = url_resolve(base, copy);
	if (r == NULL)
		return copy;
	free(copy);
	return r;
}

/* SAX: an element starts. */
static void
parse_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                const xmlChar **attributes)
{
	struct parser *p = ctx;
	struct parse_frame *f, *parent;
	char *xbase;

	if (p->failed)
		return;
	if (p->depth >= PARSE_MAX_DEPTH) {
		parse_fail(p, "elements nested deeper than %d (cap)", PARSE_MAX_DEPTH);
		return;
	}
	if (p->item != NULL && ++p->item_elements > PARSE_MAX_ITEM_ELEMENTS) {
		parse_fail(p, "more than %d elements in one item (cap)", PARSE_MAX_ITEM_ELEMENTS);
		return;
	}
	if (p->depth == p->stack_cap) {
		p->stack_cap = p->stack_cap == 0 ? 16 : p->stack_cap * 2;
		p->stack = xreallocarray(p->stack, p->stack_cap, sizeof *p->stack);
	}
	parent = p->depth > 0 ? &p->stack[p->depth - 1] : NULL;
	f = &p->stack[p->depth++];
	memset(f, 0, sizeof *f);
	f->name = localname;
	f->ns = (unsigned char)parse_ns_token(p, uri, prefix);
	f->ctx = CTX_NONE;
	f->base = parent != NULL ? parent->base : p->base_url;

	xbase = parse_attr(attributes, nb_attributes, PARSE_XML_NS, "base");
	if (xbase != NULL) {
		char *r = strlen(xbase) <= PARSE_MAX_URL ? parse_resolve(f->base, xbase) : NULL;
		if (r != NULL) {
			f->base = r;
			f->base_owned = 1;
		}
		free(xbase);
	}

	if (parent == NULL) {
		parse_root(p, f, localname, uri, attributes, nb_attributes);
		return;
	}
	if (p->cap.active) {
		if (p->cap.mode == CAP_MARKUP)
			parse_markup_start(p, f, attributes, nb_attributes);
		return;
	}
	switch (parent->ctx) {
	case CTX_ROOT:
		if (f->ns == NS_RSS && strcmp((const char *)localname, "channel") == 0)
			f->ctx = CTX_FEED;
		else if (f->ns == NS_RSS && strcmp((const char *)localname, "item") == 0) {
			f->ctx = CTX_ITEM;
			parse_item_begin(p, attributes, nb_attributes);
		}
		break;
	case CTX_FEED:
		if ((p->format == FEED_FORMAT_ATOM && f->ns == NS_ATOM &&
		     strcmp((const char *)localname, "entry") == 0) ||
		    (p->format != FEED_FORMAT_ATOM && f->ns == NS_RSS &&
		     strcmp((const char *)localname, "item") == 0)) {
			f->ctx = CTX_ITEM;
			parse_item_begin(p, attributes, nb_attributes);
		} else {
			parse_match(p, CTX_FEED, f, attributes, nb_attributes);
		}
		break;
	case CTX_ITEM:
		if (f->ns == NS_MEDIA && strcmp((const char *)localname, "group") == 0)
			f->ctx = CTX_ITEM;
		else
			parse_match(p, CTX_ITEM, f, attributes, nb_attributes);
		break;
	default:
		break;
	}
}

/* The root element decides the format, or that this is not a feed. */
static void
parse_root(struct parser *p, struct parse_frame *f, const xmlChar *localname, const xmlChar *uri,
           const xmlChar **attrs, int nattrs)
{
	const char *name = (const char *)localname;

	p->seen_root = 1;
	if (strcmp(name, "rss") == 0 && (f->ns == NS_RSS || f->ns == NS_OTHER)) {
		p->format = FEED_FORMAT_RSS;
		f->ctx = CTX_ROOT;
	} else if (strcmp(name, "RDF") == 0 && f->ns == NS_RDF) {
		p->format = FEED_FORMAT_RDF;
		f->ctx = CTX_ROOT;
	} else if (strcmp(name, "feed") == 0 && (f->ns == NS_ATOM || uri == NULL)) {
		/* Atom without a namespace: read its elements as Atom's. */
		p->format = FEED_FORMAT_ATOM;
		p->null_ns = NS_ATOM;
		f->ns = NS_ATOM;
		f->ctx = CTX_FEED;
	} else if (strcmp(name, "entry") == 0 && f->ns == NS_ATOM) {
		/* An Atom entry document (RFC 4287 4.1.2): one item. */
		p->format = FEED_FORMAT_ATOM;
		f->ctx = CTX_ITEM;
		parse_item_begin(p, attrs, nattrs);
	} else {
		parse_fail(p, "not a feed (root element <%s>)", name);
	}
}

/* An item element starts. */
static void
parse_item_begin(struct parser *p, const xmlChar **attrs, int nattrs)
{
	if (p->seen >= PARSE_MAX_ITEMS) {
		parse_fail(p, "more than %d items (cap)", PARSE_MAX_ITEMS);
		return;
	}
	p->item = item_new();
	p->item->id_is_permalink = 0;
	p->item_depth = p->depth;
	p->item_text = 0;
	p->item_elements = 0;
	for (int i = 0; i < F_MAX; i++)
		p->item_prio[i] = INT_MAX;
	/* RSS 1.0: the item's own rdf:about. */
	for (size_t i = 0; i < PARSE_NSOURCES; i++) {
		const struct parse_source *row = &parse_sources[i];
		if (row->kind == K_ABOUT) {
			char *about =
			    parse_attr(attrs, nattrs, "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "about");
			if (about != NULL)
				parse_offer_string(p, CTX_ITEM, row, parse_trim(about));
		}
	}
}

/* An item element ends: finish it and hand it out. */
static void
parse_item_end(struct parser *p)
{
	struct item *it = p->item;

	p->item = NULL;
	/* The recovering pass skips what the strict pass handed out. */
	if (p->seen++ < p->skip) {
		item_free(it);
		return;
	}
	if (it->author == NULL && p->feed_author != NULL)
		it->author = xstrdup(p->feed_author);
	p->nitems++;
	p->fn(p->arg, it);
}

/* An element whose parent holds fields: find its rows in the table. */
static void
parse_match(struct parser *p, int where, const struct parse_frame *f, const xmlChar **attrs, int nattrs)
{
	const struct parse_source *rows[PARSE_MAX_ROWS];
	int nrows = 0;
	const char *name = (const char *)f->name;

	for (size_t i = 0; i < PARSE_NSOURCES; i++) {
		const struct parse_source *row = &parse_sources[i];
		if (row->where != where || row->ns != f->ns || strcmp(row->name, name) != 0)
			continue;
		switch (row->kind) {
		case K_ATOMLINK:
			parse_atom_link(p, where, row, f, attrs, nattrs);
			break;
		case K_ENCLOSURE: {
			char *url = parse_attr(attrs, nattrs, NULL, "url");
			char *type = parse_attr(attrs, nattrs, NULL, "type");
			char *len = parse_attr(attrs, nattrs, NULL, "length");
			parse_add_enclosure(p, f->base, url, type, len);
			free(url);
			free(type);
			free(len);
			break;
		}
		case K_MEDIA: {
			char *url = parse_attr(attrs, nattrs, NULL, "url");
			char *type = parse_attr(attrs, nattrs, NULL, "type");
			char *len = parse_attr(attrs, nattrs, NULL, "fileSize");
			parse_add_enclosure(p, f->base, url, type, len);
			free(url);
			free(type);
			free(len);
			break;
		}
		case K_TERM: {
			char *term = parse_attr(attrs, nattrs, NULL, "term");
			if (term != NULL)
				parse_add_category(p, parse_collapse(term));
			free(term);
			break;
		}
		case K_ABOUT:
			break;
		default:
			if (nrows < PARSE_MAX_ROWS)
				rows[nrows++] = row;
			break;
		}
	}
	if (nrows > 0)
		parse_capture_begin(p, where, rows, nrows, f, attrs, nattrs);
}

/* atom:link: an alternate link for the link field, an enclosure for the
 * enclosures; other relations are ignored. */
static void
parse_atom_link(struct parser *p, int where, const struct parse_source *row, const struct parse_frame *f,
                const xmlChar **attrs, int nattrs)
{
	static const char iana[] = "http://www.iana.org/assignments/relation/";
	char *rel = parse_attr(attrs, nattrs, NULL, "rel");
	char *href = parse_attr(attrs, nattrs, NULL, "href");
	const char *r = rel != NULL ? parse_trim(rel) : "alternate";

	if (strncmp(r, iana, sizeof iana - 1) == 0)
		r += sizeof iana - 1;
	if (href == NULL)
		goto done;
	if (row->field == F_LINK && strcasecmp(r, "alternate") == 0) {
		parse_offer_string(p, where, row, parse_resolve(f->base, href));
	} else if (row->field == F_ENCLOSURE && strcasecmp(r, "enclosure") == 0) {
		char *type = parse_attr(attrs, nattrs, NULL, "type");
		char *len = parse_attr(attrs, nattrs, NULL, "length");
		parse_add_enclosure(p, f->base, href, type, len);
		free(type);
		free(len);
	}
done:
	free(rel);
	free(href);
}

/* How a text construct reads: Atom's type (and Atom 0.3's mode), fixed
 * readings for the RSS elements. */
static int
parse_text_type(const struct parse_frame *f, const xmlChar **attrs, int nattrs, int kind)
{
	char *type, *mode, *src;
	int tt = TT_TEXT;

	if (f->ns == NS_XHTML)
		return TT_XHTML;
	if (f->ns == NS_ITUNES)
		return TT_TEXT;
	if (f->ns == NS_MEDIA) {
		type = parse_attr(attrs, nattrs, NULL, "type");
		tt = type != NULL && strcasecmp(type, "html") == 0 ? TT_HTML : TT_TEXT;
		free(type);
		return tt;
	}
	if (f->ns != NS_ATOM)
		return kind == K_TITLE ? TT_MAYBE_HTML : TT_HTML;

	src = parse_attr(attrs, nattrs, NULL, "src");
	if (src != NULL) {
		free(src);
		return TT_SKIP;
	}
	type = parse_attr(attrs, nattrs, NULL, "type");
	mode = parse_attr(attrs, nattrs, NULL, "mode");
	if (type != NULL)
		parse_trim(type);
	if (type == NULL || *type == '\0' || strcasecmp(type, "text") == 0 ||
	    strcasecmp(type, "text/plain") == 0)
		tt = TT_TEXT;
	else if (strcasecmp(type, "html") == 0 || strcasecmp(type, "text/html") == 0)
		tt = TT_HTML;
	else if (strcasecmp(type, "xhtml") == 0 || strcasecmp(type, "application/xhtml+xml") == 0)
		tt = TT_XHTML;
	else if (strncasecmp(type, "text/", 5) == 0)
		tt = TT_TEXT;
	else if (strlen(type) > 4 && (strcasecmp(type + strlen(type) - 4, "+xml") == 0 ||
	                              strcasecmp(type + strlen(type) - 4, "/xml") == 0))
		tt = TT_XHTML;
	else
		tt = TT_B64_TEXT; /* other media types are base64 */
	if (mode != NULL) {
		/* Atom 0.3: escaped means the type's markup was escaped once. */
		if (strcasecmp(mode, "escaped") == 0 && tt == TT_XHTML)
			tt = TT_HTML;
		else if (strcasecmp(mode, "base64") == 0)
			tt = tt == TT_TEXT || tt == TT_B64_TEXT ? TT_B64_TEXT : TT_B64_HTML;
		else if (strcasecmp(mode, "xml") == 0 && tt == TT_HTML)
			tt = TT_XHTML;
	}
	free(type);
	free(mode);
	return tt;
}

/* Start capturing an element's text for its rows. */
static void
parse_capture_begin(struct parser *p, int where, const struct parse_source **rows, int nrows,
                    const struct parse_frame *f, const xmlChar **attrs, int nattrs)
{
	struct parse_capture *c = &p->cap;
	int kind = rows[0]->kind;

	c->active = 1;
	c->depth = p->depth;
	c->where = where;
	c->nrows = nrows;
	for (int i = 0; i < nrows; i++)
		c->rows[i] = rows[i];
	c->permalink = 1;
	c->escape_top = 0;
	c->tt = TT_TEXT;
	c->mode = CAP_TEXT;
	buf_reset(&c->text);
	buf_reset(&c->aux);

	if (kind == K_GUID || kind == K_PERMALINK) {
		char *pl = parse_attr(attrs, nattrs, NULL, "isPermaLink");
		if (pl != NULL && strcasecmp(parse_trim(pl), "false") == 0)
			c->permalink = 0;
		free(pl);
	} else if (kind == K_PERSON) {
		c->mode = CAP_PERSON;
	} else if (kind == K_URL && f->ns == NS_RSS) {
		/* <link href="..."/> in RSS, as some generators write it. */
		char *href = parse_attr(attrs, nattrs, NULL, "href");
		if (href != NULL)
			buf_puts(&c->aux, href);
		free(href);
	} else if (kind == K_TITLE || kind == K_HTML) {
		c->tt = parse_text_type(f, attrs, nattrs, kind);
		if (c->tt == TT_SKIP)
			c->mode = CAP_SKIP;
		else if (kind == K_HTML && c->tt != TT_TEXT && c->tt != TT_B64_TEXT && c->tt != TT_B64_HTML) {
			/* HTML keeps inline markup; XHTML text must be escaped. */
			c->mode = CAP_MARKUP;
			c->escape_top = c->tt == TT_XHTML;
		}
	}
}

/* Append captured text, enforcing the field and item caps. */
static void
parse_capture_add(struct parser *p, struct buf *b, const char *s, size_t len, int escape)
{
	size_t before = b->len;

	if (escape)
		parse_html_escape(b, s, len, 0);
	else
		buf_append(b, s, len);
	if (b->len > PARSE_MAX_FIELD) {
		parse_fail(p, "a field is longer than %d bytes (cap)", PARSE_MAX_FIELD);
		return;
	}
	if (p->item != NULL) {
		p->item_text += b->len - before;
		if (p->item_text > PARSE_MAX_ITEM_TEXT)
			parse_fail(p, "an item is longer than %d bytes (cap)", PARSE_MAX_ITEM_TEXT);
	}
}

/* Serialize a start tag inside captured markup. */
static void
parse_markup_start(struct parser *p, struct parse_frame *f, const xmlChar **attrs, int nattrs)
{
	static const char *const voids[] = {"area",  "base", "br",   "col",   "embed",  "hr",    "img",
	                                    "input", "link", "meta", "param", "source", "track", "wbr"};
	struct buf tag;
	int is_void = 0;

	/* Atom xhtml content is wrapped in one xhtml div that is not content. */
	if (p->depth == p->cap.depth + 1 && p->cap.escape_top && f->ns == NS_XHTML &&
	    p->stack[p->cap.depth - 1].ns == NS_ATOM && strcmp((const char *)f->name, "div") == 0) {
		f->unwrap = 1;
		return;
	}
	buf_init(&tag);
	buf_printf(&tag, "<%s", (const char *)f->name);
	for (int i = 0; i < nattrs; i++) {
		const xmlChar **a = attrs + i * 5;
		char *v = parse_attr_decode(a[3], a[4]);
		buf_printf(&tag, " %s=\"", (const char *)a[0]);
		parse_html_escape(&tag, v, strlen(v), 1);
		buf_puts(&tag, "\"");
		free(v);
	}
	for (size_t i = 0; i < sizeof voids / sizeof voids[0]; i++)
		if (strcmp((const char *)f->name, voids[i]) == 0)
			is_void = 1;
	buf_puts(&tag, is_void ? " />" : ">");
	f->unwrap = is_void; /* nothing to close */
	parse_capture_add(p, &p->cap.text, tag.data, tag.len, 0);
	buf_free(&tag);
}

/* SAX: an element ends. */
static void
parse_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	struct parser *p = ctx;
	struct parse_frame *f;

	if (p->failed || p->depth == 0)
		return;
	f = &p->stack[p->depth - 1];
	if (p->cap.active && p->depth == p->cap.depth) {
		parse_capture_end(p);
	} else if (p->cap.active && p->cap.mode == CAP_MARKUP && p->depth > p->cap.depth && !f->unwrap) {
		struct buf tag;
		buf_init(&tag);
		buf_printf(&tag, "</%s>", (const char *)f->name);
		parse_capture_add(p, &p->cap.text, tag.data, tag.len, 0);
		buf_free(&tag);
	}
	if (p->item != NULL && p->depth == p->item_depth)
		parse_item_end(p);
	if (f->base_owned)
		free(f->base);
	p->depth--;
}

/* SAX: character data (and CDATA sections). */
static void
parse_sax_characters(void *ctx, const xmlChar *ch, int len)
{
	struct parser *p = ctx;
	struct parse_capture *c = &p->cap;

	if (p->failed || len <= 0)
		return;
	p->total_text += (size_t)len;
	if (p->total_text > PARSE_MAX_TEXT) {
		parse_fail(p, "more than %d bytes of text (cap)", PARSE_MAX_TEXT);
		return;
	}
	if (!c->active)
		return;
	switch (c->mode) {
	case CAP_TEXT:
		parse_capture_add(p, &c->text, (const char *)ch, (size_t)len, 0);
		break;
	case CAP_MARKUP:
		parse_capture_add(p, &c->text, (const char *)ch, (size_t)len,
		                  c->escape_top || p->depth > c->depth);
		break;
	case CAP_PERSON:
		if (p->depth == c->depth + 1 &&
		    strcmp((const char *)p->stack[p->depth - 1].name, "name") == 0)
			parse_capture_add(p, &c->text, (const char *)ch, (size_t)len, 0);
		else if (p->depth == c->depth + 1 &&
		         strcmp((const char *)p->stack[p->depth - 1].name, "email") == 0)
			parse_capture_add(p, &c->aux, (const char *)ch, (size_t)len, 0);
		else if (p->depth == c->depth)
			parse_capture_add(p, &c->text, (const char *)ch, (size_t)len, 0);
		break;
	default:
		break;
	}
}

/* The capturing element ended: turn its text into a value per row. */
static void
parse_capture_end(struct parser *p)
{
	struct parse_capture *c = &p->cap;
	const struct parse_frame *f = &p->stack[p->depth - 1];
	char *raw, *owned = NULL;
	int aux_taken = 0;

	c->active = 0;
	if (c->mode == CAP_SKIP)
		return;
	/* The text is worked on in its buffer, which keeps its memory for
	 * the next field (every value below is a copy). */
	buf_append(&c->text, "", 0);
	raw = c->text.data;
	if (c->tt == TT_B64_TEXT || c->tt == TT_B64_HTML) {
		/* Text only if it decodes to UTF-8 text (not an image). */
		if ((raw = owned = parse_base64_text(raw)) == NULL)
			return;
		c->tt = c->tt == TT_B64_TEXT ? TT_TEXT : TT_HTML;
	}
	parse_clean(raw);
	if (c->mode == CAP_PERSON && *parse_trim(raw) == '\0') {
		buf_append(&c->aux, "", 0);
		raw = c->aux.data;
		aux_taken = 1;
		parse_clean(raw);
	}
	for (int i = 0; i < c->nrows && !p->failed; i++) {
		const struct parse_source *row = c->rows[i];
		char *v = NULL;
		time_t t;

		switch (row->kind) {
		case K_TEXT:
		case K_PERSON:
		case K_GUID:
			v = parse_collapse(xstrdup(raw));
			if (row->kind == K_GUID && c->where == CTX_ITEM && p->item != NULL && *v != '\0' &&
			    p->item_prio[row->field] > (int)(row - parse_sources))
				p->item->id_is_permalink = c->permalink;
			if (row->field == F_CATEGORY) {
				if (*v != '\0')
					parse_add_category(p, v);
				free(v);
				v = NULL;
			}
			break;
		case K_URL: {
			/* Empty text is no link (not the base URL). */
			const char *u = raw + strspn(raw, " \t\r\n");
			if (*u == '\0' && !aux_taken && c->aux.len > 0)
				u = c->aux.data;
			if (*u != '\0')
				v = parse_resolve(f->base, u);
			break;
		}
		case K_PERMALINK: {
			char *g = parse_trim(xstrdup(raw));
			if (c->permalink && url_is_http(g))
				v = parse_resolve(f->base, g);
			free(g);
			break;
		}
		case K_DATE:
			if (date_parse(parse_trim(raw), &t) == 0)
				parse_offer_time(p, c->where, row, t);
			break;
		case K_INT: {
			char *end;
			long n = strtol(parse_trim(raw), &end, 10);
			if (end != raw && *end == '\0' && n > 0 && c->where == CTX_FEED &&
			    row->field == F_TTL && parse_take_prio(p, c->where, row))
				p->meta.ttl = n;
			break;
		}
		case K_TITLE:
			if (c->tt == TT_HTML || (c->tt == TT_MAYBE_HTML && parse_looks_like_html(raw)))
				v = parse_html_to_text(raw);
			else
				v = xstrdup(raw);
			parse_clean(v);
			parse_collapse(v);
			break;
		case K_HTML:
			if (c->tt == TT_TEXT) {
				struct buf b;
				buf_init(&b);
				parse_html_escape(&b, raw, strlen(raw), 0);
				v = buf_steal(&b);
			} else {
				v = xstrdup(raw);
			}
			parse_trim(v);
			break;
		default:
			break;
		}
		if (v != NULL)
			parse_offer_string(p, c->where, row, v);
	}
	free(owned);
}

/* Whether row may set its field now (it beats what set it before); if so
 * the field is now owned by row. */
static int
parse_take_prio(struct parser *p, int where, const struct parse_source *row)
{
	int *prio = where == CTX_ITEM ? p->item_prio : p->feed_prio;
	int rank = (int)(row - parse_sources);

	if (where == CTX_ITEM && p->item == NULL)
		return 0;
	if (rank >= prio[row->field])
		return 0;
	prio[row->field] = rank;
	return 1;
}

/* Offer a string value (owned) to a field. */
static void
parse_offer_string(struct parser *p, int where, const struct parse_source *row, char *value)
{
	char **slot = NULL;
	const char *s = value;

	if (value == NULL)
		return;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0' || !parse_take_prio(p, where, row)) {
		free(value);
		return;
	}
	if (where == CTX_ITEM) {
		switch (row->field) {
		case F_ID:
			slot = &p->item->id;
			if (row->kind != K_GUID)
				p->item->id_is_permalink = 0;
			break;
		case F_LINK:
			slot = &p->item->link;
			break;
		case F_TITLE:
			slot = &p->item->title;
			break;
		case F_SUMMARY:
			slot = &p->item->summary;
			break;
		case F_CONTENT:
			slot = &p->item->content;
			break;
		case F_AUTHOR:
			slot = &p->item->author;
			break;
		default:
			break;
		}
	} else {
		switch (row->field) {
		case F_ID:
			slot = &p->meta.id;
			break;
		case F_LINK:
			slot = &p->meta.link;
			break;
		case F_TITLE:
			slot = &p->meta.title;
			break;
		case F_AUTHOR:
			slot = &p->feed_author;
			break;
		default:
			break;
		}
	}
	if (slot == NULL) {
		free(value);
		return;
	}
	free(*slot);
	*slot = value;
}

/* Offer a date to a field. */
static void
parse_offer_time(struct parser *p, int where, const struct parse_source *row, time_t t)
{
	if (!parse_take_prio(p, where, row))
		return;
	if (where == CTX_ITEM) {
		if (row->field == F_PUBLISHED)
			p->item->published = t;
		else if (row->field == F_UPDATED)
			p->item->updated = t;
	} else if (row->field == F_UPDATED) {
		p->meta.updated = t;
	}
}

/* Add a category to the current item, once. */
static void
parse_add_category(struct parser *p, const char *term)
{
	struct item *it = p->item;

	if (it == NULL || *term == '\0' || it->ncategories >= PARSE_MAX_LIST)
		return;
	for (size_t i = 0; i < it->ncategories; i++)
		if (strcmp(it->categories[i], term) == 0)
			return;
	item_add_category(it, term);
}

/* Add an enclosure to the current item, once per URL. */
static void
parse_add_enclosure(struct parser *p, const char *base, const char *url, const char *type, const char *length)
{
	struct item *it = p->item;
	char *abs, *t = NULL;
	long long n = 0;

	if (it == NULL || url == NULL || it->nenclosures >= PARSE_MAX_LIST)
		return;
	abs = parse_resolve(base, url);
	if (abs == NULL)
		return;
	for (size_t i = 0; i < it->nenclosures; i++) {
		if (strcmp(it->enclosures[i].url, abs) == 0) {
			free(abs);
			return;
		}
	}
	if (length != NULL) {
		char *end;
		n = strtoll(length, &end, 10);
		if (end == length || n < 0)
			n = 0;
	}
	if (type != NULL) {
		t = parse_trim(xstrdup(type));
		if (*t == '\0') {
			free(t);
			t = NULL;
		}
	}
	item_add_enclosure(it, abs, t, n);
	free(abs);
	free(t);
}

/* SAX getEntity: HTML entity names become their characters. */
static xmlEntityPtr
parse_sax_get_entity(void *ctx, const xmlChar *name)
{
	struct parser *p = ctx;
	struct parse_xent *x;
	int i = parse_entity_find((const char *)name, strlen((const char *)name));
	size_t n;

	if (i < 0)
		return NULL;
	if (p->xents[i] == NULL) {
		x = xcalloc(1, sizeof *x);
		n = parse_utf8_put(parse_entities[i].cp, (char *)x->utf8);
		x->utf8[n] = '\0';
		x->ent.type = XML_ENTITY_DECL;
		x->ent.name = (const xmlChar *)parse_entities[i].name;
		x->ent.content = x->utf8;
		x->ent.orig = x->utf8;
		x->ent.length = (int)n;
		p->xents[i] = x;
	}
	x = p->xents[i];
	/* In attribute values a predefined entity would be cut to one byte. */
	x->ent.etype = p->ctxt != NULL && p->ctxt->instate == XML_PARSER_ATTRIBUTE_VALUE
	                   ? XML_INTERNAL_GENERAL_ENTITY
	                   : XML_INTERNAL_PREDEFINED_ENTITY;
	return &x->ent;
}

/* SAX entityDecl: entity declarations are refused. */
static void
parse_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                      const xmlChar *system_id, xmlChar *content)
{
	parse_fail(ctx, "entity declarations are not allowed (<!ENTITY %s>)", (const char *)name);
}

/* SAX unparsedEntityDecl: refused like the others. */
static void
parse_sax_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                               const xmlChar *system_id, const xmlChar *notation)
{
	parse_fail(ctx, "entity declarations are not allowed (<!ENTITY %s>)", (const char *)name);
}

/* SAX attributeDecl: defaulted attributes would change every element
 * (xml:base, namespaces), so attribute-list declarations are refused. */
static void
parse_sax_attribute_decl(void *ctx, const xmlChar *elem, const xmlChar *fullname, int type, int def,
                         const xmlChar *default_value, xmlEnumerationPtr tree)
{
	xmlFreeEnumeration(tree);
	parse_fail(ctx, "attribute-list declarations are not allowed (<!ATTLIST %s>)", (const char *)elem);
}

/* SAX resolveEntity: nothing external is ever loaded. */
static xmlParserInputPtr
parse_sax_resolve_entity(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
	return NULL;
}

/* SAX serror: keep libxml2's first fatal error for parser_finish(). */
static void
parse_sax_error(void *ctx, xmlErrorPtr err)
{
	struct parser *p = ctx;
	char *msg;

	if (err == NULL || err->level < XML_ERR_ERROR || p->recovering)
		return;
	/* The first fatal error wins over an earlier non-fatal one. */
	if (p->xml_error != NULL && (p->xml_error_fatal || err->level != XML_ERR_FATAL))
		return;
	free(p->xml_error);
	p->xml_error_fatal = err->level == XML_ERR_FATAL;
	msg = xstrdup(err->message != NULL ? err->message : "unknown error");
	parse_clean(msg);
	p->xml_error = parse_collapse(msg);
	p->xml_error_line = err->line;
}

/* libxml2's unstructured messages repeat a structured one ("xmlParseChunk:
 * encoder error"); dropped. */
static void
parse_generic_error(void *ctx, const char *fmt, ...)
{
}

/* Feed JSON bytes to the tokener; after the document only white space
 * may follow. */
static int
parse_json_bytes(struct parser *p, const char *data, size_t len)
{
	p->json_bytes += len;
	if (p->json_bytes > PARSE_MAX_JSON) {
		parse_fail(p, "more than %d bytes of JSON (cap)", PARSE_MAX_JSON);
		return -1;
	}
	while (len > 0) {
		size_t n = len < PARSE_CHUNK ? len : PARSE_CHUNK;
		enum json_tokener_error jerr;

		if (p->jdoc != NULL) {
			for (size_t i = 0; i < len; i++) {
				if (!isspace((unsigned char)data[i])) {
					parse_fail(p, "not a feed (JSON: %s)", "data after the document");
					return -1;
				}
			}
			return 0;
		}
		p->jdoc = json_tokener_parse_ex(p->jtok, data, (int)n);
		jerr = json_tokener_get_error(p->jtok);
		if (p->jdoc != NULL) {
			size_t used = json_tokener_get_parse_end(p->jtok);
			data += used;
			len -= used;
			continue;
		}
		if (jerr != json_tokener_continue) {
			parse_fail(p, "not a feed (JSON: %s)", json_tokener_error_desc(jerr));
			return -1;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* A complete JSON document: a JSON Feed's fields and items, by the table.
 * A JSON Feed is an object whose version names jsonfeed.org, or that has
 * a version and an items array (some generators write "1.0"). */
static void
parse_json_doc(struct parser *p)
{
	struct json_object *version = NULL, *items = NULL;
	const char *v = NULL;
	int has_items;

	p->seen_root = 1;
	if (json_object_is_type(p->jdoc, json_type_object) &&
	    json_object_object_get_ex(p->jdoc, "version", &version))
		v = json_object_get_string(version);
	has_items = json_object_is_type(p->jdoc, json_type_object) &&
	            json_object_object_get_ex(p->jdoc, "items", &items) &&
	            json_object_is_type(items, json_type_array);
	if (v == NULL || (strstr(v, "jsonfeed.org/version/") == NULL && !has_items)) {
		parse_fail(p, "not a feed (JSON, but not a JSON Feed)");
		return;
	}
	p->format = FEED_FORMAT_JSON;
	parse_json_object(p, CTX_FEED, p->jdoc);
	if (!has_items)
		return;
	for (size_t i = 0; i < json_object_array_length(items) && !p->failed; i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		if (!json_object_is_type(o, json_type_object))
			continue;
		parse_item_begin(p, NULL, 0);
		if (p->failed)
			break;
		parse_json_object(p, CTX_ITEM, o);
		if (p->failed)
			break;
		parse_item_end(p);
	}
}

/* Offer every key of a feed or item object that the table names. */
static void
parse_json_object(struct parser *p, int where, struct json_object *obj)
{
	for (size_t i = 0; i < PARSE_NSOURCES && !p->failed; i++) {
		const struct parse_source *row = &parse_sources[i];
		struct json_object *v = NULL;

		if (row->ns != NS_JSON || row->where != where)
			continue;
		if (json_object_object_get_ex(obj, row->name, &v) && v != NULL)
			parse_json_field(p, where, row, v);
	}
}

/* A string or number as a new string, within the field and item caps;
 * NULL for other types. */
static char *
parse_json_string(struct parser *p, struct json_object *v)
{
	const char *s;
	size_t len;
	char *copy;

	if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return NULL;
	s = json_object_get_string(v);
	len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : strlen(s);
	if (len > PARSE_MAX_FIELD) {
		parse_fail(p, "a field is longer than %d bytes (cap)", PARSE_MAX_FIELD);
		return NULL;
	}
	if (p->item != NULL) {
		p->item_text += len;
		if (p->item_text > PARSE_MAX_ITEM_TEXT) {
			parse_fail(p, "an item is longer than %d bytes (cap)", PARSE_MAX_ITEM_TEXT);
			return NULL;
		}
	}
	/* A NUL inside a JSON string ends it here. */
	copy = parse_utf8_clean(s, strlen(s));
	return copy;
}

/* One JSON value for one row. */
static void
parse_json_field(struct parser *p, int where, const struct parse_source *row, struct json_object *v)
{
	char *s = NULL;
	time_t t;

	switch (row->kind) {
	case K_TEXT:
		if ((s = parse_json_string(p, v)) != NULL)
			parse_offer_string(p, where, row, parse_collapse(s));
		break;
	case K_URL:
		if ((s = parse_json_string(p, v)) != NULL) {
			parse_offer_string(p, where, row, parse_resolve(p->base_url, s));
			free(s);
		}
		break;
	case K_DATE:
		if ((s = parse_json_string(p, v)) != NULL) {
			if (date_parse(s, &t) == 0)
				parse_offer_time(p, where, row, t);
			free(s);
		}
		break;
	case K_HTML:
		if ((s = parse_json_string(p, v)) != NULL)
			parse_offer_string(p, where, row, parse_trim(s));
		break;
	case K_JTEXT:
		if ((s = parse_json_string(p, v)) != NULL) {
			struct buf b;
			buf_init(&b);
			parse_html_escape(&b, s, strlen(s), 0);
			parse_offer_string(p, where, row, parse_trim(buf_steal(&b)));
			free(s);
		}
		break;
	case K_JPERSON: {
		/* "author" is an object; "authors" (1.1) an array of them. */
		size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
		for (size_t i = 0; i < n && !p->failed; i++) {
			struct json_object *a =
			    json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
			struct json_object *name = NULL;
			if (json_object_is_type(a, json_type_object) &&
			    json_object_object_get_ex(a, "name", &name) &&
			    (s = parse_json_string(p, name)) != NULL && *parse_collapse(s) != '\0') {
				parse_offer_string(p, where, row, s);
				break;
			}
			free(s);
			s = NULL;
		}
		break;
	}
	case K_JTAGS:
		if (!json_object_is_type(v, json_type_array))
			break;
		for (size_t i = 0; i < json_object_array_length(v) && !p->failed; i++) {
			if ((s = parse_json_string(p, json_object_array_get_idx(v, i))) != NULL)
				parse_add_category(p, parse_collapse(s));
			free(s);
		}
		break;
	case K_JATTACH:
		if (!json_object_is_type(v, json_type_array))
			break;
		for (size_t i = 0; i < json_object_array_length(v) && !p->failed; i++) {
			struct json_object *a = json_object_array_get_idx(v, i), *f = NULL;
			char *url = NULL, *type = NULL, *size = NULL;
			if (!json_object_is_type(a, json_type_object))
				continue;
			if (json_object_object_get_ex(a, "url", &f))
				url = parse_json_string(p, f);
			if (json_object_object_get_ex(a, "mime_type", &f))
				type = parse_json_string(p, f);
			if (json_object_object_get_ex(a, "size_in_bytes", &f))
				size = parse_json_string(p, f);
			parse_add_enclosure(p, p->base_url, url, type, size);
			free(url);
			free(type);
			free(size);
		}
		break;
	default:
		break;
	}
}
