/* sanitize.h: cleaning HTML from feeds (summaries, content) to an allowlist,
 * and reducing HTML to plain text (titles). Both are pure functions of their
 * arguments; the output is always valid UTF-8 without characters XML 1.0
 * forbids, so it can be handed to an XML writer as is. */
#ifndef FEEDMUX_SANITIZE_H
#define FEEDMUX_SANITIZE_H

/* Bytes of input looked at; the rest is cut (at a character boundary) and
 * the markup it leaves open is closed by the parser. */
#define SANITIZE_MAX_INPUT (1024 * 1024)
/* Elements nested deeper than this are unwrapped: their text stays, their
 * tags do not (libxml2 itself stops building the tree at depth 256). */
#define SANITIZE_MAX_DEPTH 100
/* Attributes one tag may carry into libxml2 (whose duplicate check is
 * quadratic); the tag is closed before the next one. */
#define SANITIZE_MAX_ATTRS 128

/* Clean an HTML fragment from a feed (summary/content): an allowlist of
 * elements and attributes; relative URLs (href, src, srcset, poster, cite)
 * made absolute against base_url. When base_url is NULL or not an absolute
 * http(s) URL, relative URLs are kept as written (they cannot carry a
 * scheme, so they are safe; the caller is expected to pass the feed's URL
 * or xml:base). A URL with a scheme other than http, https or mailto (or,
 * in img src, a base64 data: PNG/GIF/JPEG/WebP image) is dropped with its
 * attribute. html may be NULL. Returns a new string the caller frees;
 * never NULL ("" for nothing left). */
char *sanitize_html(const char *html, const char *base_url);
/* Text for titles: tags dropped (and the content of script and style),
 * entities decoded, whitespace (including no-break spaces) collapsed to
 * single spaces, trimmed. html may be NULL. Returns a new string the caller
 * frees; never NULL. */
char *sanitize_text(const char *html);
/* sanitize_html and sanitize_text with the fast path for well-formed
 * common markup allowed (fast non-zero, as they do) or not (every field
 * through libxml2's parser): for tests that compare the two. */
char *sanitize_html_via(const char *html, const char *base_url, int fast);
char *sanitize_text_via(const char *html, int fast);
/* Whether the fast path takes html (for tests). */
int sanitize_fast_takes(const char *html);

#endif
