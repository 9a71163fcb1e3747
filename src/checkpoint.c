/* checkpoint.c: the writer's wal hook (which replaces SQLite's automatic
 * checkpoint) wakes a thread that runs a PASSIVE checkpoint on its own
 * connection: it copies the committed frames no reader needs, and never
 * waits for or blocks the writer.
 *
 * SQLite starts the WAL over only when a write transaction begins with
 * every frame copied. A writer that commits batch after batch (a cold
 * --once cycle) begins its next one before the thread is done, so the
 * WAL grows while it writes, and starts over in a pause (the daemon's,
 * between polls). When it reaches CHECKPOINT_BEHIND times the threshold,
 * the writer checkpoints after its commit, on its own thread, as SQLite
 * would have; only the frames the thread has not copied yet are left for
 * it, and its next transaction starts the WAL over. A bound of 16 times
 * was no faster than no thread at 2,000 bench feeds; 64 times (256 MiB
 * with 1,000 pages of 4 KiB) made a cold cycle 4-8 % faster there and
 * 8 % at 10,000 feeds, with the same CPU (32 times was slower). Without
 * a bound the WAL reached the whole cycle's size, and a cold cycle at
 * 10,000 feeds took 4 s more system time. */
#include "checkpoint.h"

#include <pthread.h>
#include <stdlib.h>

#include "xalloc.h"

/* Frames past the threshold, in multiples of it, at which the writer
 * checkpoints for itself. */
#define CHECKPOINT_BEHIND 64

struct checkpointer {
	sqlite3 *db;     /* the thread's connection */
	sqlite3 *writer; /* the caller's */
	int pages;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	int due;       /* under mu: a commit passed the threshold */
	int stop;      /* under mu */
	uint64_t runs; /* under mu */
};

static void *checkpointer_main(void *arg);
static int checkpointer_hook(void *arg, sqlite3 *db, const char *name, int frames);

struct checkpointer *
checkpointer_start(const char *path, sqlite3 *writer, int pages, char **err)
{
	struct checkpointer *c = xcalloc(1, sizeof *c);

	c->writer = writer;
	c->pages = pages > 0 ? pages : 1;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*err = xasprintf("cannot open %s for checkpoints: %s", path,
		                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	/* SQLite 3.40 checkpoints only a WAL the connection has opened, which
	 * its first read does. */
	if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
		*err = xasprintf("cannot read %s for checkpoints: %s", path, sqlite3_errmsg(c->db));
		goto fail;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
		*err = xasprintf("cannot start the checkpoint thread for %s", path);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	sqlite3_wal_hook(writer, checkpointer_hook, c);
	return c;
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

void
checkpointer_stop(struct checkpointer *c)
{
	if (c == NULL)
		return;
	/* Back to SQLite's own automatic checkpoint, at the same threshold. */
	sqlite3_wal_autocheckpoint(c->writer, c->pages);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}

uint64_t
checkpointer_runs(struct checkpointer *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->runs;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* The thread: a checkpoint each time a commit asks, until stopped. A
 * checkpoint that fails (another one under way: SQLITE_BUSY) is left to
 * the next commit. */
static void *
checkpointer_main(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->wake, &c->mu);
		if (c->stop)
			break;
		c->due = 0;
		pthread_mutex_unlock(&c->mu);
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->runs++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* On the writer's thread, after each commit: frames is the WAL's length. */
static int
checkpointer_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct checkpointer *c = arg;

	if (frames < c->pages)
		return SQLITE_OK;
	if (frames >= CHECKPOINT_BEHIND * c->pages) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&c->mu);
	c->due = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}
