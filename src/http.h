/* http.h: the HTTP side (libevent's evhttp): the published documents with
 * conditional requests, gzip and HEAD; GET and HEAD only. */
#ifndef FEEDMUX_HTTP_H
#define FEEDMUX_HTTP_H

struct event_base;
struct config;
struct publisher;

struct http_server;

/* Serve on the listen addresses of cfg, or on the sockets systemd passed
 * (nfds from fd 3). Returns NULL with *err set (caller frees) when an
 * address cannot be bound. */
struct http_server *http_server_new(struct event_base *base, const struct config *cfg, struct publisher *pub,
                                    int nfds, char **err);
void http_server_set_config(struct http_server *hs, const struct config *cfg);
/* Plain-text status body for GET /status; set by the daemon. */
typedef char *(*http_status_fn)(void *arg);
void http_server_set_status(struct http_server *hs, http_status_fn fn, void *arg);
void http_server_free(struct http_server *hs);

#endif
