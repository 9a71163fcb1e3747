/* item.c: the item struct's life and its two hashes, both XXH3-128 fed
 * through a streaming state. Every hash input starts with a domain prefix
 * ("id:", "fid:", "link:", "ftd:", "content:") so inputs of one kind can
 * never collide with another. Text is normalized as it is fed: runs of
 * white space become one space, leading and trailing space is dropped.
 * Fields are ended by a NUL byte, which a C string cannot contain, so
 * ("ab", "c") and ("a", "bc") hash differently.
 *
 * An id that is not an absolute URI ("123", "post-7") means something only
 * inside its feed, so it is hashed together with the feed name ("fid:");
 * a URI id ("tag:", "urn:", "http:") is global, so the same article in two
 * feeds shares it. */
#include "item.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "url.h"
#include "xalloc.h"

static XXH3_state_t *item_hash_begin(const char *domain);
static void item_hash_end(XXH3_state_t *xs, struct item_hash *out);
static void item_hash_field(XXH3_state_t *xs, const char *s, size_t len);
static void item_hash_text(XXH3_state_t *xs, const char *s);

/* Allocate an empty item (guid isPermaLink defaults to true, as in RSS). */
struct item *
item_new(void)
{
	struct item *it = xcalloc(1, sizeof *it);

	it->id_is_permalink = 1;
	return it;
}

/* Free an item and everything it owns. */
void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	free(it->id);
	free(it->link);
	free(it->title);
	free(it->summary);
	free(it->content);
	free(it->author);
	for (size_t i = 0; i < it->ncategories; i++)
		free(it->categories[i]);
	free(it->categories);
	for (size_t i = 0; i < it->nenclosures; i++) {
		free(it->enclosures[i].url);
		free(it->enclosures[i].type);
	}
	free(it->enclosures);
	free(it);
}

/* Append a copy of term to the item's categories. */
void
item_add_category(struct item *it, const char *term)
{
	if (term == NULL)
		return;
	it->categories = xreallocarray(it->categories, it->ncategories + 1, sizeof *it->categories);
	it->categories[it->ncategories++] = xstrdup(term);
}

/* Append an enclosure (type may be NULL, length -1 or 0 when unknown). */
void
item_add_enclosure(struct item *it, const char *url, const char *type, long long length)
{
	struct enclosure *e;

	if (url == NULL)
		return;
	it->enclosures = xreallocarray(it->enclosures, it->nenclosures + 1, sizeof *it->enclosures);
	e = &it->enclosures[it->nenclosures++];
	e->url = xstrdup(url);
	e->type = type != NULL ? xstrdup(type) : NULL;
	e->length = length;
}

/* Free what a feed_meta owns and zero it. */
void
feed_meta_clear(struct feed_meta *m)
{
	if (m == NULL)
		return;
	free(m->title);
	free(m->link);
	free(m->id);
	memset(m, 0, sizeof *m);
}

/* Whether c is white space for normalization (ASCII only: the text is
 * UTF-8, whose multi-byte sequences never contain these bytes). */
int
item_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Point past leading white space and set *len to the length without
 * trailing white space. s may be NULL (length 0). */
const char *
item_trim(const char *s, size_t *len)
{
	size_t n;

	if (s == NULL) {
		*len = 0;
		return "";
	}
	while (item_is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && item_is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* Whether the trimmed id is an absolute URI: a scheme (a letter, then
 * letters, digits, "+", "-" or "."), a colon, something after it, and no
 * white space or characters an IRI cannot hold. */
int
item_id_is_uri(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (i < len && s[i] != ':') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return 0;
		i++;
	}
	if (i == len || i + 1 == len)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
			return 0;
	}
	return 1;
}

/* Start a streaming hash with its domain prefix. */
static XXH3_state_t *
item_hash_begin(const char *domain)
{
	XXH3_state_t *xs = XXH3_createState();

	if (xs == NULL) {
		fprintf(stderr, "feedmux: out of memory allocating a hash state\n");
		abort();
	}
	XXH3_128bits_reset(xs);
	XXH3_128bits_update(xs, domain, strlen(domain));
	return xs;
}

/* Finish a streaming hash into out, in canonical (big-endian) byte order
 * so stored hashes do not depend on the machine. */
static void
item_hash_end(XXH3_state_t *xs, struct item_hash *out)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(xs));
	memcpy(out->b, c.digest, sizeof out->b);
	XXH3_freeState(xs);
}

/* Feed len bytes and the NUL that ends a field. */
static void
item_hash_field(XXH3_state_t *xs, const char *s, size_t len)
{
	XXH3_128bits_update(xs, s, len);
	XXH3_128bits_update(xs, "", 1);
}

/* Feed s normalized (trimmed, white space runs collapsed to one space),
 * then the NUL that ends a field. NULL hashes like "". */
static void
item_hash_text(XXH3_state_t *xs, const char *s)
{
	/* Collapsed into a buffer and hashed a buffer at a time: one update
	 * per line or word would cost more than the hashing itself. White
	 * space is ' ' or a byte below it, so a stretch with no byte below
	 * ' ' (found eight at a time) and no two spaces in a row is copied
	 * as it is. */
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	char chunk[4096];
	size_t len, i = 0, n = 0;

	s = item_trim(s, &len);
	while (i < len) {
		size_t j = i;
		uint64_t w;

		for (; len - j >= 8; j += 8) {
			uint64_t x, sp;

			memcpy(&w, s + j, 8);
			if (((w - 0x20 * ones) & ~w & high) != 0)
				break; /* a byte below ' ' */
			/* 0x80 in each byte that is ' ' (exact, no borrows) */
			x = w ^ (0x20 * ones);
			sp = ~(((x & ~high) + ~high) | x | ~high);
			if ((sp & (sp >> 8)) != 0 || ((sp >> 56) != 0 && j + 8 < len && s[j + 8] == ' '))
				break; /* two spaces */
		}
		while (j < len && (unsigned char)s[j] >= ' ' && !(s[j] == ' ' && j + 1 < len && s[j + 1] == ' '))
			j++;
		if (j < len && s[j] == ' ')
			j++; /* the first of two spaces is copied */
		while (i < j) {
			size_t take = j - i < sizeof chunk - n ? j - i : sizeof chunk - n;

			memcpy(chunk + n, s + i, take);
			n += take;
			i += take;
			if (n == sizeof chunk) {
				XXH3_128bits_update(xs, chunk, n);
				n = 0;
			}
		}
		if (i == len)
			break;
		if (item_is_space(s[i])) {
			/* One ' ' for the run, unless a space just copied began it
			 * (the text is trimmed, so i > 0 here). */
			if (s[i - 1] != ' ')
				chunk[n++] = ' ';
			while (i < len && item_is_space(s[i]))
				i++;
		} else {
			chunk[n++] = s[i++]; /* a control byte that is not white space */
		}
		if (n == sizeof chunk) {
			XXH3_128bits_update(xs, chunk, n);
			n = 0;
		}
	}
	chunk[n++] = '\0';
	XXH3_128bits_update(xs, chunk, n);
}

/* Where an identity comes from, for keys that keep one source's items
 * together (the store's indexes): a hash of the part after the scheme and
 * its "//" (or after a leading "//"), up to the next '/', '?', '#', ','
 * or ':' (a URL's host, a tag: URI's authority), or of all of s when it
 * has neither. Not a parse:
 * only a function of the bytes, so that equal strings have equal
 * localities. */
uint32_t
item_locality(const char *s, size_t len)
{
	size_t i = 0, end;

	/* a scheme: a letter, then letters, digits, '+', '-' and '.' */
	while (i < len && (isalpha((unsigned char)s[i]) ||
	                   (i > 0 && (isdigit((unsigned char)s[i]) || strchr("+-.", s[i]) != NULL))))
		i++;
	if (i > 0 && i < len && s[i] == ':')
		i++;
	else
		i = 0;
	if (i + 1 < len && s[i] == '/' && s[i + 1] == '/')
		i += 2; /* also the scheme-less "//host/path" of url_canonical */
	else if (i == 0)
		return (uint32_t)XXH3_64bits(s, len);
	for (end = i; end < len && strchr("/?#,:", s[end]) == NULL; end++)
		;
	return (uint32_t)XXH3_64bits(s + i, end - i);
}

/* The identity hash: id, else canonical link, else feed + title + date.
 * Without a title the summary stands in, so title-less items of one feed
 * do not all collapse. A date the parser made up (missing: first-seen
 * time; clamped: now) changes on every fetch, so it is left out. */
void
item_identity_hash(const struct item *it, const char *feed_name, struct item_hash *out, uint32_t *locality)
{
	XXH3_state_t *xs = NULL;
	const char *id, *title;
	char *canon = NULL;
	size_t idlen, tlen;
	char date[32];
	uint32_t loc;

	if (feed_name == NULL)
		feed_name = "";
	id = item_trim(it->id, &idlen);
	if (idlen > 0) {
		if (item_id_is_uri(id, idlen)) {
			xs = item_hash_begin("id:");
			loc = item_locality(id, idlen);
		} else {
			/* ids that are not URIs are the feed's own */
			xs = item_hash_begin("fid:");
			item_hash_field(xs, feed_name, strlen(feed_name));
			loc = item_locality(feed_name, strlen(feed_name));
		}
		item_hash_field(xs, id, idlen);
		goto done;
	}
	if (it->link != NULL && (canon = url_canonical(it->link)) != NULL) {
		xs = item_hash_begin("link:");
		item_hash_field(xs, canon, strlen(canon));
		loc = item_locality(canon, strlen(canon));
		goto done;
	}
	xs = item_hash_begin("ftd:");
	item_hash_field(xs, feed_name, strlen(feed_name));
	loc = item_locality(feed_name, strlen(feed_name));
	item_trim(it->title, &tlen);
	title = tlen > 0 ? it->title : it->summary;
	item_hash_text(xs, title);
	if (it->published > 0 && !(it->date_flags & (ITEM_DATE_MISSING | ITEM_DATE_CLAMPED)))
		snprintf(date, sizeof date, "%lld", (long long)it->published);
	else
		date[0] = '\0';
	item_hash_field(xs, date, strlen(date));
done:
	item_hash_end(xs, out);
	if (locality != NULL)
		*locality = loc;
	free(canon);
}

/* The content hash over normalized title, summary and content. */
void
item_content_hash(const struct item *it, struct item_hash *out)
{
	XXH3_state_t *xs = item_hash_begin("content:");

	item_hash_text(xs, it->title);
	item_hash_text(xs, it->summary);
	item_hash_text(xs, it->content);
	item_hash_end(xs, out);
}

/* Lower-case hex of a hash. */
void
item_hash_hex(const struct item_hash *h, char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < sizeof h->b; i++) {
		out[2 * i] = digits[h->b[i] >> 4];
		out[2 * i + 1] = digits[h->b[i] & 15];
	}
	out[32] = '\0';
}
