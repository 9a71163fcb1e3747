/* httpreq.h: the decisions behind an HTTP response for a prepared
 * document, as pure functions of the request's headers, so they can be
 * unit-tested and fuzzed apart from libevent. */
#ifndef FEEDMUX_HTTPREQ_H
#define FEEDMUX_HTTPREQ_H

#include <time.h>

/* Whether an If-None-Match header value matches etag (a strong ETag with
 * quotes); "*" matches anything, weak forms (W/"...") compare weakly. */
int httpreq_etag_matches(const char *header, const char *etag);
/* Whether an Accept-Encoding value allows gzip (gzip, x-gzip or *, not
 * with q=0). header may be NULL. */
int httpreq_accepts_gzip(const char *header);
/* Whether the request is answered 304: If-None-Match decides when
 * present (RFC 9110 13.2.2), else If-Modified-Since against mtime. */
int httpreq_not_modified(const char *if_none_match, const char *if_modified_since, const char *etag,
                         time_t mtime);

#endif
