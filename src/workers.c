/* workers.c: lanes of tasks run by threads, with done callbacks handed
 * back to the event loop through an eventfd. One mutex guards every
 * queue and the done list: a task is a whole feed body's chunk of work,
 * so the lock is taken a few times per feed, never per byte. */
#include "workers.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define WORKERS_MAX 8

struct task {
	void (*run)(void *arg);
	void (*done)(void *arg);
	void *arg;
	struct task *next;
};

struct lane {
	struct workers *w;
	pthread_t thread;
	pthread_cond_t wake;
	struct task *head, *tail;
	int started;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t idle;      /* queued reached 0 */
	struct lane lanes[WORKERS_MAX];
	unsigned n;
	size_t queued;            /* submitted, not yet run */
	int stop;
	struct task *done_head, *done_tail;
	int efd;
	struct event *ev;
};

static void *workers_main(void *arg);
static void workers_event_cb(evutil_socket_t fd, short what, void *arg);
static void workers_run_done(struct workers *w);

/* Start the threads and the loop's end of the done list. */
struct workers *
workers_new(struct event_base *base, unsigned nthreads)
{
	struct workers *w = xcalloc(1, sizeof *w);

	if (nthreads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = cpus > 1 ? (unsigned)(cpus - 1) : 1;
	}
	if (nthreads > WORKERS_MAX)
		nthreads = WORKERS_MAX;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->idle, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		log_err("workers: eventfd: %s", strerror(errno));
		goto fail;
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, workers_event_cb, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		goto fail;
	for (unsigned i = 0; i < nthreads; i++) {
		struct lane *l = &w->lanes[i];

		l->w = w;
		pthread_cond_init(&l->wake, NULL);
		if (pthread_create(&l->thread, NULL, workers_main, l) != 0) {
			pthread_cond_destroy(&l->wake);
			break;
		}
		l->started = 1;
		w->n++;
	}
	if (w->n == 0) {
		log_err("workers: cannot start a thread");
		goto fail;
	}
	return w;
fail:
	workers_free(w);
	return NULL;
}

/* Finish everything queued, then stop and free. */
void
workers_free(struct workers *w)
{
	if (w == NULL)
		return;
	if (w->n > 0)
		workers_drain(w);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	for (unsigned i = 0; i < w->n; i++)
		pthread_cond_signal(&w->lanes[i].wake);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->n; i++) {
		pthread_join(w->lanes[i].thread, NULL);
		pthread_cond_destroy(&w->lanes[i].wake);
	}
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Queue a task on its lane. */
void
workers_submit(struct workers *w, size_t lane, void (*run)(void *arg), void (*done)(void *arg), void *arg)
{
	struct task *t = xcalloc(1, sizeof *t);
	struct lane *l = &w->lanes[lane % w->n];

	t->run = run;
	t->done = done;
	t->arg = arg;
	pthread_mutex_lock(&w->mu);
	if (l->tail != NULL)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
	w->queued++;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&w->mu);
}

/* A lane's thread: run its tasks in order; hand done ones back. */
static void *
workers_main(void *arg)
{
	struct lane *l = arg;
	struct workers *w = l->w;
	const uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct task *t;
		int wake_loop = 0;

		while (l->head == NULL && !w->stop)
			pthread_cond_wait(&l->wake, &w->mu);
		if (l->head == NULL)
			break;
		t = l->head;
		l->head = t->next;
		if (l->head == NULL)
			l->tail = NULL;
		pthread_mutex_unlock(&w->mu);

		t->run(t->arg);

		pthread_mutex_lock(&w->mu);
		if (t->done != NULL) {
			t->next = NULL;
			wake_loop = w->done_head == NULL;
			if (w->done_tail != NULL)
				w->done_tail->next = t;
			else
				w->done_head = t;
			w->done_tail = t;
		} else {
			free(t);
		}
		if (--w->queued == 0)
			pthread_cond_broadcast(&w->idle);
		/* One wake-up per batch of done tasks; the loop takes them all. */
		if (wake_loop && write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
			log_err("workers: eventfd write: %s", strerror(errno));
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Run the done callbacks handed back so far, in the order they finished. */
static void
workers_run_done(struct workers *w)
{
	struct task *t, *next;
	uint64_t v;

	pthread_mutex_lock(&w->mu);
	t = w->done_head;
	w->done_head = w->done_tail = NULL;
	/* Reset the counter under the lock: a task finishing after this
	 * sees an empty list and writes again. */
	if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_err("workers: eventfd read: %s", strerror(errno));
	pthread_mutex_unlock(&w->mu);
	for (; t != NULL; t = next) {
		next = t->next;
		t->done(t->arg);
		free(t);
	}
}

/* The eventfd is readable: done tasks are waiting. */
static void
workers_event_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	workers_run_done(arg);
}

/* Wait for every queued task, then run the done callbacks due. A done
 * callback may queue more work; that is waited for too. */
void
workers_drain(struct workers *w)
{
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->queued > 0)
			pthread_cond_wait(&w->idle, &w->mu);
		if (w->done_head == NULL) {
			pthread_mutex_unlock(&w->mu);
			return;
		}
		pthread_mutex_unlock(&w->mu);
		workers_run_done(w);
	}
}
