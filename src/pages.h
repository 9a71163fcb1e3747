/* pages.h: the pages made per request for operators: GET / (HTML status),
 * /status (plain text), /metrics (Prometheus text exposition). */
#ifndef FEEDMUX_PAGES_H
#define FEEDMUX_PAGES_H

struct buf;

/* An http_page_fn over the daemon (arg is struct daemon *): fills out and
 * *type and returns 1 for a page, 0 for any other path. */
int pages_render(void *arg, const char *path, struct buf *out, const char **type);

#endif
