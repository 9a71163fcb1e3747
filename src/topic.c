/* topic.c: topic matching on folded words.
 *
 * Text and terms go through the same fold: UTF-8 to UTF-16, NFKD (so
 * precomposed letters, ligatures, full-width and superscript forms split
 * into base characters), full case folding (so "ß" is "ss", "Σ" and "ς"
 * are "σ"), then a pass that drops non-spacing and enclosing marks (the
 * accents NFKD split off) and format characters such as the soft hyphen,
 * and cuts the rest into words: runs of letters, digits and spacing marks.
 * Han, Hiragana and Katakana, written without spaces, are one word per
 * character, so a term in those scripts matches as a phrase of characters.
 * Latin letters with a stroke ("ł", "ø", "đ") and dotless "ı" have no
 * decomposition and are mapped to their base letter by a short table.
 * Dropping marks is the same for terms and text: Cyrillic "й" folds to
 * "и", "ї" to "і", "ё" to "е"; only the kana voicing marks are kept.
 *
 * The fold uses ICU (icu-uc): Debian's libxml2 already links libicuuc, so it
 * adds no library to the running process; it is the reference
 * implementation of the Unicode algorithms we need and follows new Unicode
 * versions; and its C API writes into caller buffers, so one item is folded
 * with buffers reused across its fields. GLib would add a general-purpose
 * runtime to a daemon built on libevent, and allocate per call.
 *
 * topic_set_new() folds every term once and interns its words in a hash
 * table; each distinct word lists the terms that start with it. Per item,
 * the text is folded once and every word is looked up once (words no term
 * uses become -1); a term is then checked only where its first word
 * occurs, by comparing the following word ids. Fields are separated by a
 * marker no term contains, so phrases never span two fields. */
#include "topic.h"

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "xalloc.h"

#define TOPIC_HTML_MAX (4 * TOPIC_TEXT_MAX) /* bytes of summary HTML scanned */
#define TOPIC_WORD_NONE (-1)                /* a word that no term uses */
#define TOPIC_WORD_SEP (-2)                 /* between fields */
#define TOPIC_ASCII_RUN 16                  /* ASCII bytes that end an ICU stretch */
#define TOPIC_SHAPE_LEN 64                  /* word lengths the shape filter knows */

enum {
	TOPIC_F_MATCH = 1 << 0,
	TOPIC_F_EXCLUDE = 1 << 1,
	TOPIC_F_FEED = 1 << 2,
};

/* One distinct folded word of the terms. */
struct topic_word {
	uint32_t hash;
	size_t off; /* into pool, UTF-16 units */
	int32_t len;
	int32_t first; /* first term starting with this word, -1 */
};

/* One match or exclude term, as a sequence of word ids. */
struct topic_term {
	size_t topic;
	int exclude;
	size_t seq; /* into seq */
	size_t nwords;
	int32_t next; /* next term with the same first word, -1 */
};

/* A feed whose own topics = names topics. */
struct topic_feed {
	char *name;
	size_t *topics;
	size_t ntopics;
};

struct topic_set {
	size_t ntopics;
	unsigned char *categories; /* per topic: categories = yes */
	int any_categories;

	struct topic_word *words;
	size_t nwords, wcap;
	/* The shapes of the term words: bit topic_shape_bit(first unit) of
	 * shape[length] is set when a term word has that length and first
	 * unit (longer words: long_words). A text word whose shape is not
	 * there is no term word, without hashing it: most words of a text. */
	uint32_t shape[TOPIC_SHAPE_LEN];
	int long_words;
	uint32_t *slots; /* open addressing: word id + 1, 0 when empty */
	size_t nslots;   /* a power of two */
	UChar *pool;
	size_t poollen, poolcap;

	struct topic_term *terms;
	size_t nterms, tcap;
	int32_t *seq;
	size_t nseq, seqcap;

	struct topic_feed *feeds; /* sorted by name */
	size_t nfeeds;
};

/* A word found by topic_fold(), in its folded text. */
struct topic_span {
	int32_t off, len;
};

/* Scratch for folding: the words (a), two UTF-16 buffers for ICU, the
 * words' places, and the word ids of the item so far. */
struct topic_fold {
	UChar *a, *b, *c; /* the folded words; ICU's scratch */
	int32_t acap, bcap, ccap;
	const UChar *text; /* a: the folded words */
	struct topic_span *spans;
	size_t nspans, scap;
	int32_t *ids;
	size_t nids, icap;
};

/* Where cutting folded text into words is (topic_words). */
struct topic_cut {
	int32_t wlen;  /* units of f->a written */
	int32_t start; /* of the word being read */
	int in_word;
	int prev_cjk; /* the last character was Han or kana */
};

static void topic_fold_free(struct topic_fold *f);
static void topic_grow16(UChar **p, int32_t *cap, int32_t need);
static void topic_keep16(UChar **p, int32_t *cap, int32_t need);
static int topic_fold_icu(struct topic_fold *f, const UNormalizer2 *nfkd, const char *s, int32_t len,
                          const UChar **out, int32_t *n);
static void topic_words(struct topic_fold *f, const UChar *src, int32_t n, struct topic_cut *cut);
static int topic_fold(struct topic_fold *f, const char *s, size_t len, int truncated);
static int topic_is_word_char(UChar32 c, int8_t type);
static UChar32 topic_base_letter(UChar32 c);
static int topic_is_cjk(UChar32 c);
static void topic_add_span(struct topic_fold *f, int32_t off, int32_t len);
static uint32_t topic_hash(const UChar *s, int32_t len);
static uint32_t topic_shape_bit(UChar first);
static int topic_shape_maybe(const struct topic_set *ts, const UChar *s, int32_t len);
static int32_t topic_word_find(const struct topic_set *ts, const UChar *s, int32_t len, uint32_t h);
static int32_t topic_word_intern(struct topic_set *ts, const UChar *s, int32_t len);
static void topic_rehash(struct topic_set *ts, size_t nslots);
static void topic_add_term(struct topic_set *ts, struct topic_fold *f, size_t topic, int exclude,
                           const char *term);
static int topic_feed_cmp(const void *a, const void *b);
static size_t topic_utf8_cut(const char *s, size_t len, size_t max);
static void topic_push_words(const struct topic_set *ts, struct topic_fold *f, const char *s, size_t len,
                             int truncated);
static void topic_scan_field(const struct topic_set *ts, struct topic_fold *f, const char *s, size_t *budget);
static void topic_apply(const struct topic_set *ts, const int32_t *ids, size_t n, size_t *flags,
                        int categories_only);
static char *topic_html_text(const char *html, size_t max, size_t *outlen, int *truncated);
static int topic_html_inline(const char *name, size_t len);
static size_t topic_put_utf8(char *out, uint32_t cp);
static size_t topic_entity(const char *s, size_t n, uint32_t *cp);

/* Free the scratch buffers of f. */
static void
topic_fold_free(struct topic_fold *f)
{
	free(f->a);
	free(f->b);
	free(f->c);
	free(f->spans);
	free(f->ids);
	memset(f, 0, sizeof *f);
}

/* Make *p hold at least need UTF-16 units. */
static void
topic_grow16(UChar **p, int32_t *cap, int32_t need)
{
	if (need <= *cap)
		return;
	free(*p);
	*cap = need < 256 ? 256 : need + need / 2;
	*p = xreallocarray(NULL, (size_t)*cap, sizeof **p);
}

/* Make *p hold at least need UTF-16 units, keeping what it holds. */
static void
topic_keep16(UChar **p, int32_t *cap, int32_t need)
{
	if (need <= *cap)
		return;
	*cap = need + need / 2;
	*p = xreallocarray(*p, (size_t)*cap, sizeof **p);
}

/* The NFKD and full case folding of len bytes of UTF-8 at s, in f->b or
 * f->c (*out, *n units). 0, or -1 if ICU failed. */
static int
topic_fold_icu(struct topic_fold *f, const UNormalizer2 *nfkd, const char *s, int32_t len, const UChar **out,
               int32_t *n)
{
	UErrorCode err = U_ZERO_ERROR;
	UChar **dst;
	int32_t *dcap;
	const UChar *src;
	int32_t u, m;

	/* UTF-8 to UTF-16 never needs more units than there are bytes. */
	topic_grow16(&f->b, &f->bcap, len + 1);
	u_strFromUTF8WithSub(f->b, f->bcap, &u, s, len, 0xFFFD, NULL, &err);
	if (U_FAILURE(err))
		return -1;
	src = f->b;
	/* NFKD into c, unless the text already is. */
	if (unorm2_spanQuickCheckYes(nfkd, src, u, &err) < u && U_SUCCESS(err)) {
		topic_grow16(&f->c, &f->ccap, u * 2 + 16);
		m = unorm2_normalize(nfkd, src, u, f->c, f->ccap, &err);
		if (err == U_BUFFER_OVERFLOW_ERROR) {
			err = U_ZERO_ERROR;
			topic_grow16(&f->c, &f->ccap, m + 1);
			m = unorm2_normalize(nfkd, src, u, f->c, f->ccap, &err);
		}
		src = f->c;
		u = m;
	}
	if (U_FAILURE(err))
		return -1;
	/* Full case folding into the buffer src is not in. */
	dst = src == f->b ? &f->c : &f->b;
	dcap = src == f->b ? &f->ccap : &f->bcap;
	topic_grow16(dst, dcap, u + 16);
	m = u_strFoldCase(*dst, *dcap, src, u, U_FOLD_CASE_DEFAULT, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR) {
		err = U_ZERO_ERROR;
		topic_grow16(dst, dcap, m + 1);
		m = u_strFoldCase(*dst, *dcap, src, u, U_FOLD_CASE_DEFAULT, &err);
	}
	if (U_FAILURE(err))
		return -1;
	*out = *dst;
	*n = m;
	return 0;
}

/* Cut n units of folded text at src into words, appended to f->a from
 * cut->wlen on (f->a holds at least that many more units: no character
 * becomes more than it was), without the marks and format characters. */
static void
topic_words(struct topic_fold *f, const UChar *src, int32_t n, struct topic_cut *cut)
{
	UChar *w = f->a;

	for (int32_t i = 0; i < n;) {
		int32_t at = i;
		UChar32 c;
		int8_t type;

		if (src[i] < 0x80) {
			/* ASCII (folded: no capitals): the word characters are
			 * the letters and digits. */
			UChar a = src[i++];

			cut->prev_cjk = 0;
			if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9') || (a >= 'A' && a <= 'Z')) {
				if (!cut->in_word) {
					cut->in_word = 1;
					cut->start = cut->wlen;
				}
				w[cut->wlen++] = a;
			} else if (cut->in_word) {
				topic_add_span(f, cut->start, cut->wlen - cut->start);
				cut->in_word = 0;
			}
			continue;
		}
		U16_NEXT(src, i, n, c);
		type = u_charType(c);
		if ((c == 0x3099 || c == 0x309A) && cut->prev_cjk) {
			/* the kana voicing marks are not accents: "ガ" is not "カ" */
			w[cut->wlen++] = (UChar)c;
			f->spans[f->nspans - 1].len++;
			cut->prev_cjk = 0;
			continue;
		}
		cut->prev_cjk = 0;
		if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_FORMAT_CHAR)
			continue;
		if (!topic_is_word_char(c, type)) {
			if (cut->in_word)
				topic_add_span(f, cut->start, cut->wlen - cut->start);
			cut->in_word = 0;
			continue;
		}
		if (topic_is_cjk(c)) {
			if (cut->in_word)
				topic_add_span(f, cut->start, cut->wlen - cut->start);
			cut->in_word = 0;
			cut->start = cut->wlen;
			while (at < i)
				w[cut->wlen++] = src[at++];
			topic_add_span(f, cut->start, cut->wlen - cut->start);
			cut->prev_cjk = 1;
			continue;
		}
		if (!cut->in_word) {
			cut->in_word = 1;
			cut->start = cut->wlen;
		}
		if (topic_base_letter(c) != c)
			w[cut->wlen++] = (UChar)topic_base_letter(c);
		else
			while (at < i)
				w[cut->wlen++] = src[at++];
	}
}

/* An ASCII byte's place in a folded word: a letter's lower case, a digit,
 * or 0 for a byte that ends a word. */
static const unsigned char topic_ascii_word[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
};

/* Fold len bytes of UTF-8 at s into f->text and find its words (f->spans).
 * When the text was cut short (truncated), a word at its very end may be
 * part of a longer one and is dropped. 0, or -1 if ICU failed. */
static int
topic_fold(struct topic_fold *f, const char *s, size_t len, int truncated)
{
	UErrorCode err = U_ZERO_ERROR;
	const UNormalizer2 *nfkd = NULL;
	struct topic_cut cut = {0, 0, 0, 0};

	f->nspans = 0;
	f->text = NULL;
	if (len > TOPIC_TEXT_MAX) {
		len = topic_utf8_cut(s, len, TOPIC_TEXT_MAX);
		truncated = 1;
	}
	if (len == 0)
		return 0;
	for (size_t k = 0; k < len;) {
		const UChar *folded;
		int32_t m;
		size_t q;

		/* ASCII is its own NFKD, and its full case folding is A-Z to
		 * a-z: cut into words straight from the bytes, without ICU. */
		topic_keep16(&f->a, &f->acap, cut.wlen + (int32_t)(len - k) + 16);
		if (k < len && (unsigned char)s[k] < 0x80) {
			UChar *a = f->a; /* topic_add_span does not move it */
			int32_t w = cut.wlen, start = cut.start;
			int in_word = cut.in_word;

			cut.prev_cjk = 0;
			for (; k < len && (unsigned char)s[k] < 0x80; k++) {
				unsigned char v = topic_ascii_word[(unsigned char)s[k]];

				if (v != 0) {
					if (!in_word) {
						in_word = 1;
						start = w;
					}
					a[w++] = v;
				} else if (in_word) {
					topic_add_span(f, start, w - start);
					in_word = 0;
				}
			}
			cut.wlen = w;
			cut.start = start;
			cut.in_word = in_word;
		}
		if (k == len)
			break;
		/* The rest through ICU, up to the next long ASCII stretch (short
		 * ones, as the spaces between Cyrillic words, go along rather
		 * than cost a call each). Cutting at any ASCII character is
		 * exact: it is a starter, so NFKD's reordering never crosses
		 * it, and case folding is per character. */
		for (q = k; q < len;) {
			size_t r = q;

			while (r < len && (unsigned char)s[r] >= 0x80)
				r++;
			q = r;
			while (r < len && r - q < TOPIC_ASCII_RUN && (unsigned char)s[r] < 0x80)
				r++;
			if (r - q >= TOPIC_ASCII_RUN)
				break;
			q = r;
		}
		if (nfkd == NULL && (nfkd = unorm2_getNFKDInstance(&err), U_FAILURE(err)))
			return -1;
		if (topic_fold_icu(f, nfkd, s + k, (int32_t)(q - k), &folded, &m) != 0)
			return -1;
		topic_keep16(&f->a, &f->acap, cut.wlen + m + 16);
		topic_words(f, folded, m, &cut);
		k = q;
	}
	if (cut.in_word && !truncated)
		topic_add_span(f, cut.start, cut.wlen - cut.start);
	f->text = f->a;
	return 0;
}

/* Whether c, of general category type, is part of a word. */
static int
topic_is_word_char(UChar32 c, int8_t type)
{
	switch (type) {
	case U_UPPERCASE_LETTER:
	case U_LOWERCASE_LETTER:
	case U_TITLECASE_LETTER:
	case U_OTHER_LETTER:
	case U_DECIMAL_DIGIT_NUMBER:
	case U_LETTER_NUMBER:
	case U_OTHER_NUMBER:
	case U_COMBINING_SPACING_MARK:
		return 1;
	case U_MODIFIER_LETTER:
		/* U+02BC is the apostrophe of Ukrainian and of transliterations
		 * ("Kyivʼs"): it ends a word as U+0027 and U+2019 do. */
		return c != 0x02BC;
	default:
		return 0;
	}
}

/* The base letter of a folded Latin letter with a stroke, or dotless i,
 * which Unicode does not decompose (so NFKD leaves no mark to drop); else
 * c. */
static UChar32
topic_base_letter(UChar32 c)
{
	switch (c) {
	case 0x0131: /* ı */
	case 0x0268: /* ɨ */
		return 'i';
	case 0x0142: /* ł */
		return 'l';
	case 0x00F8: /* ø */
		return 'o';
	case 0x0111: /* đ */
		return 'd';
	case 0x0127: /* ħ */
		return 'h';
	case 0x0167: /* ŧ */
		return 't';
	case 0x0180: /* ƀ */
		return 'b';
	case 0x01B6: /* ƶ */
		return 'z';
	case 0x01E5: /* ǥ */
		return 'g';
	default:
		return c;
	}
}

/* Whether c belongs to a script written without spaces between words, so
 * that each character is a word of its own. */
static int
topic_is_cjk(UChar32 c)
{
	UErrorCode err = U_ZERO_ERROR;
	UScriptCode sc;

	if (c < 0x2E80)
		return 0;
	if (c == 0x30FC) /* the Katakana long vowel mark is of script Common */
		return 1;
	sc = uscript_getScript(c, &err);
	if (U_FAILURE(err))
		return 0;
	return sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA;
}

/* Append a word to f->spans. */
static void
topic_add_span(struct topic_fold *f, int32_t off, int32_t len)
{
	if (len <= 0)
		return;
	if (f->nspans == f->scap) {
		f->scap = f->scap ? f->scap * 2 : 64;
		f->spans = xreallocarray(f->spans, f->scap, sizeof *f->spans);
	}
	f->spans[f->nspans].off = off;
	f->spans[f->nspans].len = len;
	f->nspans++;
}

/* A word's first unit as one of 32 bits: the letters a-z their own, the
 * digits five, everything else (non-ASCII) the last. */
static uint32_t
topic_shape_bit(UChar first)
{
	if (first >= 'a' && first <= 'z')
		return UINT32_C(1) << (first - 'a');
	if (first >= '0' && first <= '9')
		return UINT32_C(1) << (26 + (first - '0') % 5);
	return UINT32_C(1) << 31;
}

/* Whether a folded word may be a term word (see topic_set.shape). */
static int
topic_shape_maybe(const struct topic_set *ts, const UChar *s, int32_t len)
{
	if (len >= TOPIC_SHAPE_LEN)
		return ts->long_words;
	return (ts->shape[len] & topic_shape_bit(s[0])) != 0;
}

/* FNV-1a over UTF-16 units. */
static uint32_t
topic_hash(const UChar *s, int32_t len)
{
	uint32_t h = 2166136261u;

	for (int32_t i = 0; i < len; i++) {
		h ^= (uint32_t)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The id of the term word s, or TOPIC_WORD_NONE. */
static int32_t
topic_word_find(const struct topic_set *ts, const UChar *s, int32_t len, uint32_t h)
{
	size_t mask = ts->nslots - 1, i;

	if (ts->nslots == 0)
		return TOPIC_WORD_NONE;
	for (i = h & mask; ts->slots[i] != 0; i = (i + 1) & mask) {
		const struct topic_word *wd = &ts->words[ts->slots[i] - 1];

		if (wd->hash == h && wd->len == len &&
		    memcmp(ts->pool + wd->off, s, (size_t)len * sizeof *s) == 0)
			return (int32_t)(ts->slots[i] - 1);
	}
	return TOPIC_WORD_NONE;
}

/* The id of the term word s, added if new. */
static int32_t
topic_word_intern(struct topic_set *ts, const UChar *s, int32_t len)
{
	uint32_t h = topic_hash(s, len);
	int32_t id = topic_word_find(ts, s, len, h);
	struct topic_word *wd;
	size_t mask, i;

	if (id != TOPIC_WORD_NONE)
		return id;
	if ((ts->nwords + 1) * 2 > ts->nslots)
		topic_rehash(ts, ts->nslots ? ts->nslots * 2 : 64);
	if (ts->nwords == ts->wcap) {
		ts->wcap = ts->wcap ? ts->wcap * 2 : 64;
		ts->words = xreallocarray(ts->words, ts->wcap, sizeof *ts->words);
	}
	while (ts->poollen + (size_t)len > ts->poolcap) {
		ts->poolcap = ts->poolcap ? ts->poolcap * 2 : 1024;
		ts->pool = xreallocarray(ts->pool, ts->poolcap, sizeof *ts->pool);
	}
	memcpy(ts->pool + ts->poollen, s, (size_t)len * sizeof *s);
	if (len >= TOPIC_SHAPE_LEN)
		ts->long_words = 1;
	else
		ts->shape[len] |= topic_shape_bit(s[0]);
	wd = &ts->words[ts->nwords];
	wd->hash = h;
	wd->off = ts->poollen;
	wd->len = len;
	wd->first = -1;
	ts->poollen += (size_t)len;
	mask = ts->nslots - 1;
	for (i = h & mask; ts->slots[i] != 0; i = (i + 1) & mask)
		;
	ts->slots[i] = (uint32_t)ts->nwords + 1;
	return (int32_t)ts->nwords++;
}

/* Rebuild the hash table with nslots slots. */
static void
topic_rehash(struct topic_set *ts, size_t nslots)
{
	size_t mask = nslots - 1;

	free(ts->slots);
	ts->slots = xcalloc(nslots, sizeof *ts->slots);
	ts->nslots = nslots;
	for (size_t w = 0; w < ts->nwords; w++) {
		size_t i;

		for (i = ts->words[w].hash & mask; ts->slots[i] != 0; i = (i + 1) & mask)
			;
		ts->slots[i] = (uint32_t)w + 1;
	}
}

/* Fold term and add it to the set; a term without words is ignored. */
static void
topic_add_term(struct topic_set *ts, struct topic_fold *f, size_t topic, int exclude, const char *term)
{
	struct topic_term *t;

	if (term == NULL || topic_fold(f, term, strlen(term), 0) != 0 || f->nspans == 0)
		return;
	if (ts->nterms == ts->tcap) {
		ts->tcap = ts->tcap ? ts->tcap * 2 : 32;
		ts->terms = xreallocarray(ts->terms, ts->tcap, sizeof *ts->terms);
	}
	while (ts->nseq + f->nspans > ts->seqcap) {
		ts->seqcap = ts->seqcap ? ts->seqcap * 2 : 64;
		ts->seq = xreallocarray(ts->seq, ts->seqcap, sizeof *ts->seq);
	}
	t = &ts->terms[ts->nterms];
	t->topic = topic;
	t->exclude = exclude;
	t->seq = ts->nseq;
	t->nwords = f->nspans;
	for (size_t i = 0; i < f->nspans; i++)
		ts->seq[ts->nseq++] = topic_word_intern(ts, f->text + f->spans[i].off, f->spans[i].len);
	t->next = ts->words[ts->seq[t->seq]].first;
	ts->words[ts->seq[t->seq]].first = (int32_t)ts->nterms++;
}

/* qsort/bsearch order of struct topic_feed by name. */
static int
topic_feed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct topic_feed *)a)->name, ((const struct topic_feed *)b)->name);
}

/* Compile the topics of cfg. */
struct topic_set *
topic_set_new(const struct config *cfg)
{
	struct topic_set *ts = xcalloc(1, sizeof *ts);
	struct topic_fold f;

	memset(&f, 0, sizeof f);
	if (cfg == NULL || cfg->ntopics == 0)
		goto done;
	ts->ntopics = cfg->ntopics;
	ts->categories = xcalloc(cfg->ntopics, 1);
	for (size_t i = 0; i < cfg->ntopics; i++) {
		const struct config_topic *t = &cfg->topics[i];

		ts->categories[i] = t->categories != 0;
		ts->any_categories |= t->categories != 0;
		for (size_t j = 0; j < t->match.n; j++)
			topic_add_term(ts, &f, i, 0, t->match.v[j]);
		for (size_t j = 0; j < t->exclude.n; j++)
			topic_add_term(ts, &f, i, 1, t->exclude.v[j]);
	}
	for (size_t i = 0; i < cfg->nfeeds; i++) {
		const struct config_feed *cf = &cfg->feeds[i];
		struct topic_feed *tf;

		if (cf->topics.n == 0 || cf->name == NULL)
			continue;
		if (ts->feeds == NULL)
			ts->feeds = xcalloc(cfg->nfeeds, sizeof *ts->feeds);
		tf = &ts->feeds[ts->nfeeds++];
		tf->name = xstrdup(cf->name);
		tf->topics = xcalloc(cf->topics.n, sizeof *tf->topics);
		for (size_t j = 0; j < cf->topics.n; j++)
			for (size_t k = 0; k < cfg->ntopics; k++)
				if (strcmp(cfg->topics[k].name, cf->topics.v[j]) == 0) {
					tf->topics[tf->ntopics++] = k;
					break;
				}
	}
	if (ts->nfeeds > 1)
		qsort(ts->feeds, ts->nfeeds, sizeof *ts->feeds, topic_feed_cmp);
done:
	topic_fold_free(&f);
	return ts;
}

/* Free ts. */
void
topic_set_free(struct topic_set *ts)
{
	if (ts == NULL)
		return;
	for (size_t i = 0; i < ts->nfeeds; i++) {
		free(ts->feeds[i].name);
		free(ts->feeds[i].topics);
	}
	free(ts->feeds);
	free(ts->categories);
	free(ts->words);
	free(ts->slots);
	free(ts->pool);
	free(ts->terms);
	free(ts->seq);
	free(ts);
}

/* How many topics ts was compiled from. */
size_t
topic_set_count(const struct topic_set *ts)
{
	return ts == NULL ? 0 : ts->ntopics;
}

/* The length of the longest prefix of s (len bytes) that has at most max
 * bytes and does not end inside a UTF-8 sequence. */
static size_t
topic_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Fold len bytes of text at s and append its word ids to f->ids, then a
 * separator. */
static void
topic_push_words(const struct topic_set *ts, struct topic_fold *f, const char *s, size_t len, int truncated)
{
	if (topic_fold(f, s, len, truncated) != 0)
		return;
	if (f->nids + f->nspans + 1 > f->icap) {
		f->icap = f->nids + f->nspans + 1 + f->icap;
		f->ids = xreallocarray(f->ids, f->icap, sizeof *f->ids);
	}
	for (size_t i = 0; i < f->nspans; i++) {
		const UChar *w = f->text + f->spans[i].off;
		int32_t wl = f->spans[i].len;

		f->ids[f->nids++] =
		    topic_shape_maybe(ts, w, wl) ? topic_word_find(ts, w, wl, topic_hash(w, wl)) : TOPIC_WORD_NONE;
	}
	f->ids[f->nids++] = TOPIC_WORD_SEP;
}

/* Push the words of one plain-text field, within what is left of the
 * item's budget. */
static void
topic_scan_field(const struct topic_set *ts, struct topic_fold *f, const char *s, size_t *budget)
{
	size_t len, take;

	if (s == NULL || *s == '\0' || *budget == 0)
		return;
	len = strnlen(s, *budget + 1);
	take = topic_utf8_cut(s, len, *budget);
	*budget -= take;
	topic_push_words(ts, f, s, take, take < len);
}

/* Mark in flags the topics whose terms occur in the word ids; with
 * categories_only, only topics that match categories. */
static void
topic_apply(const struct topic_set *ts, const int32_t *ids, size_t n, size_t *flags, int categories_only)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < 0)
			continue;
		for (int32_t k = ts->words[ids[i]].first; k >= 0; k = ts->terms[k].next) {
			const struct topic_term *t = &ts->terms[k];
			size_t bit = t->exclude ? TOPIC_F_EXCLUDE : TOPIC_F_MATCH;

			if ((flags[t->topic] & bit) || (categories_only && !ts->categories[t->topic]))
				continue;
			if (t->nwords > n - i ||
			    memcmp(ids + i + 1, ts->seq + t->seq + 1, (t->nwords - 1) * sizeof *ids) != 0)
				continue;
			flags[t->topic] |= bit;
		}
	}
}

/* The topics of one item. */
size_t
topic_set_match(const struct topic_set *ts, const char *feed_name, const struct item *it, size_t *idx)
{
	struct topic_fold f;
	size_t budget = TOPIC_TEXT_MAX, count = 0;

	memset(&f, 0, sizeof f);
	if (ts == NULL || ts->ntopics == 0)
		return 0;
	/* idx doubles as the per-topic flags, then is compacted in place. */
	memset(idx, 0, ts->ntopics * sizeof *idx);
	if (feed_name != NULL && ts->nfeeds > 0) {
		struct topic_feed key = {.name = (char *)feed_name};
		const struct topic_feed *tf =
		    bsearch(&key, ts->feeds, ts->nfeeds, sizeof *ts->feeds, topic_feed_cmp);

		for (size_t i = 0; tf != NULL && i < tf->ntopics; i++)
			idx[tf->topics[i]] |= TOPIC_F_FEED;
	}
	if (it != NULL && ts->nterms > 0) {
		const char *html = it->summary != NULL && *it->summary != '\0' ? it->summary : it->content;

		/* Title, then categories (short, and worth more than the tail of
		 * a long summary), then the summary as text. */
		topic_scan_field(ts, &f, it->title, &budget);
		if (ts->any_categories) {
			size_t body = f.nids;

			for (size_t i = 0; i < it->ncategories; i++)
				topic_scan_field(ts, &f, it->categories[i], &budget);
			topic_apply(ts, f.ids + body, f.nids - body, idx, 1);
			f.nids = body;
		}
		if (html != NULL && *html != '\0' && budget > 0) {
			size_t tlen;
			int truncated;
			char *text = topic_html_text(html, budget, &tlen, &truncated);

			budget -= tlen;
			if (tlen > 0)
				topic_push_words(ts, &f, text, tlen, truncated);
			free(text);
		}
		topic_apply(ts, f.ids, f.nids, idx, 0);
	}
	for (size_t i = 0; i < ts->ntopics; i++) {
		size_t fl = idx[i];

		if ((fl & TOPIC_F_FEED) || ((fl & TOPIC_F_MATCH) && !(fl & TOPIC_F_EXCLUDE)))
			idx[count++] = i;
	}
	topic_fold_free(&f);
	return count;
}

/* Whether the tag name (len bytes) is inline formatting, which does not
 * separate words ("<b>Kyiv</b>'s"); every other tag does. */
static int
topic_html_inline(const char *name, size_t len)
{
	/* by length: a tag is compared only with the names of its own */
	static const char *const names[][10] = {
	    [1] = {"a", "b", "i", "q", "s", "u"},
	    [2] = {"em", "tt"},
	    [3] = {"bdi", "bdo", "del", "dfn", "ins", "kbd", "sub", "sup", "var", "wbr"},
	    [4] = {"abbr", "cite", "code", "data", "font", "mark", "samp", "span", "time"},
	    [5] = {"small"},
	    [6] = {"strike", "strong"},
	};

	if (len >= sizeof names / sizeof names[0])
		return 0;
	for (size_t i = 0; i < sizeof names[0] / sizeof names[0][0] && names[len][i] != NULL; i++)
		if (strncasecmp(name, names[len][i], len) == 0)
			return 1;
	return 0;
}

/* Write cp as UTF-8 to out (room for 4 bytes); returns the bytes written. */
static size_t
topic_put_utf8(char *out, uint32_t cp)
{
	return (size_t)xmlCopyCharMultiByte((xmlChar *)out, (int)cp);
}

/* Decode the entity at s ('&', n bytes available) into *cp. Returns its
 * length in bytes, or 0 when s does not start an entity we know. Named
 * entities need their ';' (as HTML's legacy bare forms are all symbols or
 * lone accented letters, rare in feeds); numeric ones do not. The decoded
 * character is never longer in UTF-8 than the entity. */
static size_t
topic_entity(const char *s, size_t n, uint32_t *cp)
{
	size_t i = 1;

	if (i < n && s[i] == '#') {
		uint32_t v = 0;
		int hex = 0, digits = 0;

		i++;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		for (; i < n && digits < 8; i++, digits++) {
			unsigned char c = (unsigned char)s[i];

			if (c >= '0' && c <= '9')
				v = v * (hex ? 16 : 10) + (c - '0');
			else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				v = v * 16 + ((c | 0x20) - 'a' + 10);
			else
				break;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		*cp = v;
		return i;
	} else {
		char name[33];
		const htmlEntityDesc *e;
		size_t len = 0;

		while (i + len < n && len < sizeof name - 1 &&
		       ((s[i + len] >= 'a' && s[i + len] <= 'z') ||
		        (s[i + len] >= 'A' && s[i + len] <= 'Z') || (s[i + len] >= '0' && s[i + len] <= '9')))
			len++;
		if (len == 0 || i + len >= n || s[i + len] != ';')
			return 0;
		memcpy(name, s + i, len);
		name[len] = '\0';
		if (strcmp(name, "apos") == 0) {
			*cp = '\'';
			return len + 2;
		}
		e = htmlEntityLookup((const xmlChar *)name);
		if (e == NULL)
			return 0;
		*cp = e->value;
		return len + 2;
	}
}

/* The text of the HTML fragment html: tags and comments dropped (tags
 * other than inline formatting become a space), script and style skipped,
 * entities decoded. At most max bytes of text, from at most TOPIC_HTML_MAX
 * bytes of HTML; *truncated says whether some was left out. */
static char *
topic_html_text(const char *html, size_t max, size_t *outlen, int *truncated)
{
	size_t n = strnlen(html, TOPIC_HTML_MAX + 1), i = 0, o = 0;
	char *out;

	*truncated = n > TOPIC_HTML_MAX;
	if (n > TOPIC_HTML_MAX)
		n = TOPIC_HTML_MAX;
	out = xmalloc(n + 1);
	while (i < n) {
		unsigned char c = (unsigned char)html[i];
		char tmp[4];
		size_t k = 0, len;

		if (c == '<' && i + 1 < n &&
		    (html[i + 1] == '!' || html[i + 1] == '?' || html[i + 1] == '/' ||
		     ((html[i + 1] | 0x20) >= 'a' && (html[i + 1] | 0x20) <= 'z'))) {
			const char *name = html + i + 1, *end;
			size_t nlen = 0;
			int closing = 0, quote = 0, after_eq = 0;

			if (n - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
				end = memmem(html + i + 4, n - i - 4, "-->", 3);
				i = end == NULL ? n : (size_t)(end - html) + 3;
				goto separate;
			}
			if (*name == '/') {
				closing = 1;
				name++;
			}
			while (name + nlen < html + n &&
			       (((name[nlen] | 0x20) >= 'a' && (name[nlen] | 0x20) <= 'z') ||
			        (name[nlen] >= '0' && name[nlen] <= '9')))
				nlen++;
			/* to the '>', past quoted attribute values */
			for (i = (size_t)(name - html) + nlen; i < n; i++) {
				char d = html[i];

				if (quote) {
					if (d == quote)
						quote = 0;
				} else if (d == '>') {
					break;
				} else if (after_eq && (d == '"' || d == '\'')) {
					quote = d;
				} else if (d == '=') {
					after_eq = 1;
					continue;
				}
				if (d != ' ' && d != '\t' && d != '\n' && d != '\r')
					after_eq = 0;
			}
			if (i >= n) /* an unterminated tag: nothing after it is text */
				break;
			i++;
			if (!closing && ((nlen == 6 && strncasecmp(name, "script", 6) == 0) ||
			                 (nlen == 5 && strncasecmp(name, "style", 5) == 0))) {
				/* raw text up to the matching end tag */
				size_t j;

				for (j = i; j + 2 + nlen <= n; j++)
					if (html[j] == '<' && html[j + 1] == '/' &&
					    strncasecmp(html + j + 2, name, nlen) == 0)
						break;
				if (j + 2 + nlen > n)
					break;
				end = memchr(html + j, '>', n - j);
				i = end == NULL ? n : (size_t)(end - html) + 1;
				goto separate;
			}
			if (nlen > 0 && topic_html_inline(name, nlen))
				continue;
		separate:
			if (o > 0 && out[o - 1] != ' ') {
				if (o + 1 > max)
					goto full;
				out[o++] = ' ';
			}
			continue;
		}
		if (c == '&') {
			uint32_t cp;

			len = topic_entity(html + i, n - i, &cp);
			if (len > 0) {
				k = topic_put_utf8(tmp, cp);
				if (o + k > max)
					goto full;
				memcpy(out + o, tmp, k);
				o += k;
				i += len;
				continue;
			}
		}
		if (c != '<' && c != '&') {
			/* Text up to the next '<' or '&', in one copy; the input
			 * is sanitized, so valid UTF-8, and a cut at max backs off
			 * to a character boundary. */
			const char *stop = html + i;

			while (stop < html + n && *stop != '<' && *stop != '&')
				stop++;
			len = (size_t)(stop - html) - i;
			if (o + len > max) {
				len = max - o;
				while (len > 0 && ((unsigned char)html[i + len] & 0xC0) == 0x80)
					len--;
				memcpy(out + o, html + i, len);
				o += len;
				goto full;
			}
			memcpy(out + o, html + i, len);
			o += len;
			i += len;
			continue;
		}
		/* one character, whole */
		len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (len > n - i)
			len = n - i;
		if (o + len > max)
			goto full;
		memcpy(out + o, html + i, len);
		o += len;
		i += len;
	}
	goto done;
full:
	*truncated = 1;
done:
	out[o] = '\0';
	*outlen = o;
	return out;
}
