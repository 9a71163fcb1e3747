/* checkpoint.c: one thread, one SQLite connection, a flag and a
 * condition variable. The thread sleeps until kicked, then runs a
 * passive checkpoint: SQLite copies the frames no reader still needs,
 * and a writer appending to the log meanwhile is never blocked. Errors
 * are kept for the owner's thread to log (this thread logs nothing). */
#include "checkpoint.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "xalloc.h"

struct checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	int kicked;        /* under mu */
	int stopping;      /* under mu */
	atomic_int error; /* last failure, 0 when none or reported */
};

static void *checkpointer_main(void *arg);

/* The thread: wait for a kick, checkpoint, again. */
static void *
checkpointer_main(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		int rc;

		while (!c->kicked && !c->stopping)
			pthread_cond_wait(&c->wake, &c->mu);
		if (!c->kicked)
			break;
		c->kicked = 0;
		pthread_mutex_unlock(&c->mu);
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
			atomic_store(&c->error, rc);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Open the connection and start the thread. */
struct checkpointer *
checkpointer_start(const char *path, char **err)
{
	struct checkpointer *c = xcalloc(1, sizeof *c);

	*err = NULL;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*err = xasprintf("cannot open a second connection to %s for checkpoints: %s", path,
		                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	/* Only this thread's explicit checkpoints; a short wait on a busy
	 * database rather than an error. */
	sqlite3_wal_autocheckpoint(c->db, 0);
	sqlite3_busy_timeout(c->db, 1000);
	/* A connection learns that the file is in WAL mode when it first
	 * reads it; until then a checkpoint does nothing at all. */
	if (sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK) {
		*err = xasprintf("cannot use the write-ahead log of %s for checkpoints: %s", path, sqlite3_errmsg(c->db));
		goto fail;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	atomic_init(&c->error, 0);
	if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
		*err = xasprintf("cannot start the checkpoint thread for %s", path);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->mu);
		goto fail;
	}
	return c;
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

/* Ask for a checkpoint. */
void
checkpointer_kick(struct checkpointer *c)
{
	pthread_mutex_lock(&c->mu);
	c->kicked = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
}

/* A failure to report, once. */
int
checkpointer_error(struct checkpointer *c)
{
	return atomic_exchange(&c->error, 0);
}

/* Stop and close. */
void
checkpointer_stop(struct checkpointer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}
