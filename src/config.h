/* config.h: feedmux.conf, read with inih into an immutable object. A reload
 * builds a new object and the daemon swaps it in only when it is valid.
 * Durations are in seconds, sizes in bytes. */
#ifndef FEEDMUX_CONFIG_H
#define FEEDMUX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "strlist.h"

struct config_index;

struct config_topic {
	char *name;
	char *title;          /* default: name */
	struct strlist match; /* words and phrases */
	struct strlist exclude;
	int categories;       /* also match feed-provided categories */
	int line;             /* where the section starts */
};

struct config_feed {
	char *name;
	char *url;
	char *title;           /* NULL: use the feed's own title */
	struct strlist topics; /* names of [topic] sections */
	long interval;         /* 0: the global interval */
	int line;
};

struct config {
	char *path;
	uint64_t digest; /* XXH3 of the file's directory and bytes */

	/* [feedmux] */
	char *title;         /* "feedmux" */
	char *subtitle;      /* NULL */
	char *id;            /* NULL: derived from base_url */
	char *author;        /* NULL: the title */
	char *base_url;      /* "http://127.0.0.1:8080/" (always ends in '/') */
	char *link;          /* alternate link, NULL */
	struct strlist listen; /* "host:port" entries; empty: no HTTP server */
	char *state;         /* "/var/lib/feedmux/state.db"; ":memory:" for none */
	char *output_dir;    /* NULL: no files written */
	char *user_agent;    /* NULL: built-in */

	long interval;        /* 30m */
	long min_interval;    /* 5m */
	long max_interval;    /* 24h */
	long max_entries;     /* 200 */
	long max_per_feed;    /* 0: no cap */
	long max_age;         /* 14d */
	long keep;            /* 90d */
	long concurrency;     /* 64 */
	long per_host;        /* 6 */
	long connect_timeout; /* 10s */
	long timeout;         /* 60s */
	long low_speed_limit; /* 64 bytes/s */
	long low_speed_time;  /* 30s */
	long max_redirects;   /* 5 */
	long max_body;        /* 16M (decompressed) */
	long max_header;      /* 64k */
	int allow_private_networks; /* yes */
	long http_max_connections;  /* 512: more wait in the listen backlog */
	long http_request_timeout;  /* 10s to send a whole request */
	long http_keepalive_timeout; /* 30s idle between requests */
	long http_max_header;       /* 16k of request headers */
	int stories;          /* yes */
	long story_window;    /* 48h */
	double story_threshold; /* STORY_THRESHOLD_DEFAULT (0.25) */

	struct config_topic *topics;
	size_t ntopics;
	struct config_feed *feeds;
	size_t nfeeds;
	struct config_index *feed_index; /* private: feeds by name (config.c) */
};

/* Read and validate path. Returns the config, or NULL when there were
 * problems; each problem is appended to errors as "FILE:LINE: message"
 * (all problems of one run, not just the first). */
struct config *config_load(const char *path, struct strlist *errors);
void config_free(struct config *cfg);
const struct config_feed *config_find_feed(const struct config *cfg, const char *name);
/* The position of the feed called name in cfg->feeds, or SIZE_MAX. */
size_t config_feed_pos(const struct config *cfg, const char *name);
const struct config_topic *config_find_topic(const struct config *cfg, const char *name);

/* Parse "30m", "2h", "45s", "14d", "90" (seconds). -1 on error. */
long config_parse_duration(const char *s);
/* Parse "16M", "512k", "1G", "4096" (bytes, binary units). -1 on error. */
long config_parse_size(const char *s);

#endif
