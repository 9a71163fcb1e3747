/* test_bloom.c: the Bloom filter never forgets a key, stays near its
 * stated false-positive rate when full, and counts what it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <xxhash.h>

#include "bloom.h"

/* The i-th key: a hash, as the store's keys are. */
static uint64_t
key(uint64_t i)
{
	return XXH3_64bits(&i, sizeof i);
}

/* Every key added is "maybe" afterwards, whatever came between. */
static void
test_no_false_negatives(void **state)
{
	struct bloom *b = bloom_new(100000);

	(void)state;
	for (uint64_t i = 0; i < 100000; i++) {
		bloom_add(b, key(i));
		if (!bloom_maybe(b, key(i)))
			fail_msg("key %llu not found right after it was added", (unsigned long long)i);
	}
	for (uint64_t i = 0; i < 100000; i++)
		if (!bloom_maybe(b, key(i)))
			fail_msg("key %llu of 100000 forgotten", (unsigned long long)i);
	assert_int_equal(bloom_count(b), 100000);
	assert_int_equal(bloom_capacity(b), 100000);
	bloom_free(b);
}

/* Full to capacity, at most about 2 % of keys never added are "maybe"
 * (10 bits and 3 probes a key: 1.7 % in theory); an empty filter says
 * "maybe" to none. */
static void
test_false_positive_rate(void **state)
{
	struct bloom *b = bloom_new(50000);
	size_t fp = 0;

	(void)state;
	for (uint64_t i = 1000000; i < 1100000; i++)
		if (bloom_maybe(b, key(i)))
			fail_msg("an empty filter says key %llu may be in it", (unsigned long long)i);
	for (uint64_t i = 0; i < 50000; i++)
		bloom_add(b, key(i));
	for (uint64_t i = 1000000; i < 1100000; i++)
		fp += (size_t)bloom_maybe(b, key(i));
	if (fp > 2200)
		fail_msg("%zu of 100000 keys never added were \"maybe\" (want at most 2.2 %%)", fp);
	bloom_free(b);
}

/* A tiny request still makes a usable filter (the floor is 1024 keys). */
static void
test_small(void **state)
{
	struct bloom *b = bloom_new(0);

	(void)state;
	assert_int_equal(bloom_capacity(b), 1024);
	bloom_add(b, 42);
	assert_true(bloom_maybe(b, 42));
	assert_int_equal(bloom_count(b), 1);
	bloom_free(b);
	bloom_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_false_negatives),
	    cmocka_unit_test(test_false_positive_rate),
	    cmocka_unit_test(test_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
