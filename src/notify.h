/* notify.h: telling systemd how we are (sd_notify). Everything is a no-op
 * when not started by systemd or built without libsystemd. */
#ifndef FEEDMUX_NOTIFY_H
#define FEEDMUX_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for, in microseconds; 0 if none. */
uint64_t notify_watchdog_usec(void);
/* Sockets passed by systemd (socket activation): count, from fd 3 on. */
int notify_listen_fds(void);

#endif
