/* story.c: the story index. A headline becomes a set of word tokens
 * (folded to lower-case ASCII, punctuation and stop words dropped, plural
 * and possessive endings cut, then the first 6 letters kept, so that
 * "Russia"/"Russian", "Germany"/"German" and "sterilisation"/"sterilization"
 * meet). Candidates come from MinHash LSH: 128 hash functions (XXH3 with
 * fixed seeds) in 64 bands of 2 rows; a band's key is the unordered pair of
 * tokens that are minimal under its two functions, keys are shared across
 * bands (so an item files under at most 64, on headlines about 25, keys)
 * and each key keeps its 32 most recent items: the work per new item is
 * bounded however many items the index holds. A candidate is confirmed by
 * the IDF-weighted Jaccard of the two token sets, the document frequencies
 * being counted over the indexed items; it needs two shared tokens (or an
 * identical set) and a score of at least the threshold. The best-scoring
 * candidate of another feed, within the window of the item and of its
 * story's first item, gives the story; ties go to the earlier item. */
#include "story.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
/* Inlined: the band keys hash every token once per function (a few
 * hundred calls per item), and the call cost more than the hash. Same
 * algorithm and results as the library's. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "xalloc.h"

#define STORY_HASHES 128 /* MinHash functions */
#define STORY_ROWS 2     /* functions per band */
#define STORY_BANDS (STORY_HASHES / STORY_ROWS)
#define STORY_BUCKET_MAX 32 /* most recent items kept per band key */
#define STORY_PREFIX 6      /* letters kept of each word */
#define STORY_WORD_MAX 64   /* bytes of a word looked at */
#define STORY_TOKENS_MAX 64
#define STORY_SENTENCE_MAX 300 /* bytes of the summary's first sentence */
#define STORY_MIN_SHARED 2
#define STORY_SEED 0x66656564U /* "feed" */
#define STORY_NONE UINT32_MAX
#define STORY_PREFETCH 4 /* candidates ahead whose tokens are fetched */

/* Open addressing, linear probing, backward-shift deletion; a value of
 * STORY_NONE marks an empty cell. */
struct story_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap;
	size_t len;
};

/* One band key filed for one item (slot STORY_NONE: empty cell). */
struct story_band {
	uint32_t key;
	uint32_t slot;
};

/* A multimap band key -> item slots: linear probing with backward-shift
 * deletion like story_map, but any capacity: a key's home cell is
 * key * cap / 2^32 (the keys are hashes), so each resize can leave the
 * table 60 % full: it grows at 75 % and shrinks (on expiry) below 30 %.
 * It is the index's largest table (about 20 cells per item). A key's
 * cells lie in one run with other keys' cells, and a lookup walks the
 * whole run: at 70-80 % full, 88 % of the cells walked over the bench's
 * 123,285 headlines were other keys' (415 million for 48 million), and
 * the walk was half of the index's time. At 60-75 % the index takes
 * 10-15 % less time. Emptier is no faster, and costs memory where it
 * matters: at 10,000 bench feeds the table reached 1.2 million cells
 * (9.4 MB) when kept half full, 4 MB more of the cold cycle's peak. */
#define STORY_BANDS_MIN 1024
struct story_bands {
	struct story_band *v;
	size_t cap;
	size_t len;
};

struct story_item {
	uint64_t id;
	uint64_t feed; /* hash of the feed name */
	uint64_t seq;  /* order of addition: ties and bucket eviction */
	uint64_t *tok; /* sorted token hashes */
	time_t when;
	uint32_t ntok;
	uint32_t story; /* index into stories */
	uint32_t mark;  /* candidate de-duplication */
	int live;
};

struct story_story {
	uint64_t id;
	time_t first;
	uint32_t count;
};

struct story_index {
	double threshold;
	long window;
	uint64_t seeds[STORY_HASHES];
	uint64_t seq;
	uint32_t mark;
	size_t live;

	struct story_item *items;
	size_t nitems;
	size_t items_cap;
	uint32_t *free_items;
	size_t nfree_items;

	struct story_story *stories;
	size_t nstories;
	size_t stories_cap;
	uint32_t *free_stories;
	size_t nfree_stories;

	struct story_map ids;       /* item id -> item slot */
	struct story_map story_ids; /* story id -> story slot */
	struct story_map df;        /* token -> items holding it */
	struct story_bands bands;

	uint32_t *heap; /* item slots, earliest first */
	size_t heap_len;
	size_t heap_cap;

	uint32_t *cand; /* scratch: candidate slots */
	size_t cand_cap;
};

static const char *const story_stop[] = {
    "a",    "about", "after", "all",   "also",  "amid",  "amidst", "an",   "and",  "are",   "as",   "at",
    "be",   "been",  "but",   "by",    "can",   "could", "did",    "do",   "does", "for",   "from", "had",
    "has",  "have",  "he",    "her",   "his",   "how",   "i",      "in",   "into", "is",    "it",   "its",
    "just", "may",   "might", "more",  "new",   "no",    "not",    "of",   "on",   "or",    "our",  "out",
    "over", "s",     "said",  "say",   "says",  "she",   "should", "so",   "than", "that",  "the",  "their",
    "them", "then",  "there", "these", "they",  "this",  "to",     "up",   "via",  "vs",    "was",  "we",
    "were", "what",  "when",  "where", "which", "who",   "why",    "will", "with", "would", "you",  "your",
};

/* ASCII spellings of U+00C0..U+017F, lower-case ("" for the two signs). */
/* clang-format off */
static const char *const story_latin[] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",	/* U+00C0 */
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",	/* U+00D0 */
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",	/* U+00E0 */
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",	/* U+00F0 */
	"a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",	/* U+0100 */
	"d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",	/* U+0110 */
	"g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",	/* U+0120 */
	"i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",	/* U+0130 */
	"l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",	/* U+0140 */
	"o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",	/* U+0150 */
	"s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",	/* U+0160 */
	"u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",	/* U+0170 */
};
/* clang-format on */

static uint64_t story_mix(uint64_t x);
static void story_map_init(struct story_map *m, size_t cap);
static void story_map_release(struct story_map *m);
static size_t story_map_find(const struct story_map *m, uint64_t key);
static uint32_t story_map_get(const struct story_map *m, uint64_t key);
static void story_map_put(struct story_map *m, uint64_t key, uint32_t val);
static void story_map_del(struct story_map *m, uint64_t key);
static void story_map_resize(struct story_map *m, size_t cap);
static void story_map_shrink(struct story_map *m);
static void story_bands_init(struct story_bands *b, size_t cap);
static void story_bands_resize(struct story_bands *b, size_t cap);
static void story_bands_grow(struct story_bands *b, size_t cap);
static void story_bands_put(struct story_bands *b, struct story_band c);
static void story_bands_add(struct story_index *si, uint32_t key, uint32_t slot);
static void story_bands_del(struct story_bands *b, uint32_t key, uint32_t slot);
static int story_is_stop(const char *w);
static size_t story_utf8(const unsigned char *s, uint32_t *cp);
static size_t story_put_utf8(char *out, uint32_t cp);
static int story_word_end(char *w, size_t len, uint64_t *tok, size_t ntok);
static size_t story_tokenize(const char *text, size_t len, uint64_t *tok);
static void story_sort_u64(uint64_t *v, size_t n);
static void story_sort_u32(uint32_t *v, size_t n);
static size_t story_first_sentence(const char *text);
static size_t story_keys(const struct story_index *si, const uint64_t *tok, size_t ntok, uint32_t *keys);
static double story_idf(const struct story_index *si, uint64_t tok);
static double story_need(const double *w, size_t ntok, double threshold);
static double story_score(const struct story_index *si, const uint64_t *tok, const double *w, size_t ntok, double need,
                          const struct story_item *c);
static uint32_t story_slot_new(struct story_index *si);
static uint32_t story_story_new(struct story_index *si, uint64_t id, time_t when);
static int story_heap_less(const struct story_index *si, uint32_t a, uint32_t b);
static void story_heap_push(struct story_index *si, uint32_t slot);
static uint32_t story_heap_pop(struct story_index *si);
static void story_item_remove(struct story_index *si, uint32_t slot);

/* A 64-bit finalizer (splitmix64): spreads keys over the table. */
static uint64_t
story_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* An empty map of cap cells (a power of two). */
static void
story_map_init(struct story_map *m, size_t cap)
{
	m->keys = xcalloc(cap, sizeof *m->keys);
	m->vals = xreallocarray(NULL, cap, sizeof *m->vals);
	memset(m->vals, 0xff, cap * sizeof *m->vals);
	m->cap = cap;
	m->len = 0;
}

/* Free a map's cells. */
static void
story_map_release(struct story_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->len = 0;
}

/* The cell holding key, or SIZE_MAX. */
static size_t
story_map_find(const struct story_map *m, uint64_t key)
{
	size_t mask = m->cap - 1;

	for (size_t i = story_mix(key) & mask;; i = (i + 1) & mask) {
		if (m->vals[i] == STORY_NONE)
			return SIZE_MAX;
		if (m->keys[i] == key)
			return i;
	}
}

/* The value of key, or STORY_NONE. */
static uint32_t
story_map_get(const struct story_map *m, uint64_t key)
{
	size_t i = story_map_find(m, key);

	return i == SIZE_MAX ? STORY_NONE : m->vals[i];
}

/* Set key to val (val is not STORY_NONE). */
static void
story_map_put(struct story_map *m, uint64_t key, uint32_t val)
{
	size_t mask, i;

	if ((m->len + 1) * 2 > m->cap)
		story_map_resize(m, m->cap * 2);
	mask = m->cap - 1;
	for (i = story_mix(key) & mask; m->vals[i] != STORY_NONE; i = (i + 1) & mask)
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
}

/* Remove key, shifting later cells of its run back so probes stay whole. */
static void
story_map_del(struct story_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i = story_map_find(m, key), j, home;

	if (i == SIZE_MAX)
		return;
	for (j = (i + 1) & mask; m->vals[j] != STORY_NONE; j = (j + 1) & mask) {
		home = story_mix(m->keys[j]) & mask;
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->vals[i] = STORY_NONE;
	m->len--;
}

/* Rehash into cap cells. */
static void
story_map_resize(struct story_map *m, size_t cap)
{
	struct story_map old = *m;

	story_map_init(m, cap);
	for (size_t i = 0; i < old.cap; i++)
		if (old.vals[i] != STORY_NONE)
			story_map_put(m, old.keys[i], old.vals[i]);
	story_map_release(&old);
}

/* Give memory back after expiry emptied most of the map. */
static void
story_map_shrink(struct story_map *m)
{
	size_t cap = m->cap;

	while (cap > 64 && m->len * 8 < cap)
		cap /= 2;
	if (cap != m->cap)
		story_map_resize(m, cap);
}

/* A band key's home cell, and the cell after i. */
static inline size_t
story_bands_home(const struct story_bands *b, uint32_t key)
{
	return (size_t)(((uint64_t)key * b->cap) >> 32);
}

static inline size_t
story_bands_next(const struct story_bands *b, size_t i)
{
	return i + 1 == b->cap ? 0 : i + 1;
}

/* The capacity for len cells: 5/3 of it, so that the table is 60 % full
 * after a resize. */
static size_t
story_bands_cap_for(size_t len)
{
	size_t cap = len + len * 2 / 3 + 1;

	return cap < STORY_BANDS_MIN ? STORY_BANDS_MIN : cap;
}

/* An empty band multimap of cap cells. */
static void
story_bands_init(struct story_bands *b, size_t cap)
{
	b->v = xreallocarray(NULL, cap, sizeof *b->v);
	for (size_t i = 0; i < cap; i++)
		b->v[i].slot = STORY_NONE;
	b->cap = cap;
	b->len = 0;
}

/* Rehash the band multimap into cap cells, keeping each key's order. */
static void
story_bands_resize(struct story_bands *b, size_t cap)
{
	struct story_bands old = *b;

	story_bands_init(b, cap);
	for (size_t i = 0; i < old.cap; i++) {
		if (old.v[i].slot == STORY_NONE)
			continue;
		story_bands_put(b, old.v[i]);
		b->len++;
	}
	free(old.v);
}

/* Append cell c to the array *v of *len cells (capacity *cap). */
static void
story_band_push(struct story_band **v, size_t *len, size_t *cap, struct story_band c)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*len)++] = c;
}

/* File cell c by plain linear probing from its home. */
static void
story_bands_put(struct story_bands *b, struct story_band c)
{
	size_t i;

	for (i = story_bands_home(b, c.key); b->v[i].slot != STORY_NONE; i = story_bands_next(b, i))
		;
	b->v[i] = c;
}

/* Grow the band multimap to cap cells in place. Rehashing into a second
 * table, as story_bands_resize does, holds both at once (the old one is
 * 7/8 of the new), and this is the index's largest table. Here the array
 * is reallocated (a large block is remapped, not copied) and its cells
 * are read in order and filed again as if inserted in that order. A
 * key's home only moves forward as cap grows, so most cells land at or
 * after where they were; a cell is written only where the reading has
 * passed, and cells that cannot be filed yet wait in a queue (about a
 * tenth of the table at most), in order. Cells that had wrapped past the
 * end are taken out first and filed last, as they came last. Each key's
 * cells keep their order. */
static void
story_bands_grow(struct story_bands *b, size_t cap)
{
	struct story_band *wrapped = NULL, *queue = NULL;
	size_t nwrapped = 0, wcap = 0, qhead = 0, qlen = 0, qcap = 0, old = b->cap, probe = SIZE_MAX;

	for (size_t i = 0; i < old && b->v[i].slot != STORY_NONE; i++) {
		if (story_bands_home(b, b->v[i].key) <= i)
			continue;
		story_band_push(&wrapped, &nwrapped, &wcap, b->v[i]);
		b->v[i].slot = STORY_NONE;
	}
	b->v = xreallocarray(b->v, cap, sizeof *b->v);
	for (size_t i = old; i < cap; i++)
		b->v[i].slot = STORY_NONE;
	b->cap = cap;
	for (size_t r = 0; r < old; r++) {
		if (b->v[r].slot != STORY_NONE) {
			if (qhead == qlen)
				qhead = qlen = 0;
			else if (qlen == qcap && qhead > 0) {
				memmove(queue, queue + qhead, (qlen - qhead) * sizeof *queue);
				qlen -= qhead;
				qhead = 0;
			}
			story_band_push(&queue, &qlen, &qcap, b->v[r]);
			b->v[r].slot = STORY_NONE;
		}
		/* File what can be filed within [0, r]; probe resumes where the
		 * queue's head stopped (cells there only fill up). */
		while (qhead < qlen) {
			if (probe == SIZE_MAX)
				probe = story_bands_home(b, queue[qhead].key);
			while (probe <= r && b->v[probe].slot != STORY_NONE)
				probe++;
			if (probe > r)
				break;
			b->v[probe] = queue[qhead++];
			probe = SIZE_MAX;
		}
	}
	for (; qhead < qlen; qhead++)
		story_bands_put(b, queue[qhead]);
	for (size_t i = 0; i < nwrapped; i++)
		story_bands_put(b, wrapped[i]);
	free(queue);
	free(wrapped);
}

/* File slot under key; a key that already holds STORY_BUCKET_MAX items
 * forgets its oldest. */
static void
story_bands_add(struct story_index *si, uint32_t key, uint32_t slot)
{
	struct story_bands *b = &si->bands;
	size_t i, oldest = SIZE_MAX, n = 0;

	if ((b->len + 1) * 4 > b->cap * 3)
		story_bands_grow(b, story_bands_cap_for(b->len + 1));
	for (i = story_bands_home(b, key); b->v[i].slot != STORY_NONE; i = story_bands_next(b, i)) {
		if (b->v[i].key != key)
			continue;
		n++;
		if (oldest == SIZE_MAX || si->items[b->v[i].slot].seq < si->items[b->v[oldest].slot].seq)
			oldest = i;
	}
	if (n >= STORY_BUCKET_MAX) {
		b->v[oldest].slot = slot;
		return;
	}
	b->v[i].key = key;
	b->v[i].slot = slot;
	b->len++;
}

/* Remove the (key, slot) cell if it is still there. */
static void
story_bands_del(struct story_bands *b, uint32_t key, uint32_t slot)
{
	size_t i, j, home;

	for (i = story_bands_home(b, key);; i = story_bands_next(b, i)) {
		if (b->v[i].slot == STORY_NONE)
			return;
		if (b->v[i].key == key && b->v[i].slot == slot)
			break;
	}
	for (j = story_bands_next(b, i); b->v[j].slot != STORY_NONE; j = story_bands_next(b, j)) {
		home = story_bands_home(b, b->v[j].key);
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			b->v[i] = b->v[j];
			i = j;
		}
	}
	b->v[i].slot = STORY_NONE;
	b->len--;
}

/* Whether w is a stop word. */
static int
story_is_stop(const char *w)
{
	size_t lo = 0, hi = sizeof story_stop / sizeof story_stop[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w, story_stop[mid]);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Decode one UTF-8 character; invalid bytes decode as themselves. */
static size_t
story_utf8(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

/* Encode cp as UTF-8 into out (room for 4 bytes). */
static size_t
story_put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Turn a collected word into a token appended to tok; returns whether it
 * made one. Possessive 's and plural endings go, "-ence" is spelled
 * "-ense", and the first STORY_PREFIX letters are kept. */
static int
story_word_end(char *w, size_t len, uint64_t *tok, size_t ntok)
{
	size_t n = 0, letters = 0, cut;

	while (len > 0 && w[len - 1] == '\'')
		len--;
	if (len >= 2 && w[len - 2] == '\'' && w[len - 1] == 's')
		len -= 2;
	for (size_t i = 0; i < len; i++)
		if (w[i] != '\'')
			w[n++] = w[i];
	w[n] = '\0';
	if (n == 0 || story_is_stop(w))
		return 0;
	/* Harman's S-stemmer. */
	if (n > 4 && strcmp(w + n - 3, "ies") == 0 && w[n - 4] != 'e' && w[n - 4] != 'a') {
		w[n - 3] = 'y';
		n -= 2;
	} else if (n > 3 && strcmp(w + n - 2, "es") == 0 && w[n - 3] != 'a' && w[n - 3] != 'e' &&
	           w[n - 3] != 'o') {
		n -= 1;
	} else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 'u' && w[n - 2] != 's' && w[n - 2] != 'i') {
		n -= 1;
	}
	w[n] = '\0';
	if (n >= 7 && strcmp(w + n - 4, "ence") == 0)
		w[n - 2] = 's';
	if (story_is_stop(w))
		return 0;
	for (cut = 0; cut < n && letters < STORY_PREFIX; cut++)
		if (((unsigned char)w[cut] & 0xc0) != 0x80)
			letters++;
	while (cut < n && ((unsigned char)w[cut] & 0xc0) == 0x80)
		cut++;
	tok[ntok] = XXH3_64bits(w, cut);
	return 1;
}

/* The sorted, distinct tokens of text[0..len); returns how many. Latin
 * letters fold to ASCII, Greek and Cyrillic to lower case, other letters
 * stay as they are; a dot between letters or digits joins them ("U.S.",
 * "1.8"); everything else separates words. */
static size_t
story_tokenize(const char *text, size_t len, uint64_t *tok)
{
	const unsigned char *s = (const unsigned char *)text, *end = s + len;
	char w[STORY_WORD_MAX + 8], enc[4];
	size_t wl = 0, ntok = 0, n = 0;

	while (ntok < STORY_TOKENS_MAX) {
		uint32_t cp = ' ';
		size_t k = 1, addlen = 0;
		const char *add = NULL;

		if (s < end)
			k = story_utf8(s, &cp);
		if (cp < 0x80) {
			if (cp >= 'A' && cp <= 'Z')
				cp += 'a' - 'A';
			if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
				enc[0] = (char)cp;
				add = enc;
				addlen = 1;
			} else if (cp == '\'' && wl > 0) {
				add = "'";
				addlen = 1;
			} else if (cp == '.' && wl > 0 && w[wl - 1] != '\'' && s + 1 < end &&
			           (((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z') ||
			            (s[1] >= '0' && s[1] <= '9'))) {
				s += k;
				continue;
			}
		} else if (cp == 0x2018 || cp == 0x2019) {
			if (wl > 0) {
				add = "'";
				addlen = 1;
			}
		} else if (cp >= 0x300 && cp < 0x370) {
			s += k; /* a combining accent: the letter before it stands */
			continue;
		} else if (cp >= 0xc0 && cp < 0x180) {
			add = story_latin[cp - 0xc0];
			addlen = strlen(add);
		} else if ((cp >= 0x180 && cp < 0x2000) || (cp >= 0x3040 && cp < 0xa000) ||
		           (cp >= 0xac00 && cp < 0xd7b0) || (cp >= 0xf900 && cp < 0xfb00) || cp >= 0x20000) {
			if (cp >= 0x391 && cp <= 0x3a9)
				cp += 0x20;
			else if (cp >= 0x410 && cp <= 0x42f)
				cp += 0x20;
			else if (cp >= 0x400 && cp <= 0x40f)
				cp += 0x50;
			addlen = story_put_utf8(enc, cp);
			add = enc;
		}
		if (addlen > 0) {
			if (wl + addlen <= STORY_WORD_MAX) {
				memcpy(w + wl, add, addlen);
				wl += addlen;
			}
		} else if (wl > 0) {
			w[wl] = '\0';
			if (story_word_end(w, wl, tok, ntok))
				ntok++;
			wl = 0;
		}
		if (s >= end)
			break;
		s += k;
	}
	if (ntok == 0)
		return 0;
	story_sort_u64(tok, ntok);
	for (size_t i = 1; i < ntok; i++)
		if (tok[i] != tok[n])
			tok[++n] = tok[i];
	return n + 1;
}

/* Sort ascending. Insertion sort: a headline's tokens and band keys are
 * at most 64, where qsort's calls through a comparison cost more (8 % of
 * the index's time on the bench's headlines). One body, two types. */
#define STORY_SORT(name, type)                                                                               \
	static void name(type *v, size_t n)                                                                  \
	{                                                                                                    \
		for (size_t i = 1; i < n; i++) {                                                             \
			type x = v[i];                                                                       \
			size_t j = i;                                                                        \
                                                                                                             \
			for (; j > 0 && v[j - 1] > x; j--)                                                   \
				v[j] = v[j - 1];                                                             \
			v[j] = x;                                                                            \
		}                                                                                            \
	}
STORY_SORT(story_sort_u64, uint64_t)
STORY_SORT(story_sort_u32, uint32_t)

/* The length of text's first sentence, at most STORY_SENTENCE_MAX bytes
 * and cut on a character boundary. */
static size_t
story_first_sentence(const char *text)
{
	size_t i;

	for (i = 0; text[i] != '\0' && i < STORY_SENTENCE_MAX; i++)
		if ((text[i] == '.' || text[i] == '!' || text[i] == '?') &&
		    (text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\0'))
			return i + 1;
	while (i > 0 && ((unsigned char)text[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The distinct band keys of a token set, sorted; returns how many. */
static size_t
story_keys(const struct story_index *si, const uint64_t *tok, size_t ntok, uint32_t *keys)
{
	size_t n = 0, out = 0;

	if (ntok == 0)
		return 0;
	for (size_t b = 0; b < STORY_BANDS; b++) {
		uint64_t pick[STORY_ROWS], h;

		for (size_t r = 0; r < STORY_ROWS; r++) {
			uint64_t best = UINT64_MAX, seed = si->seeds[b * STORY_ROWS + r];

			pick[r] = tok[0];
			for (size_t t = 0; t < ntok; t++) {
				uint64_t v = XXH3_64bits_withSeed(&tok[t], sizeof tok[t], seed);

				if (v < best) {
					best = v;
					pick[r] = tok[t];
				}
			}
		}
		/* Unordered: the pair's order differs from band to band. */
#if STORY_ROWS == 2
		if (pick[1] < pick[0]) {
			uint64_t t = pick[0];
			pick[0] = pick[1];
			pick[1] = t;
		}
#else
		story_sort_u64(pick, STORY_ROWS);
#endif
		h = XXH3_64bits(pick, sizeof pick);
		keys[n++] = (uint32_t)(h ^ (h >> 32));
	}
	story_sort_u32(keys, n);
	for (size_t i = 1; i < n; i++)
		if (keys[i] != keys[out])
			keys[++out] = keys[i];
	return out + 1;
}

/* A token's weight: its inverse document frequency over the index. */
static double
story_idf(const struct story_index *si, uint64_t tok)
{
	uint32_t df = story_map_get(&si->df, tok);

	if (df == STORY_NONE)
		df = 0;
	return log(((double)si->live + 1.0) / ((double)df + 0.5));
}

/* The IDF-weighted Jaccard of a token set (weights w) and item c; 0 when
 * they share fewer than STORY_MIN_SHARED tokens and are not equal, or
 * when the shared tokens weigh less than need (then without c's own
 * tokens' weights, each a map lookup and a logarithm: most candidates end
 * here; see story_need). */
static double
story_score(const struct story_index *si, const uint64_t *tok, const double *w, size_t ntok, double need,
            const struct story_item *c)
{
	size_t i = 0, j = 0, shared = 0;
	double inter = 0, uni = 0;

	/* Without branches: which way the merge goes is a coin toss. Adding
	 * 0.0 leaves the sum as it was. */
	while (i < ntok && j < c->ntok) {
		uint64_t a = tok[i], b = c->tok[j];
		size_t eq = a == b;

		inter += eq ? w[i] : 0.0;
		shared += eq;
		i += a <= b;
		j += b <= a;
	}
	if (shared == 0 || (shared < STORY_MIN_SHARED && (shared != ntok || shared != c->ntok)) || inter < need)
		return 0;
	/* The union, in the order of the sorted tokens. */
	for (i = j = 0; i < ntok || j < c->ntok;) {
		if (j == c->ntok || (i < ntok && tok[i] < c->tok[j])) {
			uni += w[i++];
		} else if (i == ntok || c->tok[j] < tok[i]) {
			uni += story_idf(si, c->tok[j++]);
		} else {
			uni += w[i];
			i++;
			j++;
		}
	}
	return uni > 0 ? inter / uni : 0;
}

/* What a token set's shared tokens must weigh for a score of at least
 * threshold: every weight is above 0 (a token's count is at most the live
 * items'), so the union weighs at least the set's own tokens and a score
 * is at most inter / own. A margin far above the sums' rounding keeps
 * this to sure misses. Linear in threshold. */
static double
story_need(const double *w, size_t ntok, double threshold)
{
	double own = 0;

	for (size_t i = 0; i < ntok; i++)
		own += w[i];
	return threshold * own * (1 - 1e-9);
}

/* A free item slot. */
static uint32_t
story_slot_new(struct story_index *si)
{
	if (si->nfree_items > 0)
		return si->free_items[--si->nfree_items];
	if (si->nitems == si->items_cap) {
		si->items_cap = si->items_cap ? si->items_cap * 2 : 256;
		si->items = xreallocarray(si->items, si->items_cap, sizeof *si->items);
		si->free_items = xreallocarray(si->free_items, si->items_cap, sizeof *si->free_items);
	}
	return (uint32_t)si->nitems++;
}

/* A new story with no items yet. */
static uint32_t
story_story_new(struct story_index *si, uint64_t id, time_t when)
{
	uint32_t st;

	if (si->nfree_stories > 0) {
		st = si->free_stories[--si->nfree_stories];
	} else {
		if (si->nstories == si->stories_cap) {
			si->stories_cap = si->stories_cap ? si->stories_cap * 2 : 256;
			si->stories = xreallocarray(si->stories, si->stories_cap, sizeof *si->stories);
			si->free_stories =
			    xreallocarray(si->free_stories, si->stories_cap, sizeof *si->free_stories);
		}
		st = (uint32_t)si->nstories++;
	}
	si->stories[st].id = id;
	si->stories[st].first = when;
	si->stories[st].count = 0;
	story_map_put(&si->story_ids, id, st);
	return st;
}

/* Heap order: earlier first, then in order of addition. */
static int
story_heap_less(const struct story_index *si, uint32_t a, uint32_t b)
{
	const struct story_item *x = &si->items[a], *y = &si->items[b];

	if (x->when != y->when)
		return x->when < y->when;
	return x->seq < y->seq;
}

/* Put an item slot on the expiry heap. */
static void
story_heap_push(struct story_index *si, uint32_t slot)
{
	size_t i;

	if (si->heap_len == si->heap_cap) {
		si->heap_cap = si->heap_cap ? si->heap_cap * 2 : 256;
		si->heap = xreallocarray(si->heap, si->heap_cap, sizeof *si->heap);
	}
	i = si->heap_len++;
	while (i > 0 && story_heap_less(si, slot, si->heap[(i - 1) / 2])) {
		si->heap[i] = si->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	si->heap[i] = slot;
}

/* Take the earliest item slot off the heap (which is not empty). */
static uint32_t
story_heap_pop(struct story_index *si)
{
	uint32_t top = si->heap[0], last = si->heap[--si->heap_len];
	size_t i = 0, n = si->heap_len;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && story_heap_less(si, si->heap[c + 1], si->heap[c]))
			c++;
		if (!story_heap_less(si, si->heap[c], last))
			break;
		si->heap[i] = si->heap[c];
		i = c;
	}
	if (n > 0)
		si->heap[i] = last;
	return top;
}

/* Drop an item from every table; its story goes with its last item. */
static void
story_item_remove(struct story_index *si, uint32_t slot)
{
	struct story_item *it = &si->items[slot];
	struct story_story *st = &si->stories[it->story];
	uint32_t keys[STORY_BANDS];
	size_t nkeys = story_keys(si, it->tok, it->ntok, keys);

	for (size_t k = 0; k < nkeys; k++)
		story_bands_del(&si->bands, keys[k], slot);
	for (size_t t = 0; t < it->ntok; t++) {
		size_t i = story_map_find(&si->df, it->tok[t]);

		if (i == SIZE_MAX)
			continue;
		if (si->df.vals[i] > 1)
			si->df.vals[i]--;
		else
			story_map_del(&si->df, it->tok[t]);
	}
	story_map_del(&si->ids, it->id);
	if (--st->count == 0) {
		story_map_del(&si->story_ids, st->id);
		si->free_stories[si->nfree_stories++] = it->story;
	}
	free(it->tok);
	it->tok = NULL;
	it->ntok = 0;
	it->live = 0;
	si->free_items[si->nfree_items++] = slot;
	si->live--;
}

/* An empty index. */
struct story_index *
story_index_new(double threshold, long window_seconds)
{
	struct story_index *si = xcalloc(1, sizeof *si);

	si->threshold = threshold;
	si->window = window_seconds;
	for (uint64_t i = 0; i < STORY_HASHES; i++)
		si->seeds[i] = XXH3_64bits_withSeed(&i, sizeof i, STORY_SEED);
	story_map_init(&si->ids, 64);
	story_map_init(&si->story_ids, 64);
	story_map_init(&si->df, 64);
	story_bands_init(&si->bands, STORY_BANDS_MIN);
	si->cand_cap = (size_t)STORY_BANDS * STORY_BUCKET_MAX;
	si->cand = xreallocarray(NULL, si->cand_cap, sizeof *si->cand);
	return si;
}

/* Free the index and everything in it. */
void
story_index_free(struct story_index *si)
{
	if (si == NULL)
		return;
	for (size_t i = 0; i < si->nitems; i++)
		free(si->items[i].tok);
	free(si->items);
	free(si->free_items);
	free(si->stories);
	free(si->free_stories);
	story_map_release(&si->ids);
	story_map_release(&si->story_ids);
	story_map_release(&si->df);
	free(si->bands.v);
	free(si->heap);
	free(si->cand);
	free(si);
}

/* Add an item and return the story it joined (see story.h). */
uint64_t
story_index_add(struct story_index *si, uint64_t id, const char *feed, const char *title,
                const char *summary_text, time_t when)
{
	uint64_t tok[STORY_TOKENS_MAX], feed_hash;
	double w[STORY_TOKENS_MAX], best_score = 0, own;
	uint32_t keys[STORY_BANDS], slot, best = STORY_NONE, st;
	size_t ntok = 0, nkeys, ncand = 0, nraw = 0;
	struct story_item *it;

	slot = story_map_get(&si->ids, id);
	if (slot != STORY_NONE)
		return si->stories[si->items[slot].story].id;
	if (title != NULL)
		ntok = story_tokenize(title, strlen(title), tok);
	if (ntok == 0 && summary_text != NULL)
		ntok = story_tokenize(summary_text, story_first_sentence(summary_text), tok);
	feed_hash = feed != NULL ? XXH3_64bits(feed, strlen(feed)) : 0;

	si->live++;
	for (size_t i = 0; i < ntok; i++) {
		uint32_t df = story_map_get(&si->df, tok[i]);

		story_map_put(&si->df, tok[i], df == STORY_NONE ? 1 : df + 1);
	}
	for (size_t i = 0; i < ntok; i++)
		w[i] = story_idf(si, tok[i]);
	own = story_need(w, ntok, 1.0); /* times a score: what it needs */

	/* Gather candidates once each, then confirm them. */
	nkeys = story_keys(si, tok, ntok, keys);
	if (++si->mark == 0) {
		for (size_t i = 0; i < si->nitems; i++)
			si->items[i].mark = 0;
		si->mark = 1;
	}
	/* First every key's items, each item fetched as it is found (the
	 * band table's runs and the items lie all over memory), then each
	 * item once, in the order first found. */
	for (size_t k = 0; k < nkeys; k++) {
		if (k + 1 < nkeys)
			__builtin_prefetch(&si->bands.v[story_bands_home(&si->bands, keys[k + 1])]);
		for (size_t i = story_bands_home(&si->bands, keys[k]); si->bands.v[i].slot != STORY_NONE;
		     i = story_bands_next(&si->bands, i)) {
			uint32_t c = si->bands.v[i].slot;

			if (si->bands.v[i].key != keys[k] || nraw == si->cand_cap)
				continue;
			__builtin_prefetch(&si->items[c]);
			si->cand[nraw++] = c;
		}
	}
	for (size_t r = 0; r < nraw; r++) {
		uint32_t c = si->cand[r];

		if (si->items[c].mark == si->mark)
			continue;
		si->items[c].mark = si->mark;
		si->cand[ncand++] = c;
	}
	for (size_t i = 0; i < ncand; i++) {
		const struct story_item *c = &si->items[si->cand[i]];
		long long dt = (long long)when - (long long)c->when;
		long long ds;
		double score;

		/* The candidates' tokens and stories are scattered in memory:
		 * ask for those a few candidates ahead (their items are in cache
		 * from the gathering). */
		if (i + STORY_PREFETCH < ncand) {
			const struct story_item *p = &si->items[si->cand[i + STORY_PREFETCH]];

			__builtin_prefetch(p->tok);
			__builtin_prefetch(&si->stories[p->story]);
		}
		if (c->feed == feed_hash || llabs(dt) > si->window)
			continue;
		ds = (long long)when - (long long)si->stories[c->story].first;
		if (llabs(ds) > si->window)
			continue;
		/* Only a score that can reach the best so far (ties included:
		 * the earlier item wins them) is worth the union's weights. */
		score = story_score(si, tok, w, ntok,
		                    (best_score > si->threshold ? best_score : si->threshold) * own, c);
		if (score < si->threshold || score <= 0)
			continue;
		if (best == STORY_NONE || score > best_score ||
		    (score == best_score && c->seq < si->items[best].seq)) {
			best = si->cand[i];
			best_score = score;
		}
	}

	if (best != STORY_NONE)
		st = si->items[best].story;
	else if ((st = story_map_get(&si->story_ids, id)) == STORY_NONE)
		st = story_story_new(si, id, when);
	slot = story_slot_new(si);
	it = &si->items[slot];
	it->id = id;
	it->feed = feed_hash;
	it->seq = ++si->seq;
	it->when = when;
	it->ntok = (uint32_t)ntok;
	it->tok = NULL;
	if (ntok > 0) {
		it->tok = xreallocarray(NULL, ntok, sizeof *it->tok);
		memcpy(it->tok, tok, ntok * sizeof *tok);
	}
	it->story = st;
	it->mark = si->mark;
	it->live = 1;
	si->stories[st].count++;
	if (when < si->stories[st].first)
		si->stories[st].first = when;
	for (size_t k = 0; k < nkeys; k++)
		story_bands_add(si, keys[k], slot);
	story_map_put(&si->ids, id, slot);
	story_heap_push(si, slot);
	return si->stories[st].id;
}

/* Forget items older than before. */
void
story_index_expire(struct story_index *si, time_t before)
{
	while (si->heap_len > 0 && si->items[si->heap[0]].when < before)
		story_item_remove(si, story_heap_pop(si));
	story_map_shrink(&si->ids);
	story_map_shrink(&si->story_ids);
	story_map_shrink(&si->df);
	/* Below 30 % full, back to 60 %. */
	if (si->bands.cap > STORY_BANDS_MIN && si->bands.len * 10 < si->bands.cap * 3)
		story_bands_resize(&si->bands, story_bands_cap_for(si->bands.len));
}

/* For tests: how many band cells a lookup from their key's home would not
 * reach (0 when the table is sound); *cells is how many are filed. */
size_t
story_index_check(const struct story_index *si, size_t *cells)
{
	const struct story_bands *b = &si->bands;
	size_t bad = 0, n = 0;

	for (size_t i = 0; i < b->cap; i++) {
		size_t j;

		if (b->v[i].slot == STORY_NONE)
			continue;
		n++;
		for (j = story_bands_home(b, b->v[i].key); j != i && b->v[j].slot != STORY_NONE; j = story_bands_next(b, j))
			;
		bad += j != i;
	}
	*cells = n;
	return bad + (n != b->len);
}

/* The story of an indexed item. */
int
story_index_lookup(const struct story_index *si, uint64_t id, uint64_t *story)
{
	uint32_t slot = story_map_get(&si->ids, id);

	if (slot == STORY_NONE)
		return -1;
	*story = si->stories[si->items[slot].story].id;
	return 0;
}

/* How many indexed items a story has. */
size_t
story_index_story_size(const struct story_index *si, uint64_t story)
{
	uint32_t st = story_map_get(&si->story_ids, story);

	return st == STORY_NONE ? 0 : si->stories[st].count;
}

/* How many items the index holds. */
size_t
story_index_count(const struct story_index *si)
{
	return si->live;
}

/* The confirmation score of two indexed items. */
double
story_index_score(const struct story_index *si, uint64_t a, uint64_t b)
{
	uint32_t sa = story_map_get(&si->ids, a), sb = story_map_get(&si->ids, b);
	double w[STORY_TOKENS_MAX];
	const struct story_item *x;

	if (sa == STORY_NONE || sb == STORY_NONE)
		return -1;
	x = &si->items[sa];
	for (size_t i = 0; i < x->ntok; i++)
		w[i] = story_idf(si, x->tok[i]);
	return story_score(si, x->tok, w, x->ntok, 0, &si->items[sb]);
}
