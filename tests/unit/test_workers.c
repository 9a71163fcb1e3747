/* test_workers.c: a lane runs its tasks in order, one at a time; done
 * callbacks run on the loop thread, through the event loop or a drain;
 * freeing the pool finishes what was queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pthread.h>

#include "workers.h"

#define LANES 4
#define PER_LANE 500

struct lane_log {
	int seen[PER_LANE]; /* task numbers in the order they ran */
	int n;
	int running;        /* tasks of this lane running now */
	int overlap;        /* a task started while another of its lane ran */
};

struct job {
	struct lane_log *log;
	int number;
	pthread_t loop;     /* the thread done callbacks must run on */
	int *done;          /* done callbacks so far */
	int wrong_thread;
};

/* On a worker: record the order (a lane's tasks never overlap, so its
 * log needs no lock). */
static void
job_run(void *arg)
{
	struct job *j = arg;
	struct lane_log *l = j->log;

	if (__atomic_add_fetch(&l->running, 1, __ATOMIC_SEQ_CST) != 1)
		l->overlap = 1;
	l->seen[l->n++] = j->number;
	__atomic_sub_fetch(&l->running, 1, __ATOMIC_SEQ_CST);
}

/* On the loop thread. */
static void
job_done(void *arg)
{
	struct job *j = arg;

	if (!pthread_equal(pthread_self(), j->loop))
		j->wrong_thread = 1;
	(*j->done)++;
}

/* Submit PER_LANE tasks on each of LANES lanes, interleaved. */
static struct job *
submit_all(struct workers *w, struct lane_log *logs, int *done)
{
	struct job *jobs = calloc(LANES * PER_LANE, sizeof *jobs);

	assert_non_null(jobs);
	for (int i = 0; i < PER_LANE; i++) {
		for (int l = 0; l < LANES; l++) {
			struct job *j = &jobs[i * LANES + l];

			j->log = &logs[l];
			j->number = i;
			j->loop = pthread_self();
			j->done = done;
			workers_submit(w, (size_t)l, job_run, job_done, j);
		}
	}
	return jobs;
}

/* Every lane saw its tasks in submission order, never two at once, and
 * every done callback ran on this thread. */
static void
check_all(const struct lane_log *logs, const struct job *jobs, int done)
{
	assert_int_equal(done, LANES * PER_LANE);
	for (int l = 0; l < LANES; l++) {
		assert_int_equal(logs[l].n, PER_LANE);
		assert_int_equal(logs[l].overlap, 0);
		for (int i = 0; i < PER_LANE; i++)
			assert_int_equal(logs[l].seen[i], i);
	}
	for (int i = 0; i < LANES * PER_LANE; i++)
		assert_int_equal(jobs[i].wrong_thread, 0);
}

/* Done callbacks arrive through the event loop. */
static void
test_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct workers *w = workers_new(base, 2);
	struct lane_log logs[LANES];
	struct job *jobs;
	int done = 0;

	(void)state;
	assert_non_null(w);
	memset(logs, 0, sizeof logs);
	jobs = submit_all(w, logs, &done);
	/* Bounded: each pass waits for at least one wake-up. */
	for (int pass = 0; pass < 100000 && done < LANES * PER_LANE; pass++)
		event_base_loop(base, EVLOOP_ONCE);
	check_all(logs, jobs, done);
	workers_free(w);
	event_base_free(base);
	free(jobs);
}

/* A drain waits for everything and runs the done callbacks itself; so
 * does freeing the pool. */
static void
test_drain_and_free(void **state)
{
	struct event_base *base = event_base_new();
	struct workers *w = workers_new(base, 3);
	struct lane_log logs[LANES];
	struct job *jobs;
	int done = 0;

	(void)state;
	assert_non_null(w);
	memset(logs, 0, sizeof logs);
	jobs = submit_all(w, logs, &done);
	workers_drain(w);
	check_all(logs, jobs, done);
	free(jobs);

	memset(logs, 0, sizeof logs);
	done = 0;
	jobs = submit_all(w, logs, &done);
	workers_free(w);
	check_all(logs, jobs, done);
	event_base_free(base);
	free(jobs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loop),
	    cmocka_unit_test(test_drain_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
