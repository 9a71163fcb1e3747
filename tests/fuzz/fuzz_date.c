/* fuzz_date.c: date_parse() on any string; a date it reads in years 1 to
 * 9999 must format as RFC 3339 and read back to the same second. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "fuzz.h"

/* One string. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[64], http[64];
	time_t t, back;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (date_parse(s, &t) == 0) {
		date_format_rfc3339(t, out, sizeof out);
		date_format_http(t, http, sizeof http);
		/* -62135596800 is 0001-01-01, 253402300799 is 9999-12-31T23:59:59Z. */
		if (t >= -62135596800LL && t <= 253402300799LL && (date_parse(out, &back) != 0 || back != t))
			abort();
	}
	free(s);
	return 0;
}
