/* guard.h: the HTTP server's defences that libevent 2.1's evhttp lacks: a
 * deadline for receiving a whole request (evhttp only times out idle
 * reads, so a client dripping one header byte at a time would stay
 * forever), a cap on open connections (further ones wait in the listen
 * backlog), and pausing accept() on EMFILE/ENFILE instead of spinning. */
#ifndef FEEDMUX_GUARD_H
#define FEEDMUX_GUARD_H

#include <stddef.h>

struct event_base;
struct evhttp;
struct config;

struct guard;

/* Guard every connection of http (installs its bufferevent callback). */
struct guard *guard_new(struct event_base *base, struct evhttp *http, const struct config *cfg);
/* Listen on "host:port", "[v6]:port" or "*:port". -1 with *err set. */
int guard_listen(struct guard *g, const char *addr, char **err);
/* Serve on a listening socket passed by systemd. -1 with *err set. */
int guard_listen_fd(struct guard *g, int fd, char **err);
void guard_set_config(struct guard *g, const struct config *cfg);
/* Connections open now. */
size_t guard_connections(const struct guard *g);
/* Connections cut for taking too long. */
unsigned long guard_cut(const struct guard *g);
/* Free after evhttp_free() (which releases the listeners). */
void guard_free(struct guard *g);

#endif
