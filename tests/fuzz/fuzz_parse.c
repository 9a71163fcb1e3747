/* fuzz_parse.c: the feed parser (XML and JSON Feed) as the network feeds
 * it. The whole input is the document (so corpus feeds are seeds as they
 * are); its last byte and its length choose the HTTP charset and seed the
 * chunk sizes, from one byte to a few KiB. Every text the parser hands out
 * must be valid UTF-8 without characters XML forbids; items and metadata
 * are freed (leaks are found by LeakSanitizer). */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "item.h"
#include "parse.h"

static void fuzz_item(void *arg, struct item *it);

/* Parser callback: check an item's text and free it. */
static void
fuzz_item(void *arg, struct item *it)
{
	size_t *n = arg;

	fuzz_check_text(it->id);
	fuzz_check_text(it->link);
	fuzz_check_text(it->title);
	fuzz_check_text(it->summary);
	fuzz_check_text(it->content);
	fuzz_check_text(it->author);
	for (size_t i = 0; i < it->ncategories; i++)
		fuzz_check_text(it->categories[i]);
	for (size_t i = 0; i < it->nenclosures; i++) {
		fuzz_check_text(it->enclosures[i].url);
		fuzz_check_text(it->enclosures[i].type);
	}
	(*n)++;
	item_free(it);
}

/* One document, pushed in chunks. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {NULL, NULL, "iso-8859-1", "windows-1252", "utf-16", "koi8-r",
	                                       "no-such-charset", "UTF-8"};
	const struct feed_meta *m;
	struct parser *p;
	uint32_t rng;
	size_t off = 0, n = 0;
	unsigned sel, small;
	char *err = NULL;

	if (size < 1)
		return 0;
	sel = data[size - 1];
	rng = 0x9E3779B9u ^ (uint32_t)size * 0x01000193u ^ sel;
	small = (sel ^ size) & 1;
	p = parser_new("http://example.com/dir/feed.xml", charsets[(sel >> 1) & 7], fuzz_item, &n);
	while (off < size) {
		size_t len;
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		len = small ? 1 + rng % 7 : 1 + rng % 4096;
		if (len > size - off)
			len = size - off;
		if (parser_push(p, (const char *)data + off, len) < 0)
			break;
		off += len;
	}
	parser_finish(p, &err);
	if (parser_item_count(p) != n)
		abort();
	m = parser_meta(p);
	fuzz_check_text(m->title);
	fuzz_check_text(m->link);
	fuzz_check_text(m->id);
	(void)parser_warning(p);
	(void)parser_format(p);
	free(err);
	parser_free(p);
	return 0;
}
