/* test_schedule.c: the scheduler is a pure function of state, hints and a
 * random number, so these tests move "time" by calling it, never sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schedule.h"

static const struct sched_params P = {1800, 300, 86400};

/* Success: the interval with at most +-10 % jitter, spread across draws. */
static void
test_interval_jitter_spread(void **state)
{
	uint64_t rng = 42;
	long lo = 1L << 30, hi = 0;

	for (int i = 0; i < 10000; i++) {
		long d = schedule_next_delay(&P, 0, 0, sched_rand_unit(&rng));
		assert_in_range(d, 1620, 1980);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	/* The jitter really spreads: both ends of the window are reached. */
	assert_true(lo < 1640);
	assert_true(hi > 1960);
}

/* First polls are spread over a window, never all at zero. */
static void
test_first_delay_spread(void **state)
{
	uint64_t rng = 7;
	int buckets[6] = {0};

	for (int i = 0; i < 6000; i++) {
		long d = schedule_first_delay(&P, sched_rand_unit(&rng));
		assert_in_range(d, 0, 59);
		buckets[d / 10]++;
	}
	for (int i = 0; i < 6; i++)
		assert_in_range(buckets[i], 800, 1200);
}

/* Failures back off exponentially up to max_interval; success recovers. */
static void
test_backoff_growth_and_recovery(void **state)
{
	long prev = 0;

	for (int f = 1; f <= 12; f++) {
		long d = schedule_next_delay(&P, f, 0, 0.5);
		assert_true(d >= prev);
		if (f > 1 && prev * 2 <= P.max_interval)
			assert_int_equal(d, prev * 2);
		assert_true(d <= P.max_interval);
		prev = d;
	}
	assert_int_equal(schedule_next_delay(&P, 1, 0, 0.5), 60);
	assert_int_equal(schedule_next_delay(&P, 30, 0, 0.5), P.max_interval);
	/* Recovery: back to the normal interval on the next success. */
	assert_int_equal(schedule_next_delay(&P, 0, 0, 0.5), 1800);
}

/* Hints (max-age, ttl, Retry-After) move the delay within the bounds. */
static void
test_hints_are_bounded(void **state)
{
	assert_int_equal(schedule_next_delay(&P, 0, 3600, 0.5), 3600);
	assert_int_equal(schedule_next_delay(&P, 0, 10, 0.5), 300);      /* min_interval */
	assert_int_equal(schedule_next_delay(&P, 0, 999999, 0.5), 86400); /* max_interval */
	/* Retry-After longer than the backoff wins, within max_interval. */
	assert_int_equal(schedule_next_delay(&P, 1, 7200, 0.5), 7200);
	assert_int_equal(schedule_next_delay(&P, 1, 10, 0.5), 60);
}

/* The generator is deterministic per seed. */
static void
test_rand_deterministic(void **state)
{
	uint64_t a = 123, b = 123;

	for (int i = 0; i < 100; i++)
		assert_true(sched_rand(&a) == sched_rand(&b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interval_jitter_spread),
	    cmocka_unit_test(test_first_delay_spread),
	    cmocka_unit_test(test_backoff_growth_and_recovery),
	    cmocka_unit_test(test_hints_are_bounded),
	    cmocka_unit_test(test_rand_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
