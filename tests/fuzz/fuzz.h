/* fuzz.h: what the libFuzzer targets share: the entry point's prototype
 * and the text promise the parser and sanitizer make (valid UTF-8 with no
 * character XML 1.0 forbids), checked on everything they hand out. */
#ifndef FEEDMUX_FUZZ_H
#define FEEDMUX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s is valid UTF-8 without characters XML 1.0 forbids. */
static inline int
fuzz_text_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (s == NULL)
		return 1;
	while (*u) {
		unsigned cp, n, min;
		if (*u < 0x80) {
			if (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')
				return 0;
			u++;
			continue;
		}
		if (*u >= 0xC2 && *u <= 0xDF)
			n = 1, cp = *u & 0x1F, min = 0x80;
		else if (*u >= 0xE0 && *u <= 0xEF)
			n = 2, cp = *u & 0x0F, min = 0x800;
		else if (*u >= 0xF0 && *u <= 0xF4)
			n = 3, cp = *u & 0x07, min = 0x10000;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((u[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (u[i] & 0x3F);
		}
		if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF)
			return 0;
		u += n + 1;
	}
	return 1;
}

/* Stop the run when a promise is broken, so libFuzzer keeps the input. */
static inline void
fuzz_check_text(const char *s)
{
	if (!fuzz_text_ok(s))
		abort();
}

#endif
