/* log.h: one logging API for the whole daemon. Under systemd (JOURNAL_STREAM
 * set) lines carry journald's "<N>" priority prefix; otherwise a timestamp.
 * Lines about a feed should name it: log_warn("feed %s: ...", name). */
#ifndef FEEDMUX_LOG_H
#define FEEDMUX_LOG_H

#include <syslog.h>

/* verbose > 0 enables LOG_DEBUG lines. */
void log_init(int verbose);
int log_verbose(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
