/* log.c: writes to stderr. The verbosity and the journald decision are read
 * once at start-up and never change, so they live in this file's statics
 * (the only state outside the daemon context, and it is immutable after
 * log_init). errno is preserved so callers can log before using it. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = LOG_INFO;
static int log_journal;

/* Decide the format and level once. */
void
log_init(int verbose)
{
	const char *js = getenv("JOURNAL_STREAM");

	log_level = verbose > 0 ? LOG_DEBUG : LOG_INFO;
	log_journal = js != NULL && *js != '\0';
}

/* Whether debug lines are wanted. */
int
log_verbose(void)
{
	return log_level >= LOG_DEBUG;
}

/* Write one line at priority prio. */
void
log_msg(int prio, const char *fmt, ...)
{
	static const char *names[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
	int saved = errno;
	char msg[4096];
	va_list ap;

	if (prio > log_level)
		goto out;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio, msg);
	} else {
		char ts[32];
		struct tm tm;
		time_t now = time(NULL);

		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s feedmux[%s]: %s\n", ts, names[prio & 7], msg);
	}
out:
	errno = saved;
}
