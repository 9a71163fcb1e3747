/* url.c: all URL work goes through libcurl's URL API (curl_url). Resolving
 * sets the base, then the reference, and reads the result back. The
 * canonical form rebuilds the URL from its normalized parts; tracking
 * parameters are dropped by name, the remaining query keeps its order. */
#include "url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xalloc.h"

static int url_is_tracking_param(const char *param, size_t len);
static char *url_canonical_build(const char *host, size_t hlen, const char *port, const char *path, size_t plen,
                                 const char *query, size_t qlen);
static int url_has_http_scheme(const char *ref);
static int url_is_plain_char(unsigned char c);
static int url_is_settled(const char *ref);

/* Whether ref starts with "http://" or "https://", in any case. */
static int
url_has_http_scheme(const char *ref)
{
	return strncasecmp(ref, "http://", 7) == 0 || strncasecmp(ref, "https://", 8) == 0;
}

/* Whether c may stand in a path, query or fragment as it is: RFC 3986's
 * unreserved and sub-delims, ':' and '@' (not '%': an escape is left to
 * curl). */
static int
url_is_plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}

/* Whether curl would give ref back exactly as it is: "http://" or
 * "https://", a host of lower-case letters, digits, dots and hyphens
 * whose last label starts with a letter (so no IPv4 number to
 * normalize), no user or port, a path with no "." or ".." segment, an
 * optional non-empty query and fragment, and no character that needs
 * encoding. Most links in feeds are; tests/unit/test_url.c holds the
 * fast answer to curl's on the corpus's links and on variants of them. */
static int
url_is_settled(const char *ref)
{
	const char *p, *label;

	if (strncmp(ref, "http://", 7) == 0)
		p = ref + 7;
	else if (strncmp(ref, "https://", 8) == 0)
		p = ref + 8;
	else
		return 0;
	for (label = p;; p++) {
		if (*p == '.') {
			if (p == label)
				return 0;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
			break;
		}
	}
	if (*p != '/' || p == label || !(*label >= 'a' && *label <= 'z') || p[-1] == '-')
		return 0;
	while (*p == '/') {
		const char *seg = ++p;

		while (url_is_plain_char((unsigned char)*p))
			p++;
		if ((p - seg == 1 && seg[0] == '.') || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
	}
	/* A query, then a fragment: each non-empty when present. */
	for (const char *mark = "?#"; *mark != '\0'; mark++) {
		const char *q;

		if (*p != *mark)
			continue;
		for (q = ++p; url_is_plain_char((unsigned char)*p) || *p == '/' || *p == '?'; p++)
			;
		if (p == q)
			return 0;
	}
	return *p == '\0';
}

/* Resolve ref against base. */
char *
url_resolve(const char *base, const char *ref)
{
	CURLU *u = NULL;
	char *got = NULL, *out = NULL;
	const unsigned flags = CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE;

	if (ref == NULL)
		return NULL;
	while (isspace((unsigned char)*ref))
		ref++;
	if (url_is_settled(ref))
		return xstrdup(ref);
	u = curl_url();
	if (u == NULL)
		goto done;
	/* An http(s) URL replaces the base whole: the base need not be
	 * parsed (most links in feeds are absolute). */
	if (base != NULL && *base != '\0' && !url_has_http_scheme(ref)) {
		if (curl_url_set(u, CURLUPART_URL, base, flags) != CURLUE_OK)
			goto absolute_only;
		if (*ref == '\0') {
			if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
				out = xstrdup(got);
			goto done;
		}
		/* libcurl 7.88 resolves "#frag" against the base's directory;
		 * RFC 3986 keeps the whole base and replaces the fragment. */
		if (*ref == '#') {
			curl_url_set(u, CURLUPART_FRAGMENT, ref[1] ? ref + 1 : NULL, flags);
			if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
				out = xstrdup(got);
			goto done;
		}
		if (curl_url_set(u, CURLUPART_URL, ref, flags) != CURLUE_OK)
			goto done;
		if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
			out = xstrdup(got);
		goto done;
	}
absolute_only:
	curl_url_cleanup(u);
	u = curl_url();
	if (u == NULL || *ref == '\0')
		goto done;
	if (curl_url_set(u, CURLUPART_URL, ref, flags) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		out = xstrdup(got);
done:
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}

/* Whether one query parameter ("name=value") is a known tracker. */
static int
url_is_tracking_param(const char *param, size_t len)
{
	static const char *const names[] = {
	    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
	    "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ref_url", "cmpid", "ncid", "ocid",
	    "wt.mc_id", "at_medium", "at_campaign", "_ga", "oly_enc_id", "oly_anon_id",
	    "vero_id", "CMP",
	};
	size_t nlen = 0;

	while (nlen < len && param[nlen] != '=')
		nlen++;
	if (nlen > 4 && strncasecmp(param, "utm_", 4) == 0)
		return 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == nlen && strncasecmp(param, names[i], nlen) == 0)
			return 1;
	return 0;
}

/* The canonical form from a URL's parts, each len bytes: host in lower
 * case, port (NULL: none), path and query as curl gives them. */
static char *
url_canonical_build(const char *host, size_t hlen, const char *port, const char *path, size_t plen,
                    const char *query, size_t qlen)
{
	struct buf b;

	buf_init(&b);
	/* http and https are one site; the scheme is not part of identity. */
	buf_puts(&b, "//");
	buf_append(&b, host, hlen);
	if (port != NULL && strcmp(port, "80") != 0 && strcmp(port, "443") != 0) {
		buf_puts(&b, ":");
		buf_puts(&b, port);
	}
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (plen > 0 && !(plen == 1 && path[0] == '/'))
		buf_append(&b, path, plen);
	for (const char *p = query, *end = query + qlen, *first = "?"; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t len = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);

		if (len > 0 && !url_is_tracking_param(p, len)) {
			buf_puts(&b, first);
			buf_append(&b, p, len);
			first = "&";
		}
		p += len + (amp != NULL);
	}
	return buf_steal(&b);
}

/* Canonical form for deduplication. A settled URL (see url_is_settled) is
 * what curl would give back, so its parts are where they stand: host to
 * the first '/', path to '?' or '#', query to '#'; others go through
 * curl's parser (url_canonical_curl). */
char *
url_canonical(const char *url)
{
	const char *host, *path, *query, *end;

	if (url == NULL || !url_is_settled(url))
		return url_canonical_curl(url);
	host = url + (url[4] == 's' ? 8 : 7);
	path = strchr(host, '/');
	end = path + strcspn(path, "?#");
	query = *end == '?' ? end + 1 : end;
	return url_canonical_build(host, (size_t)(path - host), NULL, path, (size_t)(end - path), query,
	                           strcspn(query, "#"));
}

/* url_canonical through curl's parser, for any URL. */
char *
url_canonical_curl(const char *url)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	char *out = NULL;

	if (url == NULL || (u = curl_url()) == NULL)
		goto done;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_URLENCODE) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
		goto done;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto done;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	for (char *h = host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	out = url_canonical_build(host, strlen(host), port, path != NULL ? path : "", path != NULL ? strlen(path) : 0,
	                          query != NULL ? query : "", query != NULL ? strlen(query) : 0);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return out;
}

/* Whether url is an absolute http(s) URL. */
int
url_is_http(const char *url)
{
	return url != NULL && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}
