/* date.c: two parsers, tried in order. ISO 8601 / RFC 3339 / W3CDTF is ours
 * (curl does not read it): a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYYMMDD),
 * an optional time (hh:mm[:ss[.frac]] or hhmm[ss]) after "T" or spaces, an
 * optional zone; a missing zone is UTC. Everything else is taken for an
 * RFC 822 date: comments are removed, long month names shortened, and a
 * trailing zone that curl_getdate() misreads or does not know ("GMT+0300",
 * "+05:30", "EEST", ...) is replaced by our own offset; curl_getdate() reads
 * the rest (weekday or not, 2-digit years, RFC 850 and asctime orders, its
 * own zone table and military letters with RFC 822's signs). Formatting
 * writes month and day names from tables, never from the locale. */
#include "date.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

/* Longest date string we look at; real ones are under 64 bytes. */
#define DATE_MAX_LEN 256

struct zone {
	const char *name;
	int minutes; /* east of UTC */
};

static int date_parse_iso(const char *s, time_t *out);
static int date_parse_rfc822(const char *s, time_t *out);
static int date_read_digits(const char **sp, int min, int max, int *out);
static int date_read_offset(const char *s, int *minutes);
static int date_zone_lookup(const char *s, size_t len, int *minutes);
static int date_days_in_month(int year, int month);
static void date_strip_comments(const char *s, struct buf *b);
static void date_shorten_months(struct buf *b);
static int date_split_zone(struct buf *b, int *minutes);

static const char *const date_months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const date_long_months[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};
static const char *const date_wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* Zones we resolve ourselves, because curl does not know them or because
 * they appear in ISO dates. Ambiguous names take the reading feeds use most
 * (IST is India). */
static const struct zone date_zones[] = {
    {"ACDT", 630}, {"ACST", 570}, {"ADT", -180}, {"AEDT", 660}, {"AEST", 600}, {"AKDT", -480}, {"AKST", -540},
    {"ART", -180}, {"AST", -240}, {"AWST", 480}, {"BRT", -180}, {"BST", 60},   {"CAT", 120},   {"CDT", -300},
    {"CEST", 120}, {"CET", 60},   {"CST", -360}, {"EAT", 180},  {"EDT", -240}, {"EEST", 180},  {"EET", 120},
    {"EST", -300}, {"GMT", 0},    {"HKT", 480},  {"HST", -600}, {"IDT", 180},  {"IST", 330},   {"JST", 540},
    {"KST", 540},  {"MDT", -360}, {"MSK", 180},  {"MST", -420}, {"NDT", -150}, {"NST", -210},  {"NZDT", 780},
    {"NZST", 720}, {"PDT", -420}, {"PHT", 480},  {"PST", -480}, {"SAST", 120}, {"SGT", 480},   {"UT", 0},
    {"UTC", 0},    {"WAT", 60},   {"WEST", 60},  {"WET", 0},    {"WIB", 420},  {"Z", 0},
};

/* Parse s into seconds since the epoch (UTC). */
int
date_parse(const char *s, time_t *out)
{
	size_t len;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	if (len == 0 || len > DATE_MAX_LEN)
		return -1;
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    isdigit((unsigned char)s[3]) && date_parse_iso(s, out) == 0)
		return 0;
	return date_parse_rfc822(s, out);
}

/* Read between min and max decimal digits. */
static int
date_read_digits(const char **sp, int min, int max, int *out)
{
	const char *s = *sp;
	int n = 0, v = 0;

	while (n < max && isdigit((unsigned char)s[n])) {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	*sp = s + n;
	*out = v;
	return 0;
}

/* Days in a month of the proleptic Gregorian calendar. */
static int
date_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* Read a whole-string numeric offset: +hh, +hhmm, +hh:mm (or -). */
static int
date_read_offset(const char *s, int *minutes)
{
	int sign, h = 0, m = 0;
	const char *p;

	if (*s != '+' && *s != '-')
		return -1;
	sign = *s == '-' ? -1 : 1;
	p = s + 1;
	if (date_read_digits(&p, 1, 2, &h) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (isdigit((unsigned char)*p) && date_read_digits(&p, 2, 2, &m) < 0)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0' || h > 23 || m > 59)
		return -1;
	*minutes = sign * (h * 60 + m);
	return 0;
}

/* Look a zone name up (case-insensitive); also "GMT+3", "UTC-05:00". */
static int
date_zone_lookup(const char *s, size_t len, int *minutes)
{
	char name[8];
	size_t n = 0;

	while (n < len && isalpha((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= sizeof name)
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	for (size_t i = 0; i < sizeof date_zones / sizeof date_zones[0]; i++) {
		if (strcasecmp(name, date_zones[i].name) != 0)
			continue;
		if (n == len) {
			*minutes = date_zones[i].minutes;
			return 0;
		}
		/* "GMT+0300": an offset from UTC spelled after its name. */
		if (date_zones[i].minutes == 0 && (s[n] == '+' || s[n] == '-')) {
			char tail[16];
			if (len - n >= sizeof tail)
				return -1;
			memcpy(tail, s + n, len - n);
			tail[len - n] = '\0';
			return date_read_offset(tail, minutes);
		}
		return -1;
	}
	return -1;
}

/* ISO 8601 / RFC 3339 / W3CDTF, the whole string or nothing. */
static int
date_parse_iso(const char *s, time_t *out)
{
	struct tm tm;
	int year, month = 1, day = 1, hour = 0, min = 0, sec = 0, offset = 0;
	int basic;
	const char *p = s;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (date_read_digits(&p, 4, 4, &year) < 0)
		return -1;
	basic = isdigit((unsigned char)*p);
	if (basic) {
		/* YYYYMMDD */
		if (date_read_digits(&p, 2, 2, &month) < 0 || date_read_digits(&p, 2, 2, &day) < 0)
			return -1;
	} else if (*p == '-') {
		p++;
		if (date_read_digits(&p, 2, 2, &month) < 0)
			return -1;
		if (*p == '-') {
			p++;
			if (date_read_digits(&p, 2, 2, &day) < 0)
				return -1;
		}
	}
	if (month < 1 || month > 12 || day < 1 || day > date_days_in_month(year, month))
		return -1;

	/* The time, after "T" or spaces (or " T "). */
	{
		const char *q = p;
		int sep = 0;
		while (*q == ' ' || *q == '\t')
			q++, sep = 1;
		if (*q == 'T' || *q == 't') {
			q++, sep = 1;
			while (*q == ' ' || *q == '\t')
				q++;
		}
		if (sep && isdigit((unsigned char)*q)) {
			p = q;
			if (date_read_digits(&p, 2, 2, &hour) < 0)
				return -1;
			if (*p == ':')
				p++;
			if (date_read_digits(&p, 2, 2, &min) < 0)
				return -1;
			if (*p == ':') {
				p++;
				if (date_read_digits(&p, 1, 2, &sec) < 0)
					return -1;
			} else if (isdigit((unsigned char)*p) && date_read_digits(&p, 2, 2, &sec) < 0) {
				return -1;
			}
			if ((*p == '.' || *p == ',') && isdigit((unsigned char)p[1])) {
				p++;
				while (isdigit((unsigned char)*p))
					p++;
			}
			if (hour > 24 || min > 59 || sec > 60 || (hour == 24 && (min != 0 || sec != 0)))
				return -1;
		}
	}

	/* The zone: Z, a numeric offset or a name; missing means UTC. */
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0') {
		size_t len = strlen(p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (*p == '+' || *p == '-') {
			char tail[16];
			if (len >= sizeof tail)
				return -1;
			memcpy(tail, p, len);
			tail[len] = '\0';
			if (date_read_offset(tail, &offset) < 0)
				return -1;
		} else if (date_zone_lookup(p, len, &offset) < 0) {
			return -1;
		}
	}

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(year == 1969 && month == 12 && day == 31))
		return -1;
	*out = t - (time_t)offset * 60;
	return 0;
}

/* Copy s without RFC 822 comments (nested, backslash-quoted). */
static void
date_strip_comments(const char *s, struct buf *b)
{
	int depth = 0;

	for (; *s; s++) {
		if (depth > 0 && *s == '\\' && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '(') {
			depth++;
			continue;
		}
		if (*s == ')' && depth > 0) {
			if (--depth == 0)
				buf_append(b, " ", 1);
			continue;
		}
		if (depth == 0)
			buf_append(b, s, 1);
	}
}

/* Rewrite "June", "Sept" and friends as curl's three-letter names. */
static void
date_shorten_months(struct buf *b)
{
	char *p = b->data;

	while (p != NULL && *p) {
		size_t n = 0;
		if (!isalpha((unsigned char)*p)) {
			p++;
			continue;
		}
		while (isalpha((unsigned char)p[n]))
			n++;
		if (n > 3) {
			for (int m = 0; m < 12; m++) {
				if ((strlen(date_long_months[m]) == n &&
				     strncasecmp(p, date_long_months[m], n) == 0) ||
				    (m == 8 && n == 4 && strncasecmp(p, "Sept", 4) == 0)) {
					/* Shorten in place: the tail moves left. */
					memmove(p + 3, p + n, strlen(p + n) + 1);
					b->len -= n - 3;
					break;
				}
			}
		}
		while (isalpha((unsigned char)*p))
			p++;
	}
}

/* If the last word is a zone we resolve ourselves, cut it off. Returns 1
 * with *minutes set when it did, 0 when curl should read the zone. */
static int
date_split_zone(struct buf *b, int *minutes)
{
	size_t end = b->len, start;

	while (end > 0 && isspace((unsigned char)b->data[end - 1]))
		end--;
	start = end;
	while (start > 0 && !isspace((unsigned char)b->data[start - 1]))
		start--;
	if (start == end)
		return 0;
	{
		const char *w = b->data + start;
		size_t len = end - start;
		char tail[16];

		if (*w == '+' || *w == '-') {
			/* Plain +hhmm is curl's; +hh:mm and +hh are not. */
			if (len == 5 && isdigit((unsigned char)w[1]) && isdigit((unsigned char)w[4]))
				return 0;
			if (len >= sizeof tail)
				return 0;
			memcpy(tail, w, len);
			tail[len] = '\0';
			if (date_read_offset(tail, minutes) < 0)
				return 0;
		} else if (!isalpha((unsigned char)*w) || len == 1 || date_zone_lookup(w, len, minutes) < 0) {
			/* Single letters are military zones: curl's table. */
			return 0;
		}
	}
	b->data[start] = '\0';
	b->len = start;
	buf_puts(b, " GMT");
	return 1;
}

/* RFC 822 / 1123 / 850 / asctime dates through curl_getdate(). */
static int
date_parse_rfc822(const char *s, time_t *out)
{
	struct buf b;
	int minutes = 0, own_zone, rc = -1;
	time_t t;

	buf_init(&b);
	date_strip_comments(s, &b);
	if (b.len == 0)
		goto done;
	date_shorten_months(&b);
	own_zone = date_split_zone(&b, &minutes);
	t = curl_getdate(b.data, NULL);
	if (t == (time_t)-1)
		goto done;
	if (own_zone)
		t -= (time_t)minutes * 60;
	*out = t;
	rc = 0;
done:
	buf_free(&b);
	return rc;
}

/* Format t as RFC 3339 UTC. */
void
date_format_rfc3339(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Format t as an HTTP date (RFC 9110 IMF-fixdate). */
void
date_format_http(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", date_wdays[tm.tm_wday], tm.tm_mday,
	         date_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
