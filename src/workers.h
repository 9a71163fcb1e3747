/* workers.h: a few threads beside the event loop for CPU work that needs
 * no shared state (parsing and cleaning a feed's body). Work is queued on
 * a lane; the tasks of one lane run in order, one at a time, on that
 * lane's thread. A task's done callback then runs on the loop thread.
 * Ownership: the caller owns arg throughout; the pool never frees it. */
#ifndef FEEDMUX_WORKERS_H
#define FEEDMUX_WORKERS_H

#include <stddef.h>

struct event_base;
struct workers;

/* Start nthreads threads (0: one fewer than the CPUs, at least 1, at
 * most 8). NULL if no thread could be started. */
struct workers *workers_new(struct event_base *base, unsigned nthreads);
/* Run every queued task and its done callback, then stop the threads. */
void workers_free(struct workers *w);
/* Queue run(arg) on lane (any number; taken modulo the threads); then
 * done(arg) on the loop thread, unless done is NULL. */
void workers_submit(struct workers *w, size_t lane, void (*run)(void *arg), void (*done)(void *arg), void *arg);
/* Wait until every queued task ran, then run the done callbacks due; on
 * the loop thread (before freeing what tasks use). */
void workers_drain(struct workers *w);

#endif
