/* date.h: parsing the dates feeds really contain (RFC 822 and its variants,
 * RFC 3339 / ISO 8601 / W3CDTF) and formatting RFC 3339 UTC. */
#ifndef FEEDMUX_DATE_H
#define FEEDMUX_DATE_H

#include <stddef.h>
#include <time.h>

/* Parse s into seconds since the epoch (UTC). Returns 0 on success, -1 if s
 * is not a date we understand (out untouched). */
int date_parse(const char *s, time_t *out);
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void date_format_rfc3339(time_t t, char *out, size_t outlen);
/* Format t as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void date_format_http(time_t t, char *out, size_t outlen);

#endif
