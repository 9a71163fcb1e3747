/* config.c: inih splits lines into keys and values; everything else is ours.
 * inih is fed through config_read_line(), which counts lines (Debian's inih
 * has no INI_HANDLER_LINENO), classifies each raw line the way inih will,
 * parses section headers itself (inih never reports a section without
 * keys, and truncates long names), reports lines inih would reject, and
 * works around inih's fixed line buffer by handing it a stand-in line and
 * keeping the real value aside. Keys are looked up in one table that says
 * where each value goes and how it is checked. Every problem is collected
 * with its line and the list is sorted by line at the end, so one run
 * reports everything, in file order. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "buf.h"
#include "story.h"
#include "url.h"
#include "xalloc.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define CONFIG_NAME_MAX 64
#define MINUTE 60L
#define HOUR (60L * MINUTE)
#define DAY (24L * HOUR)
#define KIB 1024L
#define MIB (1024L * KIB)
#define GIB (1024L * MIB)

enum config_section { SECT_NONE, SECT_GLOBAL, SECT_TOPIC, SECT_FEED, SECT_SKIP };

enum config_line { LINE_OTHER, LINE_KEY, LINE_CONT };

enum config_type {
	CT_STRING,   /* any non-empty text */
	CT_URI,      /* an absolute URI (Atom id) */
	CT_HTTP_URL, /* an absolute http(s) URL */
	CT_FEED_URL, /* an absolute http, https or file: URL */
	CT_PATH,     /* a file name, relative to the config file's directory */
	CT_LISTEN,   /* a list of HOST:PORT */
	CT_LIST,     /* a comma-separated list of terms */
	CT_DURATION,
	CT_SIZE,
	CT_NUMBER,
	CT_BOOL,
	CT_RATIO, /* a number in (0, 1] */
};

struct config_key {
	const char *name;
	enum config_section sect;
	enum config_type type;
	size_t off; /* into struct config, config_topic or config_feed */
	long min, max;
};

struct config_error {
	int line; /* 0: about the file as a whole */
	size_t seq;
	char *msg;
};

struct config_feed_lines {
	int url;
	int topics;
	int interval;
};

#define G(f) offsetof(struct config, f)
#define T(f) offsetof(struct config_topic, f)
#define F(f) offsetof(struct config_feed, f)

static const struct config_key config_keys[] = {
    {"title", SECT_GLOBAL, CT_STRING, G(title), 0, 0},
    {"subtitle", SECT_GLOBAL, CT_STRING, G(subtitle), 0, 0},
    {"id", SECT_GLOBAL, CT_URI, G(id), 0, 0},
    {"author", SECT_GLOBAL, CT_STRING, G(author), 0, 0},
    {"base_url", SECT_GLOBAL, CT_HTTP_URL, G(base_url), 0, 0},
    {"link", SECT_GLOBAL, CT_HTTP_URL, G(link), 0, 0},
    {"listen", SECT_GLOBAL, CT_LISTEN, G(listen), 0, 0},
    {"state", SECT_GLOBAL, CT_PATH, G(state), 0, 0},
    {"output_dir", SECT_GLOBAL, CT_PATH, G(output_dir), 0, 0},
    {"user_agent", SECT_GLOBAL, CT_STRING, G(user_agent), 0, 0},
    {"interval", SECT_GLOBAL, CT_DURATION, G(interval), 1, 365 * DAY},
    {"min_interval", SECT_GLOBAL, CT_DURATION, G(min_interval), 1, 365 * DAY},
    {"max_interval", SECT_GLOBAL, CT_DURATION, G(max_interval), 1, 365 * DAY},
    {"max_entries", SECT_GLOBAL, CT_NUMBER, G(max_entries), 1, 100000},
    {"max_per_feed", SECT_GLOBAL, CT_NUMBER, G(max_per_feed), 0, 100000},
    {"max_age", SECT_GLOBAL, CT_DURATION, G(max_age), 1, 3650 * DAY},
    {"keep", SECT_GLOBAL, CT_DURATION, G(keep), 1, 3650 * DAY},
    {"concurrency", SECT_GLOBAL, CT_NUMBER, G(concurrency), 1, 10000},
    {"per_host", SECT_GLOBAL, CT_NUMBER, G(per_host), 1, 1000},
    {"connect_timeout", SECT_GLOBAL, CT_DURATION, G(connect_timeout), 1, HOUR},
    {"timeout", SECT_GLOBAL, CT_DURATION, G(timeout), 1, DAY},
    {"low_speed_limit", SECT_GLOBAL, CT_SIZE, G(low_speed_limit), 0, GIB},
    {"low_speed_time", SECT_GLOBAL, CT_DURATION, G(low_speed_time), 1, HOUR},
    {"max_redirects", SECT_GLOBAL, CT_NUMBER, G(max_redirects), 0, 20},
    {"max_body", SECT_GLOBAL, CT_SIZE, G(max_body), KIB, GIB},
    {"max_header", SECT_GLOBAL, CT_SIZE, G(max_header), KIB, MIB},
    {"allow_private_networks", SECT_GLOBAL, CT_BOOL, G(allow_private_networks), 0, 0},
    {"http_max_connections", SECT_GLOBAL, CT_NUMBER, G(http_max_connections), 1, 100000},
    {"http_request_timeout", SECT_GLOBAL, CT_DURATION, G(http_request_timeout), 1, HOUR},
    {"http_keepalive_timeout", SECT_GLOBAL, CT_DURATION, G(http_keepalive_timeout), 1, HOUR},
    {"http_max_header", SECT_GLOBAL, CT_SIZE, G(http_max_header), KIB, MIB},
    {"stories", SECT_GLOBAL, CT_BOOL, G(stories), 0, 0},
    {"story_window", SECT_GLOBAL, CT_DURATION, G(story_window), MINUTE, 30 * DAY},
    {"story_threshold", SECT_GLOBAL, CT_RATIO, G(story_threshold), 0, 0},

    {"title", SECT_TOPIC, CT_STRING, T(title), 0, 0},
    {"match", SECT_TOPIC, CT_LIST, T(match), 0, 0},
    {"exclude", SECT_TOPIC, CT_LIST, T(exclude), 0, 0},
    {"categories", SECT_TOPIC, CT_BOOL, T(categories), 0, 0},

    {"url", SECT_FEED, CT_FEED_URL, F(url), 0, 0},
    {"title", SECT_FEED, CT_STRING, F(title), 0, 0},
    {"topics", SECT_FEED, CT_LIST, F(topics), 0, 0},
    {"interval", SECT_FEED, CT_DURATION, F(interval), 1, 365 * DAY},
};

#define NKEYS (sizeof config_keys / sizeof config_keys[0])

/* Feeds by name or by url, so that thousands of feeds are checked for
 * duplicates in linear time: open addressing on the string's XXH3 hash,
 * linear probing, a power-of-two table at most half full. */
struct config_index_cell {
	uint64_t hash;
	size_t feed1; /* feed index + 1; 0: empty */
};

struct config_index {
	struct config_index_cell *v;
	size_t cap;
	size_t len;
};

struct config_ctx {
	char *dir; /* absolute directory of the file */
	FILE *fp;
	char *raw;
	size_t rawcap;
	int lineno;
	int read_errno; /* errno when reading stopped */

	/* The line being handed to inih. */
	enum config_line kind;
	char *key;                     /* its key, as written (inih truncates long ones) */
	char *override;                /* its value, when the line is too long for inih */
	int in_key;                    /* a key line was seen since the last section (inih's prev_name) */
	const struct config_key *cont; /* key that continuation lines extend */

	enum config_section sect;
	size_t cur; /* index of the current topic or feed */
	int *lines; /* line where each key of the current section was set */
	int global_lines[NKEYS];
	int sect_lines[NKEYS];
	int global_line; /* line of [feedmux], 0 when absent */

	struct config_feed_lines *flines;
	size_t topics_cap, feeds_cap;
	struct config_index names; /* the feeds so far, by name */

	struct config_error *errs;
	size_t nerrs, errs_cap;

	struct config *cfg;
	uint64_t digest; /* of the directory and every line read, chained */
};

static void config_error(struct config_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void config_defaults(struct config *cfg);
static char *config_dir_of(const char *path);
static char *config_find_comment(char *s, const char *chars);
static char *config_lskip(char *s);
static void config_rstrip(char *s);
static int config_utf8_valid(const char *s);
static char *config_hand(char *line, int num, const char *s);
static char *config_read_line(char *line, int num, void *stream);
static void config_section_line(struct config_ctx *ctx, char *s);
static const char *config_index_key(const struct config *cfg, size_t i, int by_url);
static size_t config_index_find(const struct config_index *x, const struct config *cfg, int by_url, const char *key);
static void config_index_add(struct config_index *x, const struct config *cfg, int by_url, size_t feed);
static int config_name_valid(const char *name);
static size_t config_distance(const char *a, const char *b);
static const char *config_closest(const char *word, const char *const *cands, size_t n);
static int config_handler(void *user, const char *section, const char *name, const char *value);
static const struct config_key *config_key_find(enum config_section sect, const char *name);
static void config_key_unknown(struct config_ctx *ctx, const char *name);
static void *config_field(struct config_ctx *ctx, const struct config_key *k);
static void config_set(struct config_ctx *ctx, const struct config_key *k, const char *value, int cont);
static void config_set_list(struct config_ctx *ctx, const struct config_key *k, struct strlist *l,
                            const char *value);
static int config_check_listen(struct config_ctx *ctx, const char *addr);
static int config_check_url(struct config_ctx *ctx, const struct config_key *k, const char *value);
static char *config_file_url(const char *dir, const char *rel);
static int config_parse_number(const char *s, long *out);
static int config_parse_bool(const char *s);
static void config_fmt_duration(char *out, size_t n, long secs);
static void config_fmt_size(char *out, size_t n, long bytes);
static void config_check_all(struct config_ctx *ctx);
static int config_error_cmp(const void *a, const void *b);

/* Record a problem found at line (0: the file as a whole). */
static void
config_error(struct config_ctx *ctx, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	msg = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (ctx->nerrs == ctx->errs_cap) {
		ctx->errs_cap = ctx->errs_cap ? ctx->errs_cap * 2 : 16;
		ctx->errs = xreallocarray(ctx->errs, ctx->errs_cap, sizeof *ctx->errs);
	}
	ctx->errs[ctx->nerrs].line = line;
	ctx->errs[ctx->nerrs].seq = ctx->nerrs;
	ctx->errs[ctx->nerrs].msg = msg;
	ctx->nerrs++;
}

/* Fill in the documented defaults. */
static void
config_defaults(struct config *cfg)
{
	cfg->title = xstrdup("feedmux");
	cfg->base_url = xstrdup("http://127.0.0.1:8080/");
	strlist_init(&cfg->listen);
	cfg->state = xstrdup(LOCALSTATEDIR "/lib/feedmux/state.db");
	cfg->interval = 30 * MINUTE;
	cfg->min_interval = 5 * MINUTE;
	cfg->max_interval = DAY;
	cfg->max_entries = 200;
	cfg->max_per_feed = 0;
	cfg->max_age = 14 * DAY;
	cfg->keep = 90 * DAY;
	cfg->concurrency = 64;
	cfg->per_host = 6;
	cfg->connect_timeout = 10;
	cfg->timeout = 60;
	cfg->low_speed_limit = 64;
	cfg->low_speed_time = 30;
	cfg->max_redirects = 5;
	cfg->max_body = 16 * MIB;
	cfg->max_header = 64 * KIB;
	cfg->allow_private_networks = 1;
	cfg->http_max_connections = 512;
	cfg->http_request_timeout = 10;
	cfg->http_keepalive_timeout = 30;
	cfg->http_max_header = 16 * KIB;
	cfg->stories = 1;
	cfg->story_window = 48 * HOUR;
	cfg->story_threshold = STORY_THRESHOLD_DEFAULT;
}

/* The absolute directory holding path, for resolving relative paths. */
static char *
config_dir_of(const char *path)
{
	char *dir = NULL, *abs = NULL, *slash;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	abs = realpath(dir, NULL);
	if (abs != NULL) {
		free(dir);
		dir = abs;
	}
	return dir;
}

/* inih's find_chars_or_comment(): the first of chars, or an inline ';'
 * comment (a ';' after whitespace), or the end of s. */
static char *
config_find_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (chars == NULL || strchr(chars, *s) == NULL) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Skip leading whitespace. */
static char *
config_lskip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* Drop trailing whitespace. */
static void
config_rstrip(char *s)
{
	size_t len = strlen(s);

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
}

/* Whether s is well-formed UTF-8 (no overlongs, no surrogates). */
static int
config_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int n;

		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			n = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			n = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			n = 3;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* Give inih the line s (short, by construction). */
static char *
config_hand(char *line, int num, const char *s)
{
	snprintf(line, (size_t)num, "%s\n", s);
	return line;
}

/* inih's reader: one raw line in, the line inih should see out. */
static char *
config_read_line(char *line, int num, void *stream)
{
	struct config_ctx *ctx = stream;
	ssize_t len;
	char *text, *s, *end;
	int fits;

	free(ctx->override);
	ctx->override = NULL;
	ctx->kind = LINE_OTHER;
	errno = 0;
	len = getline(&ctx->raw, &ctx->rawcap, ctx->fp);
	if (len < 0) {
		ctx->read_errno = errno;
		return NULL;
	}
	ctx->digest = XXH3_64bits_withSeed(ctx->raw, (size_t)len, ctx->digest);
	ctx->lineno++;
	text = ctx->raw;
	if ((size_t)len != strlen(text)) {
		config_error(ctx, ctx->lineno, "line contains a NUL byte");
		return config_hand(line, num, "");
	}
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len > 0 && text[len - 1] == '\r')
		text[--len] = '\0';
	if (ctx->lineno == 1 && strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	if (!config_utf8_valid(text)) {
		config_error(ctx, ctx->lineno, "line is not valid UTF-8");
		return config_hand(line, num, "");
	}
	fits = strlen(text) + 2 <= (size_t)num;
	s = config_lskip(text);
	if (*s == '\0' || *s == ';' || *s == '#')
		return config_hand(line, num, "");

	/* Indented after a key: inih continues that key's value. */
	if (s > text && ctx->in_key) {
		ctx->kind = LINE_CONT;
		if (fits)
			return config_hand(line, num, text);
		ctx->override = xstrdup(s);
		*config_find_comment(ctx->override, NULL) = '\0';
		config_rstrip(ctx->override);
		return config_hand(line, num, " x");
	}

	if (*s == '[') {
		ctx->in_key = 0;
		ctx->cont = NULL;
		config_section_line(ctx, s);
		return config_hand(line, num, "[s]");
	}

	end = config_find_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		config_error(ctx, ctx->lineno, "expected 'key = value', '[section]' or a comment");
		return config_hand(line, num, "");
	}
	free(ctx->key);
	ctx->key = xstrndup(s, (size_t)(end - s));
	config_rstrip(ctx->key);
	if (*ctx->key == '\0') {
		config_error(ctx, ctx->lineno, "missing key name before '%c'", *end);
		return config_hand(line, num, "");
	}
	ctx->kind = LINE_KEY;
	ctx->in_key = 1;
	if (fits)
		return config_hand(line, num, text);
	ctx->override = xstrdup(end + 1);
	*config_find_comment(ctx->override, NULL) = '\0';
	config_rstrip(ctx->override);
	memmove(ctx->override, config_lskip(ctx->override), strlen(config_lskip(ctx->override)) + 1);
	return config_hand(line, num, "k = x");
}

/* The string an index keys feed i by. */
static const char *
config_index_key(const struct config *cfg, size_t i, int by_url)
{
	return by_url ? cfg->feeds[i].url : cfg->feeds[i].name;
}

/* The first indexed feed whose name (by_url: url) is key, or SIZE_MAX. */
static size_t
config_index_find(const struct config_index *x, const struct config *cfg, int by_url, const char *key)
{
	uint64_t h = XXH3_64bits(key, strlen(key));

	for (size_t i = x->cap ? h & (x->cap - 1) : 0; x->cap && x->v[i].feed1 != 0; i = (i + 1) & (x->cap - 1))
		if (x->v[i].hash == h && strcmp(config_index_key(cfg, x->v[i].feed1 - 1, by_url), key) == 0)
			return x->v[i].feed1 - 1;
	return SIZE_MAX;
}

/* Index feed (not yet indexed under its key). */
static void
config_index_add(struct config_index *x, const struct config *cfg, int by_url, size_t feed)
{
	const char *key = config_index_key(cfg, feed, by_url);
	uint64_t h;
	size_t i;

	if (2 * (x->len + 1) > x->cap) {
		struct config_index old = *x;

		x->cap = old.cap ? 2 * old.cap : 64;
		x->v = xcalloc(x->cap, sizeof *x->v);
		x->len = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.v[k].feed1 != 0)
				config_index_add(x, cfg, by_url, old.v[k].feed1 - 1);
		free(old.v);
	}
	x->len++;
	h = XXH3_64bits(key, strlen(key));
	for (i = h & (x->cap - 1); x->v[i].feed1 != 0; i = (i + 1) & (x->cap - 1))
		;
	x->v[i].hash = h;
	x->v[i].feed1 = feed + 1;
}

/* Start a section from its header line s (at the '['). */
static void
config_section_line(struct config_ctx *ctx, char *s)
{
	static const char *const types[] = {"feedmux", "topic", "feed"};
	struct config *cfg = ctx->cfg;
	char *end, *after, *inner, *name;
	const char *hint;
	size_t i;

	ctx->sect = SECT_SKIP;
	ctx->lines = ctx->sect_lines;
	memset(ctx->sect_lines, 0, sizeof ctx->sect_lines);

	end = config_find_comment(s + 1, "]");
	if (*end != ']') {
		config_error(ctx, ctx->lineno, "missing ']' at the end of the section header");
		return;
	}
	*end = '\0';
	after = config_lskip(end + 1);
	if (*after != '\0' && *after != ';' && *after != '#') {
		config_error(ctx, ctx->lineno, "unexpected text '%s' after the section header", after);
		return;
	}
	inner = config_lskip(s + 1);
	config_rstrip(inner);
	name = inner;
	while (*name && !isspace((unsigned char)*name))
		name++;
	if (*name) {
		*name = '\0';
		name = config_lskip(name + 1);
	}

	if (strcmp(inner, "feedmux") == 0) {
		if (*name) {
			config_error(ctx, ctx->lineno, "[feedmux] takes no name (found '%s')", name);
			return;
		}
		if (ctx->global_line) {
			config_error(ctx, ctx->lineno, "duplicate section [feedmux] (first at line %d)",
			             ctx->global_line);
			return;
		}
		ctx->global_line = ctx->lineno;
		ctx->sect = SECT_GLOBAL;
		ctx->lines = ctx->global_lines;
		return;
	}
	if (strcmp(inner, "topic") != 0 && strcmp(inner, "feed") != 0) {
		hint = config_closest(inner, types, sizeof types / sizeof types[0]);
		if (hint == NULL)
			config_error(ctx, ctx->lineno,
			             "unknown section '[%s%s%s]' (sections are [feedmux], [topic NAME] "
			             "and [feed NAME])",
			             inner, *name ? " " : "", name);
		else if (strcmp(hint, "feedmux") == 0 || *name)
			config_error(ctx, ctx->lineno,
			             "unknown section '[%s%s%s]' (did you mean '[%s%s%s]'?)", inner,
			             *name ? " " : "", name, hint, *name ? " " : "", name);
		else
			config_error(ctx, ctx->lineno, "unknown section '[%s]' (did you mean '[%s NAME]'?)",
			             inner, hint);
		return;
	}
	if (*name == '\0') {
		config_error(ctx, ctx->lineno, "[%s] needs a name: [%s NAME]", inner, inner);
		return;
	}
	if (!config_name_valid(name)) {
		config_error(ctx, ctx->lineno,
		             "invalid %s name '%s' (use 1 to %d letters, digits, '.', '_' or '-')", inner,
		             name, CONFIG_NAME_MAX);
		return;
	}

	if (strcmp(inner, "topic") == 0) {
		for (i = 0; i < cfg->ntopics; i++) {
			if (strcmp(cfg->topics[i].name, name) == 0) {
				config_error(ctx, ctx->lineno, "duplicate topic '%s' (first at line %d)",
				             name, cfg->topics[i].line);
				return;
			}
		}
		if (cfg->ntopics == ctx->topics_cap) {
			ctx->topics_cap = ctx->topics_cap ? ctx->topics_cap * 2 : 8;
			cfg->topics = xreallocarray(cfg->topics, ctx->topics_cap, sizeof *cfg->topics);
		}
		ctx->cur = cfg->ntopics++;
		memset(&cfg->topics[ctx->cur], 0, sizeof cfg->topics[ctx->cur]);
		cfg->topics[ctx->cur].name = xstrdup(name);
		cfg->topics[ctx->cur].line = ctx->lineno;
		strlist_init(&cfg->topics[ctx->cur].match);
		strlist_init(&cfg->topics[ctx->cur].exclude);
		ctx->sect = SECT_TOPIC;
		return;
	}

	if ((i = config_index_find(&ctx->names, cfg, 0, name)) != SIZE_MAX) {
		config_error(ctx, ctx->lineno, "duplicate feed '%s' (first at line %d)", name, cfg->feeds[i].line);
		return;
	}
	if (cfg->nfeeds == ctx->feeds_cap) {
		ctx->feeds_cap = ctx->feeds_cap ? ctx->feeds_cap * 2 : 16;
		cfg->feeds = xreallocarray(cfg->feeds, ctx->feeds_cap, sizeof *cfg->feeds);
		ctx->flines = xreallocarray(ctx->flines, ctx->feeds_cap, sizeof *ctx->flines);
	}
	ctx->cur = cfg->nfeeds++;
	memset(&cfg->feeds[ctx->cur], 0, sizeof cfg->feeds[ctx->cur]);
	memset(&ctx->flines[ctx->cur], 0, sizeof ctx->flines[ctx->cur]);
	cfg->feeds[ctx->cur].name = xstrdup(name);
	cfg->feeds[ctx->cur].line = ctx->lineno;
	config_index_add(&ctx->names, cfg, 0, ctx->cur);
	strlist_init(&cfg->feeds[ctx->cur].topics);
	ctx->sect = SECT_FEED;
}

/* Whether name is a valid topic or feed name. */
static int
config_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > CONFIG_NAME_MAX)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

/* Levenshtein distance between a and b. */
static size_t
config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row, d;

	if (la > 256 || lb > 256)
		return SIZE_MAX;
	row = xcalloc(lb + 1, sizeof *row);
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best;
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

/* The candidate closest to word, or NULL when none is close enough to be a
 * plausible typo (a third of the longer word's length, at least one edit). */
static const char *
config_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t d = config_distance(word, cands[i]);
		size_t wl = strlen(word), cl = strlen(cands[i]);
		size_t limit = (wl > cl ? wl : cl) / 3;
		if (limit < 1)
			limit = 1;
		if (d <= limit && d < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}

/* The table entry for name in sect, or NULL. */
static const struct config_key *
config_key_find(enum config_section sect, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (config_keys[i].sect == sect && strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* Report a key that the current section does not have, with a hint. */
static void
config_key_unknown(struct config_ctx *ctx, const char *name)
{
	static const char *const where[] = {
	    [SECT_GLOBAL] = "[feedmux]", [SECT_TOPIC] = "[topic NAME]", [SECT_FEED] = "[feed NAME]"};
	const char *cands[NKEYS], *hint;
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if (config_keys[i].sect == ctx->sect)
			cands[n++] = config_keys[i].name;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0) {
			config_error(ctx, ctx->lineno, "unknown key '%s' in %s (it belongs in %s)", name,
			             where[ctx->sect], where[config_keys[i].sect]);
			return;
		}
	}
	hint = config_closest(name, cands, n);
	if (hint != NULL) {
		config_error(ctx, ctx->lineno, "unknown key '%s' (did you mean '%s'?)", name, hint);
		return;
	}
	config_error(ctx, ctx->lineno, "unknown key '%s' in %s", name, where[ctx->sect]);
}

/* inih's handler: one key (or continuation) line. */
static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_ctx *ctx = user;
	const struct config_key *k;
	size_t idx;

	(void)section; /* ours is in ctx: inih truncates long section names */
	(void)name;    /* likewise ctx->key */
	if (ctx->override != NULL)
		value = ctx->override;

	if (ctx->kind == LINE_CONT) {
		/* inih 55 leaves inline comments on continuation lines. */
		char *copy = xstrdup(value);
		*config_find_comment(copy, NULL) = '\0';
		config_rstrip(copy);
		if (ctx->cont != NULL)
			config_set(ctx, ctx->cont, copy, 1);
		free(copy);
		return 1;
	}
	if (ctx->kind != LINE_KEY)
		return 1;
	ctx->cont = NULL;
	if (ctx->sect == SECT_SKIP)
		return 1;
	if (ctx->sect == SECT_NONE) {
		if (config_key_find(SECT_GLOBAL, ctx->key) != NULL)
			config_error(ctx, ctx->lineno,
			             "key '%s' is outside any section (add [feedmux] above it)", ctx->key);
		else
			config_error(ctx, ctx->lineno, "key '%s' is outside any section", ctx->key);
		return 1;
	}
	k = config_key_find(ctx->sect, ctx->key);
	if (k == NULL) {
		config_key_unknown(ctx, ctx->key);
		return 1;
	}
	idx = (size_t)(k - config_keys);
	if (ctx->lines[idx] != 0) {
		config_error(ctx, ctx->lineno, "duplicate key '%s' (first set at line %d)", k->name,
		             ctx->lines[idx]);
		return 1;
	}
	ctx->lines[idx] = ctx->lineno;
	if (ctx->sect == SECT_FEED) {
		if (strcmp(k->name, "url") == 0)
			ctx->flines[ctx->cur].url = ctx->lineno;
		else if (strcmp(k->name, "topics") == 0)
			ctx->flines[ctx->cur].topics = ctx->lineno;
		else if (strcmp(k->name, "interval") == 0)
			ctx->flines[ctx->cur].interval = ctx->lineno;
	}
	ctx->cont = k;
	config_set(ctx, k, value, 0);
	return 1;
}

/* Where the value for k goes in the current section. */
static void *
config_field(struct config_ctx *ctx, const struct config_key *k)
{
	char *base;

	if (k->sect == SECT_TOPIC)
		base = (char *)&ctx->cfg->topics[ctx->cur];
	else if (k->sect == SECT_FEED)
		base = (char *)&ctx->cfg->feeds[ctx->cur];
	else
		base = (char *)ctx->cfg;
	return base + k->off;
}

/* Check value and store it; cont: a continuation line of k. */
static void
config_set(struct config_ctx *ctx, const struct config_key *k, const char *value, int cont)
{
	void *field = config_field(ctx, k);
	char lo[32], hi[32];
	char *copy = NULL;
	long n;
	int b;

	if (cont && k->type != CT_LIST && k->type != CT_LISTEN) {
		config_error(ctx, ctx->lineno,
		             "indented line continues '%s', which takes one value (remove the indentation)",
		             k->name);
		return;
	}
	if (cont && strchr(value, '=') != NULL) {
		config_error(ctx, ctx->lineno,
		             "indented line continues '%s' (remove the indentation if this is a key)",
		             k->name);
		return;
	}
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			config_error(ctx, ctx->lineno, "control character in the value of '%s'", k->name);
			return;
		}
	}
	if (*value == '\0' && k->type != CT_LIST && k->type != CT_LISTEN) {
		config_error(ctx, ctx->lineno, "'%s' needs a value", k->name);
		return;
	}

	switch (k->type) {
	case CT_STRING:
	case CT_URI:
	case CT_HTTP_URL:
	case CT_FEED_URL:
		if (k->type == CT_URI) {
			const char *p = value;
			if (isalpha((unsigned char)*p))
				while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
					p++;
			if (p == value || *p != ':' || p[1] == '\0' || strpbrk(value, " \t") != NULL) {
				config_error(
				    ctx, ctx->lineno,
				    "'%s' must be an absolute URI such as 'tag:example.org,2024:feedmux' "
				    "(got '%s')",
				    k->name, value);
				return;
			}
		}
		if ((k->type == CT_HTTP_URL || k->type == CT_FEED_URL) && !config_check_url(ctx, k, value))
			return;
		if (k->type == CT_FEED_URL && strncasecmp(value, "file:", 5) == 0 && value[5] != '/')
			copy = config_file_url(ctx->dir, value + 5);
		else
			copy = xstrdup(value);
		if (field == &ctx->cfg->base_url && copy[strlen(copy) - 1] != '/') {
			char *slashed = xasprintf("%s/", copy);
			free(copy);
			copy = slashed;
		}
		free(*(char **)field);
		*(char **)field = copy;
		break;
	case CT_PATH:
		if (strcmp(value, ":memory:") == 0 || value[0] == '/')
			copy = xstrdup(value);
		else
			copy = xasprintf("%s%s%s", ctx->dir, ctx->dir[strlen(ctx->dir) - 1] == '/' ? "" : "/",
			                 value);
		free(*(char **)field);
		*(char **)field = copy;
		break;
	case CT_LIST:
	case CT_LISTEN:
		config_set_list(ctx, k, field, value);
		break;
	case CT_DURATION:
		n = config_parse_duration(value);
		if (n < 0) {
			config_error(
			    ctx, ctx->lineno,
			    "invalid duration '%s' for '%s' (use a number with s, m, h or d, e.g. 30m)",
			    value, k->name);
			return;
		}
		if (n < k->min || n > k->max) {
			config_fmt_duration(lo, sizeof lo, k->min);
			config_fmt_duration(hi, sizeof hi, k->max);
			config_error(ctx, ctx->lineno, "'%s' must be between %s and %s (got %s)", k->name, lo,
			             hi, value);
			return;
		}
		*(long *)field = n;
		break;
	case CT_SIZE:
		n = config_parse_size(value);
		if (n < 0) {
			config_error(
			    ctx, ctx->lineno,
			    "invalid size '%s' for '%s' (use a number of bytes with an optional k, M "
			    "or G, e.g. 16M)",
			    value, k->name);
			return;
		}
		if (n < k->min || n > k->max) {
			config_fmt_size(lo, sizeof lo, k->min);
			config_fmt_size(hi, sizeof hi, k->max);
			config_error(ctx, ctx->lineno, "'%s' must be between %s and %s (got %s)", k->name, lo,
			             hi, value);
			return;
		}
		*(long *)field = n;
		break;
	case CT_NUMBER:
		if (!config_parse_number(value, &n)) {
			config_error(ctx, ctx->lineno, "invalid number '%s' for '%s'", value, k->name);
			return;
		}
		if (n < k->min || n > k->max) {
			config_error(ctx, ctx->lineno, "'%s' must be between %ld and %ld (got %s)", k->name,
			             k->min, k->max, value);
			return;
		}
		*(long *)field = n;
		break;
	case CT_BOOL:
		b = config_parse_bool(value);
		if (b < 0) {
			config_error(ctx, ctx->lineno,
			             "invalid boolean '%s' for '%s' (use yes/no, true/false, on/off or 1/0)",
			             value, k->name);
			return;
		}
		*(int *)field = b;
		break;
	case CT_RATIO: {
		char *end = NULL;
		double d;

		errno = 0;
		d = (isdigit((unsigned char)value[0]) || value[0] == '.') ? strtod(value, &end) : NAN;
		if (end == NULL || *end != '\0' || errno != 0 || !isfinite(d)) {
			config_error(ctx, ctx->lineno, "invalid number '%s' for '%s'", value, k->name);
			return;
		}
		if (d <= 0.0 || d > 1.0) {
			config_error(ctx, ctx->lineno, "'%s' must be greater than 0 and at most 1 (got %s)",
			             k->name, value);
			return;
		}
		*(double *)field = d;
		break;
	}
	}
}

/* Add the comma-separated items of value to l (empty items are skipped,
 * so a line may end in a comma before a continuation line). */
static void
config_set_list(struct config_ctx *ctx, const struct config_key *k, struct strlist *l, const char *value)
{
	char *copy = xstrdup(value), *p = copy, *item;

	while (p != NULL) {
		char *comma = strchr(p, ',');
		if (comma != NULL)
			*comma++ = '\0';
		item = config_lskip(p);
		config_rstrip(item);
		p = comma;
		if (*item == '\0')
			continue;
		if (k->type == CT_LISTEN) {
			if (!config_check_listen(ctx, item))
				continue;
			if (strlist_contains(l, item)) {
				config_error(ctx, ctx->lineno, "listen address '%s' is listed twice", item);
				continue;
			}
		} else if (strcmp(k->name, "topics") == 0 && strlist_contains(l, item)) {
			config_error(ctx, ctx->lineno, "topic '%s' is listed twice", item);
			continue;
		}
		strlist_add(l, item);
	}
	free(copy);
}

/* Check one listen address: HOST:PORT, [IPV6]:PORT or *:PORT. */
static int
config_check_listen(struct config_ctx *ctx, const char *addr)
{
	char *host = NULL, *end;
	const char *port;
	unsigned char bin[16];
	long n;
	int ok = 0;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (end == NULL) {
			config_error(ctx, ctx->lineno, "missing ']' in listen address '%s'", addr);
			goto done;
		}
		host = xstrndup(addr + 1, (size_t)(end - addr - 1));
		if (inet_pton(AF_INET6, host, bin) != 1) {
			config_error(ctx, ctx->lineno, "invalid IPv6 address '%s' in listen address '%s'",
			             host, addr);
			goto done;
		}
		if (end[1] != ':') {
			config_error(ctx, ctx->lineno, "listen address '%s' has no port (use [%s]:PORT)",
			             addr, host);
			goto done;
		}
		port = end + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (colon == NULL) {
			config_error(ctx, ctx->lineno,
			             "listen address '%s' has no port (use HOST:PORT, e.g. 127.0.0.1:8080)",
			             addr);
			goto done;
		}
		host = xstrndup(addr, (size_t)(colon - addr));
		port = colon + 1;
		if (strchr(host, ':') != NULL) {
			config_error(ctx, ctx->lineno,
			             "IPv6 listen address '%s' needs brackets, e.g. [::1]:8080", addr);
			goto done;
		}
		if (*host == '\0') {
			config_error(ctx, ctx->lineno,
			             "listen address '%s' has no host (use *:%s for all addresses)", addr,
			             port);
			goto done;
		}
		if (strcmp(host, "*") != 0) {
			size_t hlen = strlen(host), label = 0;
			int digits_only = strspn(host, "0123456789.") == hlen, bad = hlen > 253;
			if (digits_only) {
				bad = inet_pton(AF_INET, host, bin) != 1;
			} else {
				for (size_t i = 0; i <= hlen && !bad; i++) {
					char c = host[i];
					if (c == '.' || c == '\0') {
						bad = label == 0 || label > 63 || host[i - 1] == '-';
						label = 0;
					} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
						label++;
					} else {
						bad = 1;
					}
				}
			}
			if (bad) {
				config_error(ctx, ctx->lineno, "invalid host '%s' in listen address '%s'",
				             host, addr);
				goto done;
			}
		}
	}
	if (!config_parse_number(port, &n)) {
		if (*port == '\0')
			config_error(ctx, ctx->lineno, "listen address '%s' has no port", addr);
		else
			config_error(ctx, ctx->lineno, "invalid port '%s' in listen address '%s'", port,
			             addr);
		goto done;
	}
	if (n < 1 || n > 65535) {
		config_error(ctx, ctx->lineno, "port %s out of range (1-65535) in listen address '%s'", port,
		             addr);
		goto done;
	}
	ok = 1;
done:
	free(host);
	return ok;
}

/* Check a base_url, link or feed url; reports and returns 0 when bad. */
static int
config_check_url(struct config_ctx *ctx, const struct config_key *k, const char *value)
{
	CURLU *u = NULL;
	char *scheme = NULL;
	int ok = 0, want_file = k->type == CT_FEED_URL, field_is_base = strcmp(k->name, "base_url") == 0;
	const char *kinds =
	    want_file ? "an absolute http, https or file: URL" : "an absolute http or https URL";

	if (strstr(value, "://") == NULL && strncasecmp(value, "file:", 5) != 0 &&
	    strchr(value, '.') != NULL && strchr(value, ' ') == NULL) {
		config_error(ctx, ctx->lineno, "'%s' must be %s (did you mean '%s://%s'?)", k->name, kinds,
		             field_is_base ? "http" : "https", value);
		goto done;
	}
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, value, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		config_error(ctx, ctx->lineno, "'%s' must be %s (got '%s')", k->name, kinds, value);
		goto done;
	}
	if (strcasecmp(scheme, "file") == 0 && want_file) {
		ok = 1;
		goto done;
	}
	if (!url_is_http(value) || value[strcspn(value, ":") + 3] == '/') {
		config_error(ctx, ctx->lineno, "'%s' must be %s (got '%s')", k->name, kinds, value);
		goto done;
	}
	ok = 1;
done:
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

/* The absolute file: URL for rel, a path relative to dir. */
static char *
config_file_url(const char *dir, const char *rel)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "file://");
	for (const char *p = dir; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr("/-._~!$&'()*+,;=:@", *p) != NULL)
			buf_append(&b, p, 1);
		else
			buf_printf(&b, "%%%02X", (unsigned char)*p);
	}
	if (b.data[b.len - 1] != '/')
		buf_puts(&b, "/");
	buf_puts(&b, rel);
	return buf_steal(&b);
}

/* A strict non-negative decimal: digits only, no sign, no overflow. */
static int
config_parse_number(const char *s, long *out)
{
	char *end = NULL;
	long n;

	if (!isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*out = n;
	return 1;
}

/* 1 for yes/true/on/1, 0 for no/false/off/0, -1 otherwise. */
static int
config_parse_bool(const char *s)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* A unit suffix and what it multiplies by. */
struct config_unit {
	char suffix;
	long mult;
};

/* Parse digits with an optional one-letter unit from units (a bare number
 * is taken as is). -1 on anything else or on overflow. */
static long
config_parse_scaled(const char *s, const struct config_unit *units)
{
	char *end = NULL;
	long n;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0')
		return n;
	for (const struct config_unit *u = units; u->suffix != '\0'; u++)
		if (*end == u->suffix)
			return end[1] != '\0' || n > LONG_MAX / u->mult ? -1 : n * u->mult;
	return -1;
}

/* Parse a duration into seconds. */
long
config_parse_duration(const char *s)
{
	static const struct config_unit units[] = {{'s', 1}, {'m', MINUTE}, {'h', HOUR}, {'d', DAY}, {'\0', 0}};

	return config_parse_scaled(s, units);
}

/* Parse a size into bytes (binary units). */
long
config_parse_size(const char *s)
{
	static const struct config_unit units[] = {{'k', KIB}, {'K', KIB}, {'m', MIB}, {'M', MIB},
	                                           {'g', GIB}, {'G', GIB}, {'\0', 0}};

	return config_parse_scaled(s, units);
}

/* Write secs in the largest unit that divides it exactly. */
static void
config_fmt_duration(char *out, size_t n, long secs)
{
	if (secs != 0 && secs % DAY == 0)
		snprintf(out, n, "%ldd", secs / DAY);
	else if (secs != 0 && secs % HOUR == 0)
		snprintf(out, n, "%ldh", secs / HOUR);
	else if (secs != 0 && secs % MINUTE == 0)
		snprintf(out, n, "%ldm", secs / MINUTE);
	else
		snprintf(out, n, "%lds", secs);
}

/* Write bytes in the largest binary unit that divides it exactly. */
static void
config_fmt_size(char *out, size_t n, long bytes)
{
	if (bytes != 0 && bytes % GIB == 0)
		snprintf(out, n, "%ldG", bytes / GIB);
	else if (bytes != 0 && bytes % MIB == 0)
		snprintf(out, n, "%ldM", bytes / MIB);
	else if (bytes != 0 && bytes % KIB == 0)
		snprintf(out, n, "%ldk", bytes / KIB);
	else
		snprintf(out, n, "%ld", bytes);
}

/* Checks that need the whole file: references, required keys, key pairs. */
static void
config_check_all(struct config_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const int *gl = ctx->global_lines;
	struct config_index urls; /* the feeds checked so far, by url */
	const struct config_key *kmin = config_key_find(SECT_GLOBAL, "min_interval");
	const struct config_key *kmax = config_key_find(SECT_GLOBAL, "max_interval");
	const struct config_key *kint = config_key_find(SECT_GLOBAL, "interval");
	const struct config_key *kage = config_key_find(SECT_GLOBAL, "max_age");
	const struct config_key *kkeep = config_key_find(SECT_GLOBAL, "keep");
	const struct config_key *kct = config_key_find(SECT_GLOBAL, "connect_timeout");
	const struct config_key *kto = config_key_find(SECT_GLOBAL, "timeout");
	int lmin = gl[kmin - config_keys], lmax = gl[kmax - config_keys], lint = gl[kint - config_keys];
	int lage = gl[kage - config_keys], lkeep = gl[kkeep - config_keys];
	int lct = gl[kct - config_keys], lto = gl[kto - config_keys];
	const char **tnames = NULL;
	char a[32], b[32];
	int bounds_ok = 1;

	if (cfg->min_interval > cfg->max_interval) {
		config_fmt_duration(a, sizeof a, cfg->min_interval);
		config_fmt_duration(b, sizeof b, cfg->max_interval);
		config_error(ctx, lmin > lmax ? lmin : lmax,
		             "min_interval (%s) is greater than max_interval (%s)", a, b);
		bounds_ok = 0;
	}
	if (bounds_ok && (cfg->interval < cfg->min_interval || cfg->interval > cfg->max_interval)) {
		int below = cfg->interval < cfg->min_interval;
		int lb = below ? lmin : lmax;
		config_fmt_duration(a, sizeof a, cfg->interval);
		config_fmt_duration(b, sizeof b, below ? cfg->min_interval : cfg->max_interval);
		config_error(ctx, lint > lb ? lint : lb, "interval (%s) is %s %s (%s)", a,
		             below ? "less than" : "greater than", below ? "min_interval" : "max_interval",
		             b);
	}
	if (cfg->keep < cfg->max_age) {
		config_fmt_duration(a, sizeof a, cfg->keep);
		config_fmt_duration(b, sizeof b, cfg->max_age);
		config_error(ctx, lkeep > lage ? lkeep : lage,
		             "keep (%s) is less than max_age (%s); items must be kept at least as long as "
		             "they are shown",
		             a, b);
	}
	if (cfg->connect_timeout > cfg->timeout) {
		config_fmt_duration(a, sizeof a, cfg->connect_timeout);
		config_fmt_duration(b, sizeof b, cfg->timeout);
		config_error(ctx, lct > lto ? lct : lto, "connect_timeout (%s) is greater than timeout (%s)",
		             a, b);
	}

	memset(&urls, 0, sizeof urls);
	tnames = xcalloc(cfg->ntopics + 1, sizeof *tnames);
	for (size_t i = 0; i < cfg->ntopics; i++)
		tnames[i] = cfg->topics[i].name;

	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const struct config_feed *f = &cfg->feeds[i];
		const struct config_feed_lines *fl = &ctx->flines[i];

		if (f->url == NULL && fl->url == 0)
			config_error(ctx, f->line, "feed '%s' has no url", f->name);
		if (f->url != NULL) {
			size_t j = config_index_find(&urls, cfg, 1, f->url);

			if (j != SIZE_MAX)
				config_error(ctx, fl->url, "feed '%s' has the same url as feed '%s' (line %d)",
				             f->name, cfg->feeds[j].name, cfg->feeds[j].line);
			else
				config_index_add(&urls, cfg, 1, i);
		}
		if (f->interval != 0 && bounds_ok &&
		    (f->interval < cfg->min_interval || f->interval > cfg->max_interval)) {
			int below = f->interval < cfg->min_interval;
			config_fmt_duration(a, sizeof a, f->interval);
			config_fmt_duration(b, sizeof b, below ? cfg->min_interval : cfg->max_interval);
			config_error(ctx, fl->interval, "interval (%s) is %s %s (%s)", a,
			             below ? "less than" : "greater than",
			             below ? "min_interval" : "max_interval", b);
		}
		for (size_t j = 0; j < f->topics.n; j++) {
			const char *hint;
			if (config_find_topic(cfg, f->topics.v[j]) != NULL)
				continue;
			hint = config_closest(f->topics.v[j], tnames, cfg->ntopics);
			if (hint != NULL)
				config_error(ctx, fl->topics, "unknown topic '%s' (did you mean '%s'?)",
				             f->topics.v[j], hint);
			else
				config_error(ctx, fl->topics, "unknown topic '%s' (no [topic %s] section)",
				             f->topics.v[j], f->topics.v[j]);
		}
	}

	for (size_t i = 0; i < cfg->ntopics; i++) {
		struct config_topic *t = &cfg->topics[i];
		int used = 0;

		if (t->title == NULL)
			t->title = xstrdup(t->name);
		for (size_t j = 0; j < cfg->nfeeds && !used; j++)
			used = strlist_contains(&cfg->feeds[j].topics, t->name);
		if (t->match.n == 0 && !used)
			config_error(ctx, t->line,
			             "topic '%s' has no match terms and no feed lists it in topics, so it "
			             "would always be empty",
			             t->name);
	}
	free(tnames);
	free(urls.v);
}

/* Order errors by line, then by when they were found. */
static int
config_error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read and validate path. */
struct config *
config_load(const char *path, struct strlist *errors)
{
	struct config_ctx ctx;
	struct config *cfg = NULL;
	struct stat st;
	int rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.sect = SECT_NONE;
	ctx.lines = ctx.sect_lines;
	cfg = xcalloc(1, sizeof *cfg);
	cfg->path = xstrdup(path);
	config_defaults(cfg);
	ctx.cfg = cfg;

	ctx.fp = fopen(path, "r");
	if (ctx.fp == NULL) {
		config_error(&ctx, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (fstat(fileno(ctx.fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		config_error(&ctx, 0, "cannot open: %s", strerror(EISDIR));
		goto done;
	}
	ctx.dir = config_dir_of(path);
	/* file: URLs are relative to the directory: it is part of the text. */
	ctx.digest = XXH3_64bits(ctx.dir, strlen(ctx.dir) + 1);

	rc = ini_parse_stream(config_read_line, &ctx, config_handler, &ctx);
	cfg->digest = ctx.digest;
	if (ferror(ctx.fp))
		config_error(&ctx, 0, "read error: %s", strerror(ctx.read_errno ? ctx.read_errno : EIO));
	else if (rc == -2)
		config_error(&ctx, 0, "out of memory while parsing");
	else if (rc > 0 && ctx.nerrs == 0)
		config_error(&ctx, rc, "syntax error");

	if (ctx.global_lines[config_key_find(SECT_GLOBAL, "listen") - config_keys] == 0)
		strlist_add(&cfg->listen, "127.0.0.1:8080");
	config_check_all(&ctx);
	/* The name index outlives the load: reloads and the daemon look feeds
	 * up by name. */
	cfg->feed_index = xmalloc(sizeof *cfg->feed_index);
	*cfg->feed_index = ctx.names;
	memset(&ctx.names, 0, sizeof ctx.names);

done:
	if (ctx.nerrs > 0) {
		qsort(ctx.errs, ctx.nerrs, sizeof *ctx.errs, config_error_cmp);
		for (size_t i = 0; i < ctx.nerrs; i++) {
			if (ctx.errs[i].line > 0)
				strlist_addf(errors, "%s:%d: %s", path, ctx.errs[i].line, ctx.errs[i].msg);
			else
				strlist_addf(errors, "%s: %s", path, ctx.errs[i].msg);
		}
		config_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < ctx.nerrs; i++)
		free(ctx.errs[i].msg);
	free(ctx.errs);
	free(ctx.flines);
	free(ctx.names.v);
	free(ctx.raw);
	free(ctx.key);
	free(ctx.override);
	free(ctx.dir);
	if (ctx.fp != NULL)
		fclose(ctx.fp);
	return cfg;
}

/* Free cfg and everything it owns. */
void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	if (cfg->feed_index != NULL)
		free(cfg->feed_index->v);
	free(cfg->feed_index);
	free(cfg->path);
	free(cfg->title);
	free(cfg->subtitle);
	free(cfg->id);
	free(cfg->author);
	free(cfg->base_url);
	free(cfg->link);
	strlist_free(&cfg->listen);
	free(cfg->state);
	free(cfg->output_dir);
	free(cfg->user_agent);
	for (size_t i = 0; i < cfg->ntopics; i++) {
		free(cfg->topics[i].name);
		free(cfg->topics[i].title);
		strlist_free(&cfg->topics[i].match);
		strlist_free(&cfg->topics[i].exclude);
	}
	free(cfg->topics);
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		free(cfg->feeds[i].name);
		free(cfg->feeds[i].url);
		free(cfg->feeds[i].title);
		strlist_free(&cfg->feeds[i].topics);
	}
	free(cfg->feeds);
	free(cfg);
}

/* The position of the feed called name, or SIZE_MAX: by the name index of
 * a loaded config, else (a config built by hand) by looking at each. */
size_t
config_feed_pos(const struct config *cfg, const char *name)
{
	if (cfg->feed_index != NULL)
		return config_index_find(cfg->feed_index, cfg, 0, name);
	for (size_t i = 0; i < cfg->nfeeds; i++)
		if (strcmp(cfg->feeds[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

/* The feed called name, or NULL. */
const struct config_feed *
config_find_feed(const struct config *cfg, const char *name)
{
	size_t i = config_feed_pos(cfg, name);

	return i == SIZE_MAX ? NULL : &cfg->feeds[i];
}

/* The topic called name, or NULL. */
const struct config_topic *
config_find_topic(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntopics; i++)
		if (strcmp(cfg->topics[i].name, name) == 0)
			return &cfg->topics[i];
	return NULL;
}
