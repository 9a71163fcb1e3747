/* metrics.c: plain counters; the exposition is rendered by pages.c, which
 * sees the whole daemon. */
#include "metrics.h"

static const int metrics_codes[] = METRICS_HTTP_CODES;

/* Count one HTTP response. */
void
metrics_http(struct metrics *m, int status)
{
	for (int i = 0; i < (int)(sizeof metrics_codes / sizeof metrics_codes[0]); i++) {
		if (metrics_codes[i] == status) {
			m->http[i]++;
			return;
		}
	}
	m->http[METRICS_HTTP_N - 1]++;
}

/* The code of slot i; 0 means "other". */
int
metrics_http_code(int i)
{
	if (i < 0 || i >= (int)(sizeof metrics_codes / sizeof metrics_codes[0]))
		return 0;
	return metrics_codes[i];
}

/* Label value of a fetch outcome. */
const char *
metrics_fetch_name(enum metrics_fetch f)
{
	static const char *const names[METRICS_FETCH_N] = {"ok", "not_modified", "parse_error", "http_error",
	                                                   "network_error"};
	return f < METRICS_FETCH_N ? names[f] : "unknown";
}
