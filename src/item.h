/* item.h: one feed entry as it leaves the parser, is normalized, stored and
 * published; and the feed-level metadata needed for atom:source.
 * All strings are owned by the struct (NULL when absent) and freed by
 * item_free()/feed_meta_clear(). Text fields are valid UTF-8. */
#ifndef FEEDMUX_ITEM_H
#define FEEDMUX_ITEM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Flags about where an item's dates came from. */
enum {
	ITEM_DATE_MISSING = 1 << 0, /* no parseable date: first-seen time used */
	ITEM_DATE_CLAMPED = 1 << 1, /* date was in the future: clamped to now */
};

struct enclosure {
	char *url;
	char *type;
	long long length;
};

struct item {
	char *id;        /* Atom id / RSS guid / JSON id, as given */
	int id_is_permalink; /* RSS guid isPermaLink (default true) */
	char *link;      /* alternate link, absolute */
	char *title;     /* plain text */
	char *summary;   /* HTML */
	char *content;   /* HTML */
	char *author;
	char **categories;
	size_t ncategories;
	struct enclosure *enclosures;
	size_t nenclosures;
	time_t published; /* 0 when unknown */
	time_t updated;   /* 0 when unknown */
	int date_flags;
};

struct feed_meta {
	char *title;
	char *link;  /* alternate (HTML) link */
	char *id;
	time_t updated;
	long ttl;    /* RSS <ttl> in minutes, 0 when absent */
};

/* 128-bit hashes (XXH3-128), compared as bytes. */
struct item_hash {
	uint8_t b[16];
};

struct item *item_new(void);
void item_free(struct item *it);
void item_add_category(struct item *it, const char *term);
void item_add_enclosure(struct item *it, const char *url, const char *type, long long length);
void feed_meta_clear(struct feed_meta *m);

/* The item's identity: Atom id / RSS guid, else canonical link, else
 * feed + title + date. feed_name is the configured feed name. With
 * locality, also where the identity comes from (item_locality of the id
 * URI or the canonical link; of feed_name for ids only the feed scopes). */
void item_identity_hash(const struct item *it, const char *feed_name, struct item_hash *out,
                        uint32_t *locality);
/* A 32-bit hash of the host-like part of s (see item.c): equal for every
 * id and link of one publisher, so keys can start with it. */
uint32_t item_locality(const char *s, size_t len);
/* The item's content: normalized title, summary and content. */
void item_content_hash(const struct item *it, struct item_hash *out);
/* White space for normalization (ASCII: UTF-8 sequences never hold it). */
int item_is_space(char c);
/* s without leading and trailing white space: returns its start and sets
 * *len (s may be NULL: "" and 0). */
const char *item_trim(const char *s, size_t *len);
/* Whether a trimmed id is an absolute URI (scheme, colon, more, no white
 * space): then it is global, and can be published as atom:id. */
int item_id_is_uri(const char *s, size_t len);
/* Lower-case hex of a hash into out (33 bytes). */
void item_hash_hex(const struct item_hash *h, char out[33]);

#endif
