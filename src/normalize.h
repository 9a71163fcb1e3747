/* normalize.h: what happens to an item between the parser and the store:
 * HTML made safe with absolute URLs, the title reduced to text, dates
 * checked against the clock. */
#ifndef FEEDMUX_NORMALIZE_H
#define FEEDMUX_NORMALIZE_H

#include <time.h>

#include "item.h"

/* A date more than this far ahead of now is a publisher's mistake. */
#define NORMALIZE_FUTURE_SLACK (24 * 3600)

/* Normalize it in place. base_url resolves relative URLs in its HTML (the
 * feed's URL). Returns 1 when a date in the future was clamped to now (the
 * caller logs it), else 0. */
int normalize_item(struct item *it, const char *base_url, time_t now);

#endif
