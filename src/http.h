/* http.h: the HTTP side (libevent's evhttp): the published documents with
 * conditional requests, gzip and HEAD; GET and HEAD only. */
#ifndef FEEDMUX_HTTP_H
#define FEEDMUX_HTTP_H

#include <stddef.h>

struct event_base;
struct config;
struct publisher;
struct metrics;
struct buf;

struct http_server;

/* Serve on the listen addresses of cfg, or on the sockets systemd passed
 * (nfds from fd 3). Returns NULL with *err set (caller frees) when an
 * address cannot be bound. */
struct http_server *http_server_new(struct event_base *base, const struct config *cfg, struct publisher *pub,
                                    struct metrics *m, int nfds, char **err);
void http_server_set_config(struct http_server *hs, const struct config *cfg);
/* Pages made per request (status, metrics): fill out and *type and return
 * 1, or return 0 when path is not such a page. Set by the daemon. */
typedef int (*http_page_fn)(void *arg, const char *path, struct buf *out, const char **type);
void http_server_set_pages(struct http_server *hs, http_page_fn fn, void *arg);
void http_server_free(struct http_server *hs);
/* Connections open now, and cut so far for not sending a request in time. */
void http_server_stats(const struct http_server *hs, size_t *open, unsigned long *cut);

#endif
