/* fuzz_sanitize.c: the HTML sanitizer and the title-to-text reduction on
 * any bytes (the first byte picks the base URL). Both promise valid UTF-8
 * without characters XML forbids, and never NULL; and the fast path for
 * well-formed markup must write what the walk over libxml2's tree does. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "sanitize.h"

/* One fragment. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = {"http://example.com/dir/page.html", NULL, "https://example.org/",
	                                    "not a url"};
	char *s, *html, *text;

	if (size < 1 || size > 256 * 1024)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	html = sanitize_html(s, bases[data[0] & 3]);
	text = sanitize_text(s);
	if (html == NULL || text == NULL)
		abort();
	fuzz_check_text(html);
	fuzz_check_text(text);
	if (sanitize_fast_takes(s)) {
		char *slow_html = sanitize_html_via(s, bases[data[0] & 3], 0), *slow_text = sanitize_text_via(s, 0);

		if (strcmp(html, slow_html) != 0 || strcmp(text, slow_text) != 0)
			abort();
		free(slow_html);
		free(slow_text);
	}
	free(html);
	free(text);
	free(s);
	return 0;
}
