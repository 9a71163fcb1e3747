/* schedule.c: success: the interval, or the server's hint, clamped to
 * [min_interval, max_interval]. Failure: exponential backoff from one
 * minute (or the interval, if shorter), doubling per consecutive failure
 * up to max_interval, never abandoned; a Retry-After hint is honoured when
 * it asks for longer. Every delay gets +-10 % jitter. */
#include "schedule.h"

/* xorshift64*. */
uint64_t
sched_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
double
sched_rand_unit(uint64_t *state)
{
	return (double)(sched_rand(state) >> 11) / 9007199254740992.0;
}

/* Clamp v into [lo, hi]. */
static long
clamp(long v, long lo, long hi)
{
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return v;
}

/* Spread first polls. */
long
schedule_first_delay(const struct sched_params *p, double rnd)
{
	long window = p->interval / 10;

	if (window > 60)
		window = 60;
	return (long)(rnd * (double)window);
}

/* The delay after a poll. */
long
schedule_next_delay(const struct sched_params *p, int failures, long hint, double rnd)
{
	long base, delay;
	long lo = p->min_interval > 0 ? p->min_interval : 1;
	long hi = p->max_interval >= lo ? p->max_interval : lo;

	if (failures <= 0) {
		base = clamp(hint > 0 ? hint : p->interval, lo, hi);
	} else {
		long first = p->interval < 60 ? p->interval : 60;
		base = first > 0 ? first : 1;
		for (int i = 1; i < failures && base < hi; i++)
			base *= 2;
		if (base > hi)
			base = hi;
		if (hint > base)
			base = hint < hi ? hint : hi;
	}
	delay = base + (long)((rnd * 0.2 - 0.1) * (double)base);
	return delay > 0 ? delay : 1;
}
