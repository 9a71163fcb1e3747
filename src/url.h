/* url.h: URL resolution and canonical forms, via libcurl's URL API. */
#ifndef FEEDMUX_URL_H
#define FEEDMUX_URL_H

/* Resolve ref against base (either may be NULL). Returns a new absolute
 * URL the caller frees, or NULL when ref cannot be made absolute. */
char *url_resolve(const char *base, const char *ref);
/* Canonical form for deduplication: lower-case scheme and host, http and
 * https treated alike, default port, fragment, tracking parameters
 * (utm_*, fbclid, gclid, ...) and a trailing slash dropped. Returns a new
 * string, or NULL when url is not an absolute http(s) URL. */
char *url_canonical(const char *url);
/* For tests: url_canonical through curl's parser alone, without the
 * shortcut for URLs curl would give back as they are. */
char *url_canonical_curl(const char *url);
/* Whether url is absolute with an http or https scheme. */
int url_is_http(const char *url);

#endif
