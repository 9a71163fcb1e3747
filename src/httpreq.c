/* httpreq.c: small parsers for three request headers. Each walks the
 * header once, never reads past its terminating NUL, and treats anything
 * it does not understand as "no". */
#include "httpreq.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static double coding_q(const char *params, size_t len);

/* Whether an If-None-Match header matches etag. */
int
httpreq_etag_matches(const char *header, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = header;

	while (*p) {
		const char *start;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		start = p;
		len = strcspn(p, ",");
		while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		if (len == elen && memcmp(start, etag, elen) == 0)
			return 1;
		p = start + strcspn(start, ",");
	}
	return 0;
}

/* The q value in one coding's parameters (";q=0.5"); 1 when absent. */
static double
coding_q(const char *params, size_t len)
{
	const char *end = params + len;

	for (const char *p = params; p < end; p++) {
		if (*p == ';') {
			const char *v = p + 1;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if (end - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=') {
				char num[16];
				size_t n = (size_t)(end - v - 2) < sizeof num - 1 ? (size_t)(end - v - 2) : sizeof num - 1;

				memcpy(num, v + 2, n);
				num[n] = '\0';
				return strtod(num, NULL);
			}
		}
	}
	return 1.0;
}

/* Whether Accept-Encoding allows gzip: an explicit gzip (or x-gzip)
 * decides; otherwise "*" does. */
int
httpreq_accepts_gzip(const char *header)
{
	double gzip = -1, star = -1;
	const char *p = header;

	while (p != NULL && *p) {
		size_t len = strcspn(p, ",");
		const char *tok = p, *end = p + len;
		size_t nlen;

		while (tok < end && (*tok == ' ' || *tok == '\t'))
			tok++;
		nlen = strcspn(tok, ",; \t");
		if (tok + nlen > end)
			nlen = (size_t)(end - tok);
		if ((nlen == 4 && strncasecmp(tok, "gzip", 4) == 0) || (nlen == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
			gzip = coding_q(tok + nlen, (size_t)(end - tok - nlen));
		else if (nlen == 1 && *tok == '*')
			star = coding_q(tok + nlen, (size_t)(end - tok - nlen));
		p = *end ? end + 1 : end;
	}
	return gzip >= 0 ? gzip > 0 : star > 0;
}

/* Whether to answer 304 Not Modified. */
int
httpreq_not_modified(const char *if_none_match, const char *if_modified_since, const char *etag, time_t mtime)
{
	if (if_none_match != NULL)
		return httpreq_etag_matches(if_none_match, etag);
	if (if_modified_since != NULL) {
		time_t t = curl_getdate(if_modified_since, NULL);
		return t != -1 && t >= mtime;
	}
	return 0;
}
