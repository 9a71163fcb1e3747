/* notify.c: a thin layer over libsystemd's sd_notify family, compiled to
 * no-ops without it. */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "build.h"
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* READY=1. */
void
notify_ready(void)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "READY=1");
#endif
}

/* RELOADING=1 with the monotonic time systemd wants. */
void
notify_reloading(void)
{
#ifdef HAVE_LIBSYSTEMD
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	           (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
#endif
}

/* STOPPING=1. */
void
notify_stopping(void)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* WATCHDOG=1. */
void
notify_watchdog(void)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "WATCHDOG=1");
#endif
}

/* STATUS=... */
void
notify_status(const char *fmt, ...)
{
#ifdef HAVE_LIBSYSTEMD
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
#else
	(void)fmt;
#endif
}

/* WatchdogSec as systemd passed it. */
uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}

/* Number of sockets systemd passed. */
int
notify_listen_fds(void)
{
#ifdef HAVE_LIBSYSTEMD
	int n = sd_listen_fds(1);
	return n > 0 ? n : 0;
#else
	return 0;
#endif
}
