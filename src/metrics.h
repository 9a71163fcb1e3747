/* metrics.h: the daemon's counters, exported at /metrics. Owned by the
 * daemon context; modules bump them through these helpers. */
#ifndef FEEDMUX_METRICS_H
#define FEEDMUX_METRICS_H

#include <stdint.h>

enum metrics_fetch {
	METRICS_FETCH_OK = 0,       /* 2xx, parsed */
	METRICS_FETCH_NOT_MODIFIED, /* 304 */
	METRICS_FETCH_PARSE_ERROR,  /* body fetched, parse failed */
	METRICS_FETCH_HTTP_ERROR,   /* 4xx/5xx */
	METRICS_FETCH_NET_ERROR,    /* DNS, connect, TLS, timeout, limits */
	METRICS_FETCH_N
};

/* HTTP responses are counted by these status codes; others go to "other". */
#define METRICS_HTTP_CODES {200, 304, 400, 404, 405, 408, 413, 500, 503}
#define METRICS_HTTP_N 10

struct metrics {
	uint64_t fetches[METRICS_FETCH_N];
	uint64_t fetch_bytes;
	uint64_t http[METRICS_HTTP_N];
	uint64_t renders;
	uint64_t render_reuses; /* starts that adopted output_dir's files */
	uint64_t render_failures;
	uint64_t write_failures;
	double render_seconds;
	uint64_t reloads;
	uint64_t reload_failures;
};

/* Count one HTTP response. */
void metrics_http(struct metrics *m, int status);
/* The status code counted in slot i (0 for "other"). */
int metrics_http_code(int i);
/* Name of a fetch outcome, for labels. */
const char *metrics_fetch_name(enum metrics_fetch f);

#endif
