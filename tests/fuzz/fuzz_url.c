/* fuzz_url.c: URL resolution and the canonical form. The input is a base
 * URL, a newline, and a reference; both go through url_resolve(), and what
 * comes out (and the reference alone) through url_canonical(). */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "url.h"

/* One base and reference. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl, *base, *ref, *abs, *canon;

	if (size > 16384)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		base = s;
		ref = nl + 1;
	} else {
		base = NULL;
		ref = s;
	}
	abs = url_resolve(base, ref);
	if (abs != NULL) {
		(void)url_is_http(abs);
		canon = url_canonical(abs);
		free(canon);
		free(abs);
	}
	canon = url_canonical(ref);
	free(canon);
	(void)url_is_http(ref);
	free(s);
	return 0;
}
