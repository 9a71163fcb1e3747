/* schedule.h: when a feed is next due. Pure functions of the feed's state,
 * the server's hints and a random number, so tests need no clock. */
#ifndef FEEDMUX_SCHEDULE_H
#define FEEDMUX_SCHEDULE_H

#include <stdint.h>

struct sched_params {
	long interval;     /* seconds */
	long min_interval;
	long max_interval;
};

/* A small deterministic PRNG (xorshift64*); state lives with the caller. */
uint64_t sched_rand(uint64_t *state);
/* A number in [0, 1) from the generator. */
double sched_rand_unit(uint64_t *state);

/* Delay before a feed's first poll: spread over the first tenth of the
 * interval (at most 60 s), so thousands of feeds never fire at once. */
long schedule_first_delay(const struct sched_params *p, double rnd);
/* Delay after a poll. failures: consecutive failures including this poll
 * (0 after a success); hint: seconds the server asked for (max-age,
 * Expires, ttl, Retry-After), 0 when none. Jitter is +-10 %. */
long schedule_next_delay(const struct sched_params *p, int failures, long hint, double rnd);

#endif
